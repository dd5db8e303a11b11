import type { LedgerConfig } from '../../config/downloader-config.js';
import type { DownloadLedger, LedgerRecord } from '../../ledger/download-ledger.js';
import { checkRecordedFile } from '../../ledger/check-recorded-file.js';
import { finalizePart, linkNoClobber, replaceWithPart } from './finalize.js';
import { discardPart } from './part-file.js';
import type { PathReservations, Reservation } from './path-reservations.js';
import type { DownloadTarget } from '../download-target.js';

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
}

/** What {@link placeFile} needs to know about the verified `.part`. */
export interface PlaceRequest {
  /** The `.part`, and the damaged file it repairs (the bytes then replace it, atomically, with no dedupe). */
  target: DownloadTarget;
  reservation: Reservation;
  sha256: string;
  byteSize: number;
  hasSidecar: boolean;
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
  const original = mode === 'off' ? undefined : await findIntactTwin(ledger, request);
  const twin = original ? { deduplicatedFrom: original.filename } : {};
  let reservation = request.reservation;
  if (original && mode === 'reference') {
    await discardPart(partBase);
    return { reservation, filename: original.filename, ownBytes: false, ...twin };
  }
  if (original && mode === 'hardlink') {
    const linked = await linkNoClobber(original.filename, reservation, reservations);
    reservation = linked.reservation;
    if (linked.linked) {
      await discardPart(partBase);
      return { reservation, filename: reservation.path, ownBytes: false, ...twin };
    }
  }
  // No twin, dedupe 'copy', or no hard links on this file system: the downloaded bytes get the name.
  reservation = await finalizePart(partBase, reservation, reservations, request.hasSidecar);
  return { reservation, filename: reservation.path, ownBytes: true, ...twin };
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
