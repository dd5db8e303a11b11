/**
 * npm run bench -- --only Q (or tsx bench/scale-out.ts): workload A (2000 × 64 KiB, nginx on 127.0.0.1) through
 * the queue with 1 and 2 workers against `fetch` direct, alternating, median of 3; then Redis memory per waiting
 * job at 100k jobs and per finished job, and the enqueue rate. Writes bench/results/scale-out.md.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { startRedis } from '../test/support/redis-server.js';
import { cliOf, generate, startOrigin, timed, type Sample } from './bench-kit.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = cliOf(ROOT);
const WORK = path.join(os.tmpdir(), 'tumblr-dl-bench-q');
const RUNS = 3;
const A = { id: 'A', count: 2000, size: 64 * 1024 };
const FLAGS = ['-c', '16', '--per-host', '16', '-r', '0', '-q', '--redownload'];
const MEMORY_JOBS = 100_000;

/** Run a command under GNU time, without blocking: several workers run at once. */
function timedAsync(args: string[]): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-f', '%e %U %S %M', process.execPath, CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`tumblr-dl ${args[0]} exited ${code}: ${stderr.slice(-400)}`));
      const [wall, user, sys, rss] = (stderr.trim().split('\n').pop() ?? '').split(' ').map(Number);
      resolve({ wall: wall!, cpu: user! + sys!, rssKiB: rss! });
    });
  });
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const usedMemory = async (redis: Redis): Promise<number> => Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1]);
/** CPU seconds the Redis server has used: on one machine, it competes with the workers for the same cores. */
const redisCpu = async (redis: Redis): Promise<number> => {
  const info = await redis.info('cpu');
  return Number(/used_cpu_user:([\d.]+)/.exec(info)![1]) + Number(/used_cpu_sys:([\d.]+)/.exec(info)![1]);
};

