/**
 * Packs an archive's closed WARCs into one WACZ 1.1.1 file (https://specs.webrecorder.net/wacz/1.1.1/):
 * a ZIP that replay tools such as ReplayWeb.page open in place, reading byte ranges of it.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream, promises as fs, type ReadStream, type WriteStream } from 'node:fs';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { pipeline } from 'node:stream/promises';
import { ZipFile } from 'yazl';
import { DownloadError } from '../errors/download-error.js';
import { cdxjTimestampToIso, parseCdxjLine } from './warc-files.js';

/** The WACZ version written into `datapackage.json`. */
export const WACZ_VERSION = '1.1.1';

/** What {@link packWacz} packs, and where. */
export interface PackWaczOptions {
  /** The folder of closed `*.warc.gz` files, each with its `<name>.cdxj` beside it (`<dir>/warc` of a `fetch --warc` run). */
  warcDir: string;
  /** The `.wacz` file to write; `<output>.tmp` is written first, then renamed over it. Its folder is created. */
  output: string;
  /** `datapackage.json`'s `title`. @default the output file's name without `.wacz` */
  title?: string;
  /** `datapackage.json`'s `software`: who packed it (`tumblr-dl 0.1.0`). */
  software: string;
  /** The clock: `created`, and every ZIP entry's time, so one input packs to the same bytes. @default () => new Date() */
  now?: () => Date;
}

/** What {@link packWacz} wrote. */
export interface WaczSummary {
  /** The WACZ file written. */
  output: string;
  /** WARC files packed. */
  warcs: number;
  /** CDXJ lines in `indexes/index.cdxj`: one per indexed record. */
  records: number;
  /** Entries of `pages/pages.jsonl` (its header line not counted). */
  pages: number;
  /** Size of the WACZ file. */
  bytes: number;
  /** WARCs left out because a run is still writing them (`.warc.gz.open`, or a closed one whose `.cdxj` is still `.open`). */
  skippedOpen: number;
}

/** One `datapackage.json` resource: a file of the WACZ with its fixity. */
export interface WaczResource {
  /** The file's name, in Frictionless Data's alphabet (lowercase, `.-_`). */
  name: string;
  /** Its path inside the WACZ. */
  path: string;
  /** `sha256:<hex>` of its bytes. */
  hash: string;
  /** Its size. */
  bytes: number;
}

/** Why a pack failed. */
export type WaczFailure = 'NO_WARC' | 'NO_INDEX' | 'BAD_INDEX' | 'READ_FAILED' | 'WRITE_FAILED';

/**
 * A pack that cannot be made: bad input (`BAD_INPUT`: no closed WARC, a WARC without its index, a
 * damaged index line) or the disk (`FILESYSTEM`, the fs error as `cause`). No output file is left behind.
 */
export class WaczError extends DownloadError {
  /** Which failure. */
  readonly failure: WaczFailure;
  /** The file or folder it concerns. */
  readonly file: string;

  constructor(failure: WaczFailure, file: string, message: string, cause?: unknown) {
    super(failure === 'READ_FAILED' || failure === 'WRITE_FAILED' ? 'FILESYSTEM' : 'BAD_INPUT', message, { cause });
    this.failure = failure;
    this.file = file;
  }
}

/** The disk refused to let `file` be read (`READ_FAILED`) or written (`WRITE_FAILED`). */
function diskError(failure: 'READ_FAILED' | 'WRITE_FAILED', file: string, error: unknown): WaczError {
  return new WaczError(failure, file, `cannot ${failure === 'READ_FAILED' ? 'read' : 'write'} ${file}: ${(error as Error).message}`, error);
}

/** A WARC to pack and its index. */
interface WarcFile {
  name: string;
  bytes: number;
}

/** The merged index and the pages found in it. */
interface MergedIndex {
  /** CDXJ lines, sorted. */
  lines: string[];
  /** Saved URL → earliest 14-digit timestamp. */
  pages: Map<string, string>;
}

