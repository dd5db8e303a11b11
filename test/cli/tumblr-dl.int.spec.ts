import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { startSampleOrigin, type SampleOrigin } from '../../src/cli/sample-origin.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { BUILT_CLI, ensureBuilt } from '../support/built-package.js';
import { fileURLToPath } from 'node:url';

/** Preload that makes better-sqlite3's native part fail to load. */
const WITHOUT_SQLITE = fileURLToPath(new URL('../support/without-sqlite.cjs', import.meta.url));
import { readResults, runCli } from '../support/run-cli.js';
import { FaultServer } from '../support/fault-server.js';
import { jpegBytes, tempDir } from '../support/fixtures.js';
import { useRealSockets } from '../support/nock-helpers.js';
import { waitUntil } from '../support/wait-until.js';

describe('tumblr-dl (built CLI, end to end)', function () {
  this.timeout(60_000);
  useRealSockets();
  let origin: SampleOrigin;
  let work: { dir: string; cleanup: () => void };

  before(() => ensureBuilt());

  beforeEach(async () => {
    origin = await startSampleOrigin();
    work = tempDir('mdl-cli-');
  });

  afterEach(async () => {
    await origin.close();
    work.cleanup();
  });

  const writeJsonl = (rows: object[]): string => {
    const file = path.join(work.dir, 'input.jsonl');
    writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n'));
    return file;
  };

  it('should fetch a JSONL input, write one result per item, summarize, and exit 1 when some failed', async () => {
    const out = path.join(work.dir, 'out');
    const run = await runCli(['fetch', writeJsonl(origin.inputRows), '-o', out, '--retries', '3']);
    expect(run.code, run.stderr).to.equal(1);
    const results = readResults(path.join(out, 'results.jsonl'));
    expect(results).to.have.length(8);
    const byUrl = new Map(results.map((r) => [r.url.replace(origin.base, ''), r]));
    expect(byUrl.get('/photo1.jpg')?.status).to.equal('success');
    expect(byUrl.get('/flaky.jpg')).to.include({ status: 'success', attempts: 3 });
    expect(byUrl.get('/deleted.jpg')?.status).to.equal('missing');
    expect(byUrl.get('/login.jpg')).to.include({ status: 'error', errorCode: 'INTEGRITY' });
    expect(byUrl.get('/removed.gif')).to.include({ status: 'error', errorCode: 'INTEGRITY' });
    // Names are relative to the output folder (a moved archive keeps working); a failed item names no file.
    for (const r of results.filter((x) => x.status === 'success')) expect(existsSync(path.join(out, r.filename)), r.filename).to.equal(true);
    for (const r of results.filter((x) => x.status !== 'success')) expect(r.filename).to.equal('');
    expect(results.every((r) => !path.isAbsolute(r.filename))).to.equal(true);
    expect(readdirSync(out).filter((f) => f.endsWith('.part'))).to.deep.equal([]);
    // flaky.jpg serves photo1.jpg's bytes, so it becomes a hard link to it.
    expect(run.stdout).to.match(/: 8 items: 5 saved \(1 deduplicated\), 1 missing, 2 failed\.\n.*Results: .*results\.jsonl\n$/);
    expect(byUrl.get('/flaky.jpg')?.deduplicatedFrom).to.equal(byUrl.get('/photo1.jpg')?.filename);
  });

  it('should exit 0 for plain URL lines and CSV rows that all succeed, and skip them on a re-run', async () => {
    const out = path.join(work.dir, 'out');
    const urls = path.join(work.dir, 'urls.txt');
    writeFileSync(urls, `# comment\n${origin.base}/photo1.jpg\n\n${origin.base}/clip.mp4\n`);
    const csv = path.join(work.dir, 'rows.csv');
    writeFileSync(csv, `url,postId,mediaType,index\n"${origin.base}/anim.gif",77,gif,2\n`);
    expect((await runCli(['fetch', urls, '-o', out])).code).to.equal(0);
    expect((await runCli(['fetch', csv, '-o', out, '--results', path.join(work.dir, 'csv.jsonl')])).code).to.equal(0);
    const media = (): string[] => readdirSync(out).filter((f) => !f.endsWith('.jsonl') && !f.startsWith('.'));
    expect(media()).to.have.length(3);
    expect(readdirSync(out)).to.include.members([readResults(path.join(work.dir, 'csv.jsonl'))[0]!.filename.split('/').pop()!]);
    expect(path.basename(readResults(path.join(work.dir, 'csv.jsonl'))[0]!.filename)).to.match(/^77_2_[0-9a-f]{8}\.gif$/);
    const again = await runCli(['fetch', urls, '-o', out, '--results', path.join(work.dir, 'again.jsonl')]);
    expect(again.code).to.equal(0);
    expect(readResults(path.join(work.dir, 'again.jsonl')).every((r) => r.skipped === true)).to.equal(true);
    expect(media()).to.have.length(3);
  });

  it('should skip what the ledger holds on a re-run, and verify should find a flipped byte', async () => {
    const out = path.join(work.dir, 'out');
    const input = writeJsonl(origin.inputRows.filter((r) => /photo|clip|anim/.test(r.url)));
    expect((await runCli(['fetch', input, '-o', out])).code).to.equal(0);
    expect(existsSync(path.join(out, '.tumblr-dl', 'ledger.sqlite'))).to.equal(true);
    await origin.close();
    // The origin is gone: a re-run that made any request would fail.
    const again = await runCli(['fetch', input, '-o', out]);
    expect(again.code, again.stdout).to.equal(0);
    const results = readResults(path.join(out, 'results.jsonl'));
    expect(results).to.have.length(4);
    expect(results.every((r) => r.status === 'success' && r.skipped === true)).to.equal(true);

    const clean = await runCli(['verify', out]);
    expect(clean.code, clean.stdout).to.equal(0);
    expect(clean.stdout).to.match(/4 files checked: 4 intact, 0 damaged, 0 missing/);
    const victim = path.join(out, results.find((r) => r.url.endsWith('/clip.mp4'))!.filename);
    const bytes = readFileSync(victim);
    bytes[1_000_000] = bytes[1_000_000]! ^ 0x01;
    writeFileSync(victim, bytes);
    const damaged = await runCli(['verify', out]);
    expect(damaged.code).to.equal(1);
    expect(damaged.stdout).to.match(new RegExp(`DAMAGED  ${path.basename(victim)}  sha256 [0-9a-f]{64}, [0-9a-f]{64} recorded`));
    expect(damaged.stdout).to.match(/4 files checked: 3 intact, 1 damaged, 0 missing/);
    // Sizes alone cannot see a flipped byte; --quick says so by passing.
    expect((await runCli(['verify', out, '--quick'])).code).to.equal(0);
    expect((await runCli(['verify', path.join(work.dir, 'nowhere')])).code).to.equal(2);
    origin = await startSampleOrigin();
  });

  for (const [why, args, said] of [
    ['no -o', ['fetch', 'input.txt'], 'tumblr-dl fetch: missing -o <dir>'],
    ['no input', ['fetch', '-o', 'x'], 'tumblr-dl fetch: missing <input>'],
    ['an unknown flag, with a guess', ['fetch', 'input.txt', '-o', 'x', '--concurency', '3'], 'tumblr-dl fetch: unknown option --concurency (did you mean --concurrency?)'],
    ['a flag without its value', ['fetch', 'input.txt', '-o'], 'tumblr-dl fetch: option -o needs a value'],
    ['a value that looks like a flag', ['fetch', 'input.txt', '-o', 'x', '-r', '-1'], 'tumblr-dl fetch: option -r needs a value; a value starting with "-" goes as --rate=<value>'],
    ['a bad number', ['fetch', 'input.txt', '-o', 'x', '--concurrency', 'many'], 'tumblr-dl fetch: --concurrency takes a whole number, got "many"'],
    ['an unknown dedupe mode', ['fetch', 'input.txt', '-o', 'x', '--dedupe', 'symlink'], 'tumblr-dl fetch: --dedupe takes hardlink, copy, reference, off, got "symlink"'],
    ['verify without a directory', ['verify'], 'tumblr-dl verify: missing <dir>'],
  ] as const) {
    it(`should exit 2 with one line and a pointer to --help on ${why}`, async () => {
      const run = await runCli([...args]);
      expect(run.code).to.equal(2);
      const command = args[0];
      expect(run.stderr).to.equal(`${said}\nTry 'tumblr-dl ${command} --help' for more information.\n`);
      expect(run.stdout).to.equal('');
    });
  }

  it('should name the flag, not the config key, for a value out of range (-c 0)', async () => {
    writeFileSync(path.join(work.dir, 'one.txt'), `${origin.base}/photo1.jpg\n`);
    const run = await runCli(['fetch', path.join(work.dir, 'one.txt'), '-o', path.join(work.dir, 'out'), '-c', '0']);
    expect(run.code).to.equal(2);
    expect(run.stderr).to.equal('tumblr-dl: -c/--concurrency must be a number from 1 to 1024, got 0\n');
  });

  it('should print --help on stdout and exit 0', async () => {
    for (const args of [['fetch', '--help'], ['verify', '-h'], ['--help']]) {
      const run = await runCli(args);
      expect(run.code, args.join(' ')).to.equal(0);
      expect(run.stdout).to.match(/^Usage:/);
      expect(run.stderr).to.equal('');
    }
  });

  it('should guess the command meant by a misspelt one', async () => {
    const run = await runCli(['fetchh']);
    expect(run.code).to.equal(2);
    expect(run.stderr).to.match(/^tumblr-dl: unknown command "fetchh" \(did you mean "fetch"\?\)\nUsage:/);
  });

  it('should exit 2 with a clear message when the ledger cannot be opened', async () => {
    const notADatabase = path.join(work.dir, 'ledger.sqlite');
    writeFileSync(notADatabase, 'plain text, not SQLite. '.repeat(100));
    const run = await runCli(['fetch', writeJsonl(origin.inputRows.slice(0, 1)), '-o', path.join(work.dir, 'out'), '--ledger', notADatabase]);
    expect(run.code).to.equal(2);
    expect(run.stderr).to.match(/Cannot open the download ledger .*ledger\.sqlite/);
    expect((await runCli(['verify', path.join(work.dir, 'out'), '--ledger', notADatabase])).code).to.equal(2);
  });

  it('should exit 2 when the input file cannot be read', async () => {
    const run = await runCli(['fetch', path.join(work.dir, 'missing.txt'), '-o', path.join(work.dir, 'out')]);
    expect(run.code).to.equal(2);
    expect(run.stderr).to.match(/cannot read/);
  });

  it('should report bad input lines and go on with the rest', async () => {
    const file = path.join(work.dir, 'mixed.jsonl');
    writeFileSync(file, `{"url": "${origin.base}/photo1.jpg"}\n{"nope": 1}\n{"url": "${origin.base}/photo2.png", "mediaType": "sound"}\nnot json {\n`);
    const run = await runCli(['fetch', file, '-o', path.join(work.dir, 'out')]);
    expect(run.code).to.equal(1);
    expect(run.stderr).to.match(/^tumblr-dl: input line 2: no "url"$/m);
    expect(run.stderr).to.match(/^tumblr-dl: input line 3: unknown mediaType "sound" \(image, video, gif or audio\)$/m);
    // A key no item takes is said once, whatever else is wrong with the line.
    expect(run.stderr).to.match(/^tumblr-dl: input key "nope" is not read \(items take url, urls, postId, mediaType, index, priority, metadata\)$/m);
    expect(run.stdout).to.not.match(/^tumblr-dl: input line/m);
    const results = readResults(path.join(work.dir, 'out', 'results.jsonl'));
    // One result line per input line: line 1 is fine; lines 2 and 3 are bad input; line 4 is read as a bare URL and refused.
    expect(results.map((r) => r.errorCode ?? r.status)).to.have.members(['success', 'BAD_INPUT', 'BAD_INPUT', 'INVALID_URL']);
    expect(results.filter((r) => r.errorCode === 'BAD_INPUT').map((r) => r.metadata?.line)).to.have.members([2, 3]);
    // The counts add up to the lines read: 4 items, 1 saved, 3 failed (2 of them bad input lines).
    expect(run.stdout).to.match(/: 4 items: 1 saved, 0 missing, 3 failed \(2 bad input lines\)\./);
  });

  it('should stream a 100k-line input: peak memory barely grows from 10k to 100k lines', async function () {
    if (!existsSync('/proc/self/status')) this.skip();
    // Refused URLs need no network, so this measures the input and results pipeline alone.
    const write = (n: number): string => {
      const file = path.join(work.dir, `${n}.jsonl`);
      writeFileSync(file, Array.from({ length: n }, (_, i) => `{"url":"ftp://example.invalid/${i}.jpg","postId":"${i}"}`).join('\n'));
      return file;
    };
    const peakKiB = async (input: string): Promise<number> => {
      let peak = 0;
      const run = await runCli(['fetch', input, '-o', path.join(work.dir, 'out'), '-q', '--results', path.join(work.dir, 'r.jsonl')], (child) => {
        const poll = setInterval(() => {
          try {
            const hwm = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
            if (hwm) peak = Math.max(peak, Number(hwm[1]));
          } catch {
            clearInterval(poll);
          }
        }, 25);
        child.once('exit', () => clearInterval(poll));
      });
      expect(run.code).to.equal(1);
      return peak;
    };
    const small = await peakKiB(write(10_000));
    const large = await peakKiB(write(100_000));
    // The results file is rewritten by each run: one line per item of the latest input.
    expect(readFileSync(path.join(work.dir, 'r.jsonl'), 'utf8').split('\n').filter(Boolean)).to.have.length(100_000);
    // Loading the input would cost tens of MiB more for 90k extra lines; streaming stays within noise.
    expect(large - small, `10k: ${small} KiB, 100k: ${large} KiB`).to.be.below(32 * 1024);
  });

  /**
   * Send `signal` to a run once `count` `.part` files are in `out`. The promise, awaited once the run has
   * ended, says why no signal was sent if that never happened (the run is then killed, not left behind).
   */
  const signalOnceParts = (child: ChildProcess, out: string, count: number, signal: NodeJS.Signals): Promise<void> => {
    let exited = false;
    child.once('exit', () => (exited = true));
    const parts = (): number => (existsSync(out) ? readdirSync(out).filter((f) => f.endsWith('.part')).length : 0);
    const sent = waitUntil(
      () => {
        if (exited) throw new Error(`the run ended with ${parts()} of ${count} .part files, before the ${signal}`);
        return parts() >= count;
      },
      { timeoutMs: 30_000, what: `${count} .part files in ${out}` },
    ).then(
      () => void child.kill(signal),
      (error: unknown) => {
        child.kill('SIGKILL');
        throw error;
      },
    );
    sent.catch(() => undefined); // awaited by the test once the run has ended
    return sent;
  };

  it('should stop cleanly on Ctrl-C: exit 130, valid results, resumable .part files, items not started said so', async () => {
    const slow = new FaultServer();
    const base = await slow.start();
    const rows = Array.from({ length: 6 }, (_, i) => {
      // 64 KiB of each body, then nothing until the end of the test: the downloads are running when the signal comes.
      slow.script(`/slow${i}.jpg`, { body: jpegBytes(2 * 1024 * 1024, i + 1), hold: { afterBytes: 64 * 1024 } });
      return { url: `${base}/slow${i}.jpg`, postId: String(i) };
    });
    const out = path.join(work.dir, 'out');
    let signalled: Promise<void> | undefined;
    // Once all three allowed to run (-c 3) have their .part: three interrupted, three never started.
    const run = await runCli(['fetch', writeJsonl(rows), '-o', out, '-c', '3'], (child) => (signalled = signalOnceParts(child, out, 3, 'SIGINT')));
    await signalled;
    await slow.stop();
    expect(run.code, run.stderr).to.equal(130);
    expect(run.stdout).to.match(/Stopping: running downloads keep their \.part files; the next run resumes them\./);
    expect(run.stdout).to.not.match(/--resume/);
    // Three were running (-c 3) and three waited: interrupted and not started, not six failures.
    expect(run.stdout).to.match(/Interrupted after [\d.]+ s: 6 items: 0 saved, 0 missing, 0 failed, 3 interrupted \(the next run resumes them\), 3 not started\./);
    const results = readResults(path.join(out, 'results.jsonl'));
    expect(results).to.have.length(6);
    expect(results.every((r) => r.status === 'error' && r.errorCode === 'ABORTED')).to.equal(true);
    const parts = readdirSync(out).filter((f) => f.endsWith('.part'));
    expect(parts).to.have.length(3);
    for (const part of parts) expect(existsSync(path.join(out, `${part}.json`)), `${part}.json`).to.equal(true);
    expect(readdirSync(out).filter((f) => f.endsWith('.jpg'))).to.deep.equal([]);
    // The ledger still knows them as interrupted downloads.
    const verify = await runCli(['verify', out]);
    expect(verify.stdout.match(/^PARTIAL /gm), verify.stdout).to.have.length(parts.length);
    expect(verify.stdout).to.match(new RegExp(`${parts.length} interrupted downloads`));
  });

  it('should end the same way on SIGTERM, with exit 143', async () => {
    const slow = new FaultServer();
    const base = await slow.start();
    slow.script('/slow.jpg', { body: jpegBytes(2 * 1024 * 1024, 9), hold: { afterBytes: 64 * 1024 } });
    const out = path.join(work.dir, 'out');
    let signalled: Promise<void> | undefined;
    const run = await runCli(['fetch', writeJsonl([{ url: `${base}/slow.jpg`, postId: '1' }]), '-o', out], (child) => (signalled = signalOnceParts(child, out, 1, 'SIGTERM')));
    await signalled;
    await slow.stop();
    expect(run.code, run.stderr).to.equal(143);
    expect(readResults(path.join(out, 'results.jsonl'))).to.have.length(1);
    expect(readdirSync(out).some((f) => f.endsWith('.part'))).to.equal(true);
  });

  it('should stop at the first Ctrl-C while reading a list from stdin that has not ended', async () => {
    const out = path.join(work.dir, 'out');
    let signalledAt = 0;
    const run = await new Promise<{ code: number | null; stdout: string; exitedAt: number }>((resolve) => {
      const child = spawn(process.execPath, [BUILT_CLI, 'fetch', '-', '-o', out], { stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        // One Ctrl-C, once the one line has been saved: the reader now waits for a next line that never comes.
        if (signalledAt === 0 && /saved/.test(stdout)) {
          signalledAt = Date.now();
          child.kill('SIGINT');
        }
      });
      child.stdin.write(`${origin.base}/photo1.jpg\n`);
      child.on('exit', (code) => resolve({ code, stdout, exitedAt: Date.now() }));
    });
    expect(run.code).to.equal(130);
    expect(signalledAt, 'signalled once').to.be.greaterThan(0);
    // The one Ctrl-C ends it: a reader still waiting on stdin would keep the process alive until the test's timeout.
    // Generous: what is measured is that it stops at all, from the signal on, not how fast.
    expect(run.exitedAt - signalledAt).to.be.below(10_000);
    expect(readResults(path.join(out, 'results.jsonl'))).to.have.length(1);
  });

  it('should keep going quietly when whoever reads its output goes away (| head)', async () => {
    const out = path.join(work.dir, 'out');
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, [BUILT_CLI, 'fetch', writeJsonl(origin.inputRows.slice(0, 4)), '-o', out], { stdio: ['ignore', 'pipe', 'pipe'] });
      // Read nothing and close the pipe at once: every write the CLI makes gets EPIPE.
      child.stdout.destroy();
      child.on('exit', resolve);
    });
    expect(code).to.equal(0);
    expect(readResults(path.join(out, 'results.jsonl'))).to.have.length(4);
  });

  for (const [why, args, said] of [
    ['-o naming a file', (dir: string) => ['-o', path.join(dir, 'afile')], /^tumblr-dl: cannot use -o .*afile as the output folder: a file stands where a folder is needed\n$/],
    [
      '-o under a file',
      (dir: string) => ['-o', path.join(dir, 'afile', 'sub')],
      /^tumblr-dl: cannot use -o .*afile\/sub as the output folder: a file stands where a folder is needed\n$/,
    ],
    ['--results naming a folder', (dir: string) => ['-o', path.join(dir, 'out'), '--results', dir], /^tumblr-dl: --results .* is a directory; give a file name\n$/],
  ] as const) {
    it(`should exit 2 with one clear line on ${why}`, async () => {
      writeFileSync(path.join(work.dir, 'afile'), 'not a folder');
      const run = await runCli(['fetch', writeJsonl(origin.inputRows.slice(0, 1)), ...args(work.dir)]);
      expect(run.code).to.equal(2);
      expect(run.stderr).to.match(said);
    });
  }

  it('should exit 2 with one clear line for a damaged ledger, in fetch and in verify', async () => {
    const out = path.join(work.dir, 'out');
    expect((await runCli(['fetch', writeJsonl(origin.inputRows.slice(0, 4)), '-o', out, '-q'])).code).to.equal(0);
    const ledger = path.join(out, '.tumblr-dl', 'ledger.sqlite');
    // Overwrite a page in the middle of the database: SQLite's "database disk image is malformed".
    const bytes = readFileSync(ledger);
    bytes.fill(0x5a, 4096, Math.min(bytes.length, 3 * 4096));
    writeFileSync(ledger, bytes);
    for (const args of [
      ['fetch', writeJsonl(origin.inputRows.slice(0, 4)), '-o', out],
      ['verify', out],
    ]) {
      const run = await runCli(args);
      expect(run.code, args[0]).to.equal(2);
      expect(run.stderr.trim().split('\n'), args[0]).to.have.length(1);
      expect(run.stderr).to.match(/ledger .* (is damaged|malformed)/);
    }
  });

  it('should parse JSON lines strictly and match CSV headers whatever their case', async () => {
    const out = path.join(work.dir, 'out');
    const jsonl = path.join(work.dir, 'strict.jsonl');
    writeFileSync(
      jsonl,
      [
        `{"url":"${origin.base}/photo1.jpg","index":true}`,
        `{"url":"${origin.base}/photo1.jpg","postId":{"a":1}}`,
        '{"url":null}',
        `{"url":"${origin.base}/photo1.jpg","postId":null}`,
      ].join('\n'),
    );
    const strict = await runCli(['fetch', jsonl, '-o', out]);
    expect(readResults(path.join(out, 'results.jsonl')).map((r) => r.errorCode)).to.deep.equal(['BAD_INPUT', 'BAD_INPUT', 'BAD_INPUT', 'BAD_INPUT']);
    expect(strict.stderr).to.match(/"index" must be a string or a whole number, got true/);
    const csv = path.join(work.dir, 'upper.csv');
    writeFileSync(csv, `URL,PostId,MediaType,Index\n${origin.base}/anim.gif,77,gif,2\n`);
    const run = await runCli(['fetch', csv, '-o', out]);
    expect(run.code, run.stderr).to.equal(0);
    expect(readResults(path.join(out, 'results.jsonl'))[0]!.filename).to.match(/^77_2_[0-9a-f]{8}\.gif$/);
  });

  it('should say plainly that the ledger needs the native SQLite module when it cannot load, and exit 2', async () => {
    const run = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ['-r', WITHOUT_SQLITE, BUILT_CLI, 'fetch', writeJsonl(origin.inputRows.slice(0, 1)), '-o', path.join(work.dir, 'out')], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('exit', (code) => resolve({ code, stderr }));
    });
    expect(run.code).to.equal(2);
    expect(run.stderr).to.match(
      /^tumblr-dl: The SQLite ledger needs the native module of better-sqlite3, and it did not load \(Could not locate the bindings file\.\)\. Build it with `npm rebuild better-sqlite3`.*or run with --no-ledger\n$/,
    );
  });
});
