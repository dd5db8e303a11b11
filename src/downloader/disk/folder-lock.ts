import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { inject, injectable } from 'inversify';
import { DownloaderConfig } from '../../config/downloader-config.js';
import { DownloadError } from '../../errors/download-error.js';
import { openSqlite } from '../../ledger/open-sqlite.js';
import { STATE_FOLDER } from '../../naming/safe-path.js';
import { serviceToken, type ServiceToken } from '../../service-token.js';

/** Token of the {@link FolderLock} service. */
export const FolderLock: ServiceToken<FolderLock> = serviceToken('FolderLock');

/**
 * One writer per output folder. Two runs on one folder would delete each other's `.part` files, finalize
 * each other's half-written bytes and interleave their results, so the folder is taken before anything in
 * `<outputDir>/.tumblr-dl/` is touched: the container resolves this lock before it opens (checks, migrates)
 * the ledger, and the downloader holds it until `close()`. A host that coordinates its writers some other
 * way may rebind the token.
 */
export interface FolderLock {
  /** The output folder, resolved. */
  readonly folder: string;
  /** False when the folder could not be locked at all (read-only, no permission): nothing can be written there either. */
  readonly held: boolean;
  /**
   * Take the folder: a no-op while held, and taken again after a {@link release} (a container whose ledger failed to
   * open lets the folder go; a later resolution takes it back before it opens anything).
   * @throws DownloadError `LOCKED` when another run (or another downloader in this process) holds it
   */
  acquire(): void;
  /** Let another run have the folder. Idempotent. */
  release(): void;
}

/** Folders locked by this process: a second downloader here is told so without asking the OS. */
const lockedHere = new Set<string>();

/**
 * The default {@link FolderLock}: an exclusive SQLite transaction on `<outputDir>/.tumblr-dl/lock`, SQLite's
 * own POSIX advisory lock, which the OS drops the moment the process dies, even by SIGKILL, so a crash never
 * leaves a stale lock to clear by hand. The holder's pid is written to `lock.pid` beside it for the message
 * the next run prints, and removed on release, so the file's presence means "held now" (or "its holder was
 * killed": the lock itself is then free).
 *
 * Taken when constructed. A folder where the lock cannot even be created (read-only, no permission) gets
 * none, with a warning; each download will then say why with a `FILESYSTEM` error of its own.
 * @throws DownloadError `LOCKED` when another run (or another downloader in this process) holds the folder
 */
@injectable()
export class SqliteFolderLock implements FolderLock {
  readonly folder: string;
  private db: BetterSqlite3.Database | undefined;
  /** The folder cannot be locked at all (warned once): asking again would only warn again. */
  private unlockable = false;

  constructor(@inject(DownloaderConfig) config: Pick<DownloaderConfig, 'outputDir'>) {
    this.folder = path.resolve(config.outputDir);
    this.acquire();
  }

  acquire(): void {
    if (this.held || this.unlockable) return;
    this.db = takeLock(this.folder);
    this.unlockable = this.db === undefined;
  }

  get held(): boolean {
    return this.db?.open === true;
  }

  release(): void {
    if (!this.held) return;
    try {
      // The pid file first: once the lock is free, a new holder may already be writing its own.
      rmSync(pidFile(this.folder), { force: true });
    } finally {
      this.db!.close();
      lockedHere.delete(this.folder);
    }
  }
}

function takeLock(folder: string): BetterSqlite3.Database | undefined {
  if (lockedHere.has(folder)) throw locked(folder, process.pid);
  const stateDir = path.join(folder, STATE_FOLDER);
  let db: BetterSqlite3.Database;
  try {
    mkdirSync(stateDir, { recursive: true });
    db = openSqlite(path.join(stateDir, 'lock'), { timeout: 0 });
  } catch (error) {
    process.emitWarning(`Cannot lock ${folder}, continuing without the lock: ${(error as Error).message}`, 'FolderLockWarning');
    return undefined;
  }
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
    // A write takes the lock for good: it is held until this connection closes or the process ends.
    db.exec('CREATE TABLE IF NOT EXISTS holder (pid INTEGER); DELETE FROM holder; INSERT INTO holder VALUES (' + process.pid + ')');
  } catch {
    db.close();
    throw locked(folder, readHolder(folder));
  }
  writeFileSync(pidFile(folder), `${process.pid}\n`);
  lockedHere.add(folder);
  return db;
}

function pidFile(folder: string): string {
  return path.join(folder, STATE_FOLDER, 'lock.pid');
}

function readHolder(folder: string): number | undefined {
  try {
    const pid = Number(readFileSync(pidFile(folder), 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function locked(folder: string, pid: number | undefined): DownloadError {
  return new DownloadError('LOCKED', `${folder} is in use by another tumblr-dl run${pid === undefined ? '' : ` (pid ${pid})`}`);
}
