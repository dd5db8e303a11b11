import { injectable } from 'inversify';
import { DownloadError } from '../errors/download-error.js';
import type { DownloadLedger, LedgerEntry, LedgerRecord, PartRecord, SavedFile } from './download-ledger.js';

/**
 * A {@link DownloadLedger} that lives in this process only: for tests, and for
 * hosts that keep their own records and want skip and dedupe within one run.
 */
@injectable()
export class MemoryDownloadLedger implements DownloadLedger {
  private readonly rows = new Map<string, LedgerRecord>();
  private readonly parts = new Map<string, PartRecord>();
  private readonly saved = new Map<string, SavedFile>();
  private closed = false;

  async lookup(url: string): Promise<LedgerRecord | undefined> {
    this.assertOpen();
    const row = this.rows.get(url);
    const mtimeMs = row && this.saved.get(row.filename)?.mtimeMs;
    return row && { ...row, ...(mtimeMs === undefined ? {} : { mtimeMs }) };
  }

  async findBySha256(sha256: string, limit = 5): Promise<LedgerRecord[]> {
    this.assertOpen();
    // Map iteration follows first insertion, so matches come oldest first.
    const found: LedgerRecord[] = [];
    for (const row of this.rows.values()) {
      if (found.length >= limit) break;
      if (row.status === 'success' && row.sha256 === sha256) found.push({ ...row });
    }
    return found;
  }

  async record(entry: LedgerEntry): Promise<void> {
    this.assertOpen();
    const { partKept, ...row } = entry;
    const previous = this.rows.get(entry.url);
    if (previous?.status !== 'success' || entry.status === 'success') {
      const { mtimeMs, ...stored } = row;
      this.rows.set(entry.url, { ...stored, firstRecordedAt: previous?.firstRecordedAt ?? entry.recordedAt });
      if (entry.status === 'success') {
        const earlier = this.saved.get(entry.filename);
        this.saved.set(entry.filename, { path: entry.filename, url: earlier?.url ?? entry.url, sha256: entry.sha256, bytes: entry.bytes, mtimeMs });
      }
    }
    if (!partKept) this.parts.delete(entry.url);
  }

  async markStarted(part: PartRecord): Promise<void> {
    this.assertOpen();
    this.parts.set(part.url, { ...part });
  }

  async inProgress(): Promise<PartRecord[]> {
    this.assertOpen();
    return [...this.parts.values()].map((p) => ({ ...p }));
  }

  async *records(): AsyncIterable<LedgerRecord> {
    this.assertOpen();
    for (const row of [...this.rows.values()]) yield { ...row };
  }

  async *files(): AsyncIterable<SavedFile> {
    this.assertOpen();
    for (const file of [...this.saved.values()]) yield { ...file };
  }

  async confirmFile(path: string, mtimeMs: number): Promise<void> {
    this.assertOpen();
    const file = this.saved.get(path);
    if (file) file.mtimeMs = mtimeMs;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private assertOpen(): void {
    if (this.closed) throw new DownloadError('CLOSED', 'The download ledger is closed');
  }
}
