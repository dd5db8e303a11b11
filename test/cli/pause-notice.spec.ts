import { expect } from 'chai';
import { EventEmitter } from 'node:events';
import { announcePauses, isNewPause, PauseNotices, pauseLine, SAME_PAUSE_SLACK_MS, type HostPause } from '../../src/cli/pause-notice.js';
import { ProgressDisplay } from '../../src/cli/progress-display.js';
import { newTally } from '../../src/cli/tally.js';
import { DownloadEventEmitter } from '../../src/events/download-events.js';
import type { RateLimitedEvent } from '../../src/events/download-event-map.js';

/** 14:01:12 local time on an ordinary day: the wall-clock times below are local, whatever TZ the tests run in. */
const NOW = new Date(2024, 4, 2, 14, 1, 12).getTime();

function pause(facts: Partial<HostPause> = {}): HostPause {
  return { host: 'media.tumblr.com', untilMs: NOW + 120_000, statusCode: 429, retryAfterMs: 120_000, pauseMs: 120_000, capped: false, ...facts };
}

/** A stream that records what is written: a terminal when `isTTY`, a pipe otherwise. */
class FakeStream extends EventEmitter {
  written = '';
  constructor(
    readonly isTTY: boolean,
    readonly columns?: number,
  ) {
    super();
  }
  write(text: string): boolean {
    this.written += text;
    return true;
  }
}

