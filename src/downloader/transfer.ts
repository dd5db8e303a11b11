import { createWriteStream } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { Transform } from 'node:stream';
import type { Response } from 'got';
import type { DownloaderConfig } from '../config/downloader-config.js';
import { DownloadError, type DownloadErrorCode } from '../errors/download-error.js';
import { HttpStatusError } from '../errors/http-status-error.js';
import { MediaNotFoundError } from '../errors/media-not-found-error.js';
import type { HttpClient } from '../http/http-client.js';
import { parseRetryAfter } from '../retry/retry-after.js';
import type { Verifier } from '../verify/verifier.js';
import type { MediaType } from '../verify/media-type.js';
import { StructureProbe } from '../verify/structure-probe.js';
import { ByteMeter } from './byte-meter.js';
import { toDownloadError } from './classify-error.js';
import { parseContentRange } from './content-range.js';
import { discardPart, findResumable, hashPrefix, ifRangeValidator, newSha256, partPaths, readPartState, writeSidecar } from './part-file.js';

/**
 * Responses announced smaller than this get no sidecar: fetching them again costs less than the
 * bookkeeping (a sidecar write, rename and delete per file), which dominated small-file archives.
 */
export const RESUMABLE_MIN_BYTES = 1024 * 1024;

/** Failures after which the bytes on disk are still good and worth continuing. */
const INTERRUPTIONS = new Set<DownloadErrorCode>(['NETWORK_ERROR', 'TIMEOUT', 'STALLED', 'ABORTED', 'FILESYSTEM']);

/** A compressed body may inflate to this many times its size on the wire (media hardly compresses at all). */
const MAX_INFLATION = 20;

/** Below this many decoded bytes the inflation ratio is not judged (headers of tiny bodies compress well). */
const INFLATION_SLACK = 1024 * 1024;

/** Statuses that mean the media is gone. */
const MISSING_STATUSES = new Set([403, 404, 410]);

/** One attempt's input. */
export interface TransferRequest {
  url: string;
  mediaType: MediaType;
  /** Path the `.part` and sidecar are named after. */
  target: string;
  /** Continue an existing `.part` when it validates. */
  resume: boolean;
  verifyContentType: boolean;
  signal: AbortSignal;
  /** Called with (bytes on disk, total) as data arrives. */
  onProgress: (bytes: number, total: number | undefined) => void;
  /** Called when a Range request was honoured. */
  onResumed: (fromByte: number) => void;
  /** Called once a `.part` is set to be kept for resuming (its sidecar written), before any byte is stored. */
  onPartKept: (part: string) => Promise<void>;
}

/** What a successful attempt leaves behind: a complete, fsynced `.part`. */
export interface TransferOutcome {
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
 * Moves bytes for one attempt: asks for the missing range when a `.part` can be
 * continued, judges the headers before storing anything, streams to `.part`
 * while hashing, and checks the byte count. It does not retry; it throws a
 * {@link DownloadError} whose `retryable` tells the runner whether to.
 *
 * A failure leaves the `.part` in place only when it can be continued later
 * (the server gave a validator); otherwise it is deleted.
 */
export class Transfer {
  /** The host's client with what correctness needs fixed once: merging these per request was a profile hot spot. */
  private readonly client: HttpClient;

  constructor(
    http: HttpClient,
    private readonly verifier: Verifier,
    private readonly config: DownloaderConfig,
  ) {
    this.client = http.extend({
      decompress: false,
      throwHttpErrors: false,
      retry: { limit: 0 },
      followRedirect: true,
      maxRedirects: config.maxRedirects,
      timeout: { response: config.responseTimeout, ...(config.timeout > 0 ? { request: config.timeout } : {}) },
    });
  }

