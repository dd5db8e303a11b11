import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { ensureBuilt } from '../support/built-package.js';
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
class RateLimitingOrigin {
  /** Requests seen, per path. */
  readonly seen = new Map<string, number>();
  private readonly held: http.ServerResponse[] = [];
  private readonly server = http.createServer((req, res) => this.handle(req, res));

  constructor(private readonly retryAfterSeconds: number) {}

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const file = req.url ?? '/';
    const number = (this.seen.get(file) ?? 0) + 1;
    this.seen.set(file, number);
    if (number > 1) {
      res.writeHead(200, { 'content-type': 'image/jpeg' }).end(jpegBytes(64 * 1024, ITEMS.indexOf(file) + 1));
      return;
    }
    this.held.push(res);
    if (this.held.length < ITEMS.length) return;
    for (const waiting of this.held.splice(0)) waiting.writeHead(429, { 'retry-after': String(this.retryAfterSeconds) }).end('slow down');
  }
}

describe('tumblr-dl fetch: a paused host (built CLI)', function () {
  this.timeout(60_000);
  useRealSockets();
  let work: { dir: string; cleanup: () => void };
  let origin: RateLimitingOrigin | undefined;

  before(() => ensureBuilt());
  beforeEach(() => (work = tempDir('mdl-pause-')));
  afterEach(async () => {
    await origin?.stop();
    origin = undefined;
    work.cleanup();
  });

  /** Start an origin that asks for `retryAfterSeconds`, and fetch every item from it, all at once. */
  async function fetchAll(retryAfterSeconds: number, flags: string[]): Promise<{ stdout: string; code: number | null; out: string }> {
    origin = new RateLimitingOrigin(retryAfterSeconds);
    const input = writeInput(work.dir, await origin.start());
    const out = path.join(work.dir, 'out');
    const run = await runCli(['fetch', input, '-o', out, '-c', String(ITEMS.length), '-r', '0', ...flags]);
    return { ...run, out };
  }

  it('should announce the pause once, with host and reason, though every item of the host hit it', async () => {
    const run = await fetchAll(1, []);
    expect(run.code, run.stdout).to.equal(0);
    // Every item was answered 429 once, then served: each of them reported the pause.
    expect([...origin!.seen.values()], 'requests per item').to.deep.equal(ITEMS.map(() => 2));
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
    expect([...origin!.seen.values()]).to.deep.equal(ITEMS.map(() => 1));
    expect(pauseLines(run.stdout), run.stdout).to.deep.equal([]);
  });
});

describe('tumblr-dl worker: a paused host (built CLI, real Redis)', function () {
  this.timeout(90_000);
  useRealSockets();
  let redis: RedisUnderTest;
  let work: { dir: string; cleanup: () => void };
  let origin: RateLimitingOrigin;

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
    origin = new RateLimitingOrigin(3600);
    const input = writeInput(work.dir, await origin.start());
    const queue = ['--redis', redis.url, '--queue', 'pause-notice'];
    expect((await runCli(['enqueue', input, ...queue])).code).to.equal(0);
    const run = await runCli(['worker', '-o', path.join(work.dir, 'out'), ...queue, '-c', String(ITEMS.length), '-r', '0', '--max-retry-after', '500', '--exit-when-drained']);
    expect(run.code, run.stderr).to.equal(0);
    expect([...origin.seen.values()], 'requests per item').to.deep.equal(ITEMS.map(() => 1));
    expect(pauseLines(run.stdout), run.stdout).to.have.length(1);
    expect(pauseLines(run.stdout)[0]).to.match(/^paused 127\.0\.0\.1 until \d\d:\d\d:\d\d \(in \d+s\): HTTP 429, Retry-After 3600 s, capped at 500 ms by --max-retry-after$/);
  });
});