describe('pause-notice', () => {
  describe(pauseLine.name, () => {
    it('should name the host, the local time it resumes, the time left, the status and the Retry-After', () => {
      expect(pauseLine(pause(), NOW)).to.equal('paused media.tumblr.com until 14:03:12 (in 2m 0s): HTTP 429, Retry-After 120 s');
    });

    it('should say the pause was capped, and by which flag, when the server asked for longer', () => {
      const capped = pause({ statusCode: 503, retryAfterMs: 3_600_000, pauseMs: 600_000, untilMs: NOW + 600_000, capped: true });
      expect(pauseLine(capped, NOW)).to.equal('paused media.tumblr.com until 14:11:12 (in 10m 0s): HTTP 503, Retry-After 3600 s, capped at 10 min by --max-retry-after');
    });

    it('should round the time left up to whole seconds, and write hours as hours', () => {
      expect(pauseLine(pause({ untilMs: NOW + 44_001 }), NOW)).to.include('(in 45s)');
      expect(pauseLine(pause({ untilMs: NOW + 3_900_000 }), NOW)).to.include('until 15:06:12 (in 1h 5m)');
    });

    it('should give the date when the pause ends on another day', () => {
      const lateEvening = new Date(2024, 4, 2, 23, 59, 0).getTime();
      expect(pauseLine(pause({ untilMs: lateEvening + 120_000 }), lateEvening)).to.include('until 2024-05-03 00:01:00 (in 2m 0s)');
    });

    it('should write a cap as it was likely given', () => {
      const capAt = (pauseMs: number): string => pauseLine(pause({ retryAfterMs: 86_400_000, pauseMs, untilMs: NOW + pauseMs, capped: true }), NOW);
      expect(capAt(7_200_000)).to.match(/capped at 2 h by/);
      expect(capAt(90_000)).to.match(/capped at 90 s by/);
      expect(capAt(1_500)).to.match(/capped at 1500 ms by/);
    });
  });

  describe(isNewPause.name, () => {
    it('should take the first pause of a host as news', () => {
      expect(isNewPause(undefined, NOW + 1000, NOW)).to.equal(true);
    });

    it('should not take a deadline that is not later than the announced one as news', () => {
      expect(isNewPause(NOW + 120_000, NOW + 120_000, NOW + 5)).to.equal(false);
      expect(isNewPause(NOW + 120_000, NOW + 60_000, NOW + 5)).to.equal(false);
      // Even once the announced pause is over: an old deadline arriving late is no new pause.
      expect(isNewPause(NOW + 120_000, NOW + 110_000, NOW + 130_000)).to.equal(false);
    });

    it('should take reports a moment apart as the same pause, and a deadline moved further as a new one', () => {
      expect(isNewPause(NOW + 120_000, NOW + 120_000 + SAME_PAUSE_SLACK_MS, NOW + 300)).to.equal(false);
      expect(isNewPause(NOW + 120_000, NOW + 120_001 + SAME_PAUSE_SLACK_MS, NOW + 300)).to.equal(true);
    });

    it('should take any later deadline as news once the announced pause is over', () => {
      expect(isNewPause(NOW + 1000, NOW + 1500, NOW + 1000)).to.equal(true);
    });
  });

  describe(PauseNotices.name, () => {
    it('should announce a pause once however many downloads of the host report it, and each host on its own', () => {
      let now = NOW;
      const notices = new PauseNotices(() => now);
      const lines: Array<string | undefined> = [];
      for (let i = 0; i < 5; i++) {
        lines.push(notices.notice(pause({ untilMs: now + 120_000 })));
        now += 40; // the other downloads' 429s arrive a moment later, each with a deadline a moment later
      }
      lines.push(notices.notice(pause({ host: 'other.example', untilMs: now + 120_000 })));
      expect(lines.filter((line) => line !== undefined)).to.deep.equal([
        'paused media.tumblr.com until 14:03:12 (in 2m 0s): HTTP 429, Retry-After 120 s',
        'paused other.example until 14:03:12 (in 2m 0s): HTTP 429, Retry-After 120 s',
      ]);
    });

    it('should announce the host again when it is paused anew after the pause', () => {
      let now = NOW;
      const notices = new PauseNotices(() => now);
      expect(notices.notice(pause({ untilMs: now + 1000, retryAfterMs: 1000, pauseMs: 1000 }))).to.be.a('string');
      now += 1000;
      expect(notices.notice(pause({ untilMs: now + 1000, retryAfterMs: 1000, pauseMs: 1000 }))).to.equal(
        'paused media.tumblr.com until 14:01:14 (in 1s): HTTP 429, Retry-After 1 s',
      );
    });

    it('should say nothing of a pause of no length (Retry-After: 0, or a cap of 0)', () => {
      const notices = new PauseNotices(() => NOW);
      expect(notices.notice(pause({ untilMs: NOW, retryAfterMs: 0, pauseMs: 0 }))).to.equal(undefined);
      expect(notices.notice(pause({ untilMs: NOW, retryAfterMs: 5000, pauseMs: 0, capped: true }))).to.equal(undefined);
    });
  });

  describe(announcePauses.name, () => {
    const event = (facts: Partial<HostPause> = {}): RateLimitedEvent => ({
      id: 'dl-1',
      url: 'https://media.tumblr.com/a.jpg',
      mediaType: 'image',
      attempt: 1,
      ...pause(facts),
    });

    it('should print the pause once, as a plain line, when the output is not a terminal', () => {
      const out = new FakeStream(false);
      const events = new DownloadEventEmitter();
      announcePauses(events, new ProgressDisplay(out, newTally(NOW), { now: () => NOW }), new PauseNotices(() => NOW));
      events.publish('rate-limited', event());
      events.publish('rate-limited', event({ untilMs: NOW + 120_050 }));
      expect(out.written).to.equal('paused media.tumblr.com until 14:03:12 (in 2m 0s): HTTP 429, Retry-After 120 s\n');
    });

    it('should print it above the status line on a terminal, and redraw the status line under it', () => {
      const out = new FakeStream(true, 100);
      const events = new DownloadEventEmitter();
      const display = new ProgressDisplay(out, newTally(NOW), { now: () => NOW });
      announcePauses(events, display, new PauseNotices(() => NOW));
      display.draw(true);
      const bar = out.written;
      events.publish('rate-limited', event());
      const after = out.written.slice(bar.length);
      // The bar is cleared, the line printed, and the bar drawn again below it.
      const line = 'paused media.tumblr.com until 14:03:12 (in 2m 0s): HTTP 429, Retry-After 120 s';
      expect(after.startsWith(`\r\x1b[K${line}\n`), JSON.stringify(after)).to.equal(true);
      // The terminal's erase-to-end-of-line escape, ESC [ K, ends the redrawn status line.
      // eslint-disable-next-line no-control-regex
      expect(after).to.match(/\n\r.+\x1b\[K$/);
    });
  });
});
