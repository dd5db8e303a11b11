import type { DownloadResult } from '../model/download-result.js';
import { formatBytes, statusLine } from './status-line.js';
import { withoutUrl } from './without-url.js';
import { isNotStarted, RateWindow, type Tally } from './tally.js';

/** What the display writes to: a process stream, or a fake terminal in tests. */
export interface DisplayStream {
  write(text: string): unknown;
  isTTY?: boolean;
  /** Terminal width, when a terminal. */
  columns?: number;
  on(event: 'resize' | 'error', listener: (...args: unknown[]) => void): unknown;
  off(event: 'resize' | 'error', listener: (...args: unknown[]) => void): unknown;
}

/** Options of {@link ProgressDisplay}. */
export interface ProgressDisplayOptions {
  /** Print only errors and the summary. @default false */
  quiet?: boolean;
  /** Where bad input lines and other complaints go. @default the display's own stream */
  errors?: DisplayStream;
  /** Time source (ms). @default Date.now */
  now?: () => number;
}

/** Redraws at most this often, unless forced. */
const REDRAW_MS = 100;

/**
 * Shows a run as curl, wget and aria2c do. On a terminal: one status line redrawn in place, fitted to the
 * terminal's width (and redrawn when it is resized), with errors, missing items and warnings printed above it
 * so they stay on screen. Elsewhere: one plain line per item. A summary ends the run either way. A closed
 * stream (`| head`) silences the display; it never stops the run.
 */
export class ProgressDisplay {
  private lastDraw = -Infinity;
  private readonly rates = new RateWindow();
  private closed = false;
  private barShown = false;
  private readonly errors: DisplayStream;
  private readonly now: () => number;
  private readonly onResize = (): void => this.draw(true);
  private readonly onError = (): void => {
    // EPIPE and friends: whoever read our output has gone. The work goes on; the talking stops.
    this.closed = true;
  };

  constructor(
    private readonly out: DisplayStream,
    private readonly tally: Tally,
    private readonly options: ProgressDisplayOptions = {},
  ) {
    this.errors = options.errors ?? out;
    this.now = options.now ?? Date.now;
    out.on('error', this.onError);
    if (this.tty) out.on('resize', this.onResize);
  }

  private get tty(): boolean {
    return this.out.isTTY === true;
  }

  /** Columns the status line may use: one less than the terminal, so the cursor never wraps. */
  private get width(): number {
    return Math.max(10, (this.out.columns ?? 80) - 1);
  }

  /** An item finished. */
  item(result: DownloadResult): void {
    // An interrupted run says so once, in its summary: items it stopped or never started are not errors to list.
    if (isNotStarted(result)) return;
    if (result.errorCode === 'ABORTED') {
      if (!this.tty && !this.options.quiet) this.write(this.out, `interrupted ${result.url}: the next run resumes it\n`);
      return;
    }
    if (this.tty) {
      // Only what needs attention stays on screen above the bar; saved items are in the count.
      if (result.status !== 'success' || result.warnings || result.repaired) this.line(describe(result, this.width));
      else this.draw();
    } else if (!this.options.quiet || result.status === 'error') {
      this.write(this.out, `${describe(result)}\n`);
    }
  }

  /** A message that must stay on screen, printed above the status line. */
  line(text: string, stream: DisplayStream = this.out): void {
    this.clearBar();
    this.write(stream, `${text}\n`);
    if (this.tty) this.draw(true);
  }

  /** A complaint about the input or the environment: to the error stream, above the status line. */
  problem(text: string): void {
    this.line(text, this.errors);
  }

  /** Redraw the status line (at most 10 times a second unless forced). */
  draw(force = false): void {
    if (!this.tty || this.closed) return;
    const now = this.now();
    if (!force && now - this.lastDraw < REDRAW_MS) return;
    this.lastDraw = now;
    this.rates.add(now, this.tally.bytes + this.tally.inFlightBytes, this.tally.done);
    this.write(this.out, `\r${statusLine(this.tally, this.rates.rates(), this.width)}\x1b[K`);
    this.barShown = true;
  }

  /** The closing summary: counts that add up to the items read, the bytes, and where the results are. */
  summary(interrupted: boolean, resultsFile: string): void {
    this.clearBar();
    const text = summaryText(this.tally, (this.now() - this.tally.startedAt) / 1000, interrupted, resultsFile);
    // On a terminal, lines break between words, not mid-word at the edge; a pipe or a log keeps one line each.
    this.write(this.out, this.out.columns === undefined ? text : wrapWords(text, this.width));
  }

  /** Stop listening to the stream. */
  close(): void {
    this.out.off('resize', this.onResize);
    this.out.off('error', this.onError);
  }

  private clearBar(): void {
    if (this.barShown) this.write(this.out, '\r\x1b[K');
    this.barShown = false;
  }

  private write(stream: DisplayStream, text: string): void {
    if (this.closed && stream === this.out) return;
    try {
      stream.write(text);
    } catch {
      this.closed = true;
    }
  }
}

