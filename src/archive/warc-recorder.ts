import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { inject, injectable } from 'inversify';
import { DownloaderConfig } from '../config/downloader-config.js';
import { Clock } from '../time/clock.js';
import { essenceOf } from '../verify/media-formats.js';
import type { ArchiveRecorder, HttpExchange, MissingDownload, SavedDownload } from './archive-recorder.js';
import { requestHead, responseHead, warcProtocol } from './http-heads.js';
import { knownPayloads, type KnownPayload } from './known-payloads.js';
import { bufferDigest, fileDigest } from './payload-digest.js';
import type { WarcRecordSpec } from './warc-record.js';
import { WarcWriter } from './warc-writer.js';
import { warcinfoFields } from './warcinfo.js';

/** The WARC 1.1 profile of a revisit whose payload is identical to an earlier record's. */
export const IDENTICAL_PAYLOAD_PROFILE = 'http://netpreserve.org/warc/1.1/revisit/identical-payload-digest';

/** Where the WARC files of an output folder go. */
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
 */
@injectable()
export class WarcRecorder implements ArchiveRecorder {
  readonly recording = true;
  private readonly exchanges = new Map<string, HttpExchange[]>();
  private started: Promise<{ writer: WarcWriter; known: Map<string, KnownPayload> }> | undefined;
  private failure: Error | undefined;
  private failures = 0;

  constructor(
    @inject(DownloaderConfig) private readonly config: DownloaderConfig,
    @inject(Clock) private readonly clock: Clock,
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

  async saved(download: SavedDownload): Promise<void> {
    const exchanges = this.take(download.id);
    await this.guard(async () => {
      const { writer, known } = await this.start();
      for (const gone of exchanges.filter((e) => e.body !== undefined)) await this.writeExchange(writer, gone);
      // The exchange whose body completed the file: the last that brought bytes.
      const final = exchanges.filter((e) => e.body === undefined && (e.response.status === 200 || e.response.status === 206)).at(-1);
      if (!final) return;
      const digest = await fileDigest(this.config.archive.digest, download.sha256, download.file);
      const earlier = known.get(digest);
      let recordId: string;
      if (earlier) recordId = await this.writeRevisit(writer, final, digest, earlier);
      else if (final.fromByte > 0 || final.response.status === 206) recordId = await this.writeAssembled(writer, download, exchanges, digest, known);
      else recordId = await this.writeExchange(writer, final, { download, digest, known });
      if (download.captureOf !== undefined) await this.writeCaptureNote(writer, final, recordId, download.captureOf);
    });
  }

  async missing(download: MissingDownload): Promise<void> {
    const exchanges = this.take(download.id).filter((e) => e.body !== undefined);
    if (exchanges.length === 0) return;
    await this.guard(async () => {
      const { writer } = await this.start();
      for (const exchange of exchanges) await this.writeExchange(writer, exchange);
    });
  }

  /**
   * Close and index the open WARC file. Records that could not be written (a full disk) are reported here,
   * once: a download never failed because its evidence could not be kept.
   * @throws Error saying how many records were lost, and why
   */
  async close(): Promise<void> {
    if (this.started) await (await this.started.catch(() => undefined))?.writer.close();
    if (this.failure) throw new Error(`${this.failures} WARC record group${this.failures === 1 ? '' : 's'} could not be written to ${this.folder}: ${this.failure.message}`);
  }

  private take(id: string): HttpExchange[] {
    const list = this.exchanges.get(id) ?? [];
    this.exchanges.delete(id);
    return list;
  }

  private async guard(write: () => Promise<void>): Promise<void> {
    try {
      await write();
    } catch (error) {
      this.failure ??= error as Error;
      this.failures++;
    }
  }

  /** Recover what a crashed run left open, learn the payloads earlier runs recorded, and open a writer. */
  private start(): Promise<{ writer: WarcWriter; known: Map<string, KnownPayload> }> {
    this.started ??= (async () => {
      await fs.mkdir(this.folder, { recursive: true });
      await WarcWriter.recover(this.folder);
      const known = await knownPayloads(this.folder);
      const writer = new WarcWriter({
        dir: this.folder,
        prefix: 'tumblr-dl',
        worker: `${os.hostname()}-${process.pid}`,
        maxSize: this.config.archive.maxSize,
        // Media hardly compresses: the fastest level costs a fraction of the default's CPU for the same size.
        gzipLevel: 1,
        warcinfo: warcinfoFields(this.config),
        now: () => new Date(this.clock.now()),
      });
      return { writer, known };
    })();
    return this.started;
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
    await writer.write({
      type: 'request',
      targetUri: url,
      date: exchange.date,
      recordId: requestId,
      contentType: 'application/http; msgtype=request',
      headers: [['WARC-Concurrent-To', responseId], protocol],
      head: requestHead(exchange),
    });
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
    await writer.write(spec, { url, mime: mimeOf(exchange), status: exchange.response.status, digest });
    saved?.known.set(digest, { recordId: responseId, uri: url, date: exchange.date });
    return responseId;
  }

  /** A file assembled from several exchanges: one `resource` record of the whole verified file, and what made it. */
  private async writeAssembled(writer: WarcWriter, download: SavedDownload, exchanges: HttpExchange[], digest: string, known: Map<string, KnownPayload>): Promise<string> {
    const final = exchanges.at(-1)!;
    const url = final.request.url;
    const resourceId = recordId();
    const mime = mimeOf(final);
    const headers: Array<[string, string]> = [['WARC-Payload-Digest', digest]];
    if (digest.startsWith('sha256:')) headers.push(['WARC-Block-Digest', digest]);
    await writer.write(
      { type: 'resource', targetUri: url, date: final.date, recordId: resourceId, contentType: mime, headers, payload: { file: download.file, length: download.byteSize } },
      { url, mime, digest },
    );
    known.set(digest, { recordId: resourceId, uri: url, date: final.date });
    const fields: Array<[string, string]> = [
      ['reason', 'the file was assembled from several HTTP exchanges (Range requests); replay tools drop partial 206 records, so the complete verified file is this resource'],
    ];
    const first = exchanges.find((e) => e.body === undefined);
    if (first && first.fromByte > 0) fields.push(['earlier-bytes', `bytes 0-${first.fromByte - 1} came from an earlier run, continued with If-Range`]);
    for (const e of exchanges.filter((x) => x.body === undefined)) fields.push(['exchange', describe(e)]);
    await writer.write({
      type: 'metadata',
      targetUri: url,
      date: final.date,
      contentType: 'application/warc-fields',
      headers: [['WARC-Refers-To', resourceId]],
      payload: warcFields(fields),
    });
    return resourceId;
  }

  /** The same payload as an earlier record: a `revisit` (and its request), no second copy of the bytes. */
  private async writeRevisit(writer: WarcWriter, exchange: HttpExchange, digest: string, earlier: KnownPayload): Promise<string> {
    const revisitId = recordId();
    const requestId = recordId();
    const url = exchange.request.url;
    const protocol: [string, string] = ['WARC-Protocol', warcProtocol(exchange)];
    await writer.write({
      type: 'request',
      targetUri: url,
      date: exchange.date,
      recordId: requestId,
      contentType: 'application/http; msgtype=request',
      headers: [['WARC-Concurrent-To', revisitId], protocol],
      head: requestHead(exchange),
    });
    await writer.write(
      {
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
      },
      { url, mime: 'warc/revisit', status: exchange.response.status, digest },
    );
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
