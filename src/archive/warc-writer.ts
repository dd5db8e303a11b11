/**
 * WARC files for one run: records appended one at a time as gzip members, a new file past a size
 * threshold, a CDXJ index beside each, and recovery of the files a crash left open.
 *
 * A file being written is `<name>.warc.gz.open` and its index lines go to `<name>.cdxj.open` in write
 * order; closing sorts the index into `<name>.cdxj` and renames the WARC to `<name>.warc.gz`. So a
 * `.warc.gz` is always whole and indexed, and whatever ends in `.open` is what {@link WarcWriter.recover}
 * repairs.
 */
import { mkdir, open, readdir, rm, type FileHandle } from 'node:fs/promises';
import * as path from 'node:path';
import { DownloadError } from '../errors/download-error.js';
import type { CdxjFields, WarcRecordSpec, WrittenRecord } from './warc-record.js';
import { newRecordId, serializeSmallRecord, serializeWarcRecord, validateRecordSpec, warcFields } from './warc-serializer.js';
import { writeFullyAt } from '../downloader/disk/write-fully.js';
import { asFilesystemError, cdxjLine, CDXJ_OPEN, compactDate, finishedWarc, finishFiles, validateIndex, WARC_DONE, WARC_OPEN, type FinishedWarc } from './warc-files.js';
import { recoverFile } from './warc-recovery.js';

/** Options of a {@link WarcWriter}. */
export interface WarcWriterOptions {
  /** Folder of the WARC and CDXJ files; created when missing. */
  dir: string;
  /** First part of every file name, such as `tumblr-dl`; characters outside `[A-Za-z0-9_-]` become `_`. */
  prefix: string;
  /**
   * Last part of every file name, so that writers of several processes can share `dir`; characters outside
   * `[A-Za-z0-9_-]` become `_`.
   * @default the process ID
   */
  worker?: string;
  /**
   * Rollover threshold in bytes: a record is started in a new file once the current one has reached it
   * (so a file exceeds it by at most one record).
   * @default 1_000_000_000
   */
  maxSize?: number;
  /**
   * Fields of the warcinfo record that opens every file (`software`, `version`, `isPartOf`…), over the
   * defaults `format: WARC File Format 1.1` and `conformsTo: <the WARC 1.1 specification URL>`.
   * @default {}
   */
  warcinfo?: Readonly<Record<string, string>>;
  /**
   * zlib level of every record, 0 to 9; see `SerializeOptions.gzipLevel`.
   * @default 6
   */
  gzipLevel?: number;
  /**
   * zlib level of records whose payload is a file; see `SerializeOptions.filePayloadLevel`.
   * @default gzipLevel
   */
  filePayloadLevel?: number;
  /**
   * Clock of file names and of the warcinfo date (record dates come with each record).
   * @default () => new Date()
   */
  now?: () => Date;
  /**
   * Told of each file once it is finished (at rollover and at {@link WarcWriter.close}), so that it can be
   * handed on (to a bucket, say) while the writer goes on. Called before the write or close that finished
   * it settles; what it throws is ignored: the file is finished either way.
   * @default none
   */
  onFinish?: (finished: FinishedWarc) => void;
}

/** Options of {@link WarcWriter.recover}. */
export interface WarcRecoverOptions {
  /** Only files of this prefix (sanitized as the writer does), when other tools share the folder. */
  prefix?: string;
  /**
   * Only files of this worker (sanitized as the writer does). Give it when live writers of other workers
   * share the folder: recovering a file another process is still writing would truncate it under it.
   */
  worker?: string;
  /** Stops between files and between records. */
  signal?: AbortSignal;
}

/** The warcinfo fields every file gets unless the caller overrides them. */
const DEFAULT_WARCINFO: Readonly<Record<string, string>> = Object.freeze({
  format: 'WARC File Format 1.1',
  conformsTo: 'http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/',
});

const DEFAULT_MAX_SIZE = 1_000_000_000;

/** A record of a queued group: its spec with its id, and its gzip member when small (built ahead of its turn). */
interface PreparedRecord {
  spec: WarcRecordSpec & { recordId: string };
  index: CdxjFields | undefined;
  member: Promise<Buffer | undefined>;
}

