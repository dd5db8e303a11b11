import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { ensureBuilt } from '../support/built-package.js';
import { FaultServer } from '../support/fault-server.js';
import { jpegBytes, tempDir } from '../support/fixtures.js';
import { useRealSockets } from '../support/nock-helpers.js';
import { startRedis, type RedisUnderTest } from '../support/redis-server.js';
import { readResults, runCli } from '../support/run-cli.js';

/** Items of one host in each run: all of them run into the same pause. */
const ITEMS = ['/a.jpg', '/b.jpg', '/c.jpg'];

/** The list of every item at `base`, written in `dir`. */
function writeInput(dir: string, base: string): string {
  const input = path.join(dir, 'urls.txt');
  writeFileSync(input, ITEMS.map((item) => `${base}${item}\n`).join(''));
  return input;
}

const pauseLines = (stdout: string): string[] => stdout.split('\n').filter((line) => line.startsWith('paused '));

/**
 * A loopback origin that answers the first request of every path with 429 and `Retry-After`, and later
 * ones with a JPEG. The 429s are held until every path has asked, so all the items are in flight when the
 * host says 429, and each of them reports the same pause: the case the announcement must say once.
 */
function rateLimitingOrigin(retryAfterSeconds: number): FaultServer {
  const server = new FaultServer();
  for (const [i, item] of ITEMS.entries()) {
    const tooMany = { status: 429, headers: { 'retry-after': String(retryAfterSeconds) }, body: 'slow down' };
    server.script(item, { body: jpegBytes(64 * 1024, i + 1), statusFor: (n) => (n === 1 ? tooMany : undefined), hold: true });
  }
  // The release also ends the holds: the second requests are served at once.
  void server.arrived(ITEMS.length).then(() => server.release());
  return server;
}

/** Requests the origin saw for each item, in the order of ITEMS. */
const requestsPerItem = (server: FaultServer): number[] => ITEMS.map((item) => server.requestsFor(item).length);

describe('tumblr-dl fetch: a paused host (built CLI)', function () {
  this.timeout(60_000);
  useRealSockets();
  let work: { dir: string; cleanup: () => void };
  let origin: FaultServer | undefined;

  before(() => ensureBuilt());
  beforeEach(() => (work = tempDir('mdl-pause-')));
  afterEach(async () => {
    await origin?.stop();
    origin = undefined;
    work.cleanup();
  });

  /** Start an origin that asks for `retryAfterSeconds`, and fetch every item from it, all at once. */
  async function fetchAll(retryAfterSeconds: number, flags: string[]): Promise<{ stdout: string; code: number | null; out: string }> {
    origin = rateLimitingOrigin(retryAfterSeconds);
    const input = writeInput(work.dir, await origin.start());
    const out = path.join(work.dir, 'out');
    const run = await runCli(['fetch', input, '-o', out, '-c', String(ITEMS.length), '-r', '0', ...flags]);
    return { ...run, out };
  }

  it('should announce the pause once, with host and reason, though every item of the host hit it', async () => {
    const run = await fetchAll(1, []);
    expect(run.code, run.stdout).to.equal(0);
    // Every item was answered 429 once, then served: each of them reported the pause.
    expect(requestsPerItem(origin!), 'requests per item').to.deep.equal(ITEMS.map(() => 2));
    expect(pauseLines(run.stdout), run.stdout).to.have.length(1);
    expect(pauseLines(run.stdout)[0]).to.match(/^paused 127\.0\.0\.1 until \d\d:\d\d:\d\d \(in \d+s\): HTTP 429, Retry-After 1 s$/);
    expect(readResults(path.join(run.out, 'results.jsonl')).map((r) => r.status)).to.deep.equal(ITEMS.map(() => 'success'));
  });

  it('should say the pause was capped by --max-retry-after when the server asked for longer', async () => {
    // An hour asked, half a second allowed: each item gives up at once, and the host pauses for the cap.
    const run = await fetchAll(3600, ['--max-retry-after', '500']);
    expect(run.code, run.stdout).to.equal(1);
    expect(pauseLines(run.stdout), run.stdout).to.have.length(1);
    expect(pauseLines(run.stdout)[0]).to.match(/^paused 127\.0\.0\.1 until \d\d:\d\d:\d\d \(in \d+s\): HTTP 429, Retry-After 3600 s, capped at 500 ms by --max-retry-after$/);
    expect(readResults(path.join(run.out, 'results.jsonl')).map((r) => r.errorCode)).to.deep.equal(ITEMS.map(() => 'RATE_LIMITED'));
  });

  it('should keep quiet about pauses under -q, as about retries', async () => {
    const run = await fetchAll(3600, ['--max-retry-after', '500', '-q']);
    expect(run.code, run.stdout).to.equal(1);
    expect(requestsPerItem(origin!)).to.deep.equal(ITEMS.map(() => 1));
    expect(pauseLines(run.stdout), run.stdout).to.deep.equal([]);
  });
});

describe('tumblr-dl worker: a paused host (built CLI, real Redis)', function () {
  this.timeout(90_000);
  useRealSockets();
  let redis: RedisUnderTest;
  let work: { dir: string; cleanup: () => void };
  let origin: FaultServer;

  before(async () => {
    ensureBuilt();
    redis = await startRedis();
  });
  after(() => redis.stop());
  beforeEach(() => (work = tempDir('mdl-pause-worker-')));
  afterEach(async () => {
    await origin.stop();
    work.cleanup();
  });

  it('should announce its own pause once, capped, though every job of the host hit it', async () => {
    origin = rateLimitingOrigin(3600);
    const input = writeInput(work.dir, await origin.start());
    const queue = ['--redis', redis.url, '--queue', 'pause-notice'];
    expect((await runCli(['enqueue', input, ...queue])).code).to.equal(0);
    const run = await runCli(['worker', '-o', path.join(work.dir, 'out'), ...queue, '-c', String(ITEMS.length), '-r', '0', '--max-retry-after', '500', '--exit-when-drained']);
    expect(run.code, run.stderr).to.equal(0);
    expect(requestsPerItem(origin), 'requests per item').to.deep.equal(ITEMS.map(() => 1));
    expect(pauseLines(run.stdout), run.stdout).to.have.length(1);
    expect(pauseLines(run.stdout)[0]).to.match(/^paused 127\.0\.0\.1 until \d\d:\d\d:\d\d \(in \d+s\): HTTP 429, Retry-After 3600 s, capped at 500 ms by --max-retry-after$/);
  });
});
