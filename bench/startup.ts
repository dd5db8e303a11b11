/**
 * Start-up (issue #22): what a short `tumblr-dl` run costs before and around its work, beside Node's own floor.
 * Rows for bench/run.ts's table, from {@link startupRows}.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cliOf, generate, timed, type Sample } from './bench-kit.js';

/** Runs per row, after one untimed run that warms the page cache. */
const RUNS = 10;

/**
 * The origin, in a process of its own: {@link timed} blocks this one (spawnSync), so a server here could not
 * answer. It writes its port to `portFile` once it listens.
 */
const ORIGIN = `
const fs = require('node:fs'), http = require('node:http'), path = require('node:path');
const [dir, portFile] = process.argv.slice(1);
const server = http.createServer((req, res) => {
  const file = path.join(dir, path.basename(req.url ?? ''));
  if (!fs.existsSync(file)) return void res.writeHead(404).end();
  const body = fs.readFileSync(file);
  res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': body.length }).end(body);
});
server.listen(0, '127.0.0.1', () => {
  fs.writeFileSync(portFile + '.tmp', String(server.address().port));
  fs.renameSync(portFile + '.tmp', portFile);
});`;

/** Waits for `file` to appear, blocking (this module's runs are all synchronous). */
function waitForFile(file: string, timeoutMs = 10_000): void {
  const tick = new Int32Array(new SharedArrayBuffer(4));
  for (const deadline = Date.now() + timeoutMs; !existsSync(file);) {
    if (Date.now() > deadline) throw new Error(`the start-up origin did not listen within ${timeoutMs} ms`);
    Atomics.wait(tick, 0, 0, 10);
  }
}

/**
 * One run under {@link timed}, its wall time taken here with a nanosecond clock: GNU time's `%e` counts in
 * 10 ms steps, too coarse for runs of 50 to 300 ms. It includes starting /usr/bin/time, about 1 ms.
 */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Sample {
  const start = process.hrtime.bigint();
  const sample = timed(cmd, args, env);
  return { ...sample, wall: Number(process.hrtime.bigint() - start) / 1e9 };
}

const sha256Of = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (seconds: number): string => `${(seconds * 1000).toFixed(0)} ms`;

/**
 * Markdown rows, in the columns of bench/run.ts's table (`–` where a column does not apply), for `node -e 0`
 * (Node's own start, the floor), `tumblr-dl --version` and a `tumblr-dl fetch` of a list of one 64 KiB JPEG
 * from a loopback origin into a new folder (so a ledger is created, as on a first run). Each row is the median
 * of 10 runs, alternating the order run by run; peak RSS is the largest of them. The CLI is the bundle
 * users run, `dist/cli/tumblr-dl.bundle.js` of the checkout at `root`, which must be built (`npm run build`);
 * with `baseline`, another built checkout's CLI gets its `--version` and fetch rows too ("tumblr-dl baseline").
 *
 * NODE_EXTRA_CA_CERTS is unset for these runs: where it names the system's bundle, Node parses every
 * certificate in it at each start (some 50 ms here), a cost of the machine's setup that would hide the CLI's.
 * Throws when a fetch does not save the file with its reference SHA-256.
 */
export function startupRows(root: string, baseline?: string): string[] {
  const cli = path.join(root, 'dist/cli/tumblr-dl.bundle.js');
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build in ${root}`);
  const work = mkdtempSync(path.join(os.tmpdir(), 'tumblr-dl-startup-'));
  const served = path.join(work, 'www');
  const [name, sha256] = [...generate({ id: 'S', count: 1, size: 64 * 1024 }, served)][0]!;
  const portFile = path.join(work, 'port');
  const origin = spawn(process.execPath, ['-e', ORIGIN, served, portFile], { stdio: 'ignore' });
  try {
    waitForFile(portFile);
    const list = path.join(work, 'one.jsonl');
    writeFileSync(list, JSON.stringify({ url: `http://127.0.0.1:${readFileSync(portFile, 'utf8')}/${name}`, postId: 's0', mediaType: 'image' }) + '\n');
    const out = path.join(work, 'out');
    const env: NodeJS.ProcessEnv = { NODE_EXTRA_CA_CERTS: undefined };
    const fetchOne = (bin: string) => (): Sample => {
      rmSync(out, { recursive: true, force: true });
      const sample = run(process.execPath, [bin, 'fetch', list, '-o', out, '-q'], env);
      const saved = readdirSync(out).filter((f) => f.endsWith('.jpg'));
      if (saved.length !== 1 || sha256Of(path.join(out, saved[0]!)) !== sha256)
        throw new Error(`tumblr-dl fetch did not save ${name} with its SHA-256 (saved: ${saved.join(', ') || 'nothing'})`);
      return sample;
    };
    const rows: Array<{ workload: string; tool: string; once: () => Sample; samples: Sample[] }> = [
      { workload: 'S start-up', tool: 'node -e 0', once: () => run(process.execPath, ['-e', '0'], env), samples: [] },
      { workload: 'S start-up', tool: 'tumblr-dl --version', once: () => run(process.execPath, [cli, '--version'], env), samples: [] },
      { workload: 'S 1 × 64 KiB', tool: 'tumblr-dl fetch', once: fetchOne(cli), samples: [] },
    ];
    if (baseline !== undefined) {
      const before = cliOf(baseline);
      rows.push(
        { workload: 'S start-up', tool: 'tumblr-dl baseline --version', once: () => run(process.execPath, [before, '--version'], env), samples: [] },
        { workload: 'S 1 × 64 KiB', tool: 'tumblr-dl baseline fetch', once: fetchOne(before), samples: [] },
      );
    }
    for (const row of rows) row.once();
    for (let i = 0; i < RUNS; i++) for (const row of i % 2 === 0 ? rows : [...rows].reverse()) row.samples.push(row.once());
    return rows.map(
      ({ workload, tool, samples }) =>
        `| ${workload} | ${tool} | ${ms(median(samples.map((s) => s.wall)))} | – | ${ms(median(samples.map((s) => s.cpu)))} | ` +
        `${(Math.max(...samples.map((s) => s.rssKiB)) / 1024).toFixed(0)} MiB | – | – | – | – |`,
    );
  } finally {
    origin.kill();
    rmSync(work, { recursive: true, force: true });
  }
}
