import { promises as fs } from 'node:fs';
import { sha256OfFile } from '../verify/file-digest.js';
import type { LedgerRecord } from './download-ledger.js';

/** What {@link checkRecordedFile} found. */
export interface FileCheck {
  /**
   * `intact`: a regular file with the recorded size and (when read) SHA-256. `not-regular`: a symbolic
   * link, directory or device stands at the name; it is never followed, hashed or linked to.
   */
  state: 'intact' | 'missing' | 'not-regular' | 'size-mismatch' | 'hash-mismatch';
  /** Size on disk, when a regular file exists. */
  bytes?: number;
  /** SHA-256 of the file, when it was read. */
  sha256?: string;
  /** Modification time of the file (epoch ms), when a regular file exists. */
  mtimeMs?: number;
  /** Whether the file was read and hashed (not trusted on its size and time). */
  hashed?: boolean;
}

/** How much {@link checkRecordedFile} may trust without reading the file. */
export interface CheckOptions {
  /** `false`: compare sizes only (a quick sweep); `true`: read the file unless {@link trustMtime} lets it skip. */
  hash: boolean;
  /** Trust a file whose size and modification time are still the recorded ones, without reading it. @default false */
  trustMtime?: boolean;
}

/**
 * Is the file the ledger recorded still what was saved? It must be a regular file (never a symlink,
 * which could point anywhere) with the recorded size; then its SHA-256 must be the recorded one, read
 * from the file unless `trustMtime` is on and the file's size and time are as recorded (a copied
 * archive has new times, so it is read once, and its new times recorded by the caller).
 */
export async function checkRecordedFile(record: Pick<LedgerRecord, 'filename' | 'bytes' | 'sha256' | 'mtimeMs'>, options: CheckOptions): Promise<FileCheck> {
  const stat = await fs.lstat(record.filename).catch(() => undefined);
  if (!stat) return { state: 'missing' };
  if (!stat.isFile()) return { state: 'not-regular' };
  const facts = { bytes: stat.size, mtimeMs: stat.mtimeMs };
  if (stat.size !== record.bytes) return { state: 'size-mismatch', ...facts };
  if (!options.hash || (options.trustMtime && record.mtimeMs === stat.mtimeMs)) return { state: 'intact', ...facts, hashed: false };
  let sha256: string;
  try {
    sha256 = await sha256OfFile(record.filename, stat.size);
  } catch {
    // Deleted or truncated while being read.
    return { state: 'missing' };
  }
  return { state: sha256 === record.sha256 ? 'intact' : 'hash-mismatch', ...facts, sha256, hashed: true };
}

/** One line saying what is wrong with a recorded file, for `verify` and for a repair's message. */
export function describeCheck(check: FileCheck, record: Pick<LedgerRecord, 'bytes' | 'sha256'>): string {
  switch (check.state) {
    case 'intact':
      return 'intact';
    case 'missing':
      return 'missing';
    case 'not-regular':
      return 'not a regular file (a symbolic link or a directory stands at its name)';
    case 'size-mismatch':
      return `${check.bytes} bytes, ${record.bytes} recorded`;
    case 'hash-mismatch':
      return `sha256 ${check.sha256}, ${record.sha256} recorded`;
  }
}
