/**
 * npm run bench: the plugin's CLI against curl, aria2c, a naive got pipeline (the got floor) and a raw node:http floor,
 * on the same URL lists served by nginx on 127.0.0.1, alternating tools run by run.
 * Writes bench/results/latest.md. Every downloaded file is checked against the
 * reference SHA-256. Options: --runs N (default 3), --only A,B,C,D,E,S,V,Q,L (S: start-up, bench/startup.ts; V: verify,
 * bench/verify-bench.ts; Q: bench/scale-out.ts, L: bench/bandwidth.ts), --quick (small C),
 * --baseline <checkout> (another built checkout's CLI as one more tool, "tumblr-dl baseline": a before/after
 * in the same run, where the machine's drift between runs cannot blur it).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cliOf, generate, startOrigin, timed, type Sample, type WorkloadFiles } from './bench-kit.js';
import { startupRows } from './startup.js';
import { verifyRows } from './verify-bench.js';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const WORK = path.join(os.tmpdir(), 'tumblr-dl-bench');
const args = process.argv.slice(2);
const RUNS = Number(args[args.indexOf('--runs') + 1] ?? 0) || 3;
const ONLY = args.includes('--only') ? args[args.indexOf('--only') + 1]!.split(',') : ['A', 'B', 'C', 'D', 'E', 'S', 'V'];
const QUICK = args.includes('--quick');
const BASELINE = args.includes('--baseline') ? path.resolve(args[args.indexOf('--baseline') + 1]!) : undefined;
const MiB = 1024 * 1024;

interface Workload extends WorkloadFiles {
  id: string;
  label: string;
  count: number;
  size: number;
  /** Report files/s (many small files) or MB/s (few large ones). */
  unit: 'files/s' | 'MB/s';
  /** Runs per tool; D is about memory and runs once, so the whole bench stays under 8 minutes. */
  runs?: number;
  /** Served over HTTPS with HTTP/2 (nginx, a certificate made for the run), with the TLS connections counted. */
  tls?: boolean;
}

const ALL_WORKLOADS: Workload[] = [
  { id: 'A', label: '2000 × 64 KiB', count: 2000, size: 64 * 1024, unit: 'files/s' },
  { id: 'B', label: '100 × 4 MiB', count: 100, size: 4 * MiB, unit: 'MB/s' },
  { id: 'C', label: QUICK ? '1 × 256 MiB' : '1 × 1 GiB', count: 1, size: QUICK ? 256 * MiB : 1024 * MiB, unit: 'MB/s' },
  { id: 'D', label: '20,000-line list × 4 KiB', count: 20_000, size: 4 * 1024, unit: 'files/s', runs: 1 },
  { id: 'E', label: '2000 × 64 KiB, HTTPS', count: 2000, size: 64 * 1024, unit: 'files/s', tls: true },
];
const WORKLOADS = ALL_WORKLOADS.filter((w) => ONLY.includes(w.id));

/** One tool's run of a list: the URL list, the same as JSONL, the output folder, and the certificate to trust over TLS. */
type Tool = (list: string, jsonl: string, out: string, caFile?: string) => Sample;

/** Node's way to trust one more certificate, for the Node tools over TLS. */
const trusting = (caFile: string | undefined): NodeJS.ProcessEnv | undefined => (caFile ? { NODE_EXTRA_CA_CERTS: caFile } : undefined);

/** The CLI of a checkout, with the flags every tumblr-dl row uses. */
const tumblrDl =
  (checkout: string, extra: string[] = []): Tool =>
  (_list, jsonl, out, caFile) =>
    timed(process.execPath, [cliOf(checkout), 'fetch', jsonl, '-o', out, '-c', '16', '--per-host', '16', '-r', '0', '-q', '--redownload', ...extra], trusting(caFile));