/**
 * One line for one item; the URL named once (messages end with it, so it is cut from there). With a
 * `width`, a line that would wrap has the middle of its URL elided (`https://host/…/name.jpg`), so each
 * item stays one line on a terminal.
 */
export function describe(result: DownloadResult, width = Infinity): string {
  if (result.status === 'success') {
    const notes = [
      result.skipped ? 'already there' : '',
      result.repaired ? 'repaired' : '',
      result.deduplicatedFrom ? `same bytes as ${result.deduplicatedFrom}` : '',
      result.warnings ? `warning: ${result.warnings.join(', ')}` : '',
    ].filter(Boolean);
    return `saved ${result.filename} ${formatBytes(result.byteSize)}${notes.length > 0 ? ` (${notes.join('; ')})` : ''}`;
  }
  const message = withoutUrl(result.errorMessage ?? '', result.url);
  const where = result.url === '' ? inputPlace(result.metadata) : result.url;
  // A missing item needs no code: "missing" says it. A failure's code is what a person searches the docs for.
  const head = result.status === 'missing' ? 'missing' : result.status === 'unsupported' ? 'not fetched' : `error ${result.errorCode ?? ''}`;
  const full = `${head} ${where}: ${message}`;
  if (full.length <= width) return full;
  // Too long for one row. The URL is what a person acts on: the message is cut first (to no less than
  // MIN_MESSAGE characters), then the middle of the URL elided, host and file name kept. The whole text is in
  // the results file.
  const fixed = head.length + 3;
  const keepUrl = width - fixed - where.length >= Math.min(message.length, MIN_MESSAGE);
  const url = keepUrl ? where : elide(where, Math.max(MIN_URL, width - fixed - Math.min(message.length, ROOMY_MESSAGE)));
  const messageRoom = width - fixed - url.length;
  const cut = message.length <= messageRoom ? message : `${message.slice(0, Math.max(0, messageRoom - 1))}…`;
  return `${head} ${url}: ${cut}`.slice(0, width);
}

/** Where an item with no URL was read: `input line 4`, or `json/1.json` for an item of a JSON document. */
function inputPlace(metadata: Record<string, unknown> | undefined): string {
  return typeof metadata?.file === 'string' ? metadata.file : `input line ${String(metadata?.line ?? '?')}`;
}

/** Shortest message an item line keeps before it elides the URL; room it then gives the message; shortest URL. */
const MIN_MESSAGE = 24;
const ROOMY_MESSAGE = 40;
const MIN_URL = 24;

/** `https://host/a/b/c/name.jpg` in `length` characters: the start and the file name, the middle elided. */
function elide(url: string, length: number): string {
  const tail = Math.min(Math.ceil(length / 2), url.length - url.lastIndexOf('/'));
  return `${url.slice(0, length - tail - 1)}…${url.slice(url.length - tail)}`;
}

/** The summary's words. */
export function summaryText(tally: Tally, seconds: number, interrupted: boolean, resultsFile: string): string {
  const saved = [
    tally.skipped > 0 ? `${tally.skipped} already there` : '',
    tally.repaired > 0 ? `${tally.repaired} repaired` : '',
    tally.deduplicated > 0 ? `${tally.deduplicated} deduplicated` : '',
    tally.warned > 0 ? `${tally.warned} with warnings` : '',
  ].filter(Boolean);
  const failed = tally.badInput > 0 ? ` (${tally.badInput} bad input line${tally.badInput === 1 ? '' : 's'})` : '';
  const counts =
    `${tally.done} items: ${tally.succeeded} saved${saved.length > 0 ? ` (${saved.join(', ')})` : ''}, ` +
    `${tally.missing} missing, ${tally.failed} failed${failed}` +
    `${tally.unsupported > 0 ? `, ${tally.unsupported} not fetched (embeds from other sites)` : ''}` +
    `${tally.interrupted > 0 ? `, ${tally.interrupted} interrupted (the next run resumes them)` : ''}` +
    `${tally.notStarted > 0 ? `, ${tally.notStarted} not started` : ''}`;
  const rate = formatBytes(tally.bytes / Math.max(seconds, 0.001));
  const first = `${interrupted ? 'Interrupted after' : 'Done in'} ${seconds.toFixed(1)} s: ${counts}.`;
  return `${first}\n${formatBytes(tally.bytes)} downloaded (${rate}/s). Results: ${resultsFile}\n`;
}

/** Break each line of `text` at the last space that keeps it within `width`; continuation lines are indented. */
export function wrapWords(text: string, width: number): string {
  return text
    .split('\n')
    .map((line) => {
      const rows: string[] = [];
      let rest = line;
      while (rest.length > width) {
        const cut = rest.lastIndexOf(' ', width);
        if (cut <= 2) break; // one long word (a path): leave it whole rather than split it
        rows.push(rest.slice(0, cut));
        rest = `  ${rest.slice(cut + 1)}`;
      }
      return [...rows, rest].join('\n');
    })
    .join('\n');
}