/** The CDXJ file a WARC writer keeps beside `<name>.warc.gz`. */
function indexName(warcName: string): string {
  return `${warcName.slice(0, -'.warc.gz'.length)}.cdxj`;
}

/** The closed WARCs of `warcDir`, by name; those a run is still writing are counted, not listed. */
async function listWarcs(warcDir: string): Promise<{ warcs: WarcFile[]; skippedOpen: number }> {
  let names: string[];
  try {
    names = await fs.readdir(warcDir);
  } catch (error) {
    // No folder is the same news as an empty one: nothing was archived there.
    if (['ENOENT', 'ENOTDIR'].includes((error as NodeJS.ErrnoException).code ?? '')) names = [];
    else throw diskError('READ_FAILED', warcDir, error);
  }
  const present = new Set(names);
  let skippedOpen = names.filter((name) => name.endsWith('.warc.gz.open')).length;
  const warcs: WarcFile[] = [];
  for (const name of names.filter((n) => n.endsWith('.warc.gz')).sort()) {
    const index = indexName(name);
    if (!present.has(index)) {
      // Closed, its index not yet renamed: the writer is between the two renames; it is still being written.
      if (present.has(`${index}.open`)) {
        skippedOpen++;
        continue;
      }
      throw new WaczError(
        'NO_INDEX',
        path.join(warcDir, name),
        `${path.join(warcDir, name)} has no ${index} beside it: it was not closed cleanly; move it out of ${warcDir} to pack the rest`,
      );
    }
    const stat = await fs.stat(path.join(warcDir, name)).catch((error: unknown) => {
      throw diskError('READ_FAILED', path.join(warcDir, name), error);
    });
    if (stat.isFile()) warcs.push({ name, bytes: stat.size });
  }
  if (warcs.length === 0) {
    const open = skippedOpen > 0 ? ` (${skippedOpen} still being written: let that run finish)` : '';
    throw new WaczError('NO_WARC', warcDir, `no closed WARC in ${warcDir}${open}: run fetch --warc first`);
  }
  return { warcs, skippedOpen };
}

/**
 * A page of the collection: a saved capture of a web URL (HTTP 200; a resource record, which has no status;
 * or a 200 revisit, which replay serves with the earlier record's payload: the media was saved under this
 * URL too). A 404 says "not here": nothing to browse to.
 */
function isPage(fields: Record<string, unknown>): boolean {
  // Numbers from this tool's writer; pywb and cdxj-indexer write the status as a string.
  if (fields.status !== undefined && Number(fields.status) !== 200) return false;
  return /^https?:\/\//i.test(fields.url as string);
}

/**
 * Every index line of `warcs`, sorted as CDXJ readers binary-search it (by code unit: SURTs are ASCII,
 * so this is `LC_ALL=C sort`), each naming its WARC by bare name, which replay resolves under `archive/`.
 * The lines are held in memory: about 300 bytes per record, where the WARCs themselves are never read.
 */
async function mergeIndexes(warcDir: string, warcs: WarcFile[]): Promise<MergedIndex> {
  const lines: string[] = [];
  const pages = new Map<string, string>();
  for (const warc of warcs) {
    const file = path.join(warcDir, indexName(warc.name));
    const input = createReadStream(file, { encoding: 'utf8' });
    let lineNumber = 0;
    try {
      for await (const raw of createInterface({ input, crlfDelay: Infinity })) {
        lineNumber++;
        const line = raw.trim();
        // Blank lines, and the `!` header lines some CDXJ writers start with, index nothing.
        if (line === '' || line.startsWith('!')) continue;
        const entry = parseCdxjLine(line);
        if (!entry) throw new WaczError('BAD_INDEX', file, `${file} line ${lineNumber} is not a CDXJ line (<surt> <timestamp> <json with url>): the index is damaged`);
        const ownName = entry.fields.filename === warc.name;
        lines.push(ownName ? line : `${entry.surt} ${entry.timestamp} ${JSON.stringify({ ...entry.fields, filename: warc.name })}`);
        const url = entry.fields.url as string;
        const seen = pages.get(url);
        if (isPage(entry.fields) && (seen === undefined || entry.timestamp < seen)) pages.set(url, entry.timestamp);
      }
    } catch (error) {
      if (error instanceof WaczError) throw error;
      throw diskError('READ_FAILED', file, error);
    } finally {
      input.destroy();
    }
  }
  lines.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return { lines, pages };
}

