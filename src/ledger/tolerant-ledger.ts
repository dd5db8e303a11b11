import type { DownloadLedger, LedgerEntry, LedgerRecord, PartRecord } from './download-ledger.js';

/**
 * The downloader's view of the {@link DownloadLedger}: the same calls, but a
 * failure (disk full, locked or corrupt file, a host's store down) means
 * "nothing known" instead of an error, and the first one is reported as a
 * process warning. The ledger makes re-runs cheap; it is not what makes a file
 * correct, so it never fails a download.
 */
export class TolerantLedger {
  private warned = false;

  constructor(private readonly ledger: DownloadLedger) {}

  /** @see DownloadLedger.lookup */
  lookup(url: string): Promise<LedgerRecord | undefined> {
    return this.guard(() => this.ledger.lookup(url));
  }

  /** @see DownloadLedger.findBySha256 */
  async findBySha256(sha256: string): Promise<LedgerRecord[]> {
    return (await this.guard(() => this.ledger.findBySha256(sha256))) ?? [];
  }

  /** @see DownloadLedger.record */
  async record(entry: LedgerEntry): Promise<void> {
    await this.guard(() => this.ledger.record(entry));
  }

  /** @see DownloadLedger.confirmFile */
  async confirmFile(path: string, mtimeMs: number): Promise<void> {
    await this.guard(() => this.ledger.confirmFile(path, mtimeMs));
  }

  /** @see DownloadLedger.markStarted */
  async markStarted(part: PartRecord): Promise<void> {
    await this.guard(() => this.ledger.markStarted(part));
  }

  private async guard<T>(work: () => Promise<T>): Promise<T | undefined> {
    try {
      return await work();
    } catch (error) {
      if (!this.warned) process.emitWarning(`Download ledger unavailable, continuing without it: ${(error as Error).message}`, 'LedgerWarning');
      this.warned = true;
      return undefined;
    }
  }
}
