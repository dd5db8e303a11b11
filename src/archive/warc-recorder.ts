import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { inject, injectable } from 'inversify';
import { DownloaderConfig } from '../config/downloader-config.js';
import { MediaStore } from '../store/media-store.js';
import { Clock } from '../time/clock.js';
import { essenceOf } from '../verify/media-formats.js';
import type { ArchiveRecorder, HttpExchange, MissingDownload, SavedDownload } from './archive-recorder.js';
import { requestHead, responseHead, warcProtocol } from './http-heads.js';
import { knownPayloads, type KnownPayload } from './known-payloads.js';
import { bufferDigest, fileDigest } from './payload-digest.js';
import { finishedWarcs, type FinishedWarc } from './warc-files.js';
import type { WarcRecordSpec } from './warc-record.js';
import { WarcWriter } from './warc-writer.js';
import { warcinfoFields } from './warcinfo.js';

/**
 * Downloads recorded at once before a finishing download waits for room: the writer holds each one's small
 * members in memory (payloads up to 1 MiB), so this bounds that memory to a few dozen MiB.
 */
const MAX_IN_FLIGHT = 32;

/** The WARC 1.1 profile of a revisit whose payload is identical to an earlier record's. */
export const IDENTICAL_PAYLOAD_PROFILE = 'http://netpreserve.org/warc/1.1/revisit/identical-payload-digest';

/** Where the WARC files of an output folder go (for a bucket: of the state folder, and under the prefix). */
export const WARC_FOLDER = 'warc';

/**
 * Keeps a WARC 1.1 archive of the downloads in `<outputDir>/warc/` (see docs/warc.md):
 * - bytes that came in one exchange: the `request` and its `response`, linked by `WARC-Concurrent-To`;
 * - bytes assembled from several exchanges (a resume): one `resource` record with the whole verified file,
 *   and a `metadata` record listing the exchanges: replay tools drop partial (206) records, and one 200
 *   never happened;
 * - bytes already recorded (any URL, any run): a `revisit` with the identical-payload-digest profile;
 * - a 404/403/410: its `response`, with up to 64 KiB of the page;
 * - a Wayback capture: its own exchange, and a `metadata` record naming the Tumblr URL it stands for.
 * Refused bytes and broken connections are not recorded. The payload digest is the ledger's SHA-256.
 *
 * Every file the writer finishes is handed to the {@link MediaStore}, its index first and the WARC last: a
 * folder keeps it where it is; a bucket takes it under `<prefix>warc/` and the local copy goes, while the
 * writer goes on. With a bucket, the finished files a run before left in the folder (it failed to publish
 * them, or was killed; recovery finishes what it left open) are handed on when the recorder starts.
 */
@injectable()
export class WarcRecorder implements ArchiveRecorder {
  readonly recording = true;
  private readonly exchanges = new Map<string, HttpExchange[]>();
  private started: Promise<{ writer: WarcWriter; known: Map<string, KnownPayload> }> | undefined;
  private failure: Error | undefined;
  private failures = 0;
  /** Downloads whose records are being written (the writer appends them in the order they were handed over). */
  private readonly inFlight = new Set<Promise<void>>();
  /** Downloads held back while {@link MAX_IN_FLIGHT} are being recorded: their finishing waits for the writer. */
  private readonly waitingForRoom: Array<() => void> = [];
  /** Finished files handed to the store one at a time, in the order they were finished; never rejects. */
  private publishing: Promise<void> = Promise.resolve();
  /** Bases of the files handed over: a file listed twice is published once (a second try would find it gone). */
  private readonly handedOver = new Set<string>();
  private publishFailure: Error | undefined;
  private publishFailures = 0;
  /** A run that recorded nothing still recovers and hands on what a run before left (bucket only). */
  private leftovers: Promise<void> | undefined;

  constructor(
    @inject(DownloaderConfig) private readonly config: DownloaderConfig,
    @inject(Clock) private readonly clock: Clock,
    @inject(MediaStore) private readonly store: MediaStore,
  ) {}

  /** The folder the WARC files are written to. */
  get folder(): string {
    return path.join(this.config.outputDir, WARC_FOLDER);
  }

