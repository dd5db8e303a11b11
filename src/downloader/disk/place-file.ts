import type { LedgerConfig } from '../../config/downloader-config.js';
import type { DownloadLedger, LedgerRecord } from '../../ledger/download-ledger.js';
import { checkRecordedFile } from '../../ledger/check-recorded-file.js';
import { finalizePart, linkNoClobber, replaceWithPart } from './finalize.js';
import { discardPart } from './part-file.js';
import type { PathReservations, Reservation } from './path-reservations.js';
import type { DownloadTarget } from '../download-target.js';
import { promises as fs } from 'node:fs';
import { sha256OfFile } from '../../verify/file-digest.js';

/** The name a verified download ended up under. */
export interface FinalName {
  /** The reservation now held (release it when done). */
  reservation: Reservation;
  /** Path of the file the result names. */
  filename: string;
  /** The earlier file with the same bytes, when deduplication found one. */
  deduplicatedFrom?: string;
  /** Whether the file named is the downloaded `.part` itself (else an earlier file with the same bytes). */
  ownBytes: boolean;
  /** The file's modification time, when the store knows it without asking (a bucket's Last-Modified). */
  mtimeMs?: number | undefined;
  /** A local file holding the bytes, when the named file is not one (a bucket's object): kept for the WARC recorder to read… */
  payloadFile?: string;
  /** …and let go once it has. */
  releasePayload?: () => Promise<void>;
}

/** What `placeFile` (and a `MediaStore`) needs to know about the verified `.part`. */
export interface PlaceRequest {
  /** The `.part`, and the damaged file it repairs (the bytes then replace it, atomically, with no dedupe). */
  target: DownloadTarget;
  reservation: Reservation;
  sha256: string;
  byteSize: number;
  /** Content-Type the origin sent, which a bucket's object keeps. */
  contentType?: string | undefined;
  /** Stops a long placement (a bucket's upload) when the download is aborted; a folder's link is never cut short. */
  signal?: AbortSignal | undefined;
  hasSidecar: boolean;
  /**
   * A file found at the name with these very bytes is this download's (a re-run whose URL changed, or with no
   * ledger): no `name_1.ext` copy. Off under `--force`, which asks for a second copy.
   */
  adoptIdentical: boolean;
}

/**
 * Give a verified `.part` its final name, or, when the ledger already holds a
 * file with the same SHA-256, deduplicate against it: hard-link the earlier
 * file under the new name (a file system without hard links keeps the
 * downloaded bytes instead: a copy), keep the bytes but note the twin
 * (`'copy'`), or keep no new file at all (`'reference'`).
 *
 * The earlier file is re-hashed before anything points at it: a link to a
 * file that rotted since it was saved would spread the damage.
 */
export async function placeFile(
  request: PlaceRequest,
  ledger: Pick<DownloadLedger, 'findBySha256'>,
  mode: LedgerConfig['dedupe'],
  reservations: PathReservations,
): Promise<FinalName> {
  const { partBase } = request.target;
  if (request.target.replaces !== undefined) {
    await replaceWithPart(partBase, request.reservation.path, request.hasSidecar);
    return { reservation: request.reservation, filename: request.reservation.path, ownBytes: true };
  }
  let reservation = request.reservation;
  const sameBytes = request.adoptIdentical ? (existing: string) => holdsBytes(existing, request) : undefined;
  // This run gave the name to another download first (two URLs, one medium): if that one left these very
  // bytes there, they are this item's too. Asked only when a suffix was handed out, never on the common path.
  if (sameBytes && reservation.variant > 0 && (await sameBytes(reservation.requested))) return adopt(partBase, reservation, reservation.requested);
  const original = mode === 'off' ? undefined : await findIntactTwin(ledger, request);
  // The ledger's file with these bytes is at this very name: it is this item's file already.
  if (original && original.filename === reservation.path && request.adoptIdentical) return adopt(partBase, reservation, reservation.path);
  const twin = original ? { deduplicatedFrom: original.filename } : {};
  if (original && mode === 'reference') {
    await discardPart(partBase);
    return { reservation, filename: original.filename, ownBytes: false, ...twin };
  }
  if (original && mode === 'hardlink') {
    const linked = await linkNoClobber(original.filename, reservation, reservations, sameBytes);
    reservation = linked.reservation;
    if (linked.outcome === 'already-there') return adopt(partBase, reservation, reservation.path);
    if (linked.outcome === 'linked') {
      await discardPart(partBase);
      return { reservation, filename: reservation.path, ownBytes: false, ...twin };
    }
  }
  // No twin, dedupe 'copy', or no hard links on this file system: the downloaded bytes get the name.
  const finalized = await finalizePart(partBase, reservation, reservations, request.hasSidecar, sameBytes);
  reservation = finalized.reservation;
  if (finalized.alreadyThere) return { reservation, filename: reservation.path, ownBytes: false, deduplicatedFrom: reservation.path };
  return { reservation, filename: reservation.path, ownBytes: true, ...twin };
}

/**
 * The file at `file` already holds the verified bytes: it is the item's, the `.part` goes. Its result names
 * it as the twin it is (`deduplicatedFrom` is the file itself), so a metadata file another item wrote for
 * it is not replaced.
 */
async function adopt(partBase: string, reservation: Reservation, file: string): Promise<FinalName> {
  await discardPart(partBase);
  return { reservation, filename: file, ownBytes: false, deduplicatedFrom: file };
}

/** Whether the regular file at `existing` holds exactly the bytes being placed (read only when a name is taken). */
async function holdsBytes(existing: string, request: Pick<PlaceRequest, 'sha256' | 'byteSize'>): Promise<boolean> {
  const found = await fs.lstat(existing).catch(() => undefined);
  if (!found?.isFile() || found.size !== request.byteSize) return false;
  return (await sha256OfFile(existing, found.size).catch(() => undefined)) === request.sha256;
}

/** The oldest recorded file with these bytes that still holds them. */
async function findIntactTwin(ledger: Pick<DownloadLedger, 'findBySha256'>, request: PlaceRequest): Promise<LedgerRecord | undefined> {
  for (const candidate of await ledger.findBySha256(request.sha256)) {
    if (candidate.bytes !== request.byteSize) continue;
    const check = await checkRecordedFile(candidate, { hash: true });
    if (check.state === 'intact') return candidate;
  }
  return undefined;
}