  async run(request: TransferRequest): Promise<TransferOutcome> {
    const { url, target, signal } = request;
    const candidate = request.resume ? await findResumable(target, url) : undefined;
    if (!request.resume) await discardPart(target);
    const headers: Record<string, string> = {};
    if (candidate) {
      headers.range = `bytes=${candidate.offset}-`;
      headers['if-range'] = candidate.validator;
    }
    const stream = this.client.stream(url, { headers, signal });
    // Keep one listener for the whole life of the stream: an error between the
    // response and the pipeline must not become an unhandled 'error' event.
    // The error itself reaches us through waitForResponse or the pipeline.
    stream.on('error', () => {});
    let keepPart = false;
    let meter: ByteMeter | undefined;
    try {
      const response = await waitForResponse(stream);
      const plan = this.planWrite(response, candidate?.offset ?? 0, candidate?.state.contentLength, url);
      this.verifier.checkResponse({
        url,
        mediaType: request.mediaType,
        contentType: response.headers['content-type'],
        declaredSize: plan.declaredSize,
        verifyContentType: request.verifyContentType,
      });
      if (plan.declaredSize !== undefined && plan.declaredSize > this.config.maxFileSize) {
        throw tooLarge(url, plan.declaredSize, this.config.maxFileSize);
      }
      const hash = newSha256();
      const probe = new StructureProbe();
      const { part } = partPaths(target);
      if (plan.offset > 0) {
        await hashPrefix(part, plan.offset, hash, probe);
        request.onResumed(plan.offset);
      } else {
        const validator = ifRangeValidator(header(response.headers, 'etag'), header(response.headers, 'last-modified'));
        const worthResuming = plan.declaredSize === undefined || plan.declaredSize >= RESUMABLE_MIN_BYTES;
        keepPart = request.resume && validator !== undefined && plan.encoding === undefined && worthResuming;
        if (keepPart) {
          await writeSidecar(target, {
            url,
            etag: header(response.headers, 'etag'),
            lastModified: header(response.headers, 'last-modified'),
            contentLength: plan.declaredSize,
            bytes: 0,
          });
          await request.onPartKept(part);
        } else if (candidate) {
          // A stale sidecar would let a later run "resume" bytes that are being overwritten now.
          await discardPart(target);
        }
      }
      keepPart ||= plan.offset > 0;
      const encoded = { bytes: 0 };
      meter = new ByteMeter({
        hash,
        probe,
        check: (bytes) => this.sizeGuard(url, bytes, plan.encoding === undefined ? undefined : encoded.bytes),
        onHead: (head) => refusalOf(() => this.verifier.checkHead?.({ url, mediaType: request.mediaType, contentType: response.headers['content-type'], head })),
        onBytes: (bytes) => request.onProgress(bytes, plan.declaredSize),
      });
      const byteSize = await this.writeBody(stream, plan, meter, part, request, encoded);
      if (plan.declaredSize !== undefined && plan.encoding === undefined && byteSize < plan.declaredSize) {
        throw new DownloadError('NETWORK_ERROR', `Connection ended after ${byteSize} of ${plan.declaredSize} bytes: ${url}`, {
          url,
          retryable: true,
        });
      }
      return {
        sha256: hash.digest('hex'),
        byteSize,
        probe,
        contentType: response.headers['content-type'],
        declaredSize: plan.encoding === undefined ? plan.declaredSize : undefined,
        resumedFrom: plan.offset,
        finalUrl: response.url,
        hasSidecar: keepPart,
        etag: header(response.headers, 'etag'),
        lastModified: header(response.headers, 'last-modified'),
      };
    } catch (error) {
      stream.destroy();
      const failure = toDownloadError(error, url, signal);
      // Only interruptions are worth continuing later (a full disk included: free space, run again);
      // a refused or corrupt body is not.
      const interrupted = INTERRUPTIONS.has(failure.code);
      if (keepPart && interrupted) await this.recordProgress(target, url, meter);
      else await discardPart(target);
      throw failure;
    }
  }

  /** Note in the sidecar how many bytes the kept `.part` holds (informational: the file's size is the truth). */
  private async recordProgress(target: string, url: string, meter: ByteMeter | undefined): Promise<void> {
    const state = await readPartState(target);
    if (state?.url === url && meter) await writeSidecar(target, { ...state, bytes: meter.bytes }).catch(() => undefined);
  }

  /** Decide from the status and headers where the body goes and how big the file will be. */
  private planWrite(response: Response, requestedOffset: number, knownTotal: number | undefined, url: string): WritePlan {
    const status = response.statusCode;
    const encoding = contentEncoding(response.headers);
    const length = encoding === undefined ? toLength(header(response.headers, 'content-length')) : undefined;
    if (status === 200) return { offset: 0, declaredSize: length, encoding };
    if (status === 206) {
      const range = parseContentRange(header(response.headers, 'content-range'));
      const total = range?.total ?? knownTotal;
      if (!range || range.start !== requestedOffset || (knownTotal !== undefined && range.total !== undefined && range.total !== knownTotal)) {
        throw new DownloadError(
          'RANGE_MISMATCH',
          `Asked for bytes from ${requestedOffset}, server sent range ${header(response.headers, 'content-range') ?? '(none)'}: ${url}`,
          { url, retryable: true },
        );
      }
      return { offset: requestedOffset, declaredSize: total, encoding };
    }
    if (status === 416) {
      throw new DownloadError('RANGE_MISMATCH', `Server refused the resume range (416): ${url}`, { url, retryable: true });
    }
    if (MISSING_STATUSES.has(status)) throw new MediaNotFoundError(url, status);
    const retryAfter = parseRetryAfter(response.headers['retry-after'], Date.now());
    throw new HttpStatusError(url, status, retryAfter);
  }

