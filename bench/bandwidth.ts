/**
 * npm run bench -- --only L (or tsx bench/bandwidth.ts): how close `--limit-rate` holds to its cap, measured at
 * a loopback origin from the first request to the end of the run (the reader's side): one large file, and many small ones, about
 * 10 s each at a 2 MiB/s cap. Writes bench/results/bandwidth.md.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cliOf } from './bench-kit.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const WORK = path.join(os.tmpdir(), 'tumblr-dl-bench-cap');
const MiB = 1024 * 1024;
const CAP = 2 * MiB;

/** A JPEG-shaped body: the verifier keeps it. */
function jpeg(size: number, seed: number): Buffer {
  const body = Buffer.alloc(size, seed % 251);
  body.set([0xff, 0xd8, 0xff, 0xe0]);
  body.set([0xff, 0xd9], size - 2);
  return body;
}

interface Case {
  label: string;
  count: number;
  size: number;
}

const CASES: Case[] = [
  { label: 'one file of 20 MiB', count: 1, size: 20 * MiB },
  { label: '400 files of 50 KiB', count: 400, size: 50 * 1024 },
];

async function measure(c: Case): Promise<{ seconds: number; rate: number }> {
  const bodies = Array.from({ length: c.count }, (_, i) => jpeg(c.size, i + 1));
  let first = 0;
  const server = createServer((req, res) => {
    first ||= Date.now();
    const body = bodies[Number(/(\d+)\.jpg$/.exec(req.url ?? '')?.[1] ?? 0)]!;
    res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': body.length }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  const list = path.join(WORK, 'list.txt');
  writeFileSync(list, bodies.map((_, i) => `${base}/${i}.jpg`).join('\n') + '\n');
  // The CLI runs in a child process, waited for without blocking: this process is the origin and must serve.
  const child = spawn(process.execPath, [cliOf(ROOT), 'fetch', list, '-o', path.join(WORK, 'out'), '-c', '8', '-r', '0', '-q', '--limit-rate', String(CAP)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  // The end is when the reader has read, not when the origin has written: the kernel's socket buffers let
  // an origin finish writing megabytes before the capped reader has read them.
  const last = Date.now();
  server.close();
  if (code !== 0) throw new Error(`tumblr-dl exited ${code}: ${stderr}`);
  const seconds = (last - first) / 1000;
  return { seconds, rate: (c.count * c.size) / seconds };
}

async function main(): Promise<void> {
  spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
  const rows: string[] = [];
  for (const c of CASES) {
    const { seconds, rate } = await measure(c);
    rows.push(
      `| ${c.label} | ${((c.count * c.size) / MiB).toFixed(1)} MiB | ${seconds.toFixed(2)} s | ${(rate / MiB).toFixed(3)} MiB/s | ${(((rate - CAP) / CAP) * 100).toFixed(1)} % |`,
    );
    console.log(rows.at(-1));
  }
  const table = [
    '# Benchmark L: the bandwidth cap',
    '',
    `${new Date().toISOString()} · Node ${process.version} · \`tumblr-dl fetch -c 8 -r 0 --limit-rate ${CAP}\` (2 MiB/s) against a loopback origin; the rate is the bytes over the time from the first request reaching the origin to the end of the run, so it includes the run's close (about 0.1 s).`,
    '',
    '| case | bytes | time | rate | off the cap |',
    '|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
  writeFileSync(path.join(ROOT, 'bench/results/bandwidth.md'), table);
  console.log(`\n${table}`);
  rmSync(WORK, { recursive: true, force: true });
}

await main();