/** Index lines appended to `.cdxj.open` together. */
const INDEX_BATCH = 64;

/** A file being written. */
interface OpenWarc {
  /** File name without extension. */
  base: string;
  /** Final name, `<base>.warc.gz`, as index lines and {@link WrittenRecord} give it. */
  filename: string;
  file: FileHandle;
  /** End of the last whole record: where the next one starts. */
  size: number;
  /** Records written, the warcinfo included. */
  records: number;
  /** The `.cdxj.open` file, opened at the first index line. */
  index: { file: FileHandle; size: number } | undefined;
  /** Index lines of written records not yet appended to `.cdxj.open` (appended {@link INDEX_BATCH} at a time). */
  pending: string[];
}

/**
 * Appends WARC 1.1 records to gzip-per-record WARC files with rollover and CDXJ indexes.
 *
 * `write` calls run one at a time in call order; a failed write leaves its file as it was before the call.
 * Call {@link WarcWriter.recover} on the folder before the first write of a run, and {@link close} at the end.
 */
export class WarcWriter {
  private readonly dir: string;
  private readonly prefix: string;
  private readonly worker: string;
  private readonly maxSize: number;
  private readonly warcinfo: Buffer;
  private readonly gzipLevel: number | undefined;
  private readonly filePayloadLevel: number | undefined;
  private readonly now: () => Date;
  private readonly onFinish: ((finished: FinishedWarc) => void) | undefined;
  private current: OpenWarc | undefined;
  private serial = 0;
  /** Settles when every write so far has; each write chains on it. */
  private queue: Promise<unknown> = Promise.resolve();
  private closing: Promise<void> | undefined;

  /** @throws DownloadError `INVALID_CONFIG` for a bad `maxSize`, `BAD_INPUT` for a bad warcinfo field */
  constructor(options: WarcWriterOptions) {
    this.dir = options.dir;
    this.prefix = sanitizeNamePart(options.prefix) || 'warc';
    this.worker = sanitizeNamePart(options.worker ?? '') || String(process.pid);
    this.maxSize = options.maxSize ?? DEFAULT_MAX_SIZE;
    if (!(this.maxSize > 0)) throw new DownloadError('INVALID_CONFIG', `WARC maxSize must be positive, got ${this.maxSize}`);
    // Built once: a bad field fails here, not at the first write.
    this.warcinfo = warcFields({ ...DEFAULT_WARCINFO, ...options.warcinfo });
    this.gzipLevel = options.gzipLevel;
    this.filePayloadLevel = options.filePayloadLevel;
    this.now = options.now ?? (() => new Date());
    this.onFinish = options.onFinish;
  }

  /**
   * Append a record, and its index line when `index` is given (response, resource and revisit records).
   * @returns where the record went
   * @throws DownloadError `BAD_INPUT` for an invalid record or index (nothing written), `CLOSED` after
   *   {@link close}, `FILESYSTEM` when the file could not be written (the file is left as before the call)
   */
  write(record: WarcRecordSpec, index?: CdxjFields): Promise<WrittenRecord> {
    return this.writeGroup([{ record, index }]).then(([written]) => written!);
  }

