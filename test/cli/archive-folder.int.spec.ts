import { expect } from 'chai';
import { cpSync, existsSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { ensureBuilt } from '../support/built-package.js';
import { FaultServer } from '../support/fault-server.js';
import { listOutput, tempDir } from '../support/fixtures.js';
import { progressiveJpeg } from '../support/media-samples.js';
import { useRealSockets } from '../support/nock-helpers.js';
import { readResults, runCli, type Run } from '../support/run-cli.js';

const Database = createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;

/** The archive folder as a user handles it: moved, copied, reached through a symlink, run twice at once. */
describe('tumblr-dl on an archive folder (built CLI, real server)', function () {
  this.timeout(60_000);
  useRealSockets();
  let server: FaultServer;
  let base: string;
  let work: { dir: string; cleanup: () => void };
  const bodies = [0, 1, 2].map((i) => progressiveJpeg(8_000 + i * 100));

  before(() => ensureBuilt());

  beforeEach(async () => {
    server = new FaultServer();
    base = await server.start();
    bodies.forEach((body, i) => server.script(`/m${i}.jpg`, { body }));
    work = tempDir('mdl-folder-');
  });

  afterEach(async () => {
    await server.stop();
    work.cleanup();
  });

  /** An input file listing `paths` of the server, one post each. */
  function input(paths: string[], name = 'input.jsonl'): string {
    const file = path.join(work.dir, name);
    writeFileSync(file, paths.map((p, i) => JSON.stringify({ url: `${base}${p}`, postId: String(100 + i), mediaType: 'image' })).join('\n') + '\n');
    return file;
  }

  const dir = (name: string): string => path.join(work.dir, name);
  const requests = (): number => server.requests.length;

  it('should refuse a second run on a folder in use: exit 2 at once, one line naming the pid, its ledger never opened, the first run untouched', async () => {
    // The first run's responses wait until the second has been turned away: it holds the folder all along.
    server.holdAll();
    const list = input(['/m0.jpg', '/m1.jpg', '/m2.jpg']);
    let firstPid = 0;
    const first = runCli(['fetch', list, '-o', dir('a'), '-q'], (child) => (firstPid = child.pid!));
    // A ledger of its own, which nothing else would create: the second run must stop before it opens one.
    const secondLedger = path.join(work.dir, 'second-ledger.sqlite');
    // The holder's pid, there while the folder is held and removed when it is let go: "locked now", not "was locked once".
    const lockPid = path.join(dir('a'), '.tumblr-dl', 'lock.pid');
    const readPid = (): string | undefined => (existsSync(lockPid) ? readFileSync(lockPid, 'utf8') : undefined);
    let second: Run;
    let pidWhileHeld: string | undefined;
    let pidAfterRefusal: string | undefined;
    try {
      // The folder is locked before any request is made: once one is here, the folder is the first run's.
      await Promise.race([server.arrived(1), first.then((run) => Promise.reject(new Error(`the first run ended before its first request: ${run.stderr}`)))]);
      pidWhileHeld = readPid();
      second = await runCli(['fetch', list, '-o', dir('a'), '-q', '--ledger', secondLedger]);
      pidAfterRefusal = readPid();
    } finally {
      server.release();
    }
    const done = await first;
    expect(pidWhileHeld, `${lockPid} while the first run held the folder`).to.equal(`${firstPid}\n`);
    expect(pidAfterRefusal, `${lockPid} once the second run was refused`).to.equal(`${firstPid}\n`);
    expect(existsSync(lockPid), `${lockPid} after the first run let the folder go`).to.equal(false);
    expect(second.code).to.equal(2);
    expect(second.stderr).to.equal(`tumblr-dl: ${dir('a')} is in use by another tumblr-dl run (pid ${firstPid})\n`);
    for (const file of [secondLedger, `${secondLedger}-wal`, `${secondLedger}-shm`]) expect(existsSync(file), `the refused run created ${file}`).to.equal(false);
    expect(done.code, done.stderr).to.equal(0);
    expect(readResults(path.join(dir('a'), 'results.jsonl'))).to.have.length(3);
    // The lock went with the first run: a third run gets the folder.
    expect((await runCli(['fetch', list, '-o', dir('a'), '-q'])).code).to.equal(0);
  });

  it('should fetch a URL listed three times once, and give each line its result naming the one file', async () => {
    const run = await runCli(['fetch', input(['/m0.jpg', '/m1.jpg', '/m0.jpg', '/m0.jpg']), '-o', dir('a'), '-q']);
    expect(run.code, run.stderr).to.equal(0);
    expect(server.requestsFor('/m0.jpg')).to.have.length(1);
    const results = readResults(path.join(dir('a'), 'results.jsonl'));
    expect(results).to.have.length(4);
    const m0 = results.filter((r) => r.url.endsWith('/m0.jpg'));
    expect(new Set(m0.map((r) => r.filename)).size).to.equal(1);
    expect(listOutput(dir('a')).filter((f) => f.endsWith('.jpg'))).to.have.length(2);
  });

  it('should verify and skip a moved archive, one reached through a symlink, and a copy, without a request', async () => {
    const list = input(['/m0.jpg', '/m1.jpg', '/m2.jpg']);
    expect((await runCli(['fetch', list, '-o', dir('a'), '-q'])).code).to.equal(0);
    renameSync(dir('a'), dir('b'));
    const verified = await runCli(['verify', dir('b')]);
    expect(verified.code, verified.stdout).to.equal(0);
    expect(verified.stdout).to.match(/^3 files checked: 3 intact, 0 damaged, 0 missing; 0 interrupted downloads$/m);
    const before = requests();
    const again = await runCli(['fetch', list, '-o', dir('b')]);
    expect(again.code).to.equal(0);
    expect(again.stdout).to.match(/3 saved \(3 already there\)/);
    symlinkSync(dir('b'), dir('link'));
    expect((await runCli(['verify', dir('link')])).stdout).to.match(/^3 files checked: 3 intact/m);
    expect((await runCli(['fetch', list, '-o', dir('link'), '-q'])).code).to.equal(0);
    // A plain copy: new modification times, same bytes: read once, then trusted.
    cpSync(dir('b'), dir('copy'), { recursive: true });
    const copied = await runCli(['fetch', list, '-o', dir('copy')]);
    expect(copied.stdout).to.match(/3 saved \(3 already there\)/);
    expect(requests()).to.equal(before);
  });

  it('should keep every name a --force run saves in the ledger, and verify each', async () => {
    const list = input(['/m0.jpg']);
    await runCli(['fetch', list, '-o', dir('a'), '-q']);
    const forced = await runCli(['fetch', list, '-o', dir('a'), '--force', '--dedupe', 'off', '-q']);
    expect(forced.code).to.equal(0);
    const names = listOutput(dir('a')).filter((f) => f.endsWith('.jpg'));
    expect(names).to.have.length(2);
    expect((await runCli(['verify', dir('a')])).stdout).to.match(/^2 files checked: 2 intact/m);
    writeFileSync(path.join(dir('a'), names[0]!), 'gone');
    const damaged = await runCli(['verify', dir('a')]);
    expect(damaged.code).to.equal(1);
    expect(damaged.stdout).to.match(new RegExp(`^DAMAGED  ${names[0]!.replace('.', '\\.')}  4 bytes`, 'm'));
    expect(damaged.stdout).to.match(/^2 files checked: 1 intact, 1 damaged/m);
  });

  describe('a ledger written before paths were relative (schema version 1)', () => {
    /** Rewrite the archive's ledger as version 1 wrote it: absolute paths under `formerRoot`, no files table. */
    function downgrade(archive: string, formerRoot: string): void {
      const db = new Database(path.join(archive, '.tumblr-dl', 'ledger.sqlite'));
      db.exec("UPDATE results SET filename = '" + formerRoot + "/' || filename; DROP TABLE files; PRAGMA user_version = 1;");
      db.close();
    }

    it('should migrate on open, finding the folder the archive was moved from', async () => {
      await runCli(['fetch', input(['/m0.jpg', '/m1.jpg']), '-o', dir('a'), '-q']);
      downgrade(dir('a'), '/mnt/old-disk/archive');
      const verified = await runCli(['verify', dir('a')]);
      expect(verified.code, verified.stdout).to.equal(0);
      expect(verified.stdout).to.match(/^2 files checked: 2 intact/m);
    });

    it('should fail loudly, not check 0 files and pass, when the records point outside the folder', async () => {
      await runCli(['fetch', input(['/m0.jpg', '/m1.jpg']), '-o', dir('a'), '-q']);
      const db = new Database(path.join(dir('a'), '.tumblr-dl', 'ledger.sqlite'));
      db.exec("UPDATE results SET filename = '/somewhere/else/x' || rowid || '.jpg'; DROP TABLE files; PRAGMA user_version = 1;");
      db.close();
      const verified = await runCli(['verify', dir('a')]);
      expect(verified.code).to.equal(1);
      expect(verified.stdout).to.match(/^OUTSIDE {2}2 recorded files are not under .*: this ledger describes another folder/m);
      expect(verified.stdout).to.match(/^0 files checked: 0 intact, 0 damaged, 0 missing, 2 outside the folder/m);
    });
  });
});
