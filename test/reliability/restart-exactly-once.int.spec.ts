import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { resolveDownloaderConfig } from '../../src/config/downloader-config.js';
import type { DownloadResult } from '../../src/model/download-result.js';
import type { LedgerRecord } from '../../src/ledger/download-ledger.js';
import { SqliteDownloadLedger } from '../../src/ledger/sqlite-download-ledger.js';
import { BUILT_CLI, ensureBuilt } from '../support/built-package.js';
import { FaultServer, type FaultScript } from '../support/fault-server.js';
import { jpegBytes, sha256, tempDir } from '../support/fixtures.js';
import { useRealSockets } from '../support/nock-helpers.js';
import { waitUntil } from '../support/wait-until.js';

const KiB = 1024;
const ITEMS = 24;

/** Lines in a file that may not exist yet. */
function lines(file: string): number {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0;
}

describe('Reliability: killed at any moment, started again, every item exactly once', function () {
  this.timeout(120_000);
  useRealSockets();
  let server: FaultServer;
  let work: { dir: string; cleanup: () => void };
  let input: string;
  let out: string;
  const bodies = new Map<string, Buffer>();
  /** Each item's script, to hold its responses for a test. */
  let scripts: FaultScript[];

  before(() => ensureBuilt());

  beforeEach(async () => {
    server = new FaultServer();
    const base = await server.start();
    work = tempDir('mdl-restart-');
    out = path.join(work.dir, 'out');
    const rows = [];
    scripts = [];
    for (let i = 0; i < ITEMS; i++) {
      // Every third item is 1.5 MiB (resumable, with a sidecar); items i and i+12 share bytes (a reblog).
      const seed = i % 12;
      const body = jpegBytes(seed % 3 === 0 ? 1536 * KiB : 256 * KiB, seed + 1);
      const url = `${base}/m${i}.jpg`;
      bodies.set(url, body);
      const script: FaultScript = { body, etag: `"e${seed}"`, trickle: { bytes: 64 * KiB, everyMs: 15 } };
      scripts.push(script);
      server.script(`/m${i}.jpg`, script);
      rows.push({ url, postId: String(100 + i), mediaType: 'image' });
    }
    input = path.join(work.dir, 'input.jsonl');
    writeFileSync(input, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  });

  afterEach(async () => {
    await server.stop();
    work.cleanup();
  });

  /**
   * Start a fetch and SIGKILL it once `when()` holds (or let it finish); resolves with the exit code. A test that
   * needs the kill to land mid-run holds responses at the origin first, so the run cannot finish however slow the
   * machine; whatever is held is let go once the run is dead, for the next one.
   */
  async function fetch(when?: () => boolean): Promise<number | null> {
    const child = spawn(process.execPath, [BUILT_CLI, 'fetch', input, '-o', out, '-c', '4', '-r', '0', '-q'], { stdio: 'ignore' });
    let exited = false;
    const code = new Promise<number | null>((resolve) => child.once('exit', resolve)).finally(() => (exited = true));
    if (when) {
      try {
        // A run that ends first is not killed: its exit code tells the test so.
        await waitUntil(() => exited || when(), { timeoutMs: 60_000, what: 'the moment to kill the run' });
      } finally {
        child.kill('SIGKILL');
      }
      await code;
      server.release();
    }
    return code;
  }

  /**
   * Answer only the next `count` requests; hold every later one before its headers until the run is killed. The
   * items those requests are for can finish, no other: the run cannot end before the kill, however slow the machine.
   */
  function answerOnly(count: number): void {
    void server.arrived(server.requests.length + count).then(() => server.holdAll());
  }

  /** The state every restart must end in, however the runs before it died. */
  async function expectExactlyOnce(): Promise<void> {
    const results = readFileSync(path.join(out, 'results.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as DownloadResult);
    expect(results, 'one result line per item').to.have.length(ITEMS);
    expect(new Set(results.map((r) => r.url)).size).to.equal(ITEMS);
    expect(
      results.every((r) => r.status === 'success'),
      JSON.stringify(results.filter((r) => r.status !== 'success')),
    ).to.equal(true);

    const ledger = new SqliteDownloadLedger(resolveDownloaderConfig({ outputDir: out, ledger: { path: path.join(out, '.tumblr-dl', 'ledger.sqlite') } }));
    const rows: LedgerRecord[] = [];
    for await (const row of ledger.records()) rows.push(row);
    expect(await ledger.inProgress(), 'no transfer left marked in progress').to.deep.equal([]);
    await ledger.close();
    expect(rows, 'one ledger row per item').to.have.length(ITEMS);
    expect(rows.every((r) => r.status === 'success')).to.equal(true);

    const names = readdirSync(out).filter((f) => !f.startsWith('.') && f !== 'results.jsonl');
    expect(
      names.filter((f) => f.includes('.part')),
      'no .part or sidecar left',
    ).to.deep.equal([]);
    expect(names, 'one file per item, no name_1 duplicates').to.have.length(ITEMS);
    for (const row of rows) {
      expect(path.dirname(row.filename)).to.equal(out);
      expect(sha256(readFileSync(row.filename)), row.url).to.equal(sha256(bodies.get(row.url)!));
      expect(row.sha256).to.equal(sha256(bodies.get(row.url)!));
    }
  }

  it('should finish after a kill before the first result (mid-transfer)', async () => {
    // Every response stops after its first 64 KiB until the kill: .part files, and not one item finished.
    for (const script of scripts) script.hold = { afterBytes: 64 * KiB };
    expect(await fetch(() => existsSync(out) && readdirSync(out).some((f) => f.endsWith('.part')))).to.equal(null);
    expect(lines(path.join(out, 'results.jsonl'))).to.equal(0);
    expect(await fetch()).to.equal(0);
    await expectExactlyOnce();
  });

  for (const fraction of [0.3, 0.7]) {
    it(`should finish after a kill with ${fraction * 100}% of the results written, without fetching finished items again`, async () => {
      // Results go to results.jsonl.tmp as items finish, and are renamed into place when the run ends.
      const results = path.join(out, 'results.jsonl.tmp');
      // One request per item in a first run: as many answered as results are awaited, and the rest held.
      const answered = Math.ceil(ITEMS * fraction);
      answerOnly(answered);
      expect(await fetch(() => lines(results) >= answered)).to.equal(null);
      const done = lines(results);
      expect(existsSync(path.join(out, 'results.jsonl')), 'a killed run leaves no results file of its own').to.equal(false);
      expect(done).to.equal(answered);
      const servedBefore = server.bytesServed;
      expect(await fetch()).to.equal(0);
      await expectExactlyOnce();
      // Items with a result before the kill are skipped, so the restart serves at most the other items in full.
      const remaining = [...bodies.values()].reduce((a, b) => a + b.length, 0);
      expect(server.bytesServed - servedBefore).to.be.below(remaining);
    });
  }

  it('should finish after being killed twice in a row', async () => {
    const writing = path.join(out, 'results.jsonl.tmp');
    const results = path.join(out, 'results.jsonl');
    await fetch(() => lines(writing) >= 4);
    await fetch(() => existsSync(writing) && lines(writing) >= 10);
    expect(await fetch()).to.equal(0);
    await expectExactlyOnce();
    const firstByUrl = new Map(
      readFileSync(results, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => [JSON.parse(l).url as string, l]),
    );
    // A run after a clean finish is all skips and changes nothing.
    expect(await fetch()).to.equal(0);
    await expectExactlyOnce();
    for (const line of readFileSync(results, 'utf8').split('\n').filter(Boolean)) {
      const r = JSON.parse(line) as DownloadResult;
      expect(r.skipped).to.equal(true);
      expect(JSON.parse(firstByUrl.get(r.url)!).checksum).to.equal(r.checksum);
    }
    const twins = [0, 12].map((i) => readdirSync(out).find((f) => f.startsWith(`${100 + i}_`))!);
    expect(statSync(path.join(out, twins[0]!)).ino, 'reblogged bytes hard-linked').to.equal(statSync(path.join(out, twins[1]!)).ino);
  });
});
