import type { Response } from 'got';
import type { DownloaderConfig } from '../../config/downloader-config.js';
import { DownloadError, type DownloadErrorCode } from '../../errors/download-error.js';
import type { HttpClient } from '../../http/http-client.js';
import { header } from '../../http/response-headers.js';
import type { Clock } from '../../time/clock.js';
import type { BandwidthLimiter } from '../../rate-limit/bandwidth-limiter.js';
import { newSha256, hashPrefix } from '../../verify/file-digest.js';
import type { MediaType } from '../../model/media-type.js';
import { StructureProbe } from '../../verify/structure-probe.js';
import type { Verifier } from '../../verify/verifier.js';
import { writeBody } from './body-writer.js';
import { ByteMeter } from './byte-meter.js';
import { OpenPart } from '../disk/open-part.js';
import { toDownloadError } from '../../errors/classify-error.js';
import { discardPart, partPaths, readPartState, writeSidecar } from '../disk/part-file.js';
import type { PartIndex } from '../disk/part-index.js';
import { planRange, planWrite, worthKeeping, type WritePlan } from './resume-plan.js';
import { describeExchange, readBodyHead } from './exchange.js';
import { judgeStatus } from '../../http/status-rules.js';
import type { HttpExchange } from '../../archive/archive-recorder.js';

/** Failures after which the bytes on disk are still good and worth continuing. */
const INTERRUPTIONS = new Set<DownloadErrorCode>(['NETWORK_ERROR', 'TIMEOUT', 'STALLED', 'ABORTED', 'FILESYSTEM']);

/** A compressed body may inflate to this many times its size on the wire (media hardly compresses at all). */
const MAX_INFLATION = 20;

/** Below this many decoded bytes the inflation ratio is not judged (headers of tiny bodies compress well). */
const INFLATION_SLACK = 1024 * 1024;

/** What one attempt tells its caller while it runs. */
export interface TransferObserver {
  /** Bytes on disk so far, and the total when known; called per chunk, so it must be cheap. */
  progress(bytes: number, total: number | undefined): void;
  /** A Range request was honoured: the first `fromByte` bytes are kept. */
  resumed(fromByte: number): void;
  /** A `.part` is set to be kept for resuming (its sidecar written), before any byte is stored. */
  partKept(part: string): Promise<void>;
  /** The attempt failed: whether its `.part` stays on disk to be continued (an interruption of a resumable transfer). */
  partLeft(kept: boolean): void;
  /** Whether {@link exchanged} is wanted (an archive is being kept): describing exchanges costs nothing otherwise. */
  readonly recording: boolean;
  /** The exchange a response ended (a 404's first 64 KiB of body with it), before anything is judged. */
  exchanged(exchange: HttpExchange): void;
}

/** One attempt's input. */
export interface TransferRequest {
  url: string;
  /** Lower-case host of `url`: the key of its rate limit and bandwidth cap. */
  host: string;
  mediaType: MediaType;
  /** Path the `.part` and sidecar are named after. */
  partBase: string;
  /** Continue an existing `.part` when it validates. */
  resume: boolean;
  verifyContentType: boolean;
  signal: AbortSignal;
}

/** What a successful attempt leaves behind: a complete `.part`, still open, to be sealed (made durable) or abandoned. */
export interface TransferOutcome {
  /** The `.part`'s descriptor: seal it before the file gets a final name, abandon it to drop the bytes. */
  part: OpenPart;
  sha256: string;
  byteSize: number;
  /** What the stream showed of the file's structure: its first and last bytes, its box walk. */
  probe: StructureProbe;
  contentType: string | undefined;
  /** Size the server announced for the whole resource. */
  declaredSize: number | undefined;
  /** Bytes kept from an earlier attempt or run. */
  resumedFrom: number;
  /** URL after redirects. */
  finalUrl: string;
  /** Whether a sidecar exists that finalize must remove. */
  hasSidecar: boolean;
  /** Entity tag of the response, if any. */
  etag: string | undefined;
  /** Last-Modified of the response, if any. */
  lastModified: string | undefined;
}

/**
 * Moves bytes for one attempt: plans the range, judges the headers before storing anything, streams
 * to `.part` while hashing, and checks the byte count. It does not retry; it throws a
 * {@link DownloadError} whose `retryable` tells the runner whether to.
 *
 * A failure leaves the `.part` in place only when it can be continued later (the server gave a
 * validator); otherwise it is deleted.
 */
export class Transfer {
  /** The host's client with what correctness needs fixed once: merging these per request was a profile hot spot. */
  private readonly client: HttpClient;
  /**
   * With a bucket, a verified file waits in its `.part` for its upload: a sidecar for every size lets a run killed
   * (or a bucket failing) before the upload find it whole on the next run, instead of fetching it again.
   */
  private readonly keepSmallParts: boolean;