/**
 * `pages/pages.jsonl`: the header line, then one page per saved URL in capture order. The id is a hash
 * of the URL, not a random UUID, so packing the same archive twice gives the same pages.
 */
function pagesJsonl(pages: Map<string, string>): string {
  const header = JSON.stringify({ format: 'json-pages-1.0', id: 'pages', title: 'All Pages' });
  const entries = [...pages].sort(([urlA, tsA], [urlB, tsB]) => (tsA < tsB ? -1 : tsA > tsB ? 1 : urlA < urlB ? -1 : urlA > urlB ? 1 : 0));
  const lines = entries.map(([url, ts]) => JSON.stringify({ id: sha256Hex(url).slice(0, 32), url, ts: cdxjTimestampToIso(ts), title: url }));
  return [header, ...lines].join('\n') + '\n';
}

function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * A resource's `name` as Frictionless Data requires it (lowercase letters, digits, `.`, `-`, `_`), which
 * validators such as `wacz validate` check: a WARC named after a host (`…-MyMac.warc.gz`) would not pass.
 */
function resourceName(zipPath: string): string {
  return path.posix
    .basename(zipPath)
    .toLowerCase()
    .replace(/[^a-z0-9._-]/g, '-');
}

/** Add `buffer` at `zipPath`, deflated (text indexes and JSON may be: only the WARCs are read by range). */
function addBuffer(zip: ZipFile, buffer: Buffer, zipPath: string, mtime: Date): WaczResource {
  zip.addBuffer(buffer, zipPath, { mtime, compress: true });
  return { name: resourceName(zipPath), path: zipPath, hash: `sha256:${sha256Hex(buffer)}`, bytes: buffer.length };
}

/**
 * Add `file` at `zipPath` STORED (replay reads its records by byte range), hashing it on the way through:
 * a multi-GB WARC is read once, a chunk at a time, never held. Resolves when the zip has taken its last
 * byte. `opened` gets the read stream, for the caller to close should the pack fail mid-file.
 */
function addStoredFile(zip: ZipFile, file: string, zipPath: string, size: number, mtime: Date, opened: (input: ReadStream) => void): Promise<WaczResource> {
  return new Promise((resolve, reject) => {
    zip.addReadStreamLazy(zipPath, { mtime, compress: false, size }, (give) => {
      const hash = createHash('sha256');
      const input = createReadStream(file);
      opened(input);
      input.on('data', (chunk) => hash.update(chunk as Buffer));
      // Paused until yazl pipes it (pipe() resumes it), so the hash cannot see a chunk the zip did not.
      input.pause();
      input.once('error', (error) => reject(diskError('READ_FAILED', file, error)));
      input.once('end', () => resolve({ name: resourceName(zipPath), path: zipPath, hash: `sha256:${hash.digest('hex')}`, bytes: size }));
      give(null, input);
    });
  });
}

/** `<output>.tmp`, open for writing, its folder made. `flush`: the bytes are on disk before the rename names them. */
async function openTemp(temp: string, output: string): Promise<WriteStream> {
  let sink: WriteStream | undefined;
  try {
    await fs.mkdir(path.dirname(path.resolve(temp)), { recursive: true });
    sink = createWriteStream(temp, { flush: true });
    await once(sink, 'open');
    return sink;
  } catch (error) {
    sink?.destroy();
    throw diskError('WRITE_FAILED', output, error);
  }
}

/** `datapackage.json` (WACZ 1.1.1 § datapackage.json): the required `profile`, `wacz_version` and `resources`, and the recommended context. */
function datapackageJson(fields: { title: string; created: Date; software: string; resources: WaczResource[] }): Buffer {
  const { title, created, software, resources } = fields;
  const datapackage = { profile: 'data-package', wacz_version: WACZ_VERSION, title, created: created.toISOString(), software, resources };
  return Buffer.from(`${JSON.stringify(datapackage, null, 2)}\n`);
}

