import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { LedgerConfig } from '../../config/downloader-config.js';
import type { DownloadRequest } from '../../model/download-request.js';
import type { VerifiedOutcome } from '../fetch-outcome.js';
import { KeyedTurns } from '../../concurrency/keyed-turns.js';
import { discardPart, partPaths } from './part-file.js';
import type { PartIndex } from './part-index.js';
import { PathReservations, type Reservation } from './path-reservations.js';
import type { MediaStore } from '../../store/media-store.js';
import type { TolerantLedger } from '../../ledger/tolerant-ledger.js';
import type { DownloadTarget } from '../download-target.js';

/** Verified bytes made durable: their `.part` is fsynced and closed, with the time it was last written. */
export interface SealedOutcome {
  outcome: VerifiedOutcome;
  /** Modification time of the sealed `.part`, which its final name keeps. */
  mtimeMs: number;
}

/** Where verified bytes ended up. */
export interface Placed {
  /** Path of the file the result names. */
  filename: string;
  /** The earlier file with the same bytes, when deduplication found one. */
  deduplicatedFrom?: string;
  /** The file's modification time once in place (unknown if it cannot be stat'ed: the next run then reads it once). */
  mtimeMs?: number;
  /** A local file holding the bytes when `filename` is not one (a bucket's object), for the WARC recorder… */
  payloadFile?: string;
  /** …which lets it go once the record is written. */
  releasePayload?: () => Promise<void>;
}

/**
 * Names files: reserves a free name before the transfer (or, for a repair, the damaged file's own),
 * and after verification gives the `.part` the name its bytes' format asks for, deduplicated
 * against the ledger and linked without ever clobbering a file another process put there.
 */
export class Placement {
  private readonly reservations = new PathReservations();
  private readonly createdDirectories = new Set<string>();
  /** One placement per SHA-256 at a time, so identical bytes finishing together become one file and a link. */
  private readonly turns = new KeyedTurns();

  /**
   * @param adoptIdentical a file already at the name with the same bytes is the download's own (see
   * `PlaceRequest.adoptIdentical` of `placeFile`); false when the caller forces a second copy
   */
  constructor(
    /** Where verified files are kept: the folder, or a bucket. */
    private readonly store: MediaStore,
    private readonly dedupe: LedgerConfig['dedupe'],
    private readonly ledger: TolerantLedger,
    private readonly parts: PartIndex,
    private readonly adoptIdentical = true,
  ) {}

  /**
   * A file is kept as it is on disk: remove a `.part` and sidecar left beside it by a run killed between
   * linking the file and deleting them (nothing would ever resume them). A name a running download
   * holds is left alone.
   */
  async clearLeftovers(filename: string): Promise<void> {
    const { part, sidecar } = partPaths(filename);
    if (this.reservations.isHeld(filename) || !((await this.parts.mayExist(part)) || (await this.parts.mayExist(sidecar)))) return;
    await discardPart(filename);
  }

  /** A name for the `.part` (the damaged file's own for a repair); release it if the download fails. */
  async reserve(request: DownloadRequest, replaces: string | undefined): Promise<Reservation> {
    await this.ensureDirectory(path.dirname(request.intendedPath));
    return replaces === undefined ? this.reservations.reserve(request.intendedPath) : { path: replaces, requested: replaces, variant: 0, release: () => {} };
  }

  /**
   * Give the verified `.part` of `target`, reserved as `reservation`, its final name, then hand the placement
   * to `record`. `record` runs inside this SHA-256's turn, so a twin finishing at the same moment finds this
   * file in the ledger and becomes a link to it. Takes the reservation over and releases it at the end.
   */
  async place<T>(reservation: Reservation, target: DownloadTarget, sealed: SealedOutcome, record: (placed: Placed) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const { outcome } = sealed;
    let held = reservation;
    const endTurn = await this.turns.take(outcome.sha256);
    try {
      // A repair keeps the damaged file's name; a new file gets the one its bytes' format asks for.
      if (target.replaces === undefined) held = await this.renamed(held, outcome.nameByContent);
      const { sha256, byteSize, contentType, hasSidecar } = outcome;
      const finalName = await this.store.place(
        { target, reservation: held, sha256, byteSize, contentType, hasSidecar, adoptIdentical: this.adoptIdentical, signal },
        { ledger: this.ledger, dedupe: this.dedupe, reservations: this.reservations },
      );
      held = finalName.reservation;
      // Link and rename keep the sealed file's time; only an earlier twin's file needs asking (a bucket says it).
      const mtimeMs = finalName.mtimeMs ?? (finalName.ownBytes ? sealed.mtimeMs : (await fs.stat(finalName.filename).catch(() => undefined))?.mtimeMs);
      const placed: Placed = { filename: finalName.filename };
      if (finalName.deduplicatedFrom !== undefined) placed.deduplicatedFrom = finalName.deduplicatedFrom;
      if (mtimeMs !== undefined) placed.mtimeMs = mtimeMs;
      if (finalName.payloadFile !== undefined) placed.payloadFile = finalName.payloadFile;
      if (finalName.releasePayload !== undefined) placed.releasePayload = finalName.releasePayload;
      return await record(placed);
    } finally {
      endTurn();
      held.release();
    }
  }

  /** The name the bytes ask for (their real format's extension), when it is not the one the `.part` was reserved under. */
  private async renamed(reservation: Reservation, wanted: string | undefined): Promise<Reservation> {
    if (wanted === undefined || wanted === reservation.requested) return reservation;
    const renamed = this.reservations.reserve(wanted);
    // The .part keeps the name it was written under; finalize moves it to the new reservation.
    return { ...renamed, release: () => (renamed.release(), reservation.release()) };
  }

  /** mkdir -p once per directory, not once per file. */
  private async ensureDirectory(dir: string): Promise<void> {
    if (this.createdDirectories.has(dir)) return;
    await fs.mkdir(dir, { recursive: true });
    this.createdDirectories.add(dir);
  }
}