  constructor(
    http: HttpClient,
    private readonly verifier: Verifier,
    private readonly config: DownloaderConfig,
    private readonly clock: Clock,
    /** Shared with placement: which `.part` files may be on disk. */
    private readonly parts: PartIndex,
    /** Paces bodies when a bandwidth cap is set. */
    private readonly bandwidth: BandwidthLimiter,
  ) {
    this.keepSmallParts = config.store.url !== '';
    this.client = http.extend({
      decompress: false,
      throwHttpErrors: false,
      retry: { limit: 0 },
      followRedirect: true,
      maxRedirects: config.maxRedirects,
      timeout: { response: config.responseTimeout, ...(config.timeout > 0 ? { request: config.timeout } : {}) },
    });
  }

  /** Bytes of a body from `host` pass at the bandwidth cap: the host's, and the whole run's. */
  private pacer(host: string, signal: AbortSignal | undefined): (bytes: number) => Promise<void> {
    return (bytes) => this.bandwidth.take(bytes, { key: host, ...(signal ? { signal } : {}) });
  }

  async run(request: TransferRequest, observer: TransferObserver): Promise<TransferOutcome> {
    const { url, partBase, signal } = request;
    const range = await planRange(partBase, url, request.resume, this.parts);
    const sentAt = this.clock.now();
    const stream = this.client.stream(url, { headers: range.headers, signal });
    // Keep one listener for the whole life of the stream: an error between the response and the
    // pipeline must not become an unhandled 'error' event. The error itself reaches us through
    // waitForResponse or the pipeline.
    stream.on('error', () => {});
    let keepPart = false;
    let meter: ByteMeter | undefined;
    try {
      const response = await waitForResponse(stream);
      if (observer.recording) await this.describe(response, stream, sentAt, range.candidate?.offset ?? 0, observer);
      const plan = planWrite(response, range.candidate, url, this.clock.now());
      // A 416's headers describe its refusal, not the file: the kept bytes are judged by the verifier alone.
      if (!plan.complete) this.judgeHeaders(request, response, plan);
      const hash = newSha256();
      const probe = new StructureProbe();
      const { part } = partPaths(partBase);
      if (plan.offset > 0) {
        await hashPrefix(part, plan.offset, hash, probe);
        observer.resumed(plan.offset);
        keepPart = true;
      } else {
        keepPart = worthKeeping(response, plan, request.resume, this.keepSmallParts);
        if (keepPart) await this.startSidecar(partBase, url, response, plan, observer);
        // A stale sidecar would let a later run "resume" bytes that are being overwritten now.
        else if (range.candidate) await discardPart(partBase);
      }
      let wireBytes = 0;
      meter = new ByteMeter({
        hash,
        probe,
        check: (bytes) => this.sizeGuard(url, bytes, plan.encoding === undefined ? undefined : wireBytes),
        onHead: (head) => refusalOf(() => this.verifier.checkHead?.({ url, mediaType: request.mediaType, contentType: response.headers['content-type'], head })),
        onBytes: (bytes) => observer.progress(bytes, plan.declaredSize),
      });
      let written: OpenPart;
      let byteSize: number;
      if (plan.complete) {
        // Nothing to append: the 416's own body (a short page, if any) is not the file's.
        stream.destroy();
        written = await OpenPart.open(part, true);
        byteSize = plan.offset;
      } else {
        const body = { part, offset: plan.offset, encoding: plan.encoding, onWireBytes: (bytes: number) => (wireBytes = bytes) };
        const pace = this.bandwidth.capped ? this.pacer(request.host, signal) : undefined;
        written = await writeBody(stream, body, meter, this.config.stall, url, pace);
        byteSize = meter.bytes;
      }
      if (plan.declaredSize !== undefined && plan.encoding === undefined && byteSize < plan.declaredSize) {
        await written.abandon();
        throw new DownloadError('NETWORK_ERROR', `Connection ended after ${byteSize} of ${plan.declaredSize} bytes: ${url}`, { url, retryable: true });
      }
      return {
        part: written,
        sha256: hash.digest('hex'),
        byteSize,
        probe,
        contentType: plan.complete ? range.candidate?.state.contentType : response.headers['content-type'],
        declaredSize: plan.encoding === undefined ? plan.declaredSize : undefined,
        resumedFrom: plan.offset,
        finalUrl: response.url,
        hasSidecar: keepPart,
        etag: header(response.headers, 'etag') ?? (plan.complete ? range.candidate?.state.etag : undefined),
        lastModified: header(response.headers, 'last-modified') ?? (plan.complete ? range.candidate?.state.lastModified : undefined),
      };
    } catch (error) {
      stream.destroy();
      const failure = toDownloadError(error, url, signal);
      // Only interruptions are worth continuing later (a full disk included: free space, run again);
      // a refused or corrupt body is not.
      const kept = keepPart && INTERRUPTIONS.has(failure.code);
      if (kept) {
        await this.recordProgress(partBase, url, meter);
        await this.parts.kept(partPaths(partBase).part);
      } else await discardPart(partBase);
      observer.partLeft(kept);
      throw failure;
    }
  }

