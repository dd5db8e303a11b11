/**
 * Workload V: `tumblr-dl verify` against `sha256sum` over the same files, many small ones and one large one.
 * `bench/run.ts` calls {@link verifyRows}; `npx tsx bench/verify-bench.ts [work]` runs it alone and prints the rows.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveDownloaderConfig } from '../src/config/downloader-config.js';
import { SqliteDownloadLedger } from '../src/ledger/sqlite-download-ledger.js';
import { cliOf, generate, timed, type Sample, type WorkloadFiles } from './bench-kit.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = cliOf(ROOT);
const MiB = 1024 * 1024;
const RUNS = 3;

/** One workload of V: its files and the label of its rows. */
interface VerifyWorkload extends WorkloadFiles {
  label: string;
}

const WORKLOADS: VerifyWorkload[] = [
  { id: 'Vs', label: 'V verify 20,000 × 4 KiB', count: 20_000, size: 4 * 1024 },
  { id: 'Vl', label: 'V verify 1 × 1 GiB', count: 1, size: 1024 * MiB },
];

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * The ledger `fetch` would have written for `dir`: one success (and so one `files` row) per file, in
 * generation order, recorded through {@link SqliteDownloadLedger.record} like a run records them.
 */
async function writeLedger(dir: string, sums: Map<string, string>, size: number): Promise<void> {
  const ledger = new SqliteDownloadLedger(resolveDownloaderConfig({ outputDir: dir, ledger: { path: path.join(dir, '.tumblr-dl', 'ledger.sqlite') } }));
  try {
    const now = Date.now();
    const recorded: Array<Promise<void>> = [];
    for (const [name, sha256] of sums) {
      recorded.push(
        ledger.record({
          url: `https://64.media.tumblr.com/bench/${name}`,
          mediaType: 'image',
          filename: path.join(dir, name),
          sha256,
          bytes: size,
          source: 'tumblr',
          status: 'success',
          recordedAt: now,
        }),
      );
    }
    await Promise.all(recorded);
  } finally {
    await ledger.close();
  }
}

/** One markdown row in `bench/run.ts`'s table: wall, CPU and peak RSS; no speed or ratios to the download tools. */
function row(label: string, tool: string, samples: Sample[]): string {
  const wall = median(samples.map((s) => s.wall));
  const cpu = median(samples.map((s) => s.cpu));
  const rss = Math.max(...samples.map((s) => s.rssKiB)) / 1024;
  return `| ${label} | ${tool} | ${wall.toFixed(2)} s | – | ${cpu.toFixed(2)} s | ${rss.toFixed(0)} MiB | – | – | – | – |`;
}

/**
 * Time `node dist/cli/tumblr-dl.js verify <dir>` against `sha256sum` of the same files, for 20,000 × 4 KiB
 * files and for one 1 GiB file (random bytes behind a JPEG signature, made in `work/verify-*`, removed after).
 * Each tool runs once to warm the page cache (it cannot be dropped here), then {@link RUNS} times alternating;
 * the median is reported. The CLI must be built (`npm run build`); verify must find every file intact.
 * @param work a scratch folder with room for 1.1 GB
 * @param baseline another built checkout, whose `verify` is timed too ("tumblr-dl baseline verify")
 * @returns per workload three markdown rows for `bench/run.ts`'s table: tumblr-dl verify, sha256sum, and their ratio (wall and CPU)
 */
export async function verifyRows(work: string, baseline?: string): Promise<string[]> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  const rows: string[] = [];
  for (const w of WORKLOADS) {
    const dir = path.join(work, `verify-${w.id.toLowerCase()}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    try {
      await writeLedger(dir, generate(w, dir), w.size);
      const tools: Record<string, () => Sample> = {
        'tumblr-dl verify': () => timed(process.execPath, [CLI, 'verify', dir]),
        sha256sum: () => timed('bash', ['-c', `find "$0" -name '*.jpg' -print0 | xargs -0 sha256sum > /dev/null`, dir]),
        ...(baseline === undefined ? {} : { 'tumblr-dl baseline verify': () => timed(process.execPath, [cliOf(baseline), 'verify', dir]) }),
      };
      const samples: Record<string, Sample[]> = Object.fromEntries(Object.keys(tools).map((t) => [t, []]));
      // A first run of each warms the page cache for every later run; the first one also checks that verify finds all intact.
      const first = spawnSync(process.execPath, [CLI, 'verify', dir], { encoding: 'utf8', maxBuffer: 64 * MiB });
      if (first.status !== 0 || !first.stdout.includes(`${w.count} files checked: ${w.count} intact`)) {
        throw new Error(`tumblr-dl verify did not find ${w.count} intact files (exit ${first.status}): ${first.stdout.slice(-500)}${first.stderr.slice(-500)}`);
      }
      tools['sha256sum']!();
      for (let i = 0; i < RUNS; i++) {
        const order = Object.keys(tools);
        if (i % 2 === 1) order.reverse();
        for (const tool of order) samples[tool]!.push(tools[tool]!());
      }
      for (const [tool, s] of Object.entries(samples)) rows.push(row(w.label, tool, s));
      const ratio = (pick: (s: Sample) => number): string => (median(samples['tumblr-dl verify']!.map(pick)) / median(samples['sha256sum']!.map(pick))).toFixed(2) + '×';
      rows.push(`| ${w.label} | tumblr-dl verify ÷ sha256sum | ${ratio((s) => s.wall)} | – | ${ratio((s) => s.cpu)} | – | – | – | – | – |`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return rows;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const work = path.resolve(process.argv[2] ?? path.join(os.tmpdir(), 'tumblr-dl-verify-bench'));
  for (const line of await verifyRows(work)) console.log(line);
}