  /**
   * Append records that belong together (a request and its response) one after the other in the same file,
   * each its own gzip member with its own index line; small ones go down in one write. All or none: a
   * failure leaves the file as before the call.
   * @returns where each record went, in order
   * @throws as {@link write}
   */
  writeGroup(records: ReadonlyArray<{ record: WarcRecordSpec; index?: CdxjFields | undefined }>): Promise<WrittenRecord[]> {
    try {
      for (const { record, index } of records) {
        validateRecordSpec(record);
        if (index !== undefined) validateIndex(index);
      }
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.closing !== undefined) return Promise.reject(new DownloadError('CLOSED', 'WarcWriter is closed'));
    // Small members are built now, while earlier groups are still being written: reading a payload and
    // compressing it need not wait its turn; only the appending does.
    const options = { gzipLevel: this.gzipLevel, filePayloadLevel: this.filePayloadLevel };
    const prepared = records.map(({ record, index }) => {
      const spec = { ...record, recordId: record.recordId ?? newRecordId() };
      const member = serializeSmallRecord(spec, options);
      member.catch(() => undefined); // awaited in turn; a failure is that group's
      return { spec, index, member };
    });
    const run = this.queue.then(() => this.writeNow(prepared));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Finish pending writes, then the current file: sorted `.cdxj`, `.warc.gz`. Later calls return the same promise. */
  close(): Promise<void> {
    this.closing ??= this.queue.then(() => this.finishCurrent());
    return this.closing;
  }

  /**
   * Repair what a crash left in `dir`: every `*.warc.gz.open` is cut after its last whole record (a gzip
   * member that inflates completely, with a matching CRC, holding a record of the stated length), the whole
   * response, resource and revisit records its `.cdxj.open` lacks are indexed from their headers, and the
   * file is finished as {@link close} finishes it. A file without even a whole warcinfo is deleted.
   *
   * Lines already in `.cdxj.open` are trusted up to the last one, whose record is checked; when that check
   * fails the whole file is walked from its start.
   * @returns the final names (`….warc.gz`) of the files recovered
   */
  static async recover(dir: string, options: WarcRecoverOptions = {}): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const prefix = options.prefix === undefined ? undefined : `${sanitizeNamePart(options.prefix)}-`;
    const worker = options.worker === undefined ? undefined : `-${sanitizeNamePart(options.worker)}`;
    const recovered: string[] = [];
    for (const name of names.filter((n) => n.endsWith(WARC_OPEN)).sort()) {
      const base = name.slice(0, -WARC_OPEN.length);
      if ((prefix !== undefined && !base.startsWith(prefix)) || (worker !== undefined && !base.endsWith(worker))) continue;
      options.signal?.throwIfAborted();
      const filename = await recoverFile(dir, base, options.signal);
      if (filename !== undefined) recovered.push(filename);
    }
    return recovered;
  }

  /** One queued group: rollover if due, the records, then their index lines; on failure, the file cut back. */
  private async writeNow(records: ReadonlyArray<PreparedRecord>): Promise<WrittenRecord[]> {
    if (this.current !== undefined && this.current.size >= this.maxSize && this.current.records > 1) await this.finishCurrent();
    const warc = this.current ?? (await this.openNext());
    const start = warc.size;
    const indexSize = warc.index?.size ?? 0;
    const options = { gzipLevel: this.gzipLevel, filePayloadLevel: this.filePayloadLevel };
    const written: WrittenRecord[] = [];
    try {
      let end = start;
      // Small members are gathered and written together; a large record is streamed in its turn.
      let gathered: Buffer[] = [];
      let gatheredAt = start;
      const flush = async (): Promise<void> => {
        if (gathered.length > 0) await writeFullyAt(warc.file.fd, gathered, gatheredAt);
        gathered = [];
        gatheredAt = end;
      };
      for (const prepared of records) {
        const { spec } = prepared;
        const recordId = spec.recordId;
        const member = await prepared.member;
        let length: number;
        if (member !== undefined) {
          gathered.push(member);
          length = member.length;
        } else {
          await flush();
          length = await serializeWarcRecord(warc.file, end, spec, options);
        }
        written.push({ recordId, filename: warc.filename, offset: end, length });
        end += length;
        if (member === undefined) gatheredAt = end;
      }
      await flush();
      warc.size = end;
      warc.records += records.length;
    } catch (error) {
      await this.rollBack(warc, start, indexSize);
      throw asFilesystemError(error, `Cannot write a WARC record to ${warc.filename}`);
    }
    // Only now, with the records' bytes down, may an index line point at them. Lines go to `.cdxj.open` in
    // batches (one write per record doubled a WARC run's cost on small files): a crash before a batch is
    // written loses no record, since recovery indexes whole records the `.cdxj.open` lacks.
    records.forEach(({ spec, index }, i) => {
      if (index !== undefined) warc.pending.push(`${cdxjLine(index, spec.date, written[i]!)}\n`);
    });
    if (warc.pending.length >= INDEX_BATCH) await this.flushIndex(warc).catch(() => undefined);
    return written;
  }

