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
import { waitUntil } from '../support/wait-until.js';

/**
 * A loopback origin of numbered JPEGs that notes when each request came, can answer one with a 429, and can
 * hold responses until the test lets them go.
 */
class Origin {
  readonly arrivals: number[] = [];
  readonly hashes = new Map<string, string>();
  /** Answer request number `n` (1-based) with 429 and this Retry-After, once. */
  tooManyAt: { n: number; retryAfterS: number; at?: number } | undefined;
  /**
   * Hold every response to a request that arrives after this many, until {@link release}: the downloads
   * that asked stay running for as long as the test needs, and can neither finish nor ask again.
   */
  holdAfter: number | undefined;
  private parked: Array<() => void> = [];
  private server!: Server;
  base = '';

  constructor(private readonly delayMs: number) {}

  /** Responses held right now. */
  get held(): number {
    return this.parked.length;
  }

  /** Send every held response, and hold no more. */
  release(): void {
    this.holdAfter = undefined;
    const parked = this.parked;
    this.parked = [];
    for (const respond of parked) respond();
  }

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
      const respond = (): void => void setTimeout(() => res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': body.length }).end(body), this.delayMs);
      if (this.holdAfter !== undefined && this.arrivals.length > this.holdAfter) this.parked.push(respond);
      else respond();
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

  /** Close every connection (held responses are dropped) and stop listening. */
  stop(): Promise<void> {
    this.parked = [];
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
    // From the 61st request on, responses wait for the test: the run cannot end, nor w2 finish what it holds, before the kill.
    origin.holdAfter = 60;
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
        '-o',
        path.join(temp.dir, name),
        '--redis',
        redis.url,
        '--queue',
        queueName,
        '--name',
        name,
        '-c',
        '4',
        '-r',
        '0',
        '-q',
        '--exit-when-drained',
        '--lock-duration',
        String(lock.lockDurationMs),
        '--stalled-interval',
        String(lock.stalledIntervalMs),
      ];
      let victim: ChildProcess | undefined;
      const runs = ['w1', 'w2', 'w3'].map((name) => startWorker(args(name), (child) => name === 'w2' && (victim = child)));
      let exitedEarly: Run | undefined;
      for (const run of runs) void run.then((ended) => (exitedEarly ??= ended));
      const queue = queueOf(queueName);
      // Kill w2 mid-run, while it holds jobs: once every worker runs its 4 (-c 4) and all 12 wait at the origin,
      // nothing can finish, so what w2 holds is known and stays so until it dies. A worker holds twice the jobs
      // it runs (the other 4 wait for a download slot), as fetch keeps work queued.
      // A job whose download ended stays active until its result is in the ledger (a group commit, at most 25 ms
      // later): the same 8 jobs seen 200 ms apart are the ones that cannot finish.
      let held: Array<{ id: string; takenAt: number }> = [];
      let seen = { ids: '', at: 0 };
      await waitUntil(
        async () => {
          if (exitedEarly) throw new Error(`a worker exited before w2 was killed: ${exitedEarly.stderr}`);
          if (origin.held < 12) return false;
          const active = (await queue.getJobs(['active'])).filter((j) => j?.processedBy === 'w2');
          held = active.map((j) => ({ id: j.id!, takenAt: j.processedOn! }));
          const ids = held
            .map((j) => j.id)
            .sort()
            .join();
          if (held.length !== 8 || ids !== seen.ids) {
            seen = { ids, at: Date.now() };
            return false;
          }
          return Date.now() - seen.at >= 200;
        },
        { timeoutMs: 30_000, what: 'w2 holding 8 jobs, and 12 requests held at the origin' },
      );
      victim!.kill('SIGKILL');
      const killed = await runs[1]!;
      expect(killed.code).to.equal(null);
      origin.release();
      // The killed worker's jobs come back once their locks lapse: all 300 end up done by the others.
      await waitUntil(async () => (await queue.getCompletedCount()) === 300, { timeoutMs: 60_000, what: "all 300 jobs completed, w2's included" });
      const [first, , third] = await Promise.all(runs);
      expect(first!.code, first!.stderr).to.equal(0);
      expect(third!.code, third!.stderr).to.equal(0);

      const counts = await queue.getJobCounts('waiting', 'delayed', 'active', 'completed', 'failed');
      expect(counts).to.deep.equal({ waiting: 0, delayed: 0, active: 0, completed: 300, failed: 0 });
      const takenAgainAfter: number[] = [];
      for (const { id, takenAt } of held) {
        const job = await queue.getJob(id);
        expect(job!.returnvalue.worker).to.not.equal('w2');
        takenAgainAfter.push(job!.processedOn! - takenAt);
      }
      // Not before its lock lapsed: w2 locked each job for lockDuration when it took it, and only a renewal makes
      // that later. (Less 250 ms: the time a worker stamps on a job is read just before Redis runs its move.)
      // Load only delays the recovery; there is no upper bound to keep.
      expect(Math.min(...takenAgainAfter), `taken again ${takenAgainAfter.join(', ')} ms after w2 took them`).to.be.at.least(lock.lockDurationMs - 250);
      process.stdout.write(
        `      (w2 held ${held.length} jobs when killed; taken again ${Math.min(...takenAgainAfter)}–${Math.max(...takenAgainAfter)} ms after w2 took them, ` +
          `lock ${lock.lockDurationMs} ms, stalled check every ${lock.stalledIntervalMs} ms)\n`,
      );

      const exported = path.join(temp.dir, 'kill-results.jsonl');
      const status = await runCli(['status', '--redis', redis.url, '--queue', queueName, '--results', exported]);
      expect(status.code, status.stderr).to.equal(0);
      expect(status.stdout).to.match(/waiting 0, delayed 0, active 0, completed 300, failed 0/);
      const results = readFileSync(exported, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as WorkerResult);
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
      await waitUntil(async () => (await queue.getWorkersCount()) === 3, { timeoutMs: 30_000, what: '3 workers connected to the queue' });
      // No grant can come before the list is enqueued: the reference the cap is measured from.
      const enqueuedAt = Date.now();
      await runCli(['enqueue', list, '--redis', redis.url, '--queue', 'rate']);
      await waitUntil(async () => (await queue.getCompletedCount()) === 260, { timeoutMs: 60_000, what: '260 jobs completed' });
      for (const child of stops) child.kill('SIGTERM');
      const ended = await Promise.all(runs);
      for (const run of ended) expect(run.code, run.stderr).to.equal(143);
      await queue.close();
      // The cap, as a lower bound no load can break: the shared bucket holds 20 and gains 20 a second, so the n-th
      // grant (and its request, later still) comes no sooner than (n - 20) × 50 ms after the first, itself after
      // the enqueue. Three workers each with a bucket of their own would get there three times as fast.
      const early = origin.arrivals.map((t, i) => ({ n: i + 1, ms: t - enqueuedAt })).filter(({ n, ms }) => ms < (n - 20) * 50 - 1);
      expect(early.slice(0, 5), `${early.length} requests sooner than the rate allows`).to.deep.equal([]);
      // No floor on the rate reached: "at least so many a second" is an upper bound on time, which a busy machine
      // breaks without any fault of the workers. That they are not held back for good is the 260 completed above;
      // how close to 20/s they get is printed, for a person to read.
      const start = origin.arrivals[0]!;
      const between = (from: number, to: number): number => origin.arrivals.filter((t) => t >= start + from && t < start + to).length;
      const steady = between(1_000, 11_000);
      const firstTen = between(0, 10_000);
      process.stdout.write(`      (origin saw ${steady} requests in 10 s after the first: ${(steady / 10).toFixed(1)}/s; ${firstTen} in the first 10 s, bucket included)\n`);
    } finally {
      await origin.stop();
    }
  });

  it('should pause all 3 workers when one of them gets a 429 with Retry-After', async () => {
    const origin = new Origin(0);
    // The 25th request gets the 429, and every later one waits at the origin until the pause is in Redis: what was on
    // its way meanwhile is then at most one request per other download slot, however slow the machine.
    origin.tooManyAt = { n: 25, retryAfterS: 2 };
    origin.holdAfter = 25;
    await origin.start();
    try {
      const list = path.join(temp.dir, 'pause.jsonl');
      origin.writeList(list, 60);
      await runCli(['enqueue', list, '--redis', redis.url, '--queue', 'pause']);
      const runs = ['p1', 'p2', 'p3'].map((name) =>
        startWorker(['-o', path.join(temp.dir, name), '--redis', redis.url, '--queue', 'pause', '-c', '2', '-r', '20', '-q', '--exit-when-drained']),
      );
      let pauseEnds = 0;
      try {
        await waitUntil(() => origin.tooManyAt!.at !== undefined, { timeoutMs: 30_000, what: 'the 429' });
        // The pause as every worker sees it: its end on Redis's clock, the machine's clock here too.
        await waitUntil(async () => (pauseEnds = Number((await client.get('tumblr-dl:pause:cool:127.0.0.1')) ?? 0)) > 0, { what: 'the pause in Redis' });
      } finally {
        origin.release();
      }
      const ended = await Promise.all(runs);
      for (const run of ended) expect(run.code, run.stderr).to.equal(0);
      const at = origin.tooManyAt.at!;
      expect(pauseEnds).to.be.at.least(at + 2_000);
      // Requests granted before the pause reached Redis may land after the 429: one per other slot at most
      // (3 workers × -c 2, less the one that met the 429). Then nobody asks until the pause is over.
      const duringPause = origin.arrivals.slice(origin.tooManyAt.n).filter((t) => t < pauseEnds);
      expect(duringPause, `requests ${duringPause.map((t) => t - at).join(', ')} ms after the 429`).to.have.length.at.most(5);
      expect(origin.arrivals.filter((t) => t >= pauseEnds).length).to.be.greaterThan(10);
      const queue = queueOf('pause');
      expect(await queue.getCompletedCount()).to.equal(60);
      await queue.close();
    } finally {
      await origin.stop();
    }
  });

  it("should serve a queue by the items' priorities, higher first, then in list order", async () => {
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
      // The order the queue handed the jobs out: a worker holds two at once (-c 1), so the order they finish in
      // may swap two neighbours. Two taken in the same millisecond were handed out in list order.
      const listIndex = (job: { data: { postId?: string } }): number => Number(job.data.postId!.slice(1));
      const jobs = (await queue.getJobs(['completed'])).sort((a, b) => a.processedOn! - b.processedOn! || listIndex(a) - listIndex(b));
      expect(jobs.map((j) => j.data.postId)).to.deep.equal(['p2', 'p4', 'p5', 'p0', 'p3', 'p1']);
      expect(jobs.map((j) => (j.returnvalue as WorkerResult).priority)).to.deep.equal([7, 7, 2, 0, 0, -3]);
      await queue.close();
    } finally {
      await origin.stop();
    }
  });

  it("should queue a post's media with its metadata and not its post, and let a worker name files and write metadata files by it", async () => {
    const origin = new Origin(0);
    await origin.start();
    try {
      const post = {
        blog_name: 'staff',
        id_string: '746333771829182464',
        timestamp: 1712380000,
        tags: ['art'],
        content: [
          {
            type: 'image',
            media: [
              { url: `${origin.base}/m/1.jpg`, width: 1280, has_original_dimensions: true },
              { url: `${origin.base}/m/2.jpg`, width: 640 },
            ],
          },
          { type: 'video', provider: 'youtube', url: 'https://www.youtube.com/watch?v=x' },
        ],
      };
      const input = path.join(temp.dir, 'post.json');
      writeFileSync(input, JSON.stringify(post));
      const enqueued = await runCli(['enqueue', input, '--redis', redis.url, '--queue', 'posts']);
      expect(enqueued.stdout).to.match(/^1 added to queue "posts" .*, 0 already queued, 1 embed from other sites not queued\.$/m);
      const queue = queueOf('posts');
      const [job] = await queue.getJobs(['waiting']);
      expect(job!.data).to.not.have.property('post');
      expect(job!.data).to.deep.include({ url: `${origin.base}/m/1.jpg`, postId: '746333771829182464', index: 0, mediaType: 'image', fallbackUrls: [`${origin.base}/m/2.jpg`] });
      expect(job!.data.metadata).to.deep.include({ blog: 'staff', postId: '746333771829182464', timestamp: 1712380000, tags: ['art'] });
      const out = path.join(temp.dir, 'posts');
      const args = [
        '-o',
        out,
        '--redis',
        redis.url,
        '--queue',
        'posts',
        '-q',
        '--exit-when-drained',
        '--write-metadata',
        '--name-template',
        '{blog}/{date}/{postId}_{index}.{ext}',
      ];
      const run = await startWorker(args);
      expect(run.code, run.stderr).to.equal(0);
      const saved = path.join(out, 'staff', '2024-04-06', '746333771829182464_0.jpg');
      expect(sha256(readFileSync(saved))).to.equal(sha256(jpegBytes(3_001, 2)));
      const sidecar = JSON.parse(readFileSync(`${saved}.json`, 'utf8')) as { metadata: Record<string, unknown>; post?: unknown; file: string };
      expect(sidecar.file).to.equal('746333771829182464_0.jpg');
      expect(sidecar.metadata).to.include({ blog: 'staff' });
      expect(sidecar).to.not.have.property('post');
      const [done] = await queue.getJobs(['completed']);
      expect(done!.returnvalue as WorkerResult).to.include({
        path: 'staff/2024-04-06/746333771829182464_0.jpg',
        filename: 'staff/2024-04-06/746333771829182464_0.jpg',
        blog: 'staff',
        index: 0,
      });
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
    await waitUntil(async () => (await queue.getFailedCount()) === 1, { what: 'the job to fail' });
    await crashing.close();
    await connection.quit();
    const exported = path.join(temp.dir, 'crash-results.jsonl');
    const status = await runCli(['status', '--redis', redis.url, '--queue', 'crash', '--results', exported]);
    expect(status.stdout).to.match(/completed 0, failed 1/);
    const [line] = readFileSync(exported, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as WorkerResult);
    expect(line).to.include({ url: 'http://127.0.0.1:9/a.jpg', postId: '7', status: 'error', errorCode: 'JOB_FAILED', errorMessage: 'disk on fire' });
    await queue.close();
  });

  it('should put running jobs back in the queue on SIGTERM, and exit 143', async () => {
    const origin = new Origin(0);
    // Every response waits until the end of the test: the three jobs are running when the signal comes.
    origin.holdAfter = 0;
    await origin.start();
    try {
      const list = path.join(temp.dir, 'term.jsonl');
      origin.writeList(list, 6);
      await runCli(['enqueue', list, '--redis', redis.url, '--queue', 'term']);
      const queue = queueOf('term');
      let worker: ChildProcess | undefined;
      let exited = false;
      const run = startWorker(['-o', path.join(temp.dir, 't1'), '--redis', redis.url, '--queue', 'term', '-c', '3', '-r', '0'], (child) => (worker = child));
      void run.then(() => (exited = true));
      await waitUntil(
        async () => {
          if (exited) throw new Error(`the worker exited before the SIGTERM: ${(await run).stderr}`);
          // -c 3: 3 downloads at once, and a worker holds twice that many jobs: all 6.
          return origin.held === 3 && (await queue.getActiveCount()) === 6;
        },
        { timeoutMs: 30_000, what: '6 jobs active, 3 of their requests held at the origin' },
      );
      worker!.kill('SIGTERM');
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
      await waitUntil(async () => (await watcher.getCompletedCount()) >= 30, { timeoutMs: 30_000, what: '30 jobs completed before the restart' });
      await persistent.restart(500);
      const ended = await run;
      expect(ended.code, ended.stderr).to.equal(0);
      const lines = ended.stderr.trim().split('\n');
      expect(
        lines.filter((l) => /reconnecting$/.test(l)),
        ended.stderr,
      ).to.have.length(1);
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
