import type { RateLimitedEvent } from '../events/download-event-map.js';
import type { DownloadEvents } from '../events/download-events.js';
import type { ProgressDisplay } from './progress-display.js';

/** What an announcement needs of a `rate-limited` event. */
export type HostPause = Pick<RateLimitedEvent, 'host' | 'untilMs' | 'statusCode' | 'retryAfterMs' | 'pauseMs' | 'capped'>;

/**
 * A deadline at most this much later than the announced one is the same pause: every download in flight
 * when the host said 429 reports the pause as its own response arrives, each a moment after the first.
 */
export const SAME_PAUSE_SLACK_MS = 2_000;

/**
 * Whether a pause of a host until `untilMs` is news, given the deadline already announced for that host
 * (`undefined`: none). A deadline that is not later than the announced one is not; a later one is when the
 * announced pause is over by now, or when it moves the deadline by more than {@link SAME_PAUSE_SLACK_MS}.
 */
export function isNewPause(announcedUntilMs: number | undefined, untilMs: number, nowMs: number): boolean {
  if (announcedUntilMs === undefined) return true;
  if (untilMs <= announcedUntilMs) return false;
  return nowMs >= announcedUntilMs || untilMs - announcedUntilMs > SAME_PAUSE_SLACK_MS;
}

/**
 * The announcement of a pause, as wget and aria2c say why they wait:
 * `paused media.tumblr.com until 14:03:12 (in 2m 0s): HTTP 429, Retry-After 120 s`, and when the server
 * asked for more than `--max-retry-after` allows, `…, Retry-After 3600 s, capped at 10 min by
 * --max-retry-after`. The time is the local wall-clock time of resumption (with the date when it is not
 * today); `nowMs` gives the time left.
 */
export function pauseLine(pause: HostPause, nowMs: number): string {
  const cap = pause.capped ? `, capped at ${roughDuration(pause.pauseMs)} by --max-retry-after` : '';
  return (
    `paused ${pause.host} until ${wallClock(pause.untilMs, nowMs)} (in ${timeLeft(pause.untilMs - nowMs)}): ` +
    `HTTP ${pause.statusCode}, Retry-After ${Math.round(pause.retryAfterMs / 1000)} s${cap}`
  );
}

/**
 * Says each pause of a host once. Every download of the host that hits the same pause reports it; only the
 * first report, and later ones that pause the host anew ({@link isNewPause}), make a line.
 */
export class PauseNotices {
  /** Per host, the deadline last announced. */
  private readonly announced = new Map<string, number>();

  /** @param now the time (epoch ms) on the clock the downloader's `untilMs` comes from. @default Date.now */
  constructor(private readonly now: () => number = Date.now) {}

  /** The line announcing `pause`, or `undefined` when it was announced already or pauses nothing. */
  notice(pause: HostPause): string | undefined {
    const nowMs = this.now();
    // `Retry-After: 0`, or a cap of 0: nothing waits, and the item's own line says why it failed.
    if (pause.pauseMs <= 0 || !isNewPause(this.announced.get(pause.host), pause.untilMs, nowMs)) return undefined;
    this.announced.set(pause.host, pause.untilMs);
    return pauseLine(pause, nowMs);
  }
}

/**
 * Print each new pause of a host on `display`: above the status line on a terminal, a plain line otherwise.
 * Not called in quiet mode: a pause is news, and quiet prints only errors and the summary.
 */
export function announcePauses(events: DownloadEvents, display: ProgressDisplay, notices = new PauseNotices()): void {
  events.on('rate-limited', (event) => {
    const line = notices.notice(event);
    if (line !== undefined) display.line(line);
  });
}

/** `14:03:12` in local time; `2024-05-02 14:03:12` when that is not today. */
function wallClock(atMs: number, nowMs: number): string {
  const at = new Date(atMs);
  const now = new Date(nowMs);
  const two = (n: number): string => String(n).padStart(2, '0');
  const time = `${two(at.getHours())}:${two(at.getMinutes())}:${two(at.getSeconds())}`;
  const sameDay = at.getFullYear() === now.getFullYear() && at.getMonth() === now.getMonth() && at.getDate() === now.getDate();
  return sameDay ? time : `${at.getFullYear()}-${two(at.getMonth() + 1)}-${two(at.getDate())} ${time}`;
}

/** `45s`, `2m 0s`, `1h 5m`: whole seconds, rounded up, so a pause never looks shorter than it is. */
function timeLeft(ms: number): string {
  const seconds = Math.max(0, Math.ceil(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ${seconds % 60}s`;
  return `${Math.floor(seconds / 3600)}h ${Math.floor((seconds % 3600) / 60)}m`;
}

/** A cap as it was most likely given: `10 min`, `2 h`, `90 s`, `1500 ms`. */
function roughDuration(ms: number): string {
  if (ms >= 3_600_000 && ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000} min`;
  if (ms >= 1000 && ms % 1000 === 0) return `${ms / 1000} s`;
  return `${ms} ms`;
}
