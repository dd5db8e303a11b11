import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { inject, injectable } from 'inversify';
import { DownloaderConfig } from '../config/downloader-config.js';
import { DownloadError } from '../errors/download-error.js';
import type { DownloadLedger, LedgerEntry, LedgerRecord, PartRecord } from './download-ledger.js';

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
PRAGMA user_version = 1;
`;

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
}

/**
 * The default {@link DownloadLedger}: an embedded SQLite file (better-sqlite3)
 * at `ledger.path`, in WAL mode, one transaction per result.
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

  constructor(@inject(DownloaderConfig) config: DownloaderConfig) {
    this.db = openDatabase(config.ledger.path);
    this.statements = this.prepare();
    this.recordTransaction = this.db.transaction((entry: LedgerEntry) => {
      this.statements.upsert.run(toRow(entry));
      if (!entry.partKept) this.statements.clearPart.run(entry.url);
    });
  }

  async lookup(url: string): Promise<LedgerRecord | undefined> {
    const row = this.guard(() => this.statements.lookup.get(url) as ResultRow | undefined);
    return row && fromRow(row);
  }

  async findBySha256(sha256: string, limit = 5): Promise<LedgerRecord[]> {
    return this.guard(() => (this.statements.bySha256.all(sha256, limit) as ResultRow[]).map(fromRow));
  }

  async record(entry: LedgerEntry): Promise<void> {
    this.guard(() => this.recordTransaction(entry));
  }

  async markStarted(part: PartRecord): Promise<void> {
    this.guard(() => this.statements.markPart.run(part.url, part.partPath, part.startedAt));
  }

  async inProgress(): Promise<PartRecord[]> {
    const rows = this.guard(() => this.statements.parts.all() as Array<{ url: string; part_path: string; started_at: number }>);
    return rows.map((r) => ({ url: r.url, partPath: r.part_path, startedAt: r.started_at }));
  }

  async *records(): AsyncIterable<LedgerRecord> {
    // Pages by rowid rather than one long-lived iterator, so a caller may record while it walks.
    for (let after = 0; ; ) {
      const page = this.guard(() => this.statements.page.all(after, 500) as Array<ResultRow & { rowid: number }>);
      if (page.length === 0) return;
      for (const row of page) yield fromRow(row);
      after = page.at(-1)!.rowid;
    }
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  private prepare() {
    return {
      lookup: this.db.prepare('SELECT * FROM results WHERE url = ?'),
      bySha256: this.db.prepare("SELECT * FROM results WHERE sha256 = ? AND status = 'success' ORDER BY rowid LIMIT ?"),
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
      page: this.db.prepare('SELECT rowid, * FROM results WHERE rowid > ? ORDER BY rowid LIMIT ?'),
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

function openDatabase(file: string): BetterSqlite3.Database {
  const Database = createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;
  try {
    if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    // Two runs on one archive wait for each other's short transactions instead of failing at once.
    db.pragma('busy_timeout = 5000');
    db.exec(SCHEMA);
    return db;
  } catch (error) {
    throw new DownloadError('LEDGER', `Cannot open the download ledger ${file}: ${(error as Error).message}`, { cause: error });
  }
}

function toRow(entry: LedgerEntry): ResultRow {
  return {
    url: entry.url,
    post_id: entry.postId ?? null,
    media_index: entry.index ?? null,
    media_type: entry.mediaType,
    filename: entry.filename,
    sha256: entry.sha256,
    bytes: entry.bytes,
    etag: entry.etag ?? null,
    last_modified: entry.lastModified ?? null,
    source: entry.source,
    status: entry.status,
    error_code: entry.errorCode ?? null,
    capture_timestamp: entry.captureTimestamp ?? null,
    deduplicated_from: entry.deduplicatedFrom ?? null,
    first_recorded_at: entry.recordedAt,
    recorded_at: entry.recordedAt,
  };
}

function fromRow(row: ResultRow): LedgerRecord {
  const record: LedgerRecord = {
    url: row.url,
    mediaType: row.media_type as LedgerRecord['mediaType'],
    filename: row.filename,
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
  if (row.deduplicated_from !== null) record.deduplicatedFrom = row.deduplicated_from;
  return record;
}
