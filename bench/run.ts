/**
 * npm run bench: the plugin's CLI against curl, aria2c, a naive got pipeline (the got floor) and a raw node:http floor,
 * on the same URL lists served by nginx on 127.0.0.1, alternating tools run by run.
 * Writes bench/results/latest.md. Every downloaded file is checked against the
 * reference SHA-256. Options: --runs N (default 3), --only A,B,C,D, --quick (small C),
 * --baseline <checkout> (another built checkout's CLI as one more tool, "tumblr-dl baseline": a before/after
 * in the same run, where the machine's drift between runs cannot blur it).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const WORK = path.join(os.tmpdir(), 'tumblr-dl-bench');
const args = process.argv.slice(2);
const RUNS = Number(args[args.indexOf('--runs') + 1] ?? 0) || 3;
const ONLY = args.includes('--only') ? args[args.indexOf('--only') + 1]!.split(',') : ['A', 'B', 'C', 'D'];
const QUICK = args.includes('--quick');
const BASELINE = args.includes('--baseline') ? path.resolve(args[args.indexOf('--baseline') + 1]!) : undefined;
const MiB = 1024 * 1024;

interface Workload {
  id: string;
  label: string;
  count: number;
  size: number;
  /** Report files/s (many small files) or MB/s (few large ones). */
  unit: 'files/s' | 'MB/s';
  /** Runs per tool; D is about memory and runs once, so the whole bench stays under 8 minutes. */
  runs?: number;
}

const ALL_WORKLOADS: Workload[] = [
  { id: 'A', label: '2000 × 64 KiB', count: 2000, size: 64 * 1024, unit: 'files/s' },
  { id: 'B', label: '100 × 4 MiB', count: 100, size: 4 * MiB, unit: 'MB/s' },
  { id: 'C', label: QUICK ? '1 × 256 MiB' : '1 × 1 GiB', count: 1, size: QUICK ? 256 * MiB : 1024 * MiB, unit: 'MB/s' },
  { id: 'D', label: '20,000-line list × 4 KiB', count: 20_000, size: 4 * 1024, unit: 'files/s', runs: 1 },
];
const WORKLOADS = ALL_WORKLOADS.filter((w) => ONLY.includes(w.id));

interface Sample {
  wall: number;
  cpu: number;
  rssKiB: number;
}

/** Generate the files of a workload (random bytes behind a JPEG signature) and their SHA-256. */
function generate(w: Workload, dir: string): Map<string, string> {
  mkdirSync(dir, { recursive: true });
  const sums = new Map<string, string>();
  for (let i = 0; i < w.count; i++) {
    const name = `${w.id.toLowerCase()}${i}.jpg`;
    const hash = createHash('sha256');
    const fd = openSync(path.join(dir, name), 'w');
    for (let written = 0; written < w.size; ) {
      const chunk = randomBytes(Math.min(16 * MiB, w.size - written));
      if (written === 0) chunk.set([0xff, 0xd8, 0xff, 0xe0]);
      // A whole JPEG ends in EOI: without it the structure check would flag every file as cut.
      if (written + chunk.length === w.size) chunk.set([0xff, 0xd9], chunk.length - 2);
      hash.update(chunk);
      writeSync(fd, chunk);
      written += chunk.length;
    }
    closeSync(fd);
    sums.set(name, hash.digest('hex'));
  }
  return sums;
}

