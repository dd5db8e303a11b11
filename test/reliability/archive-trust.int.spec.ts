import { expect } from 'chai';
import { appendFileSync, existsSync, readFileSync, statSync, symlinkSync, truncateSync, unlinkSync, utimesSync, writeFileSync, lstatSync } from 'node:fs';
import * as path from 'node:path';
import type { DownloaderConfigInput } from '../../src/config/downloader-config.js';
import type { DownloadResult } from '../../src/model/download-result.js';
import { DownloadError } from '../../src/errors/download-error.js';
import { checkRecordedFile } from '../../src/ledger/check-recorded-file.js';
import { DownloadLedger, type LedgerRecord } from '../../src/ledger/download-ledger.js';
import { MediaDownloader } from '../../src/downloader/media-downloader.js';
import { FaultServer } from '../support/fault-server.js';
import { listOutput, sha256, tempDir } from '../support/fixtures.js';
import { progressiveJpeg } from '../support/media-samples.js';
import { useRealSockets } from '../support/nock-helpers.js';
import { createTestRig, type TestRig } from '../support/test-container.js';

// A JPEG laid out as an encoder writes it, so a cut copy has no EOI after its last scan.
const BODY = progressiveJpeg(13_000);

/**
 * Re-runs of one archive, each a fresh container on the same folder with an SQLite ledger file in
 * it, against a real loopback origin: what a re-run does with what it finds on disk.
 */
