import type { DownloaderConfig } from '../config/downloader-config.js';
import type { DownloadRequest } from '../model/download-request.js';
import type { Verifier } from '../verify/verifier.js';
import { judgeRecorded, judgeUnknown, type OnDisk } from './disk/on-disk.js';
import type { TolerantLedger } from '../ledger/tolerant-ledger.js';
import type { MediaStore } from '../store/media-store.js';

/** A file found intact, with what the ledger remembers of where its bytes came from. */
export type Kept = Extract<OnDisk, { kind: 'kept' }> & {
  /** Wayback capture the recorded bytes came from, if any. */
  captureTimestamp?: string;
  /** The earlier file these recorded bytes are a twin of, if any. */
  deduplicatedFrom?: string;
};

/** What is on disk for a request: kept (no request), damaged (repair it), or absent. */
export type SkipDecision = Kept | Exclude<OnDisk, { kind: 'kept' }>;

/**
 * Decides, before any request, whether a download is needed. It reads the ledger and the disk and
 * returns a decision; it writes nothing (the reporter records what a skip confirmed).
 *
 * With `ledger.skipCompleted` (or for a URL this downloader saved already), the ledger's file is
 * trusted only while it is intact. With `onExisting: 'skip'`, a file the ledger does not know under
 * the name the download would take is adopted only if it verifies. Anything else standing there is
 * damage, to be replaced by a verified download.
 */
export class SkipPolicy {
  /** With skipping off (`--force`), URLs saved by this downloader: a repeat in the same run is not fetched again. */
  private readonly savedThisRun = new Set<string>();

  constructor(
    private readonly config: DownloaderConfig,
    private readonly ledger: TolerantLedger,
    private readonly verifier: Verifier,
    /** Where the recorded files are kept, and how they are checked. */
    private readonly store: MediaStore,
  ) {}

  async decide(request: DownloadRequest): Promise<SkipDecision> {
    if (this.config.ledger.skipCompleted || this.savedThisRun.has(request.url)) {
      const record = await this.ledger.lookup(request.url);
      if (record?.status === 'success') {
        const found = await judgeRecorded(record, this.store);
        if (found.kind !== 'kept') return found;
        return { ...found, captureTimestamp: record.captureTimestamp, deduplicatedFrom: record.deduplicatedFrom };
      }
    }
    if (this.config.onExisting !== 'skip') return { kind: 'absent' };
    return judgeUnknown(request.intendedPath, this.verifier, { url: request.url, mediaType: request.mediaType });
  }

  /** Note a URL saved by this downloader, so a repeat is found even with skipping off. */
  saved(url: string): void {
    if (!this.config.ledger.skipCompleted) this.savedThisRun.add(url);
  }
}
