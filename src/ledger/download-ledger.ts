import type { DownloadSource, DownloadStatus } from '../model/download-result.js';
import type { MediaType } from '../model/media-type.js';
import { serviceToken, type ServiceToken } from '../service-token.js';

/** Token of the {@link DownloadLedger} service. */
export const DownloadLedger: ServiceToken<DownloadLedger> = serviceToken('DownloadLedger');

/** The ledger's row for one URL: its latest result. */
export interface LedgerRecord {
  /** URL that was asked for (the key: one row per URL). */
  url: string;
  /** Post the media belongs to, when the call named one. */
  postId?: string;
  /** Position of the media within its post, when the call named one. */
  index?: number;
  /** What was downloaded. */
  mediaType: MediaType;
  /**
   * Absolute path of the file (for failures: the path it would have had). A persistent ledger
   * stores it relative to the output folder, so the archive can move; it hands it back resolved.
   */
  filename: string;
  /** SHA-256 (hex) of the file; empty unless `status` is `success`. */
  sha256: string;
  /** Size of the file in bytes (0 unless successful). */
  bytes: number;
  /** Entity tag the origin sent with the bytes, if any. */
  etag?: string;
  /** Last-Modified the origin sent with the bytes, if any. */
  lastModified?: string;
  /** Where the bytes came from. */
  source: DownloadSource;
  /** Outcome class of the latest attempt. */
  status: DownloadStatus;
  /** Stable failure code when `status` is not `success`. */
  errorCode?: string;
  /** Wayback capture timestamp (`YYYYMMDDhhmmss`) when `source` is `internet_archive`. */
  captureTimestamp?: string;
  /** The file this one is a hard link to, a copy of, or (for `'reference'`) stands for. */
  deduplicatedFrom?: string;
  /**
   * Modification time (epoch ms) of the file when its bytes were last verified: a re-run skips the
   * file without reading it only while its size and this time are unchanged.
   */
  mtimeMs?: number;
  /** Epoch ms of the first result recorded for this URL. */
  firstRecordedAt: number;
  /** Epoch ms of the latest result. */
  recordedAt: number;
}

/** A file the downloader saved and verified: one per name, so every name ever saved for a URL stays checkable. */
export interface SavedFile {
  /** Absolute path of the file (stored relative to the output folder by a persistent ledger). */
  path: string;
  /** URL whose download first produced this name. */
  url: string;
  /** SHA-256 (hex) of the bytes verified under this name. */
  sha256: string;
  /** Size in bytes. */
  bytes: number;
  /** Modification time (epoch ms) when the bytes were last verified, if known. */
  mtimeMs?: number;
}

/** What is recorded when a transfer starts keeping a resumable `.part`, so an interrupted run leaves a trace of it. */
export interface PartRecord {
  /** URL being downloaded. */
  url: string;
  /** The `.part` file the bytes go to. */
  partPath: string;
  /** Epoch ms when the transfer started. */
  startedAt: number;
}

/** A result as the downloader hands it to the ledger: `firstRecordedAt` is the ledger's to keep. */
export type LedgerEntry = Omit<LedgerRecord, 'firstRecordedAt'> & {
  /** The failed transfer's `.part` stays for the next run to resume: keep its in-progress mark. */
  partKept?: boolean;
};

/**
 * Memory of finished work across runs: one row per URL with its latest result,
 * a lookup by SHA-256 for deduplication, and the transfers that were started
 * but not finished. The default keeps it in SQLite; a host may rebind it (a
 * test rebinds it with {@link MemoryDownloadLedger}).
 *
 * `record` must be atomic: after a crash at any moment, a URL's row is either
 * the old one or the new one, and the URL's in-progress mark is gone exactly
 * when the new row is there.
 */
export interface DownloadLedger {
  /** The latest result recorded for `url`. */
  lookup(url: string): Promise<LedgerRecord | undefined>;
  /** Successful results whose files hold bytes with this SHA-256, oldest first (so links gather on one file). */
  findBySha256(sha256: string, limit?: number): Promise<LedgerRecord[]>;
  /**
   * Store a result as the URL's row and clear its in-progress mark (unless `partKept`), in one transaction; a
   * success also records its file among {@link files}. A failure does not
   * replace a success: the file saved earlier is still the URL's file (a later `--force` run that failed,
   * or media since removed from Tumblr).
   */
  record(entry: LedgerEntry): Promise<void>;
  /** Mark a transfer whose `.part` is kept for resuming as started; cleared by {@link DownloadLedger.record}. */
  markStarted(part: PartRecord): Promise<void>;
  /** Transfers started and never recorded: interrupted runs. */
  inProgress(): Promise<PartRecord[]>;
  /** Every row, in the order they were first recorded. */
  records(): AsyncIterable<LedgerRecord>;
  /** Every file name ever saved (a `--force` run adds names; none is forgotten), in the order first saved. */
  files(): AsyncIterable<SavedFile>;
  /**
   * The file at `path` was read again and still has its recorded SHA-256 (it was copied, or touched):
   * remember its new modification time so the next run need not read it. Never changes a hash.
   */
  confirmFile(path: string, mtimeMs: number): Promise<void>;
  /** Release the storage. Further calls fail. */
  close(): Promise<void>;
}