describe('Reliability: a re-run never launders damage (real server, SQLite ledger file)', function () {
  this.timeout(20_000);
  useRealSockets();
  let server: FaultServer;
  let base: string;
  let work: { dir: string; cleanup: () => void };
  let rig: TestRig | undefined;

  beforeEach(async () => {
    server = new FaultServer();
    base = await server.start();
    server.script('/a.jpg', { body: BODY });
    work = tempDir('mdl-trust-');
  });

  afterEach(async () => {
    await endRun();
    await server.stop();
    work.cleanup();
  });

  /** Start a run on the archive (ending the previous one, which holds the folder). */
  async function startRun(config: Partial<DownloaderConfigInput> = {}): Promise<TestRig> {
    await endRun();
    rig = createTestRig({ outputDir: work.dir, ledger: { path: path.join(work.dir, '.tumblr-dl', 'ledger.sqlite') }, onExisting: 'skip', ...config });
    return rig;
  }

  async function endRun(): Promise<void> {
    if (!rig) return;
    await rig.downloader.close();
    await rig.container.get<DownloadLedger>(DownloadLedger).close();
    rig = undefined;
  }

  async function fetchA(config?: Partial<DownloaderConfigInput>): Promise<{ result: DownloadResult; run: TestRig }> {
    const run = await startRun(config);
    return { result: await run.downloader.downloadImage(`${base}/a.jpg`, '1'), run };
  }

  const recorded = (run: TestRig): Promise<LedgerRecord | undefined> => run.container.get<DownloadLedger>(DownloadLedger).lookup(`${base}/a.jpg`);

  const damages: Array<[string, (file: string) => void]> = [
    ['truncated', (file) => truncateSync(file, 1000)],
    [
      'rewritten in place with the same size (one byte flipped)',
      (file) => {
        const bytes = readFileSync(file);
        bytes[20_000] = bytes[20_000]! ^ 0x01;
        writeFileSync(file, bytes);
        utimesSync(file, new Date(), new Date(Date.now() + 5_000));
      },
    ],
    ['replaced by an HTML page', (file) => writeFileSync(file, '<!doctype html><h1>Not found</h1>')],
    [
      'replaced by a symlink to a text file outside the archive',
      (file) => {
        const outside = path.join(path.dirname(work.dir), `${path.basename(work.dir)}-outside.txt`);
        writeFileSync(outside, 'x'.repeat(BODY.length));
        unlinkSync(file);
        symlinkSync(outside, file);
      },
    ],
    ['deleted', (file) => unlinkSync(file)],
  ];

  for (const [what, damage] of damages) {
    it(`should repair a saved file ${what}: download again, replace it atomically, keep the recorded SHA-256`, async () => {
      const { result: first } = await fetchA();
      damage(first.filename);
      const { result: second, run } = await fetchA();
      expect(second).to.include({ status: 'success', repaired: true, filename: first.filename, checksum: sha256(BODY) });
      expect(second.skipped).to.equal(undefined);
      expect(lstatSync(first.filename).isFile(), 'a regular file again').to.equal(true);
      expect(readFileSync(first.filename).equals(BODY)).to.equal(true);
      expect(run.recorder.of('completed')[0]).to.include({ repaired: true });
      expect(server.requestsFor('/a.jpg')).to.have.length(2);
      expect((await recorded(run))?.sha256).to.equal(sha256(BODY));
      expect(listOutput(work.dir)).to.deep.equal([path.basename(first.filename)]);
    });
  }

  it('should re-hash a copied file (same size, new time) once, skip it, and trust its new time on the next run', async () => {
    const { result: first } = await fetchA();
    utimesSync(first.filename, new Date(), new Date(Date.now() - 86_400_000));
    const { result: second, run } = await fetchA();
    expect(second).to.include({ status: 'success', skipped: true, checksum: sha256(BODY) });
    expect(run.recorder.of('skipped')[0]).to.include({ reason: 'ledger', verifiedBy: 'sha256' });
    const { run: third } = await fetchA();
    expect(third.recorder.of('skipped')[0]).to.include({ verifiedBy: 'size-and-time' });
    expect(server.requestsFor('/a.jpg')).to.have.length(1);
  });

  it('should never let the ledger vouch for bytes it did not verify: a failed repair leaves the damage visible to verify', async () => {
    const { result: first } = await fetchA();
    const bytes = readFileSync(first.filename);
    bytes[100] = bytes[100]! ^ 0xff;
    writeFileSync(first.filename, bytes);
    utimesSync(first.filename, new Date(), new Date(Date.now() + 9_000));
    server.script('/a.jpg', { body: BODY, statusFor: () => ({ status: 404 }) });
    const { result: second, run } = await fetchA();
    expect(second.status).to.equal('missing');
    const record = (await recorded(run))!;
    expect(record).to.include({ status: 'success', sha256: sha256(BODY) });
    expect((await checkRecordedFile(record, { hash: true })).state).to.equal('hash-mismatch');
  });

  describe('a file the ledger does not know under the final name', () => {
    /** The name a download of /a.jpg takes, and the file put there before the first run. */
    async function plant(write: (file: string) => void): Promise<string> {
      const run = await startRun();
      const file = path.join(work.dir, run.downloader.generateFilename(`${base}/a.jpg`, '1', 'image'));
      write(file);
      return file;
    }

    it('should adopt it with no request when it passes the checks of a fresh download, and record it', async () => {
      const file = await plant((f) => writeFileSync(f, BODY));
      const result = await rig!.downloader.downloadImage(`${base}/a.jpg`, '1');
      expect(result).to.include({ status: 'success', skipped: true, filename: file, checksum: sha256(BODY) });
      expect(rig!.recorder.of('skipped')[0]).to.include({ reason: 'existing-file', verifiedBy: 'verifier' });
      expect(server.requestsFor('/a.jpg')).to.have.length(0);
      expect((await recorded(rig!))?.sha256).to.equal(sha256(BODY));
    });

    it('should clear a .part and sidecar a run killed between linking the file and deleting its .part left beside it', async () => {
      const file = await plant((f) => {
        writeFileSync(f, BODY);
        writeFileSync(`${f}.part`, BODY);
        writeFileSync(`${f}.part.json`, JSON.stringify({ url: `${base}/a.jpg`, etag: '"x"', contentLength: BODY.length, bytes: BODY.length }));
      });
      const result = await rig!.downloader.downloadImage(`${base}/a.jpg`, '1');
      expect(result).to.include({ status: 'success', skipped: true, filename: file });
      expect(existsSync(`${file}.part`) || existsSync(`${file}.part.json`), 'leftovers').to.equal(false);
    });

    const untrusted: Array<[string, (file: string) => void]> = [
      ['an HTML page', (f) => writeFileSync(f, `<html>${' '.repeat(5000)}</html>`)],
      ['a JPEG cut short', (f) => writeFileSync(f, BODY.subarray(0, 20_000))],
      ['a known placeholder pixel', (f) => writeFileSync(f, Buffer.from('R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==', 'base64'))],
      [
        'a symlink to a good JPEG outside the archive',
        (f) => {
          const outside = path.join(path.dirname(work.dir), `${path.basename(work.dir)}-outside.jpg`);
          writeFileSync(outside, BODY);
          symlinkSync(outside, f);
        },
      ],
    ];
    for (const [what, write] of untrusted) {
      it(`should replace ${what} with a verified download, never hash or link through it`, async () => {
        const file = await plant(write);
        const result = await rig!.downloader.downloadImage(`${base}/a.jpg`, '1');
        expect(result).to.include({ status: 'success', repaired: true, filename: file, checksum: sha256(BODY) });
        expect(lstatSync(file).isFile()).to.equal(true);
        expect(readFileSync(file).equals(BODY)).to.equal(true);
        expect(server.requestsFor('/a.jpg')).to.have.length(1);
      });
    }
  });

  describe('one writer per folder', () => {
    it('should refuse a second downloader on the same folder in the same process, and allow one after close', async () => {
      const run = await startRun();
      let error: unknown;
      try {
        createTestRig({ outputDir: work.dir });
      } catch (e) {
        error = e;
      }
      expect(DownloadError.isDownloadError(error) && error.code).to.equal('LOCKED');
      expect((error as Error).message).to.equal(`${work.dir} is in use by another tumblr-dl run (pid ${process.pid})`);
      await run.downloader.close();
      const next = createTestRig({ outputDir: work.dir });
      expect(next.container.get<MediaDownloader>(MediaDownloader)).to.equal(next.downloader);
      await next.downloader.close();
    });

    it('should make two URLs with identical bytes finishing at the same moment one file and a hard link', async () => {
      server.script('/twin1.jpg', { body: BODY, headerDelayMs: 30 });
      server.script('/twin2.jpg', { body: BODY, headerDelayMs: 30 });
      const run = await startRun();
      const [one, two] = await Promise.all([run.downloader.downloadImage(`${base}/twin1.jpg`, '1'), run.downloader.downloadImage(`${base}/twin2.jpg`, '2')]);
      expect(statSync(one.filename).ino).to.equal(statSync(two.filename).ino);
      expect(statSync(one.filename).nlink).to.equal(2);
      expect([one.deduplicatedFrom, two.deduplicatedFrom].filter(Boolean)).to.have.length(1);
    });
  });

  describe('hostile headers and URLs', () => {
    it('should cap a host cooldown at maxRetryAfter: "Retry-After: 999999" fails its item, not the host for 11 days', async () => {
      server.script('/slow.jpg', { body: BODY, statusFor: () => ({ status: 429, headers: { 'retry-after': '999999' } }) });
      const run = await startRun({ retry: { maxRetryAfter: 60_000 } });
      const failed = await run.downloader.downloadImage(`${base}/slow.jpg`, '1');
      expect(failed).to.include({ status: 'error', errorCode: 'RATE_LIMITED' });
      const [cooldown] = run.recorder.of('rate-limited');
      expect(cooldown!.untilMs - run.clock.now()).to.be.at.most(60_000);
      const next = await run.downloader.downloadImage(`${base}/a.jpg`, '2');
      expect(next.status).to.equal('success');
      expect(Math.max(...run.clock.sleeps)).to.be.at.most(60_000);
    });

    it('should keep credentials in a URL out of results, the ledger, events and error messages', async () => {
      server.script('/gone.jpg', { body: BODY, statusFor: () => ({ status: 404 }) });
      server.script('/broken.jpg', { body: BODY, statusFor: () => ({ status: 500 }) });
      const run = await startRun({ retry: { maxRetries: 1 } });
      const withSecret = (p: string): string => base.replace('http://', 'http://archivist:hunter2secret@') + p;
      const results = [
        await run.downloader.downloadImage(withSecret('/a.jpg'), '1'),
        await run.downloader.downloadImage(withSecret('/gone.jpg'), '1'),
        await run.downloader.downloadImage(withSecret('/broken.jpg'), '1'),
      ];
      expect(results.map((r) => r.status)).to.deep.equal(['success', 'missing', 'error']);
      const rows: LedgerRecord[] = [];
      for await (const row of run.container.get<DownloadLedger>(DownloadLedger).records()) rows.push(row);
      const events = run.recorder.events.map((e) => ({ ...e.payload, error: (e.payload as { error?: Error }).error?.message }));
      const failedError = run.recorder.of('failed')[0]!.error;
      for (const seen of [JSON.stringify(results), JSON.stringify(rows), JSON.stringify(events), failedError.message, String(failedError.url), String(failedError.cause)]) {
        expect(seen).to.not.include('hunter2secret');
      }
      expect(results[0]!.url).to.equal(withSecret('/a.jpg').replace('archivist:hunter2secret', '***'));
      // The credentials still went where they belong: to the server, as Basic auth.
      expect(server.requestsFor('/a.jpg')).to.have.length(1);
    });
  });

  it('should add no byte to a file it skips, and leave appended bytes to be found as damage', async () => {
    const { result: first } = await fetchA();
    appendFileSync(first.filename, 'tail');
    const { result: second } = await fetchA();
    expect(second.repaired).to.equal(true);
    expect(statSync(first.filename).size).to.equal(BODY.length);
  });
});