  /**
   * Refuse a body past `maxFileSize`, and a compressed one that inflates past {@link MAX_INFLATION}
   * times its size on the wire: media is already compressed, so such a body is a decompression bomb.
   */
  private sizeGuard(url: string, bytes: number, encodedBytes: number | undefined): Error | undefined {
    if (bytes > this.config.maxFileSize) return tooLarge(url, bytes, this.config.maxFileSize);
    if (encodedBytes !== undefined && bytes > INFLATION_SLACK && bytes > encodedBytes * MAX_INFLATION) {
      return new DownloadError('FILE_TOO_LARGE', `Compressed body inflates to more than ${MAX_INFLATION}× its ${encodedBytes} bytes on the wire: ${url}`, { url });
    }
    return undefined;
  }

  /** Stream the body into the `.part` (appending after a kept prefix), fsync it, return the file's size. */
  private async writeBody(
    stream: NodeJS.ReadableStream,
    plan: WritePlan,
    meter: ByteMeter,
    part: string,
    request: TransferRequest,
    encoded: { bytes: number },
  ): Promise<number> {
    // `flush` fsyncs before close: a crash must never leave a complete-looking final file with holes.
    // (A FileHandle stream with autoClose:false would make handle.close() wait forever on the stream's reference.)
    const out = createWriteStream(part, { flags: plan.offset > 0 ? 'r+' : 'w', start: plan.offset, flush: true, highWaterMark: 1024 * 1024 });
    const stall = this.watchForStall(meter, stream, request.url);
    try {
      const decoder = decoderFor(plan.encoding);
      if (decoder) {
        const countEncoded = new Transform({
          transform(chunk: Buffer, _encoding, callback) {
            encoded.bytes += chunk.length;
            callback(null, chunk);
          },
        });
        await pipeline(stream, countEncoded, decoder, meter, out);
      } else {
        await pipeline(stream, meter, out);
      }
      return meter.bytes;
    } finally {
      clearInterval(stall);
    }
  }

  /** Abort when fewer than `stall.minBytes` arrive within `stall.windowMs`. */
  private watchForStall(meter: ByteMeter, stream: NodeJS.ReadableStream, url: string): NodeJS.Timeout | undefined {
    const { minBytes, windowMs } = this.config.stall;
    if (windowMs === 0) return undefined;
    let seen = meter.bytes;
    const timer = setInterval(() => {
      if (meter.bytes - seen < minBytes) {
        const error = new DownloadError('STALLED', `Fewer than ${minBytes} bytes in ${windowMs} ms: ${url}`, { url, retryable: true });
        (stream as unknown as { destroy(error: Error): void }).destroy(error);
      }
      seen = meter.bytes;
    }, windowMs);
    timer.unref();
    return timer;
  }
}

interface WritePlan {
  /** Bytes of the `.part` that are kept. */
  offset: number;
  /** Size of the whole file, if known. */
  declaredSize: number | undefined;
  /** Content-Encoding to undo, if the server compressed despite `identity`. */
  encoding: 'gzip' | 'deflate' | 'br' | undefined;
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

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function toLength(value: string | undefined): number | undefined {
  return value !== undefined && /^\d+$/.test(value.trim()) ? Number(value) : undefined;
}

function contentEncoding(headers: IncomingHttpHeaders): WritePlan['encoding'] {
  const value = header(headers, 'content-encoding')?.trim().toLowerCase();
  if (value === 'gzip' || value === 'x-gzip') return 'gzip';
  if (value === 'deflate' || value === 'br') return value;
  return undefined;
}

function decoderFor(encoding: WritePlan['encoding']): Transform | undefined {
  switch (encoding) {
    case 'gzip':
      return createGunzip();
    case 'deflate':
      return createInflate();
    case 'br':
      return createBrotliDecompress();
    default:
      return undefined;
  }
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