async function main(): Promise<void> {
  execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
  rmSync(WORK, { recursive: true, force: true });
  const served = path.join(WORK, 'www');
  const sums = generate(A, served);
  const redis = await startRedis();
  const client = new Redis(redis.url);
  const origin = await startOrigin(served, WORK);
  const list = path.join(WORK, 'A.jsonl');
  writeFileSync(list, [...sums.keys()].map((n) => JSON.stringify({ url: `${origin.base}/${n}`, postId: n.replace('.jpg', ''), mediaType: 'image' })).join('\n') + '\n');
  const started = Date.now();
  const samples: Record<string, { wall: number; cpu: number; rssKiB: number; enqueue?: number; workers?: number; redisCpu?: number }[]> = {
    direct: [],
    '1 worker': [],
    '2 workers': [],
  };
  let perFinishedJob = 0;
  try {
    for (let run = 0; run < RUNS; run++) {
      const order = Object.keys(samples);
      if (run % 2 === 1) order.reverse();
      for (const mode of order) {
        const out = path.join(WORK, 'out');
        rmSync(out, { recursive: true, force: true });
        mkdirSync(out, { recursive: true });
        if (mode === 'direct') {
          samples[mode]!.push(timed(process.execPath, [CLI, 'fetch', list, '-o', out, ...FLAGS]));
          continue;
        }
        const queue = `q${run}-${mode.replace(/\W/g, '')}`;
        const before = await usedMemory(client);
        const cpuBefore = await redisCpu(client);
        const enqueue = timed(process.execPath, [CLI, 'enqueue', list, '--redis', redis.url, '--queue', queue]);
        const workers = Number(mode[0]);
        const t0 = Date.now();
        const ran = await Promise.all(
          Array.from({ length: workers }, (_, i) => timedAsync(['worker', '-o', path.join(out, `w${i}`), '--redis', redis.url, '--queue', queue, '--exit-when-drained', ...FLAGS])),
        );
        const wall = (Date.now() - t0) / 1000;
        perFinishedJob = ((await usedMemory(client)) - before) / A.count;
        samples[mode]!.push({
          wall: wall + enqueue.wall,
          enqueue: enqueue.wall,
          workers: wall,
          redisCpu: (await redisCpu(client)) - cpuBefore,
          cpu: ran.reduce((sum, s) => sum + s.cpu, enqueue.cpu),
          rssKiB: Math.max(...ran.map((s) => s.rssKiB)),
        });
        console.log(`${mode} run ${run + 1}: enqueue ${enqueue.wall.toFixed(2)} s + workers ${wall.toFixed(2)} s`);
      }
    }

    // Redis memory per waiting job: 100k jobs enqueued by the CLI into an empty queue.
    await client.flushall();
    const bigList = path.join(WORK, 'big.jsonl');
    const lines: string[] = [];
    for (let i = 0; i < MEMORY_JOBS; i++)
      lines.push(
        JSON.stringify({ url: `https://64.media.tumblr.com/${i.toString(16).padStart(32, '0')}/tumblr_abcdefghij${i}_1280.jpg`, postId: String(700_000_000_000 + i), index: 0 }),
      );
    writeFileSync(bigList, `${lines.join('\n')}\n`);
    const empty = await usedMemory(client);
    const enqueueBig = timed(process.execPath, [CLI, 'enqueue', bigList, '--redis', redis.url, '--queue', 'big']);
    const perWaitingJob = ((await usedMemory(client)) - empty) / MEMORY_JOBS;
    const again = timed(process.execPath, [CLI, 'enqueue', bigList, '--redis', redis.url, '--queue', 'big']);

    const direct = median(samples.direct!.map((s) => s.wall));
    const row = (mode: string): string => {
      const s = samples[mode]!;
      const wall = median(s.map((x) => x.wall));
      const of = (key: 'enqueue' | 'workers' | 'redisCpu'): string => (s[0]?.[key] === undefined ? '–' : `${median(s.map((x) => x[key]!)).toFixed(2)} s`);
      const workersOnly = s[0]?.workers === undefined ? '–' : `${(median(s.map((x) => x.workers!)) / direct).toFixed(2)}×`;
      return (
        `| ${mode} | ${wall.toFixed(2)} s | ${of('enqueue')} | ${of('workers')} | ${(A.count / wall).toFixed(0)} files/s | ${median(s.map((x) => x.cpu)).toFixed(2)} s | ` +
        `${of('redisCpu')} | ${(Math.max(...s.map((x) => x.rssKiB)) / 1024).toFixed(0)} MiB | ${(wall / direct).toFixed(2)}× | ${workersOnly} |`
      );
    };
    const table = [
      '# Benchmark Q: workload A through the BullMQ queue',
      '',
      `${new Date().toISOString()} · ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'} · Node ${process.version} · origin: ${origin.kind} on 127.0.0.1 · ` +
        `redis-server on 127.0.0.1, persistence off · median of ${RUNS} alternating runs · total ${((Date.now() - started) / 1000).toFixed(0)} s`,
      '',
      `Workload A: ${A.count} × 64 KiB. \`fetch\` and each worker: ${FLAGS.join(' ')}. A queue run's time is the enqueue plus the workers until the queue is drained (\`--exit-when-drained\`); CPU adds up every process of the run; RSS is the largest process.`,
      '',
      '| mode | median wall | enqueue | workers | speed | CPU of our processes | CPU of Redis | peak RSS | time ÷ direct | workers ÷ direct |',
      '|---|---|---|---|---|---|---|---|---|---|',
      row('direct'),
      row('1 worker'),
      row('2 workers'),
      '',
      '## Redis',
      '',
      `| measure | value |`,
      `|---|---|`,
      `| memory per waiting job (${MEMORY_JOBS.toLocaleString('en')} jobs, Tumblr-length URLs) | ${perWaitingJob.toFixed(0)} B |`,
      `| memory per finished job (data and the kept result) | ${perFinishedJob.toFixed(0)} B |`,
      `| enqueue of ${MEMORY_JOBS.toLocaleString('en')} jobs (CLI, one process) | ${enqueueBig.wall.toFixed(1)} s, ${(MEMORY_JOBS / enqueueBig.wall).toFixed(0)} jobs/s |`,
      `| the same list again (all already queued) | ${again.wall.toFixed(1)} s |`,
      '',
    ].join('\n');
    writeFileSync(path.join(ROOT, 'bench/results/scale-out.md'), table);
    console.log(`\n${table}`);
  } finally {
    origin.stop();
    await client.quit();
    await redis.stop();
    rmSync(WORK, { recursive: true, force: true });
  }
}

await main();