  /**
   * Hand the observer the exchange: for a status that says the media is gone, with the head of its body
   * (the page that said so), read before the body is thrown away.
   */
  private async describe(response: Response, stream: ReturnType<HttpClient['stream']>, sentAt: number, askedFrom: number, observer: TransferObserver): Promise<void> {
    // A 206 continues the kept bytes; a 416 to the same range says they were the whole file.
    const fromByte = response.statusCode === 206 || response.statusCode === 416 ? askedFrom : 0;
    const missing = judgeStatus(response.statusCode, response.headers, this.clock.now()).kind === 'missing';
    // A media body is decoded as it is written; a missing one's page is kept as it came.
    const exchange = describeExchange(response, sentAt, fromByte, missing ? undefined : header(response.headers, 'content-encoding'));
    if (missing) {
      const { body, truncated } = await readBodyHead(stream);
      exchange.body = body;
      if (truncated) exchange.bodyTruncated = true;
    }
    observer.exchanged(exchange);
  }

  /** Refuse, before a byte is stored, what the headers already show to be wrong or too large. */
  private judgeHeaders(request: TransferRequest, response: Response, plan: WritePlan): void {
    const { url } = request;
    this.verifier.checkResponse({
      url,
      mediaType: request.mediaType,
      contentType: response.headers['content-type'],
      declaredSize: plan.declaredSize,
      verifyContentType: request.verifyContentType,
    });
    if (plan.declaredSize !== undefined && plan.declaredSize > this.config.maxFileSize) throw tooLarge(url, plan.declaredSize, this.config.maxFileSize);
  }

  /** Write the sidecar that lets a later run continue this `.part`, and tell the observer. */
  private async startSidecar(partBase: string, url: string, response: Response, plan: WritePlan, observer: TransferObserver): Promise<void> {
    const etag = header(response.headers, 'etag');
    const lastModified = header(response.headers, 'last-modified');
    const contentType = response.headers['content-type'];
    await writeSidecar(partBase, { url, etag, lastModified, contentLength: plan.declaredSize, ...(contentType === undefined ? {} : { contentType }), bytes: 0 });
    await observer.partKept(partPaths(partBase).part);
  }

  /** Note in the sidecar how many bytes the kept `.part` holds (informational: the file's size is the truth). */
  private async recordProgress(partBase: string, url: string, meter: ByteMeter | undefined): Promise<void> {
    const state = await readPartState(partBase);
    if (state?.url === url && meter) await writeSidecar(partBase, { ...state, bytes: meter.bytes }).catch(() => undefined);
  }

  /**
   * Refuse a body past `maxFileSize`, and a compressed one that inflates past {@link MAX_INFLATION}
   * times its size on the wire: media is already compressed, so such a body is a decompression bomb.
   */
  private sizeGuard(url: string, bytes: number, wireBytes: number | undefined): Error | undefined {
    if (bytes > this.config.maxFileSize) return tooLarge(url, bytes, this.config.maxFileSize);
    if (wireBytes !== undefined && bytes > INFLATION_SLACK && bytes > wireBytes * MAX_INFLATION) {
      return new DownloadError('FILE_TOO_LARGE', `Compressed body inflates to more than ${MAX_INFLATION}× its ${wireBytes} bytes on the wire: ${url}`, { url });
    }
    return undefined;
  }
}

function waitForResponse(stream: ReturnType<HttpClient['stream']>): Promise<Response> {
  return new Promise((resolve, reject) => {
    const onError = (error: unknown): void => {
      stream.off('response', onResponse);
      reject(error);
    };
    const onResponse = (response: Response): void => {
      stream.off('error', onError);
      resolve(response);
    };
    stream.once('response', onResponse);
    stream.once('error', onError);
  });
}

function tooLarge(url: string, bytes: number, max: number): DownloadError {
  return new DownloadError('FILE_TOO_LARGE', `Response of ${bytes} bytes exceeds maxFileSize ${max}: ${url}`, { url });
}

/** Run a check that throws, and hand back what it threw instead. */
function refusalOf(check: () => void): Error | undefined {
  try {
    check();
    return undefined;
  } catch (error) {
    return error as Error;
  }
}
