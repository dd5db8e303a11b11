import { expect } from 'chai';
import { EventEmitter } from 'node:events';
import type { DownloadResult } from '../../src/model/download-result.js';
import { ProgressDisplay, summaryText, wrapWords } from '../../src/cli/progress-display.js';
import { statusLine } from '../../src/cli/status-line.js';
import { countResult, newTally, type Tally } from '../../src/cli/tally.js';

/** A terminal of a given width that records what is written to it. */
class FakeTerminal extends EventEmitter {
  readonly isTTY = true;
  written = '';
  constructor(public columns: number) {
    super();
  }
  write(text: string): boolean {
    this.written += text;
    return true;
  }
  /** What a person sees: each line as left after carriage returns and erase-to-end-of-line. */
  screen(): string[] {
    return this.written.split('\n').map((line) => line.split('\r').at(-1)!.replaceAll('\x1b[K', ''));
  }
}

function result(facts: Partial<DownloadResult>): DownloadResult {
  return {
    filename: '/a/1_0_abcdef12.jpg',
    byteSize: 65_536,
    checksum: 'a'.repeat(64),
    duration: 10,
    source: 'tumblr',
    status: 'success',
    mediaMissingOnTumblr: false,
    url: 'https://64.media.tumblr.com/abc/tumblr_x_1280.jpg',
    attempts: 1,
    resumedFromByte: 0,
    ...facts,
  };
}

/** A run part-way: 1234 of ~20000 items, a few failures and missing, bytes flowing. */
function busyTally(): Tally {
  const tally = newTally(0);
  tally.total = 1300;
  tally.expected = 20_000;
  for (let i = 0; i < 1234; i++) countResult(tally, result({}));
  tally.failed = 12;
  tally.missing = 345;
  tally.inFlightBytes = 123_456_789;
  return tally;
}

