import type { DownloadResult } from '../downloader/download-result.js';

/** Running totals the display shows. */
export interface Tally {
  done: number;
  /** Items known so far (final once the input is fully read). */
  total: number;
  inputComplete: boolean;
  succeeded: number;
  /** Of the succeeded: answered from the ledger or the disk with no request. */
  skipped: number;
  /** Of the succeeded: the same bytes as a file saved earlier (linked, copied or referenced). */
  deduplicated: number;
  /** Of the succeeded: a damaged, missing or untrusted file on disk replaced by verified bytes. */
  repaired: number;
  /** Of the succeeded: kept with a warning (cut at the origin, unknown format kept on its Content-Type). */
  warned: number;
  missing: number;
  failed: number;
  /** Bytes of files downloaded by this run (not of skipped ones). */
  bytes: number;
  /** Bytes on disk of downloads still running. */
  inFlightBytes: number;
  startedAt: number;
}

/** Shows progress: a redrawn bar on a terminal, one plain line per item elsewhere. */
export class ProgressDisplay {
  private lastDraw = 0;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly tally: Tally,
    private readonly quiet = false,
  ) {}

  private get tty(): boolean {
    return this.out.isTTY === true;
  }

  /** An item finished. */
  item(result: DownloadResult): void {
    if (this.tty) {
      if (result.status === 'error') this.line(`error ${result.errorCode ?? ''} ${result.url}: ${result.errorMessage ?? ''}`);
      else if (result.warnings) this.line(`warning ${result.warnings.join(', ')} ${result.filename}`);
      this.draw();
    } else if (!this.quiet || result.status === 'error') {
      const what =
        result.status === 'success'
          ? `${result.filename} ${result.byteSize} B${result.skipped ? ' (already there)' : ''}${result.repaired ? ' (repaired)' : ''}` +
            `${result.deduplicatedFrom ? ` (same bytes as ${result.deduplicatedFrom})` : ''}${result.warnings ? ` (warning: ${result.warnings.join(', ')})` : ''}`
          : `${result.errorCode ?? ''} ${result.url}: ${result.errorMessage ?? ''}`;
      this.out.write(`${result.status} ${what}\n`);
    }
  }

  /** A message that must stay on screen (warnings, bad input lines). */
  line(text: string): void {
    if (this.tty) this.out.write(`\r\x1b[2K${text}\n`);
    else this.out.write(`${text}\n`);
    if (this.tty) this.draw(true);
  }

  /** Redraw the bar (at most 10 times a second unless forced). */
  draw(force = false): void {
    if (!this.tty) return;
    const now = Date.now();
    if (!force && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const t = this.tally;
    const seconds = Math.max(0.001, (now - t.startedAt) / 1000);
    const total = t.inputComplete ? String(t.total) : `${t.total}+`;
    const pct = t.inputComplete && t.total > 0 ? Math.floor((t.done / t.total) * 100) : undefined;
    const width = 24;
    const filled = pct === undefined ? 0 : Math.round((pct / 100) * width);
    const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
    const rate = t.done / seconds;
    const eta = t.inputComplete && rate > 0 ? formatDuration((t.total - t.done) / rate) : '?';
    const bytes = t.bytes + t.inFlightBytes;
    this.out.write(
      `\r\x1b[2K${bar} ${t.done}/${total} files ${formatBytes(bytes)} ${formatBytes(bytes / seconds)}/s ETA ${eta} failed ${t.failed} missing ${t.missing}`,
    );
  }

  /** The closing summary. */
  summary(interrupted: boolean): void {
    const t = this.tally;
    const seconds = (Date.now() - t.startedAt) / 1000;
    if (this.tty) this.out.write('\r\x1b[2K');
    const details = [
      t.skipped > 0 ? `${t.skipped} already there` : '',
      t.repaired > 0 ? `${t.repaired} repaired` : '',
      t.deduplicated > 0 ? `${t.deduplicated} deduplicated` : '',
      t.warned > 0 ? `${t.warned} with warnings` : '',
    ].filter(Boolean);
    this.out.write(
      `${interrupted ? 'Interrupted: ' : ''}${t.done} done: ${t.succeeded} saved${details.length > 0 ? ` (${details.join(', ')})` : ''}, ` +
        `${t.missing} missing, ${t.failed} failed; ` +
        `${formatBytes(t.bytes)} in ${seconds.toFixed(1)} s (${formatBytes(t.bytes / Math.max(seconds, 0.001))}/s)\n`,
    );
  }
}

/** 1536 → "1.5 KiB". */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  return s >= 3600 ? `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m` : s >= 60 ? `${Math.floor(s / 60)}m${s % 60}s` : `${s}s`;
}