/** nginx on 127.0.0.1 (installed from Debian if missing), else a Node static server with a warning. */
async function startOrigin(root: string): Promise<{ base: string; kind: string; stop: () => void }> {
  if (!existsSync('/usr/sbin/nginx') && process.getuid?.() === 0) {
    spawnSync('bash', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light'], { stdio: 'ignore' });
  }
  if (existsSync('/usr/sbin/nginx')) {
    const port = 18000 + Math.floor(Math.random() * 2000);
    const conf = path.join(WORK, 'nginx.conf');
    writeFileSync(
      conf,
      `daemon off; worker_processes 1; pid ${WORK}/nginx.pid; error_log ${WORK}/nginx-error.log;
events { worker_connections 1024; }
http { include /etc/nginx/mime.types; access_log off; sendfile on; tcp_nopush on; keepalive_requests 100000;
  client_body_temp_path ${WORK}/tmp; proxy_temp_path ${WORK}/tmp; fastcgi_temp_path ${WORK}/tmp; uwsgi_temp_path ${WORK}/tmp; scgi_temp_path ${WORK}/tmp;
  server { listen 127.0.0.1:${port}; root ${root}; } }`,
    );
    mkdirSync(path.join(WORK, 'tmp'), { recursive: true });
    const nginx = spawn('/usr/sbin/nginx', ['-c', conf], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 500));
    return { base: `http://127.0.0.1:${port}`, kind: 'nginx', stop: () => nginx.kill() };
  }
  console.warn('WARNING: nginx not available; serving with a Node static server (numbers are not comparable).');
  const server = http.createServer((req, res) => {
    const file = path.join(root, path.basename(req.url ?? ''));
    if (!existsSync(file)) return void res.writeHead(404).end();
    const body = readFileSync(file);
    res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': body.length, etag: `"${body.length}"` }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, kind: 'node (fallback)', stop: () => server.close() };
}

/** Run a command under GNU time; returns wall seconds, CPU seconds and peak RSS. */
function timed(cmd: string, cmdArgs: string[]): Sample {
  const out = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', cmd, ...cmdArgs], { encoding: 'utf8', maxBuffer: 64 * MiB });
  const last = out.stderr.trim().split('\n').pop() ?? '';
  const [wall, user, sys, rss] = last.split(' ').map(Number);
  if (out.status !== 0 && out.status !== 1) throw new Error(`${cmd} failed (${out.status}): ${out.stderr.slice(-500)}`);
  return { wall: wall!, cpu: user! + sys!, rssKiB: rss! };
}

/** The CLI of a checkout, with the flags every tumblr-dl row uses. */
const tumblrDl =
  (checkout: string) =>
  (_list: string, jsonl: string, out: string): Sample =>
    timed(process.execPath, [path.join(checkout, 'dist/cli/tumblr-dl.js'), 'fetch', jsonl, '-o', out, '-c', '16', '--per-host', '16', '-r', '0', '-q', '--redownload']);

const TOOLS: Record<string, (list: string, jsonl: string, out: string) => Sample> = {
  'tumblr-dl': tumblrDl(ROOT),
  ...(BASELINE ? { 'tumblr-dl baseline': tumblrDl(BASELINE) } : {}),
  'got floor': (list, _jsonl, out) => timed(process.execPath, [path.join(ROOT, 'bench/got-floor.mjs'), list, out, '16']),
  'node floor': (list, _jsonl, out) => timed(process.execPath, [path.join(ROOT, 'bench/raw-node.mjs'), list, out, '16']),
  curl: (list, _jsonl, out) => {
    const config = path.join(WORK, 'curl.cfg');
    writeFileSync(config, readFileSync(list, 'utf8').split('\n').filter(Boolean).map((u) => `url = "${u}"\nremote-name\n`).join(''));
    return timed('curl', ['--parallel', '--parallel-max', '16', '-s', '--output-dir', out, '-K', config]);
  },
  aria2c: (list, _jsonl, out) =>
    timed('aria2c', ['-j16', '-x1', '-q', '--allow-overwrite=true', '--auto-file-renaming=false', '--file-allocation=none', '--console-log-level=error', '-i', list, '-d', out]),
};

/** Every file a tool wrote must have its reference hash; tumblr-dl's names come from its results file. */
function verify(tool: string, out: string, sums: Map<string, string>): void {
  const files = readdirSync(out).filter((f) => f.endsWith('.jpg'));
  if (files.length !== sums.size) throw new Error(`${tool}: ${files.length} files, expected ${sums.size}`);
  const byHash = new Set(sums.values());
  for (const f of files) {
    const sha = createHash('sha256').update(readFileSync(path.join(out, f))).digest('hex');
    const expected = tool.startsWith('tumblr-dl') ? undefined : sums.get(f);
    if (expected ? sha !== expected : !byHash.has(sha)) throw new Error(`${tool}: ${f} has a wrong SHA-256`);
  }
}

/** A checkout named by its commit, when it is a git checkout. */
function baselineName(checkout: string): string {
  const rev = spawnSync('git', ['-C', checkout, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' });
  return rev.status === 0 ? `commit ${rev.stdout.trim()}` : checkout;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const available = (cmd: string): boolean => spawnSync('bash', ['-c', `command -v ${cmd}`]).status === 0;

async function main(): Promise<void> {
  if (!available('/usr/bin/time') || !available('aria2c')) {
    spawnSync('bash', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time aria2 curl'], { stdio: 'inherit' });
  }
  execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
  rmSync(WORK, { recursive: true, force: true });
  const served = path.join(WORK, 'www');
  mkdirSync(served, { recursive: true });
  const started = Date.now();
  const rows: string[] = [];
  const origin = await startOrigin(served);
  try {
    for (const w of WORKLOADS) {
      const sums = generate(w, served);
      const names = [...sums.keys()];
      const list = path.join(WORK, `${w.id}.txt`);
      const jsonl = path.join(WORK, `${w.id}.jsonl`);
      writeFileSync(list, names.map((n) => `${origin.base}/${n}`).join('\n') + '\n');
      writeFileSync(jsonl, names.map((n) => JSON.stringify({ url: `${origin.base}/${n}`, postId: n.replace('.jpg', ''), mediaType: 'image' })).join('\n') + '\n');
      const samples: Record<string, Sample[]> = Object.fromEntries(Object.keys(TOOLS).map((t) => [t, []]));
      for (let run = 0; run < Math.min(RUNS, w.runs ?? RUNS); run++) {
        // Alternate the order so no tool always runs on a warm or cold cache.
        const order = Object.keys(TOOLS);
        if (run % 2 === 1) order.reverse();
        for (const tool of order) {
          const out = path.join(WORK, 'out', tool.replace(/\W/g, ''));
          rmSync(out, { recursive: true, force: true });
          mkdirSync(out, { recursive: true });
          samples[tool]!.push(TOOLS[tool]!(list, jsonl, out));
          verify(tool, out, sums);
          rmSync(out, { recursive: true, force: true });
        }
      }
      const wall = (t: string): number => median(samples[t]!.map((s) => s.wall));
      for (const tool of Object.keys(TOOLS)) {
        const s = samples[tool]!;
        const seconds = wall(tool);
        const speed = w.unit === 'files/s' ? w.count / seconds : (w.count * w.size) / 1e6 / seconds;
        rows.push(
          `| ${w.id} ${w.label} | ${tool} | ${seconds.toFixed(2)} s | ${speed.toFixed(0)} ${w.unit} | ${median(s.map((x) => x.cpu)).toFixed(2)} s | ` +
            `${(Math.max(...s.map((x) => x.rssKiB)) / 1024).toFixed(0)} MiB | ${(seconds / wall('got floor')).toFixed(2)}× | ${(seconds / wall('curl')).toFixed(2)}× | ${(seconds / wall('aria2c')).toFixed(2)}× |`,
        );
        console.log(rows.at(-1));
      }
      for (const name of names) rmSync(path.join(served, name));
    }
  } finally {
    origin.stop();
  }
  const table = [
    `# Benchmark: tumblr-dl vs curl vs aria2c`,
    '',
    `${new Date().toISOString()} · ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'} · Node ${process.version} · origin: ${origin.kind} on 127.0.0.1 · ` +
      `median of ${RUNS} alternating runs (D: 1) · concurrency 16 everywhere · every file checked against its reference SHA-256 · total ${((Date.now() - started) / 1000).toFixed(0)} s`,
    '',
    '| workload | tool | median wall | speed | CPU (user+sys) | peak RSS | time ÷ got floor | time ÷ curl | time ÷ aria2c |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    'tumblr-dl runs with hashing, verification (media signature, size, placeholders, structure), the folder lock, fsync and atomic finalize on; `-r 0` (no rate limit), `--per-host 16`.',
    ...(BASELINE ? ['', `"tumblr-dl baseline" is the same command from ${baselineName(BASELINE)}.`] : []),
    '',
  ].join('\n');
  writeFileSync(path.join(ROOT, 'bench/results/latest.md'), table);
  console.log(`\n${table}`);
  rmSync(WORK, { recursive: true, force: true });
}

await main();
