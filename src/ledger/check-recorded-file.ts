import { promises as fs } from 'node:fs';
import { sha256OfFile } from '../downloader/part-file.js';
import type { LedgerRecord } from './download-ledger.js';

/** What {@link checkRecordedFile} found. */
export interface FileCheck {
  /** `intact`: the file has the recorded size (and, when hashed, SHA-256); the rest say what differs. */
  state: 'intact' | 'missing' | 'size-mismatch' | 'hash-mismatch';
  /** Size on disk, when the file exists. */
  bytes?: number;
  /** SHA-256 of the file, when it was hashed. */
  sha256?: string;
}

/**
 * Is the file the ledger recorded still what was saved? Compares the size, and
 * with `hash: true` re-reads the file and compares its SHA-256: the size alone
 * misses a flipped byte, the hash costs a full read.
 */
export async function checkRecordedFile(record: Pick<LedgerRecord, 'filename' | 'bytes' | 'sha256'>, options: { hash: boolean }): Promise<FileCheck> {
  const stat = await fs.stat(record.filename).catch(() => undefined);
  if (!stat?.isFile()) return { state: 'missing' };
  if (stat.size !== record.bytes) return { state: 'size-mismatch', bytes: stat.size };
  if (!options.hash) return { state: 'intact', bytes: stat.size };
  let sha256: string;
  try {
    sha256 = await sha256OfFile(record.filename, stat.size);
  } catch {
    // Deleted or truncated while being read.
    return { state: 'missing' };
  }
  return { state: sha256 === record.sha256 ? 'intact' : 'hash-mismatch', bytes: stat.size, sha256 };
}