  exchanged(id: string, given: HttpExchange): void {
    // Whole seconds: the CDXJ keeps 14 digits, and a later run's revisit must name the very WARC-Date it refers to.
    const exchange = { ...given, date: new Date(Math.floor(given.date.getTime() / 1000) * 1000) };
    const list = this.exchanges.get(id);
    if (list) list.push(exchange);
    else this.exchanges.set(id, [exchange]);
  }

  dropped(id: string): void {
    this.exchanges.delete(id);
  }

  saved(download: SavedDownload): Promise<void> {
    const exchanges = this.take(download.id);
    return this.track(() => this.record(download, exchanges).finally(() => download.release?.()));
  }

  /** The records of a saved download: its pages, then the exchange that brought its bytes (see {@link saved}). */
  private async record(download: SavedDownload, exchanges: HttpExchange[]): Promise<void> {
    const { writer, known } = await this.start();
    const digest = await fileDigest(this.config.archive.digest, download.sha256, download.file);
    // From here to each write's hand-over nothing waits: what is recorded is decided in the order downloads end.
    const pages = Promise.all(exchanges.filter((e) => e.body !== undefined).map((gone) => this.writeExchange(writer, gone)));
    // Awaited last: a page that fails to write must not be an unhandled rejection meanwhile.
    pages.catch(() => undefined);
    // The exchange whose body completed the file: the last that brought bytes.
    // A 416 ends a file an earlier run had already fetched whole (its range asked past the end).
    const final = exchanges.filter((e) => e.body === undefined && (e.response.status === 200 || e.response.status === 206 || e.response.status === 416)).at(-1);
    if (final) {
      const earlier = known.get(digest);
      // A file assembled from several exchanges is a resource even when its bytes are known: a revisit
      // carries one response's head, and a 206's would disagree with the whole payload it stands for.
      const recorded =
        final.fromByte > 0 || final.response.status === 206 || final.response.status === 416
          ? this.writeAssembled(writer, download, final, exchanges, digest, known)
          : earlier
            ? this.writeRevisit(writer, final, digest, earlier)
            : this.writeExchange(writer, final, { download, digest, known });
      if (download.captureOf !== undefined) await this.writeCaptureNote(writer, final, await recorded, download.captureOf);
      else await recorded;
    }
    await pages;
  }

  missing(download: MissingDownload): Promise<void> {
    const exchanges = this.take(download.id).filter((e) => e.body !== undefined);
    if (exchanges.length === 0) return Promise.resolve();
    return this.track(async () => {
      const { writer } = await this.start();
      await Promise.all(exchanges.map((exchange) => this.writeExchange(writer, exchange)));
    });
  }

  /**
   * Close and index the open WARC file, and wait until every finished file has been handed to the store.
   * Records that could not be written (a full disk) and files the store could not take (a bucket that
   * failed) are reported here, once: a download never failed because its evidence could not be kept. A
   * file the store could not take stays in the folder, and the next run hands it on.
   * @throws Error saying how many records or files were not kept, and why
   */
  async close(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
    let unfinished: Error | undefined;
    try {
      if (this.started) await (await this.started.catch(() => undefined))?.writer.close();
      else if (this.toBucket) await (this.leftovers ??= this.recoverLeftovers());
    } catch (error) {
      unfinished = error as Error;
    }
    // All tried before the store closes (right after the recorder): a publish needs its connection.
    await this.publishing;
    const problems: Error[] = [];
    if (this.failure)
      problems.push(new Error(`${this.failures} WARC record group${this.failures === 1 ? '' : 's'} could not be written to ${this.folder}: ${this.failure.message}`));
    if (unfinished) problems.push(unfinished);
    if (this.publishFailure) {
      const [files, stay] = this.publishFailures === 1 ? ['file', 'stays'] : ['files', 'stay'];
      problems.push(
        new Error(
          `${this.publishFailures} finished WARC ${files} could not be published to ${this.store.location}: ${this.publishFailure.message} (${stay} in ${this.folder}; the next run publishes ${this.publishFailures === 1 ? 'it' : 'them'})`,
        ),
      );
    }
    if (problems.length === 1) throw problems[0];
    if (problems.length > 1) throw new Error(problems.map((problem) => problem.message).join('; '), { cause: problems[0] });
  }