const curl =
  (extra: string[]): Tool =>
  (list, _jsonl, out, caFile) => {
    const config = path.join(WORK, 'curl.cfg');
    writeFileSync(
      config,
      readFileSync(list, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((u) => `url = "${u}"\nremote-name\n`)
        .join(''),
    );
    return timed('curl', ['--parallel', '--parallel-max', '16', '-s', '--output-dir', out, ...extra, ...(caFile ? ['--cacert', caFile] : []), '-K', config]);
  };

const aria2c: Tool = (list, _jsonl, out, caFile) =>
  timed('aria2c', [
    '-j16',
    '-x1',
    '-q',
    '--allow-overwrite=true',
    '--auto-file-renaming=false',
    '--file-allocation=none',
    '--console-log-level=error',
    ...(caFile ? [`--ca-certificate=${caFile}`] : []),
    '-i',
    list,
    '-d',
    out,
  ]);

const gotFloor: Tool = (list, _jsonl, out, caFile) => timed(process.execPath, [path.join(ROOT, 'bench/got-floor.mjs'), list, out, '16'], trusting(caFile));

const TOOLS: Record<string, Tool> = {
  'tumblr-dl': tumblrDl(ROOT),
  // The same run keeping a WARC of every exchange (docs/warc.md): the cost of the evidence.
  'tumblr-dl --warc': tumblrDl(ROOT, ['--warc']),
  ...(BASELINE ? { 'tumblr-dl baseline': tumblrDl(BASELINE) } : {}),
  'got floor': gotFloor,
  'node floor': (list, _jsonl, out) => timed(process.execPath, [path.join(ROOT, 'bench/raw-node.mjs'), list, out, '16']),
  curl: curl([]),
  aria2c,
};

/** Over HTTPS: tumblr-dl with HTTP/1.1 keep-alive and with --http2, curl multiplexing over HTTP/2, aria2c (HTTP/1.1). */
const TLS_TOOLS: Record<string, Tool> = {
  'tumblr-dl': tumblrDl(ROOT),
  'tumblr-dl --http2': tumblrDl(ROOT, ['--http2']),
  ...(BASELINE ? { 'tumblr-dl baseline': tumblrDl(BASELINE) } : {}),
  'got floor': gotFloor,
  curl: curl(['--http2']),
  aria2c,
};

/** Every file a tool wrote must have its reference hash; tumblr-dl's names come from its results file. */
function verify(tool: string, out: string, sums: Map<string, string>): void {
  const files = readdirSync(out).filter((f) => f.endsWith('.jpg'));
  if (files.length !== sums.size) throw new Error(`${tool}: ${files.length} files, expected ${sums.size}`);
  const byHash = new Set(sums.values());
  for (const f of files) {
    const sha = createHash('sha256')
      .update(readFileSync(path.join(out, f)))
      .digest('hex');
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
  // Q, the queue (BullMQ on Redis), has a bench of its own.
  if (ONLY.includes('Q')) execFileSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench/scale-out.ts')], { cwd: ROOT, stdio: 'inherit' });
  // L, the bandwidth cap's accuracy, too.
  if (ONLY.includes('L')) execFileSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench/bandwidth.ts')], { cwd: ROOT, stdio: 'inherit' });
  if (WORKLOADS.length === 0 && !ONLY.includes('S') && !ONLY.includes('V')) return;
  if (!available('/usr/bin/time') || !available('aria2c')) {
    spawnSync('bash', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time aria2 curl'], { stdio: 'inherit' });
  }
  execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
  rmSync(WORK, { recursive: true, force: true });
  const served = path.join(WORK, 'www');
  mkdirSync(served, { recursive: true });
  const started = Date.now();
  const rows: string[] = [];
  const origin = await startOrigin(served, WORK);
  try {
    for (const w of WORKLOADS) {
      if (w.tls && !origin.tls) {
        console.warn(`WARNING: workload ${w.id} needs nginx for HTTPS with HTTP/2; skipped.`);
        continue;
      }
      const tools = w.tls ? TLS_TOOLS : TOOLS;
      const base = w.tls ? origin.tls!.base : origin.base;
      const caFile = w.tls ? origin.tls!.caFile : undefined;
      const sums = generate(w, served);
      const names = [...sums.keys()];
      const list = path.join(WORK, `${w.id}.txt`);
      const jsonl = path.join(WORK, `${w.id}.jsonl`);
      writeFileSync(list, names.map((n) => `${base}/${n}`).join('\n') + '\n');
      writeFileSync(jsonl, names.map((n) => JSON.stringify({ url: `${base}/${n}`, postId: n.replace('.jpg', ''), mediaType: 'image' })).join('\n') + '\n');
      const samples: Record<string, Sample[]> = Object.fromEntries(Object.keys(tools).map((t) => [t, []]));
      const connections: Record<string, number[]> = Object.fromEntries(Object.keys(tools).map((t) => [t, []]));
      for (let run = 0; run < Math.min(RUNS, w.runs ?? RUNS); run++) {
        // Alternate the order so no tool always runs on a warm or cold cache.
        const order = Object.keys(tools);
        if (run % 2 === 1) order.reverse();
        for (const tool of order) {
          const out = path.join(WORK, 'out', tool.replace(/\W/g, ''));
          rmSync(out, { recursive: true, force: true });
          mkdirSync(out, { recursive: true });
          if (origin.tls) writeFileSync(origin.tls.connectionLog, '');
          samples[tool]!.push(tools[tool]!(list, jsonl, out, caFile));
          // nginx wrote each request's connection number: the distinct ones are the TLS connections this tool opened.
          if (w.tls) connections[tool]!.push(new Set(readFileSync(origin.tls!.connectionLog, 'utf8').split('\n').filter(Boolean)).size);
          verify(tool, out, sums);
          rmSync(out, { recursive: true, force: true });
        }
      }
      const wall = (t: string): number => median(samples[t]!.map((s) => s.wall));
      for (const tool of Object.keys(tools)) {
        const s = samples[tool]!;
        const seconds = wall(tool);
        const speed = w.unit === 'files/s' ? w.count / seconds : (w.count * w.size) / 1e6 / seconds;
        rows.push(
          `| ${w.id} ${w.label} | ${tool} | ${seconds.toFixed(2)} s | ${speed.toFixed(0)} ${w.unit} | ${median(s.map((x) => x.cpu)).toFixed(2)} s | ` +
            `${(Math.max(...s.map((x) => x.rssKiB)) / 1024).toFixed(0)} MiB | ${(seconds / wall('got floor')).toFixed(2)}× | ${(seconds / wall('curl')).toFixed(2)}× | ${(seconds / wall('aria2c')).toFixed(2)}× | ` +
            `${w.tls ? String(median(connections[tool]!)) : '–'} |`,
        );
        console.log(rows.at(-1));
      }
      for (const name of names) rmSync(path.join(served, name));
    }
  } finally {
    origin.stop();
  }
  const shortRuns = [...(ONLY.includes('S') ? startupRows(ROOT, BASELINE) : []), ...(ONLY.includes('V') ? await verifyRows(WORK, BASELINE) : [])];
  for (const row of shortRuns) console.log(row);
  rows.push(...shortRuns);
  const table = [
    `# Benchmark: tumblr-dl vs curl vs aria2c`,
    '',
    `${new Date().toISOString()} · ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'} · Node ${process.version} · origin: ${origin.kind} on 127.0.0.1 · ` +
      `median of ${RUNS} alternating runs (D: 1) · concurrency 16 everywhere · every file checked against its reference SHA-256 · total ${((Date.now() - started) / 1000).toFixed(0)} s`,
    '',
    '| workload | tool | median wall | speed | CPU (user+sys) | peak RSS | time ÷ got floor | time ÷ curl | time ÷ aria2c | TLS connections |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    "E is served by the same nginx over HTTPS (TLS 1.3, HTTP/2 offered, a self-signed certificate made for the run and given to every tool); its TLS connections are counted from nginx's log of each request's `$connection`. curl runs with `--http2` (multiplexing), aria2c and the got floor over HTTP/1.1 keep-alive.",
    '',
    'tumblr-dl runs with hashing, verification (media signature, size, placeholders, structure), the folder lock, fsync and atomic finalize on; `-r 0` (no rate limit), `--per-host 16`.',
    '',
    'S: start-up, the median of 10 runs each: `node -e 0`, `tumblr-dl --version`, and a fetch of one 64 KiB file from a loopback origin into a new folder (ledger created). V: `tumblr-dl verify` of a folder against `sha256sum` of the same files (warm page cache, median of 3).',
    ...(BASELINE ? ['', `"tumblr-dl baseline" is the same command from ${baselineName(BASELINE)}.`] : []),
    '',
  ].join('\n');
  writeFileSync(path.join(ROOT, 'bench/results/latest.md'), table);
  console.log(`\n${table}`);
  rmSync(WORK, { recursive: true, force: true });
}

await main();
