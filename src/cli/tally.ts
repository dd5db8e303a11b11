import type { DownloadResult } from '../model/download-result.js';

/** Running totals of a `fetch` run; every item read ends in exactly one of saved, missing, failed, interrupted, not started. */
export interface Tally {
  /** Items with a result, of every kind. */
  done: number;
  /** Items read from the input so far (final once {@link inputComplete}). */
  total: number;
  /** Items the input holds, counted ahead of the reader (an upper bound: blank and comment lines count), if known. */
  expected: number | undefined;
  inputComplete: boolean;
  /** Saved: downloaded, or already there. */
  succeeded: number;
  /** Of the saved: answered from the ledger or the disk with no request. */
  skipped: number;
  /** Of the saved: the same bytes as a file saved earlier (linked, copied or referenced). */
  deduplicated: number;
  /** Of the saved: a damaged, missing or untrusted file on disk replaced by verified bytes. */
  repaired: number;
  /** Of the saved: kept with a warning (cut at the origin, unknown format kept on its Content-Type). */
  warned: number;
  /** Gone at the origin (404/403/410). */
  missing: number;
  /** Failed, bad input lines included. */
  failed: number;
  /** Media of posts never requested: embeds of YouTube, Spotify and other sites (not failures). */
  unsupported: number;
  /** Of the failed: input lines that could not be understood. */
  badInput: number;
  /** Stopped part-way by Ctrl-C or SIGTERM: their `.part` files stay for the next run. */
  interrupted: number;
  /** Never started because the run was interrupted first. */
  notStarted: number;
  /** Bytes of files downloaded by this run (not of skipped ones). */
  bytes: number;
  /** Bytes on disk of downloads still running. */
  inFlightBytes: number;
  /** `worker` only: jobs left in the queue it shares (waiting, delayed and active, every worker's). */
  queued?: number;
  startedAt: number;
}

/** A tally at the start of a run. */
export function newTally(startedAt: number): Tally {
  return {
    done: 0,
    total: 0,
    expected: undefined,
    inputComplete: false,
    succeeded: 0,
    skipped: 0,
    deduplicated: 0,
    repaired: 0,
    warned: 0,
    missing: 0,
    failed: 0,
    unsupported: 0,
    badInput: 0,
    interrupted: 0,
    notStarted: 0,
    bytes: 0,
    inFlightBytes: 0,
    startedAt,
  };
}

/** Count one item's result. */
export function countResult(tally: Tally, result: DownloadResult): void {
  tally.done++;
  if (result.status === 'success') {
    tally.succeeded++;
    if (result.skipped) tally.skipped++;
    else tally.bytes += result.byteSize;
    if (result.deduplicatedFrom) tally.deduplicated++;
    if (result.repaired) tally.repaired++;
    if (result.warnings) tally.warned++;
  } else if (result.status === 'missing') tally.missing++;
  else if (result.status === 'unsupported') tally.unsupported++;
  else if (isNotStarted(result)) tally.notStarted++;
  else if (result.errorCode === 'ABORTED') tally.interrupted++;
  else {
    tally.failed++;
    if (result.errorCode === 'BAD_INPUT') tally.badInput++;
  }
}

/** An item the run was interrupted before it made a request: not a failure of the item. */
export function isNotStarted(result: DownloadResult): boolean {
  return result.status === 'error' && (result.errorCode === 'ABORTED' || result.errorCode === 'CLOSED') && result.attempts === 0;
}

/**
 * Speed over the last few seconds, not since the start: a run that slowed down (or sped up) shows it
 * at once, and its ETA follows. Fed with the totals at each redraw.
 */
export class RateWindow {
  private samples: Array<{ at: number; bytes: number; done: number }> = [];

  constructor(private readonly windowMs = 5_000) {}

  /** Note the totals at `at` (ms). */
  add(at: number, bytes: number, done: number): void {
    this.samples.push({ at, bytes, done });
    while (this.samples.length > 2 && at - this.samples[1]!.at >= this.windowMs) this.samples.shift();
  }

  /** Bytes and items per second over the window, or `undefined` before there are two samples a moment apart. */
  rates(): { bytesPerSecond: number; itemsPerSecond: number } | undefined {
    const first = this.samples[0];
    const last = this.samples.at(-1);
    if (!first || !last || last.at - first.at < 200) return undefined;
    const seconds = (last.at - first.at) / 1000;
    return { bytesPerSecond: (last.bytes - first.bytes) / seconds, itemsPerSecond: (last.done - first.done) / seconds };
  }
}
