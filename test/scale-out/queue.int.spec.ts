import { expect } from 'chai';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { WorkerResult } from '../../src/scale-out/media-job.js';
import { ensureBuilt } from '../support/built-package.js';
import { jpegBytes, sha256, tempDir } from '../support/fixtures.js';
import { useRealSockets } from '../support/nock-helpers.js';
import { startRedis, type RedisUnderTest } from '../support/redis-server.js';
import { runCli, type Run } from '../support/run-cli.js';

/** A loopback origin of numbered JPEGs that notes when each request came, and can answer one with a 429. */
class Origin {
  readonly arrivals: number[] = [];
  readonly hashes = new Map<string, string>();
  /** Answer request number `n` (1-based) with 429 and this Retry-After, once. */
  tooManyAt: { n: number; retryAfterS: number; at?: number } | undefined;
  private server!: Server;
  base = '';

  constructor(private readonly delayMs: number) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      this.arrivals.push(Date.now());
      const tooMany = this.tooManyAt;
      if (tooMany && this.arrivals.length === tooMany.n) {
        tooMany.at = Date.now();
        res.writeHead(429, { 'retry-after': String(tooMany.retryAfterS) }).end();
        return;
      }
      const i = Number(/\/m\/(\d+)\.jpg$/.exec(req.url ?? '')?.[1] ?? NaN);
      if (!Number.isInteger(i)) return void res.writeHead(404).end();
      const body = jpegBytes(3_000 + i, i + 1);
      setTimeout(() => res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': body.length }).end(body), this.delayMs);
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** An input list of `count` items, as JSONL, and the hash each URL must end with. */
  writeList(file: string, count: number, from = 0): void {
    const lines: string[] = [];
    for (let i = from; i < from + count; i++) {
      const url = `${this.base}/m/${i}.jpg`;
      this.hashes.set(url, sha256(jpegBytes(3_000 + i, i + 1)));
      lines.push(JSON.stringify({ url, postId: `p${i}`, index: 0 }));
    }
    writeFileSync(file, `${lines.join('\n')}\n`);
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** Start a worker process; resolves with its run when it exits. */
function startWorker(args: string[], onStart?: (child: ChildProcess) => void): Promise<Run> {
  return runCli(['worker', ...args], onStart);
}

describe('scale-out: enqueue, worker and status on a real Redis', function () {
  this.timeout(90_000);
  useRealSockets();
  let redis: RedisUnderTest;
  let client: Redis;
  const temp = tempDir('tdl-scale-');

  before(async () => {
    ensureBuilt();
    redis = await startRedis();
    client = new Redis(redis.url, { maxRetriesPerRequest: null });
  });
  after(async () => {
    await client.quit();
    await redis.stop();
    temp.cleanup();
  });

  const queueOf = (name: string): Queue => new Queue(name, { connection: client });

  it('should finish 300 items exactly once over 3 workers when one is SIGKILLed, then add no work on a second enqueue and run', async () => {
    const origin = new Origin(15);
    await origin.start();
    try {
      const list = path.join(temp.dir, 'kill.jsonl');
      origin.writeList(list, 300);
      const queueName = 'kill';
      const enqueued = await runCli(['enqueue', list, '--redis', redis.url, '--queue', queueName]);
      expect(enqueued.stdout, enqueued.stderr).to.match(/^300 added to queue "kill" .*, 0 already queued\.$/m);
      expect(enqueued.code).to.equal(0);

      const lock = { lockDurationMs: 2_000, stalledIntervalMs: 500 };
      const args = (name: string): string[] => [
        '-o', path.join(temp.dir, name), '--redis', redis.url, '--queue', queueName, '--name', name, '-c', '4', '-r', '0', '-q',
        '--exit-when-drained', '--lock-duration', String(lock.lockDurationMs), '--stalled-interval', String(lock.stalledIntervalMs),
      ];
      let victim: ChildProcess | undefined;
      const runs = ['w1', 'w2', 'w3'].map((name) => startWorker(args(name), (child) => name === 'w2' && (victim = child)));
      let exitedEarly: Run | undefined;
      for (const run of runs) void run.then((ended) => (exitedEarly ??= ended));
      const queue = queueOf(queueName);
      // Kill w2 mid-run, while it holds jobs.
      for (;;) {
        const done = await queue.getCompletedCount();
        const active = (await queue.getJobs(['active'])).filter((j) => j?.processedBy === 'w2');
        if (done >= 60 && active.length > 0) break;
        expect(done, 'the run ended before w2 could be killed').to.be.below(300);
        expect(exitedEarly, `a worker exited before w2 was killed: ${exitedEarly?.stderr}`).to.equal(undefined);
        await new Promise((r) => setTimeout(r, 20));
      }
      victim!.kill('SIGKILL');
      const killedAt = Date.now();
      const killed = await runs[1]!;
      expect(killed.code).to.equal(null);
      // What w2 held when it died: still active in its name, until the lock lapses.
      const held = (await queue.getJobs(['active'])).filter((j) => j?.processedBy === 'w2').map((j) => j.id!);
      expect(held).to.not.be.empty;
      const [first, , third] = await Promise.all(runs);
      expect(first!.code, first!.stderr).to.equal(0);
      expect(third!.code, third!.stderr).to.equal(0);

      const counts = await queue.getJobCounts('waiting', 'delayed', 'active', 'completed', 'failed');
      expect(counts).to.deep.equal({ waiting: 0, delayed: 0, active: 0, completed: 300, failed: 0 });
      // The killed worker's jobs went to the others once their locks lapsed.
      const recoveredAfter: number[] = [];
      for (const id of held) {
        const job = await queue.getJob(id);
        expect(job!.returnvalue.worker).to.not.equal('w2');
        recoveredAfter.push(job!.processedOn! - killedAt);
      }
      // The lock lapses at most lockDuration after the kill; a check marks the job, the next one moves it (BullMQ's
      // stalled-job recovery takes two checks), and a live worker takes it at once.
      expect(Math.max(...recoveredAfter)).to.be.at.most(lock.lockDurationMs + 2 * lock.stalledIntervalMs + 500);
      process.stdout.write(
        `      (w2 held ${held.length} jobs when killed; taken again ${Math.min(...recoveredAfter)}–${Math.max(...recoveredAfter)} ms later, ` +
          `lock ${lock.lockDurationMs} ms, stalled check every ${lock.stalledIntervalMs} ms)\n`,
      );

      const exported = path.join(temp.dir, 'kill-results.jsonl');
      const status = await runCli(['status', '--redis', redis.url, '--queue', queueName, '--results', exported]);
      expect(status.code, status.stderr).to.equal(0);
      expect(status.stdout).to.match(/waiting 0, delayed 0, active 0, completed 300, failed 0/);
      const results = readFileSync(exported, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as WorkerResult);
      expect(results).to.have.length(300);
      expect(new Set(results.map((r) => r.url)).size).to.equal(300);
      for (const result of results) {
        expect(result.status, result.errorMessage).to.equal('success');
        const file = path.join(temp.dir, result.worker, result.path);
        expect(sha256(readFileSync(file)), file).to.equal(origin.hashes.get(result.url));
      }
      expect(new Set(results.map((r) => r.worker))).to.include.members(['w1', 'w3']);

      // Idempotence: the same list again adds nothing, and workers find nothing to do.
      const requestsBefore = origin.arrivals.length;
      const again = await runCli(['enqueue', list, '--redis', redis.url, '--queue', queueName]);
      expect(again.stdout).to.match(/^0 added to queue "kill" .*, 300 already queued\.$/m);
      const rerun = await startWorker(args('w1'));
      expect(rerun.code, rerun.stderr).to.equal(0);
      expect(origin.arrivals.length).to.equal(requestsBefore);
      expect(await queue.getCompletedCount()).to.equal(300);
      await queue.close();
    } finally {
      await origin.stop();
    }
  });

  it('should hold 3 workers to one shared rate of 20 requests/s per host', async () => {
    const origin = new Origin(0);
    await origin.start();
    try {
      const list = path.join(temp.dir, 'rate.jsonl');
      origin.writeList(list, 260); // 12 s at 20/s: the 10 s after the first second are all busy
      // Workers first, list second: all three are up and idle when the first job arrives, so the first
      // requests are not held back by the others' start-up, which would shift the 10-second window.
      const stops: ChildProcess[] = [];
      const runs = ['r1', 'r2', 'r3'].map((name) =>
        startWorker(['-o', path.join(temp.dir, name), '--redis', redis.url, '--queue', 'rate', '-c', '8', '-r', '20', '-q'], (child) => stops.push(child)),
      );
      const queue = queueOf('rate');
      while ((await queue.getWorkersCount()) < 3) await new Promise((r) => setTimeout(r, 50));
      await runCli(['enqueue', list, '--redis', redis.url, '--queue', 'rate']);
      while ((await queue.getCompletedCount()) < 260) await new Promise((r) => setTimeout(r, 100));
      for (const child of stops) child.kill('SIGTERM');
      const ended = await Promise.all(runs);
      for (const run of ended) expect(run.code, run.stderr).to.equal(143);
      await queue.close();
      const start = origin.arrivals[0]!;
      const between = (from: number, to: number): number => origin.arrivals.filter((t) => t >= start + from && t < start + to).length;
      // The grants: a full bucket of 20 at once, then 20 per second. Over 10 s after the first second (the
      // bucket spent), 200; the origin sees them a few ms later, by delays that vary, so allow it 22/s.
      const steady = between(1_000, 11_000);
      expect(steady / 10).to.be.within(18, 22);
      // The first second holds at most the bucket and that second's refill.
      expect(between(0, 1_000)).to.be.at.most(41);
      const firstTen = between(0, 10_000);
      process.stdout.write(`      (origin saw ${steady} requests in 10 s after the first: ${(steady / 10).toFixed(1)}/s; ${firstTen} in the first 10 s, bucket included)\n`);
    } finally {
      await origin.stop();
    }
  });

  it('should pause all 3 workers when one of them gets a 429 with Retry-After', async () => {
    const origin = new Origin(0);
    origin.tooManyAt = { n: 25, retryAfterS: 2 };
    await origin.start();
    try {
      const list = path.join(temp.dir, 'pause.jsonl');
      origin.writeList(list, 60);
      await runCli(['enqueue', list, '--redis', redis.url, '--queue', 'pause']);
      const runs = ['p1', 'p2', 'p3'].map((name) =>
        startWorker(['-o', path.join(temp.dir, name), '--redis', redis.url, '--queue', 'pause', '-c', '2', '-r', '20', '-q', '--exit-when-drained']),
      );
      const ended = await Promise.all(runs);
      for (const run of ended) expect(run.code, run.stderr).to.equal(0);
      const at = origin.tooManyAt.at!;
      // Requests already on their way may land just after the 429; then nobody asks until Retry-After has passed.
      const duringPause = origin.arrivals.filter((t) => t > at + 150 && t < at + 1_900);
      expect(duringPause, `requests ${duringPause.map((t) => t - at).join(', ')} ms after the 429`).to.have.length(0);
      expect(origin.arrivals.filter((t) => t >= at + 1_900).length).to.be.greaterThan(10);
      const queue = queueOf('pause');
      expect(await queue.getCompletedCount()).to.equal(60);
      await queue.close();
    } finally {
      await origin.stop();
    }
  });

  it('should serve a queue by the items\' priorities, higher first, then in list order', async () => {
    const origin = new Origin(10); // each job takes a while: finishing times never tie
    await origin.start();
    try {
      const list = path.join(temp.dir, 'prio.jsonl');
      const priorities = [0, -3, 7, 0, 7, 2];
      writeFileSync(list, priorities.map((priority, i) => JSON.stringify({ url: `${origin.base}/m/${i}.jpg`, postId: `p${i}`, priority })).join('\n'));
      await runCli(['enqueue', list, '--redis', redis.url, '--queue', 'prio']);
      const run = await startWorker(['-o', path.join(temp.dir, 'prio'), '--redis', redis.url, '--queue', 'prio', '-c', '1', '-r', '0', '-q', '--exit-when-drained']);
      expect(run.code, run.stderr).to.equal(0);
      const queue = queueOf('prio');
      const jobs = (await queue.getJobs(['completed'])).sort((a, b) => a.finishedOn! - b.finishedOn!);
      expect(jobs.map((j) => j.data.postId)).to.deep.equal(['p2', 'p4', 'p5', 'p0', 'p3', 'p1']);
      expect(jobs.map((j) => (j.returnvalue as WorkerResult).priority)).to.deep.equal([7, 7, 2, 0, 0, -3]);
      await queue.close();
    } finally {
      await origin.stop();
    }
  });

  it('should export a job BullMQ gave up on as a JOB_FAILED line with its reason', async () => {
    const list = path.join(temp.dir, 'crash.jsonl');
    writeFileSync(list, '{"url": "http://127.0.0.1:9/a.jpg", "postId": "7", "index": 2}\n');
    await runCli(['enqueue', list, '--redis', redis.url, '--queue', 'crash', '--attempts', '1']);
    // A worker that crashes on every job, as a disk that throws would make ours do.
    const connection = client.duplicate();
    const crashing = new Worker('crash', () => Promise.reject(new Error('disk on fire')), { connection });
    const queue = queueOf('crash');
    while ((await queue.getFailedCount()) === 0) await new Promise((r) => setTimeout(r, 20));
    await crashing.close();
    await connection.quit();
    const exported = path.join(temp.dir, 'crash-results.jsonl');
    const status = await runCli(['status', '--redis', redis.url, '--queue', 'crash', '--results', exported]);
    expect(status.stdout).to.match(/completed 0, failed 1/);
    const [line] = readFileSync(exported, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as WorkerResult);
    expect(line).to.include({ url: 'http://127.0.0.1:9/a.jpg', postId: '7', status: 'error', errorCode: 'JOB_FAILED', errorMessage: 'disk on fire' });
    await queue.close();
  });

  it('should put running jobs back in the queue on SIGTERM, and exit 143', async () => {
    const origin = new Origin(3_000);
    await origin.start();
    try {
      const list = path.join(temp.dir, 'term.jsonl');
      origin.writeList(list, 6);
      await runCli(['enqueue', list, '--redis', redis.url, '--queue', 'term']);
      const queue = queueOf('term');
      const run = startWorker(['-o', path.join(temp.dir, 't1'), '--redis', redis.url, '--queue', 'term', '-c', '3', '-r', '0'], (child) => {
        const poll = setInterval(() => {
          void queue.getActiveCount().then((n) => {
            if (n === 3 && origin.arrivals.length === 3) {
              clearInterval(poll);
              child.kill('SIGTERM');
            }
          });
        }, 20);
      });
      const ended = await run;
      expect(ended.code, ended.stderr).to.equal(143);
      expect(await queue.getJobCounts('waiting', 'active', 'completed', 'failed')).to.deep.equal({ waiting: 6, active: 0, completed: 0, failed: 0 });
      await queue.close();
    } finally {
      await origin.stop();
    }
  });

  it('should ride out a Redis restart: say so once, reconnect, and finish every item', async () => {
    const persistent = await startRedis({ persistent: true });
    const origin = new Origin(10);
    await origin.start();
    try {
      const list = path.join(temp.dir, 'restart.jsonl');
      origin.writeList(list, 120);
      await runCli(['enqueue', list, '--redis', persistent.url]);
      const watcher = new Queue('tumblr-dl', { connection: { host: '127.0.0.1', port: persistent.port, maxRetriesPerRequest: null } });
      watcher.on('error', () => {}); // it loses Redis too
      const run = startWorker(['-o', path.join(temp.dir, 'restart'), '--redis', persistent.url, '-c', '4', '-r', '40', '-q', '--exit-when-drained']);
      while ((await watcher.getCompletedCount()) < 30) await new Promise((r) => setTimeout(r, 20));
      await persistent.restart(500);
      const ended = await run;
      expect(ended.code, ended.stderr).to.equal(0);
      const lines = ended.stderr.trim().split('\n');
      expect(lines.filter((l) => /reconnecting$/.test(l)), ended.stderr).to.have.length(1);
      expect(lines.filter((l) => / is back$/.test(l))).to.have.length(1);
      expect(ended.stderr).to.not.match(/^\s+at /m); // no stack traces
      expect(await watcher.getJobCounts('waiting', 'active', 'completed', 'failed')).to.deep.equal({ waiting: 0, active: 0, completed: 120, failed: 0 });
      await watcher.close();
    } finally {
      await origin.stop();
      await persistent.stop();
    }
  });

  it('should say in one line what is wrong: no --redis, an unreachable Redis, a bad line, a misspelt queue', async () => {
    const list = path.join(temp.dir, 'bad.jsonl');
    writeFileSync(list, 'http://127.0.0.1:9/a.jpg\n{"url": 5}\n');
    const noRedis = await runCli(['enqueue', list]);
    expect(noRedis.code).to.equal(2);
    expect(noRedis.stderr).to.match(/^tumblr-dl enqueue: missing --redis <url> \(or set TUMBLR_DL_REDIS_URL\)\n/);
    const unreachable = await runCli(['status', '--redis', 'redis://127.0.0.1:1']);
    expect(unreachable.code).to.equal(2);
    expect(unreachable.stderr.trim()).to.match(/^tumblr-dl: cannot reach Redis at redis:\/\/127\.0\.0\.1:1: .*ECONNREFUSED/);
    expect(unreachable.stderr.trim().split('\n')).to.have.length(1);
    const badLine = await runCli(['enqueue', list, '--redis', redis.url, '--queue', 'bad']);
    expect(badLine.code).to.equal(1);
    expect(badLine.stderr).to.include('input line 2: "url" must be a string');
    expect(badLine.stdout).to.match(/^1 added .*, 0 already queued, 1 bad input line\.$/m);
    const misspelt = await runCli(['status', '--redis', redis.url, '--queue', 'ba']);
    expect(misspelt.code).to.equal(1);
    expect(misspelt.stderr).to.match(/^tumblr-dl: queue "ba" does not exist at redis:\/\/127\.0\.0\.1:\d+ \(queues there: .*\bbad\b.*\)\n$/);
    // A Redis at its maxmemory refuses jobs (noeviction): the enqueue says so in one line, exit 1.
    const big = path.join(temp.dir, 'big.jsonl');
    writeFileSync(big, Array.from({ length: 5_000 }, (_, i) => `http://127.0.0.1:9/${'x'.repeat(200)}${i}.jpg`).join('\n'));
    await client.config('SET', 'maxmemory', '2mb');
    try {
      const full = await runCli(['enqueue', big, '--redis', redis.url, '--queue', 'full']);
      expect(full.code).to.equal(1);
      expect(full.stderr).to.match(/^tumblr-dl: Redis refused jobs for queue "full": OOM command not allowed/m);
      expect(full.stderr).to.not.match(/^\s+at /m);
    } finally {
      await client.config('SET', 'maxmemory', '0');
    }
    const badQueue = await runCli(['status', '--redis', redis.url, '--queue', 'a:b']);
    expect(badQueue.code).to.equal(2);
    expect(badQueue.stderr).to.match(/^tumblr-dl: --queue must be 1 to 100 letters/);
    expect(existsSync(path.join(temp.dir, 'bad'))).to.equal(false);
  });
});