  private take(id: string): HttpExchange[] {
    const list = this.exchanges.get(id) ?? [];
    this.exchanges.delete(id);
    return list;
  }

  /**
   * Record a download behind it and return: its file is in place, so its records can be written while the
   * next downloads run (the writer reads and compresses payloads ahead, and appends in order). Only while
   * {@link MAX_IN_FLIGHT} downloads are being recorded does the caller wait, so a slow disk slows the
   * downloads down instead of filling memory. Which records a download gets is decided before its first
   * write is handed over, in the order downloads end, so the first copy of a payload is the one revisits name.
   */
  private track(record: () => Promise<void>): Promise<void> {
    const running: Promise<void> = record()
      .catch((error: unknown) => {
        this.failure ??= error as Error;
        this.failures++;
      })
      .finally(() => {
        this.inFlight.delete(running);
        while (this.inFlight.size <= MAX_IN_FLIGHT && this.waitingForRoom.length > 0) this.waitingForRoom.shift()!();
      });
    this.inFlight.add(running);
    return this.inFlight.size <= MAX_IN_FLIGHT ? Promise.resolve() : new Promise((resolve) => this.waitingForRoom.push(resolve));
  }

  /**
   * Recover what a crashed run left open, learn the payloads earlier runs recorded, hand on the finished
   * files left in the folder (bucket only), and open a writer whose finished files are handed on too.
   */
  private start(): Promise<{ writer: WarcWriter; known: Map<string, KnownPayload> }> {
    this.started ??= (async () => {
      await fs.mkdir(this.folder, { recursive: true });
      await WarcWriter.recover(this.folder);
      // Read before the leftovers leave for the bucket: a revisit may still name their records.
      const known = await knownPayloads(this.folder);
      // Listed before the writer exists: no file this run finishes is among them.
      await this.publishLeftovers();
      const writer = new WarcWriter({
        dir: this.folder,
        prefix: 'tumblr-dl',
        worker: `${os.hostname()}-${process.pid}`,
        maxSize: this.config.archive.maxSize,
        // Heads and pages compress; verified media does not: it is stored in its gzip member, at the speed of a copy.
        gzipLevel: 1,
        filePayloadLevel: 0,
        warcinfo: warcinfoFields(this.config),
        now: () => new Date(this.clock.now()),
        onFinish: (finished) => this.publish(finished),
      });
      return { writer, known };
    })();
    return this.started;
  }

  /** Whether files go to a bucket: only then is the folder a staging place whose finished files must leave. */
  private get toBucket(): boolean {
    return this.config.store.url !== '';
  }

  /** Nothing was recorded this run: finish what a killed run left open, and hand on what lies finished. */
  private async recoverLeftovers(): Promise<void> {
    await WarcWriter.recover(this.folder);
    await this.publishLeftovers();
  }

  /** With a bucket, queue the finished files lying in the folder (a listing failure is reported as a publish one). */
  private async publishLeftovers(): Promise<void> {
    if (!this.toBucket) return;
    try {
      for (const finished of await finishedWarcs(this.folder)) this.publish(finished);
    } catch (error) {
      this.publishFailed(error);
    }
  }

  /**
   * Hand a finished file to the store behind the writer: its index, then the WARC (for a folder, nothing
   * happens). When the index fails the WARC is not tried: a WARC is published only after its index, so
   * a local WARC without one is always a file whose index already went.
   */
  private publish(finished: FinishedWarc): void {
    if (this.handedOver.has(finished.base)) return;
    this.handedOver.add(finished.base);
    this.publishing = this.publishing.then(async () => {
      try {
        for (const file of finished.files) await this.store.publishFile(file);
      } catch (error) {
        this.publishFailed(error);
      }
    });
  }

  private publishFailed(error: unknown): void {
    this.publishFailure ??= error instanceof Error ? error : new Error(String(error));
    this.publishFailures++;
  }