  /** Append the pending index lines; on failure they stay pending (a later batch, or finishing, tries again). */
  private async flushIndex(warc: OpenWarc): Promise<void> {
    if (warc.pending.length === 0) return;
    await this.appendIndex(warc, warc.pending.join(''));
    warc.pending = [];
  }

  /** Cut the files back to before a failed record; when even that fails, leave them to {@link recover}. */
  private async rollBack(warc: OpenWarc, size: number, indexSize: number): Promise<void> {
    try {
      await warc.file.truncate(size);
      if (warc.index !== undefined) {
        await warc.index.file.truncate(indexSize);
        warc.index.size = indexSize;
      }
    } catch {
      // The file may end in half a record: abandon it as `.open`, and let the next write start a new one.
      this.current = undefined;
      await Promise.allSettled([warc.file.close(), warc.index?.file.close()]);
    }
  }

  /** Append a line to `.cdxj.open`, created at the file's first indexed record. */
  private async appendIndex(warc: OpenWarc, line: string): Promise<void> {
    warc.index ??= { file: await open(path.join(this.dir, warc.base + CDXJ_OPEN), 'wx'), size: 0 };
    const bytes = Buffer.from(line, 'utf8');
    await writeFullyAt(warc.index.file.fd, [bytes], warc.index.size);
    warc.index.size += bytes.length;
  }

  /** Create the next file (`wx`: never another's) and write its warcinfo. */
  private async openNext(): Promise<OpenWarc> {
    await mkdir(this.dir, { recursive: true });
    for (let attempt = 0; ; attempt++) {
      const date = this.now();
      const base = `${this.prefix}-${compactDate(date)}-${String(this.serial++).padStart(5, '0')}-${this.worker}`;
      const file = await open(path.join(this.dir, base + WARC_OPEN), 'wx').catch((error: NodeJS.ErrnoException) => {
        // Same millisecond, same worker (two writers in one process): take the next serial.
        if (error.code === 'EEXIST' && attempt < 100) return undefined;
        throw asFilesystemError(error, `Cannot create WARC file ${base}${WARC_OPEN}`);
      });
      if (file === undefined) continue;
      const warc: OpenWarc = { base, filename: base + WARC_DONE, file, size: 0, records: 0, index: undefined, pending: [] };
      try {
        warc.size = await serializeWarcRecord(
          file,
          0,
          {
            type: 'warcinfo',
            date,
            contentType: 'application/warc-fields',
            headers: [['WARC-Filename', warc.filename]],
            payload: this.warcinfo,
          },
          { gzipLevel: this.gzipLevel },
        );
      } catch (error) {
        await file.close().catch(() => undefined);
        await rm(path.join(this.dir, base + WARC_OPEN), { force: true }).catch(() => undefined);
        throw asFilesystemError(error, `Cannot write the warcinfo of ${warc.filename}`);
      }
      warc.records = 1;
      this.current = warc;
      return warc;
    }
  }

  /** Close the current file (synced first, so the renamed file is on disk), finish it, and say so to `onFinish`. */
  private async finishCurrent(): Promise<void> {
    const warc = this.current;
    if (warc === undefined) return;
    this.current = undefined;
    try {
      await this.flushIndex(warc);
      if (warc.index !== undefined) await warc.index.file.close();
      await warc.file.sync();
      await warc.file.close();
      await finishFiles(this.dir, warc.base);
    } catch (error) {
      await Promise.allSettled([warc.file.close(), warc.index?.file.close()]);
      // Left as `.open`: recover() finishes it on the next run.
      throw asFilesystemError(error, `Cannot finish WARC file ${warc.filename}`);
    }
    try {
      this.onFinish?.(finishedWarc(this.dir, warc.base));
    } catch {
      // The listener's problem, not the file's: it is finished, and the writer goes on.
    }
  }
}

/** Keep a file name part to `[A-Za-z0-9_-]`: no separator, dot or space reaches the name. */
function sanitizeNamePart(part: string): string {
  return part.replace(/[^A-Za-z0-9_-]/g, '_');
}
