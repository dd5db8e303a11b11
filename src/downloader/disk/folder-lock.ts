import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { DownloadError } from '../../errors/download-error.js';
import { openSqlite } from '../../ledger/open-sqlite.js';

/** Folders locked by this process: a second downloader here is told so without asking the OS. */
const lockedHere = new Set<string>();

/**
 * One writer per output folder. Two runs on one folder would delete each other's `.part` files,
 * finalize each other's half-written bytes and interleave their results, so a downloader holds
 * this lock for its whole life.
 *
 * The lock is an exclusive SQLite transaction on `<dir>/.tumblr-dl/lock`: SQLite's own POSIX
 * advisory lock, which the OS drops the moment the process dies, even by SIGKILL, so a crash
 * never leaves a stale lock to clear by hand. The holder's pid is written beside it, for the
 * message the next run prints.
 */
export class FolderLock {
  private constructor(
    private readonly dir: string,
    private readonly db: BetterSqlite3.Database,
  ) {}

  /**
   * Take the lock on `dir` (created if missing), or fail at once. A folder where the lock cannot even
   * be created (read-only, no permission) gets none, with a warning: nothing can be written there
   * either, and each download will say so with a `FILESYSTEM` error of its own.
   * @throws DownloadError `LOCKED` when another run (or another downloader in this process) holds it
   */
  static acquire(dir: string): FolderLock | undefined {
    const root = path.resolve(dir);
    if (lockedHere.has(root)) throw locked(root, process.pid);
    const stateDir = path.join(root, '.tumblr-dl');
    let db: BetterSqlite3.Database;
    try {
      mkdirSync(stateDir, { recursive: true });
      db = openSqlite(path.join(stateDir, 'lock'), { timeout: 0 });
    } catch (error) {
      process.emitWarning(`Cannot lock ${root}, continuing without the lock: ${(error as Error).message}`, 'FolderLockWarning');
      return undefined;
    }
    try {
      db.pragma('locking_mode = EXCLUSIVE');
      db.exec('BEGIN EXCLUSIVE');
      // A write takes the lock for good: it is held until this connection closes or the process ends.
      db.exec('CREATE TABLE IF NOT EXISTS holder (pid INTEGER); DELETE FROM holder; INSERT INTO holder VALUES (' + process.pid + ')');
    } catch {
      db.close();
      throw locked(root, readHolder(stateDir));
    }
    writeFileSync(path.join(stateDir, 'lock.pid'), `${process.pid}\n`);
    lockedHere.add(root);
    return new FolderLock(root, db);
  }

  /** Let another run have the folder. Idempotent. */
  release(): void {
    if (!this.db.open) return;
    this.db.close();
    lockedHere.delete(this.dir);
  }
}

function readHolder(stateDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(path.join(stateDir, 'lock.pid'), 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function locked(dir: string, pid: number | undefined): DownloadError {
  return new DownloadError('LOCKED', `${dir} is in use by another tumblr-dl run${pid === undefined ? '' : ` (pid ${pid})`}`);
}
