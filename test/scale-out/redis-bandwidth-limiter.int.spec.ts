import { expect } from 'chai';
import { Redis } from 'ioredis';
import { DownloadError } from '../../src/errors/download-error.js';
import { RedisBandwidthLimiter, type RedisBandwidthOptions } from '../../src/scale-out/redis-bandwidth-limiter.js';
import { SystemClock } from '../../src/time/clock.js';
import { startRedis, type RedisUnderTest } from '../support/redis-server.js';
import { waitUntil } from '../support/wait-until.js';
import { abortWaiter, settledYet } from '../support/settling.js';

/**
 * The real clock, whose sleeps end early, resolved, when this file's tests do. A test that shows a host waiting
 * leases it far more than the test lasts (100 s of its cap) and aborts the waiter; the limiter's loop, asleep
 * until that lease is due, would otherwise keep mocha's process alive as long.
 */
class EndingClock extends SystemClock {
  constructor(private readonly ended: AbortSignal) {
    super();
  }

  override sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return super.sleep(ms, signal ? AbortSignal.any([signal, this.ended]) : this.ended).catch((error: unknown) => {
      if (signal?.aborted) throw error;
    });
  }
}

const KiB = 1024;
const MiB = 1024 * KiB;
/** The chunk every simulated download reads: the largest a body delivers. */
const CHUNK = 64 * KiB;
/** How far the limiter lets bytes run ahead of the cap, and how long a lease lasts (its AHEAD_MS, LEASE_MS). */
const AHEAD_S = 0.2;
const LEASE_S = 0.1;

/** One simulated download: which process (limiter) reads it, from which host. */
interface Download {
  limiter: RedisBandwidthLimiter;
  process: number;
  host: string;
}

/** One chunk the limiter let through: when (ms since the start), to which process, from which host. */
interface Grant {
  at: number;
  process: number;
  host: string;
}

/** Run every download, a chunk at a time as fast as the limiter allows, until `untilMs` after `start`; every grant. */
async function download(downloads: Download[], start: number, untilMs: number): Promise<Grant[]> {
  const grants: Grant[] = [];
  await Promise.all(
    downloads.map(async ({ limiter, process, host }) => {
      while (Date.now() - start < untilMs) {
        await limiter.take(CHUNK, { key: host });
        grants.push({ at: Date.now() - start, process, host });
      }
    }),
  );
  return grants;
}

/** Bytes granted within the first `windowMs`, of the grants that `which` picks. */
function bytesWithin(grants: Grant[], windowMs: number, which: (grant: Grant) => boolean = () => true): number {
  return grants.filter((g) => g.at < windowMs && which(g)).length * CHUNK;
}