/**
 * `tumblr-dl wacz`: pack the closed WARCs of `warcDir` (with their CDXJ indexes) into a WACZ 1.1.1 at
 * `output`: `archive/<name>.warc.gz` (stored), `indexes/index.cdxj` (all lines merged and sorted),
 * `pages/pages.jsonl` (one page per saved URL), `datapackage.json` (every other file's SHA-256 and size)
 * and `datapackage-digest.json` (the SHA-256 of `datapackage.json`). WARCs still being written are left out.
 * @throws WaczError `NO_WARC` when `warcDir` has no closed WARC, `NO_INDEX`/`BAD_INDEX` for a missing or
 * damaged CDXJ, `READ_FAILED`/`WRITE_FAILED` for the disk; `<output>.tmp` is removed and `output` untouched.
 */
export async function packWacz(options: PackWaczOptions): Promise<WaczSummary> {
  const { warcDir, output } = options;
  const { warcs, skippedOpen } = await listWarcs(warcDir);
  const index = await mergeIndexes(warcDir, warcs);
  const created = (options.now ?? (() => new Date()))();
  const temp = `${output}.tmp`;
  const sink = await openTemp(temp, output);
  const zip = new ZipFile();
  const written = pipeline(zip.outputStream, sink).catch((error: unknown) => {
    throw diskError('WRITE_FAILED', output, error);
  });
  // yazl reports a WARC whose size changed since it was listed (a run still appending) as a zip error.
  const zipFailed = once(zip, 'error').then(([error]: unknown[]) => {
    throw new WaczError('READ_FAILED', warcDir, `a WARC in ${warcDir} changed while it was packed (is a run still writing there?): ${(error as Error).message}`, error);
  });
  /** Rejects with the first failure of the disk or the zip; never resolves. */
  const failed = new Promise<never>((_, reject) => {
    written.catch(reject);
    zipFailed.catch(reject);
  });
  // A failure after the pack already failed another way (the sink destroyed below) is no news.
  failed.catch(() => undefined);
  const inputs: ReadStream[] = [];
  try {
    const stored = Promise.all(warcs.map((warc) => addStoredFile(zip, path.join(warcDir, warc.name), `archive/${warc.name}`, warc.bytes, created, (input) => inputs.push(input))));
    // Should the disk fail first, a WARC's read error would come after anyone is listening.
    stored.catch(() => undefined);
    const cdxj = addBuffer(zip, Buffer.from(index.lines.map((line) => `${line}\n`).join('')), 'indexes/index.cdxj', created);
    const pages = addBuffer(zip, Buffer.from(pagesJsonl(index.pages)), 'pages/pages.jsonl', created);
    // datapackage.json needs every WARC's hash: it goes in once the last WARC has streamed through.
    const resources = [...(await Promise.race([stored, failed])), cdxj, pages];
    const title = options.title ?? path.basename(output).replace(/\.wacz$/i, '');
    const packageBytes = datapackageJson({ title, created, software: options.software, resources });
    addBuffer(zip, packageBytes, 'datapackage.json', created);
    const digest = { path: 'datapackage.json', hash: `sha256:${sha256Hex(packageBytes)}` };
    addBuffer(zip, Buffer.from(`${JSON.stringify(digest, null, 2)}\n`), 'datapackage-digest.json', created);
    zip.end();
    await Promise.race([written, failed]);
    await fs.rename(temp, output).catch((error: unknown) => {
      throw diskError('WRITE_FAILED', output, error);
    });
    return { output, warcs: warcs.length, records: index.lines.length, pages: index.pages.size, bytes: sink.bytesWritten, skippedOpen };
  } catch (error) {
    // A WARC the zip stopped taking in mid-file would keep its descriptor open.
    for (const input of inputs) input.destroy();
    zip.outputStream.unpipe();
    sink.destroy();
    await fs.rm(temp, { force: true });
    throw error;
  }
}
