import { existsSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { inject, injectable } from 'inversify';
import { DownloaderConfig } from '../config/downloader-config.js';
import { DownloadError } from '../errors/download-error.js';
import { NativeModuleMissingError, openSqlite } from './open-sqlite.js';
import { GroupCommit, type Waiter } from './group-commit.js';
import type { DownloadLedger, LedgerEntry, LedgerRecord, PartRecord, SavedFile } from './download-ledger.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS results (
  url TEXT PRIMARY KEY,
  post_id TEXT,
  media_index INTEGER,
  media_type TEXT NOT NULL,
  filename TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  etag TEXT,
  last_modified TEXT,
  source TEXT NOT NULL,
  status TEXT NOT NULL,
  error_code TEXT,
  capture_timestamp TEXT,
  deduplicated_from TEXT,
  first_recorded_at INTEGER NOT NULL,
  recorded_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS results_by_sha256 ON results (sha256) WHERE status = 'success';
CREATE TABLE IF NOT EXISTS parts (
  url TEXT PRIMARY KEY,
  part_path TEXT NOT NULL,
  started_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS files (
  path TEXT PRIMARY KEY,
  url TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  mtime_ms REAL,
  recorded_at INTEGER NOT NULL
);
`;

/**
 * Version 2: paths relative to the output folder (version 1 stored absolute ones) and the `files`
 * table of every name saved. Older files are migrated when opened.
 */
const SCHEMA_VERSION = 2;

/** Column values of one results row; SQLite has no undefined, only NULL. */
interface ResultRow {
  url: string;
  post_id: string | null;
  media_index: number | null;
  media_type: string;
  filename: string;
  sha256: string;
  bytes: number;
  etag: string | null;
  last_modified: string | null;
  source: string;
  status: string;
  error_code: string | null;
  capture_timestamp: string | null;
  deduplicated_from: string | null;
  first_recorded_at: number;
  recorded_at: number;
  /** From the `files` row of the same path, in lookups. */
  mtime_ms?: number | null;
}

/**
 * The default {@link DownloadLedger}: an embedded SQLite file (better-sqlite3)
 * at `ledger.path`, in WAL mode, results committed in groups (`GroupCommit`).
 * Paths are stored relative to `outputDir`, so an archive moved or copied with
 * its ledger (or reached through a symlink) is still the archive the ledger describes.
 *
 * `synchronous = NORMAL`: a killed process loses nothing committed; a power
 * loss may lose the last few results, which only costs fetching those files
 * again (the CLI then finds them on disk). The native module is loaded only
 * when this class is constructed, so hosts that rebind the ledger never load it.
 */
@injectable()
export class SqliteDownloadLedger implements DownloadLedger {
  private readonly db: BetterSqlite3.Database;
  private readonly statements: ReturnType<SqliteDownloadLedger['prepare']>;
  private readonly recordTransaction: (entry: LedgerEntry) => void;
  private readonly recordGroup: (entries: LedgerEntry[]) => void;
  /** See {@link knownContent}; built on first use. */
  private contentKeys: Set<number> | undefined;
  /** Results waiting for their group commit, with the promises their callers await. */
  private readonly groups = new GroupCommit<LedgerEntry>((group) => this.commitGroup(group));
  /**
   * URLs with a row in `parts` (a kept `.part`): read once at open, kept up to date. A result for any other
   * URL has no row to delete, and its DELETE is not run (it was a third statement per saved file).
   */
  private readonly partUrls: Set<string>;
  private readonly paths: StoredPaths;

  private readonly file: string;

  constructor(@inject(DownloaderConfig) config: DownloaderConfig) {
    this.file = config.ledger.path;
    this.paths = new StoredPaths(config.outputDir);
    this.db = openDatabase(config.ledger.path, this.paths);
    this.statements = this.prepare();
    this.partUrls = new Set(this.guard(() => this.statements.partUrls.pluck().all() as string[]));
    const recordOne = (entry: LedgerEntry): void => {
      const row = toRow(entry, this.paths);
      const changed = this.statements.upsert.run(row).changes > 0;
      if (changed && entry.status === 'success') {
        this.statements.saveFile.run(row.filename, row.url, row.sha256, row.bytes, entry.mtimeMs ?? null, row.recorded_at);
      }
      if (!entry.partKept && this.partUrls.has(entry.url)) this.statements.clearPart.run(entry.url);
    };
    this.recordTransaction = this.db.transaction(recordOne);
    this.recordGroup = this.db.transaction((entries: LedgerEntry[]) => entries.forEach(recordOne));
  }

  async lookup(url: string): Promise<LedgerRecord | undefined> {
    const row = this.guard(() => this.statements.lookup.get(url) as ResultRow | undefined);
    return row && fromRow(row, this.paths);
  }

  async findBySha256(sha256: string, limit = 5): Promise<LedgerRecord[]> {
    // Nearly every new file has bytes the ledger has never seen: answer those from memory.
    if (!this.knownContent().has(contentKey(sha256))) return [];
    return this.guard(() => (this.statements.bySha256.all(sha256, limit) as ResultRow[]).map((row) => fromRow(row, this.paths)));
  }

  /**
   * The first 28 bits of every saved file's SHA-256, read once on the first dedupe lookup and kept up
   * to date by {@link record}: a hash not in it is certainly not in the ledger, and skips the query
   * (an indexed miss cost 15–70 µs per new file). About 2 MB per 100k files.
   */
  private knownContent(): Set<number> {
    this.contentKeys ??= new Set(this.guard(() => (this.statements.allSha256.pluck().all() as string[]).map(contentKey)));
    return this.contentKeys;
  }

  /**
   * Group commit (`GroupCommit`): each caller's promise resolves only once its result is committed (a
   * result is never reported before it is in the ledger). One commit per result, each writing 5 to 7 pages
   * to the log, cost about 90 µs of CPU per small file; gathered under load, about 35.
   */
  record(entry: LedgerEntry): Promise<void> {
    // Before the commit: a key present for a moment too early costs one query, one missing would cost a twin.
    if (entry.status === 'success') this.contentKeys?.add(contentKey(entry.sha256));
    return this.groups.add(entry);
  }

  private commitGroup(group: Array<Waiter<LedgerEntry>>): void {
    try {
      this.guard(() => this.recordGroup(group.map((w) => w.item)));
      for (const waiter of group) this.committed(waiter);
    } catch {
      // The group was rolled back whole: commit its results one by one, so one bad result fails only itself.
      for (const waiter of group) {
        try {
          this.guard(() => this.recordTransaction(waiter.item));
          this.committed(waiter);
        } catch (error) {
          waiter.reject(error);
        }
      }
    }
  }

  /** A result is in the ledger: its caller hears so, and a `.part` row it removed is forgotten. */
  private committed(waiter: Waiter<LedgerEntry>): void {
    if (!waiter.item.partKept) this.partUrls.delete(waiter.item.url);
    waiter.resolve();
  }

  async markStarted(part: PartRecord): Promise<void> {
    this.guard(() => this.statements.markPart.run(part.url, this.paths.store(part.partPath), part.startedAt));
    this.partUrls.add(part.url);
  }

  async inProgress(): Promise<PartRecord[]> {
    const rows = this.guard(() => this.statements.parts.all() as Array<{ url: string; part_path: string; started_at: number }>);
    return rows.map((r) => ({ url: r.url, partPath: this.paths.resolve(r.part_path), startedAt: r.started_at }));
  }

  async *records(): AsyncIterable<LedgerRecord> {
    for (const row of this.pages<ResultRow>(this.statements.page)) yield fromRow(row, this.paths);
  }

  async *files(): AsyncIterable<SavedFile> {
    for (const row of this.pages<FileRow>(this.statements.filePage)) {
      const file: SavedFile = { path: this.paths.resolve(row.path), url: row.url, sha256: row.sha256, bytes: row.bytes };
      if (row.mtime_ms !== null) file.mtimeMs = row.mtime_ms;
      yield file;
    }
  }

  async confirmFile(file: string, mtimeMs: number): Promise<void> {
    this.guard(() => this.statements.confirmFile.run(mtimeMs, this.paths.store(file)));
  }

  /** Walk a table by rowid pages rather than one long-lived iterator, so a caller may record while it walks. */
  private *pages<T>(statement: BetterSqlite3.Statement): Iterable<T> {
    for (let after = 0; ;) {
      const page = this.guard(() => statement.all(after, 500) as Array<T & { rowid: number }>);
      if (page.length === 0) return;
      for (const row of page) yield row;
      after = page.at(-1)!.rowid;
    }
  }

  async close(): Promise<void> {
    if (this.db.open) this.groups.flush();
    if (this.db.open) this.db.close();
  }

  /**
   * Read every page of the file once (SQLite's `quick_check`): a damaged ledger ("database disk image is
   * malformed") is found before a run relies on it, not half-way through. Costs about a second per GB.
   * @throws DownloadError `LEDGER` naming the damage
   */
  assertIntact(): void {
    const verdict = this.guard(() => this.db.pragma('quick_check(1)', { simple: true }) as string);
    if (verdict !== 'ok') {
      const what = verdict
        .replace(/\*\*\* in database \w+ \*\*\*\s*/g, '')
        .replace(/\s+/g, ' ')
        .trim();
      throw new DownloadError('LEDGER', `The download ledger ${this.file} is damaged (${what}); move it aside to start a new one`);
    }
  }

  private prepare() {
    return {
      lookup: this.db.prepare('SELECT results.*, files.mtime_ms FROM results LEFT JOIN files ON files.path = results.filename WHERE results.url = ?'),
      bySha256: this.db.prepare("SELECT * FROM results WHERE sha256 = ? AND status = 'success' ORDER BY rowid LIMIT ?"),
      allSha256: this.db.prepare("SELECT sha256 FROM results WHERE status = 'success'"),
      upsert: this.db.prepare(`
        INSERT INTO results (url, post_id, media_index, media_type, filename, sha256, bytes, etag, last_modified, source, status,
                             error_code, capture_timestamp, deduplicated_from, first_recorded_at, recorded_at)
        VALUES (@url, @post_id, @media_index, @media_type, @filename, @sha256, @bytes, @etag, @last_modified, @source, @status,
                @error_code, @capture_timestamp, @deduplicated_from, @recorded_at, @recorded_at)
        ON CONFLICT (url) DO UPDATE SET
          post_id = excluded.post_id, media_index = excluded.media_index, media_type = excluded.media_type,
          filename = excluded.filename, sha256 = excluded.sha256, bytes = excluded.bytes, etag = excluded.etag,
          last_modified = excluded.last_modified, source = excluded.source, status = excluded.status,
          error_code = excluded.error_code, capture_timestamp = excluded.capture_timestamp,
          deduplicated_from = excluded.deduplicated_from, recorded_at = excluded.recorded_at
        WHERE results.status <> 'success' OR excluded.status = 'success'`),
      clearPart: this.db.prepare('DELETE FROM parts WHERE url = ?'),
      markPart: this.db.prepare('INSERT OR REPLACE INTO parts (url, part_path, started_at) VALUES (?, ?, ?)'),
      parts: this.db.prepare('SELECT * FROM parts ORDER BY started_at'),
      partUrls: this.db.prepare('SELECT url FROM parts'),
      page: this.db.prepare('SELECT rowid, * FROM results WHERE rowid > ? ORDER BY rowid LIMIT ?'),
      filePage: this.db.prepare('SELECT rowid, * FROM files WHERE rowid > ? ORDER BY rowid LIMIT ?'),
      // A name keeps the URL that first produced it; its bytes and time are those last verified there.
      saveFile: this.db.prepare(`
        INSERT INTO files (path, url, sha256, bytes, mtime_ms, recorded_at) VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT (path) DO UPDATE SET sha256 = excluded.sha256, bytes = excluded.bytes, mtime_ms = excluded.mtime_ms,
          recorded_at = excluded.recorded_at`),
      confirmFile: this.db.prepare('UPDATE files SET mtime_ms = ? WHERE path = ?'),
    };
  }

  /** SQLite failures (closed, locked, disk full, corrupt file) become one typed error. */
  private guard<T>(work: () => T): T {
    try {
      return work();
    } catch (error) {
      throw new DownloadError('LEDGER', `Download ledger: ${(error as Error).message}`, { cause: error });
    }
  }
}

function openDatabase(file: string, paths: StoredPaths): BetterSqlite3.Database {
  try {
    if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
    const db = openSqlite(file);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    // A checkpoint copies the log into the file and fsyncs both, on the thread that commits: at SQLite's
    // default of every 1000 pages (4 MB) it held the event loop about once per 150 small files. Every 16 MB,
    // and the log cut back to that size after it (else it keeps its largest size).
    db.pragma('wal_autocheckpoint = 4000');
    db.pragma('journal_size_limit = 16777216');
    // A reader (tumblr-dl verify) waits for a run's short transactions instead of failing at once.
    db.pragma('busy_timeout = 5000');
    db.exec(SCHEMA);
    migrate(db, paths);
    return db;
  } catch (error) {
    if (error instanceof NativeModuleMissingError) throw error;
    throw new DownloadError('LEDGER', `Cannot open the download ledger ${file}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Bring a version-1 ledger (absolute paths, no `files` table) to version 2, in one transaction.
 * Absolute paths inside the output folder become relative. Paths outside it belong to an archive
 * that was moved before this upgrade: the folder they were written under is found by looking for
 * the first such file in the current folder; if it cannot be found, they stay absolute, and
 * `verify` says so instead of passing over them.
 */
function migrate(db: BetterSqlite3.Database, paths: StoredPaths): void {
  if ((db.pragma('user_version', { simple: true }) as number) >= SCHEMA_VERSION) return;
  db.transaction(() => {
    const rows = db.prepare('SELECT rowid, filename, deduplicated_from FROM results').all() as Array<{ rowid: number; filename: string; deduplicated_from: string | null }>;
    const formerRoot = findFormerRoot(
      rows.map((r) => r.filename),
      paths.root,
    );
    const relative = (p: string): string => (path.isAbsolute(p) ? paths.store(path.join(paths.root, path.relative(formerRoot, p))) : p);
    const update = db.prepare('UPDATE results SET filename = ?, deduplicated_from = ? WHERE rowid = ?');
    for (const row of rows) update.run(relative(row.filename), row.deduplicated_from === null ? null : relative(row.deduplicated_from), row.rowid);
    const parts = db.prepare('SELECT url, part_path FROM parts').all() as Array<{ url: string; part_path: string }>;
    const updatePart = db.prepare('UPDATE parts SET part_path = ? WHERE url = ?');
    for (const part of parts) updatePart.run(relative(part.part_path), part.url);
    db.exec(`INSERT OR IGNORE INTO files (path, url, sha256, bytes, mtime_ms, recorded_at)
             SELECT filename, url, sha256, bytes, NULL, recorded_at FROM results WHERE status = 'success' ORDER BY rowid`);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  })();
}

/** The folder a version-1 ledger's absolute paths were written under: the current one, or where it was before a move. */
function findFormerRoot(filenames: string[], root: string): string {
  const outside = filenames.find((f) => path.isAbsolute(f) && !isInside(root, f));
  if (outside === undefined) return root;
  for (let former = path.dirname(outside), depth = 0; depth < 8 && former !== path.dirname(former); former = path.dirname(former), depth++) {
    if (existsSync(path.join(root, path.relative(former, outside)))) return former;
  }
  return root;
}

/** Is `file` inside `dir` (not `dir` itself)? */
export function isInside(dir: string, file: string): boolean {
  const relative = path.relative(dir, file);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
}

/**
 * How file paths are stored: relative to the output folder when inside it (always, for files the
 * downloader writes), absolute otherwise; resolved against the folder the ledger serves now.
 */
class StoredPaths {
  constructor(readonly root: string) {}

  store(file: string): string {
    return isInside(this.root, file) ? path.relative(this.root, file) : file;
  }

  resolve(stored: string): string {
    return path.resolve(this.root, stored);
  }
}

/** Column values of one files row. */
interface FileRow {
  path: string;
  url: string;
  sha256: string;
  bytes: number;
  mtime_ms: number | null;
}

function toRow(entry: LedgerEntry, paths: StoredPaths): ResultRow {
  return {
    url: entry.url,
    post_id: entry.postId ?? null,
    media_index: entry.index ?? null,
    media_type: entry.mediaType,
    filename: paths.store(entry.filename),
    sha256: entry.sha256,
    bytes: entry.bytes,
    etag: entry.etag ?? null,
    last_modified: entry.lastModified ?? null,
    source: entry.source,
    status: entry.status,
    error_code: entry.errorCode ?? null,
    capture_timestamp: entry.captureTimestamp ?? null,
    deduplicated_from: entry.deduplicatedFrom === undefined ? null : paths.store(entry.deduplicatedFrom),
    first_recorded_at: entry.recordedAt,
    recorded_at: entry.recordedAt,
  };
}

function fromRow(row: ResultRow, paths: StoredPaths): LedgerRecord {
  const record: LedgerRecord = {
    url: row.url,
    mediaType: row.media_type as LedgerRecord['mediaType'],
    filename: paths.resolve(row.filename),
    sha256: row.sha256,
    bytes: row.bytes,
    source: row.source as LedgerRecord['source'],
    status: row.status as LedgerRecord['status'],
    firstRecordedAt: row.first_recorded_at,
    recordedAt: row.recorded_at,
  };
  if (row.post_id !== null) record.postId = row.post_id;
  if (row.media_index !== null) record.index = row.media_index;
  if (row.etag !== null) record.etag = row.etag;
  if (row.last_modified !== null) record.lastModified = row.last_modified;
  if (row.error_code !== null) record.errorCode = row.error_code;
  if (row.capture_timestamp !== null) record.captureTimestamp = row.capture_timestamp;
  if (row.deduplicated_from !== null) record.deduplicatedFrom = paths.resolve(row.deduplicated_from);
  if (row.mtime_ms !== undefined && row.mtime_ms !== null) record.mtimeMs = row.mtime_ms;
  return record;
}

/**
 * A small integer from the first 28 bits of a hex SHA-256. Small enough to be stored inline by V8 (no
 * boxed number per entry: 20 bytes per saved file in the set, against 35 for 52-bit keys); a collision only
 * costs one query.
 */
function contentKey(sha256: string): number {
  return Number.parseInt(sha256.slice(0, 7), 16);
}