// Real Redis, real time: the schedule lives on Redis's clock, so the measure is real elapsed time. Upper bounds are the
// property (a cap); lower bounds are generous, since a loaded machine grants late, never early.
describe(RedisBandwidthLimiter.name, () => {
  let server: RedisUnderTest;
  const clients: Redis[] = [];
  const ended = new AbortController();
  let prefix = 0;

  before(async () => {
    server = await startRedis();
  });
  after(async () => {
    ended.abort();
    await Promise.all(clients.map((c) => c.quit()));
    await server.stop();
  });

  /** A connected client of its own, as a separate worker process has, that counts the commands sent through it. */
  const connect = async (): Promise<{ redis: Redis; calls: () => number }> => {
    const redis = new Redis(server.url, { maxRetriesPerRequest: null });
    clients.push(redis);
    await redis.ping();
    let calls = 0;
    const send = redis.sendCommand.bind(redis);
    redis.sendCommand = (...args: Parameters<Redis['sendCommand']>) => {
      calls++;
      return send(...args);
    };
    return { redis, calls: () => calls };
  };

  /** A limiter as a worker process would have it: its own connection, the shared prefix. */
  const limiter = async (options: Omit<RedisBandwidthOptions, 'redis'>): Promise<{ limiter: RedisBandwidthLimiter; calls: () => number }> => {
    const { redis, calls } = await connect();
    return { limiter: new RedisBandwidthLimiter({ redis, ...options }, new EndingClock(ended.signal)), calls };
  };

  it('should hold three processes to one overall cap between them, within 10 % plus the allowed burst', async () => {
    const shared = `t${++prefix}`;
    const cap = 4 * MiB;
    const processes = await Promise.all([0, 1, 2].map(() => limiter({ prefix: shared, bytesPerSecond: cap, perHostBytesPerSecond: 0 })));
    // Four downloads per process, over two hosts (without a per-host cap, hosts share one budget).
    const downloads = processes.flatMap(({ limiter }, process) => [0, 1, 2, 3].map((d) => ({ limiter, process, host: `h${d % 2}.example` })));
    const windowMs = 2_000;
    const grants = await download(downloads, Date.now(), windowMs);
    const granted = bytesWithin(grants, windowMs);
    // The burst the design allows on top of the rate: 0.2 s ahead, a lease per process, a chunk per download in hand.
    const burst = cap * (AHEAD_S + processes.length * LEASE_S) + downloads.length * CHUNK;
    const rated = (cap * windowMs) / 1000;
    expect(granted, `${(granted / rated).toFixed(3)} of the cap`).to.be.at.most(rated * 1.1 + burst);
    expect(granted, `${(granted / rated).toFixed(3)} of the cap`).to.be.at.least(rated * 0.6);
    // Shared fairly: leases are paid for in the order they reach Redis, so no process is starved (an even share is a third).
    for (const p of [0, 1, 2])
      expect(
        bytesWithin(grants, windowMs, (g) => g.process === p),
        `process ${p}'s share`,
      ).to.be.at.least(granted / 6);
    // And far fewer calls to Redis than chunks: a lease of 0.1 s of 4 MiB/s covers six of them.
    const calls = processes.reduce((sum, p) => sum + p.calls(), 0);
    expect(calls, 'calls to Redis').to.be.below(grants.length / 3);
  });

  it('should give each host its own cap, shared by every process', async () => {
    const shared = `t${++prefix}`;
    const cap = MiB;
    const [a, b] = await Promise.all([0, 1].map(() => limiter({ prefix: shared, bytesPerSecond: 0, perHostBytesPerSecond: cap })));
    const downloads = [a!, b!].flatMap(({ limiter }, process) => ['x.example', 'y.example', 'x.example', 'y.example'].map((host) => ({ limiter, process, host })));
    const windowMs = 1_500;
    const grants = await download(downloads, Date.now(), windowMs);
    const rated = (cap * windowMs) / 1000;
    const burst = cap * (AHEAD_S + 2 * LEASE_S) + 2 * CHUNK;
    for (const host of ['x.example', 'y.example']) {
      const granted = bytesWithin(grants, windowMs, (g) => g.host === host);
      expect(granted, `${host}: ${(granted / rated).toFixed(3)} of its cap`).to.be.within(rated * 0.6, rated * 1.1 + burst);
    }
  });

  it("should not hold one host's takes behind another host's schedule", async () => {
    const shared = `t${++prefix}`;
    const [a, b] = await Promise.all([0, 1].map(() => limiter({ prefix: shared, bytesPerSecond: 0, perHostBytesPerSecond: 100_000 })));
    // 100 s of x.example's cap leased by process a: x.example's next byte is far beyond any test, however slow the
    // machine. Had the hosts one schedule, y.example would wait for it too (and time out).
    const stopHog = new AbortController();
    const hog = a!.limiter.take(10_000_000, { key: 'x.example', signal: stopHog.signal });
    await waitUntil(async () => (await clients[0]!.exists(`${shared}:bytes:x.example`)) === 1, { what: "a's lease of x.example in Redis" });
    const stopX = new AbortController();
    const nextOfX = b!.limiter.take(CHUNK, { key: 'x.example', signal: stopX.signal });
    const xGranted = settledYet(nextOfX);
    await b!.limiter.take(CHUNK, { key: 'y.example' });
    expect(xGranted(), "process b's take of x.example came before its take of y.example").to.equal(false);
    await abortWaiter(nextOfX, stopX);
    await abortWaiter(hog, stopHog);
  });

  it('should pass bytes at once, and never call Redis, when no cap is set', async () => {
    const open = await limiter({ prefix: `t${++prefix}`, bytesPerSecond: 0, perHostBytesPerSecond: 0 });
    expect(open.limiter.capped).to.equal(false);
    await Promise.all(Array.from({ length: 20 }, () => open.limiter.take(1e12, { key: 'h.example' })));
    expect(open.calls(), 'calls to Redis').to.equal(0);
    // A per-host cap, and a take that names no host: nothing applies, as in the in-process limiter.
    const perHost = await limiter({ prefix: `t${++prefix}`, bytesPerSecond: 0, perHostBytesPerSecond: 1_000 });
    expect(perHost.limiter.capped).to.equal(true);
    await perHost.limiter.take(1e12);
    expect(perHost.calls(), 'calls to Redis').to.equal(0);
  });

  it('should reject a take whose signal aborts, and serve the take behind it', async () => {
    const { limiter: capped } = await limiter({ prefix: `t${++prefix}`, bytesPerSecond: 100_000, perHostBytesPerSecond: 0 });
    const stop = new AbortController();
    // A fresh schedule: the first lease (the chunk, 0.65 s of the cap) is due 0.45 s from now, so both wait.
    const first = capped.take(CHUNK, { key: 'h.example', signal: stop.signal });
    const second = capped.take(CHUNK, { key: 'h.example' });
    await abortWaiter(first, stop);
    // The lease the first one asked for is paid for: the second gets it.
    await second;
    await capped.take(1, { signal: stop.signal }).then(
      () => expect.fail('a take with an aborted signal passed'),
      (error: Error) => expect(error.message).to.equal('stopped'),
    );
  });

  it('should serve many takes of a process with one call to Redis per lease', async () => {
    const { limiter: capped, calls } = await limiter({ prefix: `t${++prefix}`, bytesPerSecond: 8 * MiB, perHostBytesPerSecond: 0 });
    let takes = 0;
    // Six downloads of 3 MiB between them: 48 chunks, at 8 MiB/s about 0.4 s.
    await Promise.all(
      Array.from({ length: 6 }, async () => {
        for (let i = 0; i < 8; i++, takes++) await capped.take(CHUNK, { key: 'h.example' });
      }),
    );
    // A lease is 0.1 s of 8 MiB/s, about twelve chunks: four or five leases (one more if Redis had to be sent the script).
    expect(calls(), `calls to Redis for ${takes} takes`).to.be.at.most(8);
  });

  it('should reject takes with a coded error when Redis fails, never let them through uncapped', async () => {
    const shared = `t${++prefix}`;
    const { limiter: capped } = await limiter({ prefix: shared, bytesPerSecond: MiB, perHostBytesPerSecond: 0 });
    // A key of the wrong type makes the script fail inside Redis, as an error reply.
    await clients[0]!.hset(`${shared}:bytes:*`, 'not', 'a schedule');
    const takes = [capped.take(CHUNK, { key: 'h.example' }), capped.take(CHUNK, { key: 'h.example' })];
    for (const take of takes) {
      await take.then(
        () => expect.fail('a take passed without the shared budget'),
        (error: DownloadError) => {
          expect(error).to.be.instanceOf(DownloadError);
          expect(error.code).to.equal('NETWORK_ERROR');
          expect(error.message).to.match(/^Shared bandwidth cap unavailable \(Redis\): .*WRONGTYPE/);
        },
      );
    }
  });

  it('should refuse bad options as INVALID_CONFIG', async () => {
    const { redis } = await connect();
    for (const bad of [{ bytesPerSecond: -1 }, { perHostBytesPerSecond: Number.NaN }, { bytesPerSecond: Infinity }]) {
      expect(() => new RedisBandwidthLimiter({ redis, prefix: 'x', bytesPerSecond: 0, perHostBytesPerSecond: 0, ...bad }, new SystemClock()))
        .to.throw(DownloadError)
        .with.property('code', 'INVALID_CONFIG');
    }
  });
});