  /**
   * An exchange as its `request` and `response` records: the saved file as the payload (streamed from
   * disk, never copied in memory), or the kept head of a 404 page.
   * @returns the response record's id
   */
  private async writeExchange(writer: WarcWriter, exchange: HttpExchange, saved?: { download: SavedDownload; digest: string; known: Map<string, KnownPayload> }): Promise<string> {
    const responseId = recordId();
    const requestId = recordId();
    const url = exchange.request.url;
    const protocol: [string, string] = ['WARC-Protocol', warcProtocol(exchange)];
    const request = requestRecord(exchange, requestId, responseId);
    const body = saved ? { file: saved.download.file, length: saved.download.byteSize } : (exchange.body ?? Buffer.alloc(0));
    const digest = saved ? saved.digest : bufferDigest(this.config.archive.digest, exchange.body ?? Buffer.alloc(0));
    const headers: Array<[string, string]> = [['WARC-Concurrent-To', requestId], protocol, ['WARC-Payload-Digest', digest]];
    if (exchange.bodyTruncated) headers.push(['WARC-Truncated', 'length']);
    const spec: WarcRecordSpec = {
      type: 'response',
      targetUri: url,
      date: exchange.date,
      recordId: responseId,
      contentType: 'application/http; msgtype=response',
      headers,
      head: responseHead(exchange),
      payload: body,
    };
    // Known before it is written: a download ending meanwhile with the same bytes is a revisit of this one.
    saved?.known.set(digest, { recordId: responseId, uri: url, date: exchange.date });
    try {
      await writer.writeGroup([{ record: request }, { record: spec, index: { url, mime: mimeOf(exchange), status: exchange.response.status, digest } }]);
    } catch (error) {
      forget(saved?.known, digest, responseId);
      throw error;
    }
    return responseId;
  }

  /** A file assembled from several exchanges: one `resource` record of the whole verified file, and what made it. */
  private async writeAssembled(
    writer: WarcWriter,
    download: SavedDownload,
    final: HttpExchange,
    exchanges: HttpExchange[],
    digest: string,
    known: Map<string, KnownPayload>,
  ): Promise<string> {
    const url = final.request.url;
    const resourceId = recordId();
    // A 416 says nothing of the file's type: the type the file was first served with stands.
    const mime = final.response.status === 416 ? (essenceOf(download.contentType) ?? 'application/octet-stream') : mimeOf(final);
    const headers: Array<[string, string]> = [['WARC-Payload-Digest', digest]];
    if (digest.startsWith('sha256:')) headers.push(['WARC-Block-Digest', digest]);
    const transfers = exchanges.filter((e) => e.body === undefined);
    const fields: Array<[string, string]> = [
      ['reason', 'the file was assembled from several HTTP exchanges (Range requests); replay tools drop partial 206 records, so the complete verified file is this resource'],
    ];
    const first = transfers[0];
    if (first && first.fromByte > 0) fields.push(['earlier-bytes', `bytes 0-${first.fromByte - 1} came from an earlier run, continued with If-Range`]);
    for (const e of transfers) fields.push(['exchange', describe(e)]);
    // Known before it is written: a download ending meanwhile with the same bytes is a revisit of this one.
    known.set(digest, { recordId: resourceId, uri: url, date: final.date });
    await writer
      .writeGroup([
        {
          record: {
            type: 'resource',
            targetUri: url,
            date: final.date,
            recordId: resourceId,
            contentType: mime,
            headers,
            payload: { file: download.file, length: download.byteSize },
          },
          index: { url, mime, digest },
        },
        {
          record: {
            type: 'metadata',
            targetUri: url,
            date: final.date,
            contentType: 'application/warc-fields',
            headers: [['WARC-Refers-To', resourceId]],
            payload: warcFields(fields),
          },
        },
      ])
      .catch((error: unknown) => {
        forget(known, digest, resourceId);
        throw error;
      });
    return resourceId;
  }