describe(ProgressDisplay.name, () => {
  for (const columns of [40, 80, 120]) {
    it(`should fit the status line in ${columns} columns and redraw it in place`, () => {
      const terminal = new FakeTerminal(columns);
      let now = 0;
      const display = new ProgressDisplay(terminal, busyTally(), { now: () => now });
      for (let i = 0; i < 30; i++) {
        now += 150;
        display.draw();
      }
      expect(terminal.written).to.not.include('\n');
      const [line] = terminal.screen();
      expect(line!.length, line).to.be.at.most(columns - 1);
      expect(line).to.include('1234/~20000');
      if (columns >= 80) expect(line).to.match(/12 failed 345 missing/);
      if (columns >= 120) expect(line).to.match(/^\[#+\.+\]/);
    });
  }

  it('should redraw at the new width when the terminal is resized', () => {
    const terminal = new FakeTerminal(120);
    const display = new ProgressDisplay(terminal, busyTally(), { now: () => 0 });
    display.draw(true);
    terminal.columns = 40;
    terminal.emit('resize');
    expect(terminal.written.split('\r').at(-1)!.replaceAll('\x1b[K', '').length).to.be.at.most(39);
    display.close();
  });

  it('should print errors and missing items above the bar, each naming its URL once', () => {
    const terminal = new FakeTerminal(120);
    const tally = busyTally();
    const display = new ProgressDisplay(terminal, tally, { now: () => 0 });
    const url = 'https://64.media.tumblr.com/abc/tumblr_gone_1280.jpg';
    display.draw(true);
    display.item(result({ status: 'missing', url, errorCode: 'MEDIA_NOT_FOUND', errorMessage: `Media not found (404): ${url}` }));
    display.item(result({ status: 'error', url, errorCode: 'TIMEOUT', errorMessage: `Timed out: ${url}` }));
    display.item(result({}));
    const screen = terminal.screen();
    expect(screen[0]).to.equal(`missing ${url}: Media not found (404)`);
    expect(screen[1]).to.equal(`error TIMEOUT ${url}: Timed out`);
    expect(screen.at(-1)).to.include('1234/~20000');
    expect(screen.join('\n').split(url)).to.have.length(3);
  });

  it('should keep an item line to one terminal row by eliding the middle of a long URL', () => {
    const terminal = new FakeTerminal(80);
    const display = new ProgressDisplay(terminal, busyTally(), { now: () => 0 });
    const url = 'https://64.media.tumblr.com/0123456789abcdef0123456789abcdef/s1280x1920/tumblr_gone_1280.jpg';
    display.item(result({ status: 'missing', url, errorCode: 'MEDIA_NOT_FOUND', errorMessage: `Media not found (HTTP 404): ${url}` }));
    const [line] = terminal.screen();
    expect(line!.length).to.be.at.most(79);
    expect(line).to.match(/^missing https:\/\/64\.media\.tum[^ ]*…\/tumblr_gone_1280\.jpg: Media not found \(HTTP 404\)$/);
  });

  it('should cut a message that does not fit before it touches a short URL, and never wrap', () => {
    const terminal = new FakeTerminal(80);
    const display = new ProgressDisplay(terminal, busyTally(), { now: () => 0 });
    const url = 'http://127.0.0.1:47400/page7.jpg';
    display.item(result({ status: 'error', url, errorCode: 'INTEGRITY', errorMessage: `A page (HTML, XML or SVG, as text/html), not an image: ${url}` }));
    const [line] = terminal.screen();
    expect(line!.length).to.equal(79);
    expect(line).to.match(/^error INTEGRITY http:\/\/127\.0\.0\.1:47400\/page7\.jpg: A page .*…$/);
  });

  it('should list neither interrupted nor never-started items as errors: the summary counts them', () => {
    const terminal = new FakeTerminal(80);
    const display = new ProgressDisplay(terminal, busyTally(), { now: () => 0 });
    display.item(result({ status: 'error', errorCode: 'ABORTED', errorMessage: 'Download aborted', attempts: 1 }));
    display.item(result({ status: 'error', errorCode: 'ABORTED', errorMessage: 'Download aborted', attempts: 0 }));
    expect(terminal.written).to.equal('');
  });

  it('should show the speed of the last seconds, not the average since the start', () => {
    const tally = newTally(0);
    tally.expected = 100;
    const terminal = new FakeTerminal(120);
    let now = 0;
    const display = new ProgressDisplay(terminal, tally, { now: () => now });
    // 100 MiB in the first 10 s, then nothing for 10 s: the recent speed is 0, not 5 MiB/s.
    for (; now <= 10_000; now += 500) {
      tally.bytes = (now / 10_000) * 100 * 1024 * 1024;
      display.draw();
    }
    for (; now <= 20_000; now += 500) display.draw();
    expect(terminal.screen().at(-1)).to.match(/ 0 B\/s /);
  });

  it('should write plain lines without a terminal, and nothing more once the reader is gone', () => {
    const pipe = new FakeTerminal(80) as FakeTerminal & { isTTY: boolean };
    Object.defineProperty(pipe, 'isTTY', { value: false });
    const display = new ProgressDisplay(pipe, newTally(0), { now: () => 0 });
    display.item(result({}));
    expect(pipe.written).to.equal('saved /a/1_0_abcdef12.jpg 64.0 KiB\n');
    pipe.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    display.item(result({}));
    display.summary(false, 'results.jsonl');
    expect(pipe.written).to.equal('saved /a/1_0_abcdef12.jpg 64.0 KiB\n');
  });
});

describe('statusLine', () => {
  it('should say how many items there are once the input is read, and never claim a percentage it cannot know', () => {
    const tally = newTally(0);
    tally.done = 5;
    tally.total = 7;
    expect(statusLine(tally, undefined, 120)).to.not.match(/%/);
    expect(statusLine(tally, undefined, 120)).to.include('5/? files');
    tally.inputComplete = true;
    expect(statusLine(tally, undefined, 120)).to.match(/71%.*5\/7 files/);
  });

  it('should show a worker what it did and what is left in the queue it shares, with no total or ETA of its own', () => {
    const tally = newTally(0);
    tally.done = 242;
    tally.queued = 162;
    const line = statusLine(tally, { bytesPerSecond: 5 * 1024 * 1024, itemsPerSecond: 80 }, 80);
    expect(line).to.match(/^242 files {2}162 left in queue {2}0 B {2}5\.0 MiB\/s$/);
    expect(statusLine(tally, undefined, 14)).to.equal('242 162 left');
  });
});

describe('summaryText', () => {
  it('should give counts that add up to the items read, and where the results are', () => {
    const tally = newTally(0);
    for (const r of [
      result({}),
      result({ skipped: true }),
      result({ repaired: true }),
      result({ status: 'missing' }),
      result({ status: 'error', errorCode: 'BAD_INPUT', attempts: 0 }),
      result({ status: 'error', errorCode: 'ABORTED', attempts: 0 }),
      result({ status: 'error', errorCode: 'ABORTED', attempts: 1 }),
    ]) {
      countResult(tally, r);
    }
    expect(tally.succeeded + tally.missing + tally.failed + tally.interrupted + tally.notStarted).to.equal(tally.done);
    expect(summaryText(tally, 2, true, 'out/results.jsonl')).to.equal(
      'Interrupted after 2.0 s: 7 items: 3 saved (1 already there, 1 repaired), 1 missing, 1 failed (1 bad input line), ' +
        '1 interrupted (the next run resumes them), 1 not started.\n' +
        '128.0 KiB downloaded (64.0 KiB/s). Results: out/results.jsonl\n',
    );
  });
});

describe('wrapWords', () => {
  it('should break a long line between words within the width, indent what follows, and never split a word', () => {
    const line = 'Done in 0.1 s: 8 items: 5 saved (5 already there, 1 deduplicated), 1 missing, 2 failed.';
    const wrapped = wrapWords(line, 79).split('\n');
    expect(wrapped).to.deep.equal(['Done in 0.1 s: 8 items: 5 saved (5 already there, 1 deduplicated), 1 missing, 2', '  failed.']);
    expect(wrapped.every((row) => row.length <= 79)).to.equal(true);
    expect(wrapWords('short\nResults: /a/very/long/path/without/spaces/results.jsonl', 20)).to.equal('short\nResults:\n  /a/very/long/path/without/spaces/results.jsonl');
  });
});
