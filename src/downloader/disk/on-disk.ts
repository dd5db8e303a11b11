import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { describeCheck } from '../../ledger/check-recorded-file.js';
import type { MediaStore } from '../../store/media-store.js';
import type { LedgerRecord } from '../../ledger/download-ledger.js';
import type { DetectedFormat, MediaType } from '../../model/media-type.js';
import { bytesFacts } from '../../verify/verification-facts.js';
import type { Verifier } from '../../verify/verifier.js';
import { analyseFile } from '../../verify/file-digest.js';

/** What a re-run finds where a download would go. */
export type OnDisk =
  /** The file is there and verified: no request. */
  | { kind: 'kept'; filename: string; byteSize: number; checksum: string; mtimeMs: number; verifiedBy: KeptBy; detectedFormat?: DetectedFormat }
  /** Something is at `replaces` that must not be trusted: download again and put the verified bytes in its place. */
  | { kind: 'damaged'; replaces: string; reason: string }
  /** Nothing to go on: an ordinary download. */
  | { kind: 'absent' };

/** How a file found on disk earned its skip: size and time as recorded, its SHA-256 read again, or the Verifier's checks. */
export type KeptBy = 'size-and-time' | 'sha256' | 'verifier';

/**
 * Is the ledger's file for this URL still what was saved? Trusted without reading only while it is a
 * regular file with the recorded size and modification time; a new time (a copied archive) means
 * reading it once. Anything else (gone, resized, rewritten, replaced by a symlink or a directory) is
 * damage, repaired by a fresh, verified download into the same name.
 */
export async function judgeRecorded(record: LedgerRecord, store: Pick<MediaStore, 'check'>): Promise<OnDisk> {
  const check = await store.check(record, { hash: true, trustMtime: true });
  if (check.state !== 'intact') return { kind: 'damaged', replaces: record.filename, reason: describeCheck(check, record) };
  return {
    kind: 'kept',
    filename: record.filename,
    byteSize: record.bytes,
    checksum: record.sha256,
    mtimeMs: check.mtimeMs!,
    verifiedBy: check.hashed ? 'sha256' : 'size-and-time',
  };
}

/**
 * A file the ledger does not know stands under the name a download would take. It is adopted only
 * when it passes the same checks as a fresh download (a media signature, the size floor, no
 * placeholder, whole by its structure); a symlink, a directory, a page or a cut file is replaced.
 */
export async function judgeUnknown(target: string, verifier: Verifier, request: { url: string; mediaType: MediaType }): Promise<OnDisk> {
  const stat = await fs.lstat(target).catch(() => undefined);
  if (!stat) return { kind: 'absent' };
  if (!stat.isFile()) return { kind: 'damaged', replaces: target, reason: 'not a regular file' };
  try {
    const { sha256, probe } = await analyseFile(target, stat.size);
    const bytes = bytesFacts(probe, sha256, stat.size);
    await verifier.verify({
      url: request.url,
      mediaType: request.mediaType,
      contentType: undefined,
      declaredSize: undefined,
      verifyContentType: true,
      extension: path.extname(target).slice(1),
      ...bytes,
      previousTruncatedSha256: undefined,
      expectedChecksum: undefined,
      verifySize: false,
      resumed: false,
    });
    const kept: OnDisk = { kind: 'kept', filename: target, byteSize: stat.size, checksum: sha256, mtimeMs: stat.mtimeMs, verifiedBy: 'verifier' };
    return bytes.detectedFormat === undefined ? kept : { ...kept, detectedFormat: bytes.detectedFormat };
  } catch (error) {
    return { kind: 'damaged', replaces: target, reason: `the file there fails verification: ${(error as Error).message}` };
  }
}