  /** The same payload as an earlier record: a `revisit` (and its request), no second copy of the bytes. */
  private async writeRevisit(writer: WarcWriter, exchange: HttpExchange, digest: string, earlier: KnownPayload): Promise<string> {
    const revisitId = recordId();
    const requestId = recordId();
    const url = exchange.request.url;
    const protocol: [string, string] = ['WARC-Protocol', warcProtocol(exchange)];
    const request = requestRecord(exchange, requestId, revisitId);
    const revisit: WarcRecordSpec = {
      type: 'revisit',
      targetUri: url,
      date: exchange.date,
      recordId: revisitId,
      contentType: 'application/http; msgtype=response',
      headers: [
        ['WARC-Concurrent-To', requestId],
        protocol,
        ['WARC-Profile', IDENTICAL_PAYLOAD_PROFILE],
        ['WARC-Refers-To', earlier.recordId],
        ['WARC-Refers-To-Target-URI', earlier.uri],
        ['WARC-Refers-To-Date', earlier.date.toISOString()],
        ['WARC-Payload-Digest', digest],
        ['WARC-Truncated', 'length'],
      ],
      head: responseHead(exchange),
    };
    await writer.writeGroup([{ record: request }, { record: revisit, index: { url, mime: 'warc/revisit', status: exchange.response.status, digest } }]);
    return revisitId;
  }

  /** A Wayback capture stands for a Tumblr URL: say which, beside the capture's own record. */
  private async writeCaptureNote(writer: WarcWriter, exchange: HttpExchange, refersTo: string, captureOf: string): Promise<void> {
    await writer.write({
      type: 'metadata',
      targetUri: exchange.request.url,
      date: exchange.date,
      contentType: 'application/warc-fields',
      headers: [['WARC-Refers-To', refersTo]],
      payload: warcFields([
        ['capture-of', captureOf],
        ['reason', 'the media was gone from Tumblr (404/403/410); these bytes are the Wayback Machine capture of it'],
      ]),
    });
  }
}

/** A record that failed to be written is no payload to refer to: later copies of its bytes are written in full. */
function forget(known: Map<string, KnownPayload> | undefined, digest: string, recordId: string): void {
  if (known?.get(digest)?.recordId === recordId) known.delete(digest);
}

/** The `request` record of an exchange, naming the record of its answer in `WARC-Concurrent-To`. */
function requestRecord(exchange: HttpExchange, id: string, answerId: string): WarcRecordSpec {
  return {
    type: 'request',
    targetUri: exchange.request.url,
    date: exchange.date,
    recordId: id,
    contentType: 'application/http; msgtype=request',
    headers: [
      ['WARC-Concurrent-To', answerId],
      ['WARC-Protocol', warcProtocol(exchange)],
    ],
    head: requestHead(exchange),
  };
}

/** A new `WARC-Record-ID`. */
function recordId(): string {
  return `<urn:uuid:${randomUUID()}>`;
}

/** The payload's media type for the index: the response's Content-Type, without parameters. */
function mimeOf(exchange: HttpExchange): string {
  const type = exchange.response.headers.find(([name]) => name.toLowerCase() === 'content-type')?.[1];
  return essenceOf(type) ?? 'application/octet-stream';
}

/** One exchange of an assembled file, in a line: when, what was asked, what came. */
function describe(exchange: HttpExchange): string {
  const header = (name: string): string | undefined => exchange.response.headers.find(([n]) => n.toLowerCase() === name)?.[1];
  const parts = [exchange.date.toISOString(), `GET ${exchange.request.url}`, `HTTP/${exchange.response.httpVersion} ${exchange.response.status}`];
  const range = header('content-range');
  if (range) parts.push(`Content-Range: ${range}`);
  const etag = header('etag');
  if (etag) parts.push(`ETag: ${etag}`);
  const modified = header('last-modified');
  if (modified) parts.push(`Last-Modified: ${modified}`);
  return parts.join(' | ');
}

/** `application/warc-fields`: `name: value` lines. */
function warcFields(fields: ReadonlyArray<readonly [string, string]>): Buffer {
  return Buffer.from(fields.map(([name, value]) => `${name}: ${value.replace(/[\r\n]+/g, ' ')}\r\n`).join(''), 'utf8');
}
