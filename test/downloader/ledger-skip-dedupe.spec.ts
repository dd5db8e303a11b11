import { expect } from 'chai';
import { readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import nock from 'nock';
import type { LedgerConfig } from '../../src/config/downloader-config.js';
import { DownloadLedger } from '../../src/ledger/download-ledger.js';
import { MemoryDownloadLedger } from '../../src/ledger/memory-download-ledger.js';
import { jpegBytes, sha256, listOutput } from '../support/fixtures.js';
import { assertNockDoneAndClean, mediaHeaders, TUMBLR } from '../support/nock-helpers.js';
import { createTestRig, type TestRig } from '../support/test-container.js';

const URL_A = `${TUMBLR}/a/tumblr_a_1280.jpg`;
const URL_B = `${TUMBLR}/b/tumblr_b_1280.jpg`;
const URL_C = `${TUMBLR}/c/tumblr_c_1280.jpg`;

describe('DefaultMediaDownloader with the ledger', () => {
  let rig: TestRig;
  let ledger: MemoryDownloadLedger;

  /** A rig whose ledger is an in-memory one the test can inspect. */
  function rigWith(ledgerConfig: Partial<LedgerConfig> = {}): TestRig {
    return createTestRig({ ledger: ledgerConfig }, (c) => {
      c.rebind(DownloadLedger).to(MemoryDownloadLedger).inSingletonScope();
    });
  }

  beforeEach(() => {
    rig = rigWith();
    ledger = rig.container.get<MemoryDownloadLedger>(DownloadLedger);
  });

  afterEach(async () => {
    await rig.cleanup();
    assertNockDoneAndClean();
  });

  const files = (): string[] => listOutput(rig.dir);
  const serve = (url: string, body: Buffer): nock.Scope => nock(TUMBLR).get(new URL(url).pathname).reply(200, body, mediaHeaders(body));

  describe('skip', () => {
    it('should answer a URL recorded as saved from the ledger, with no request and a skipped event', async () => {
      const body = jpegBytes(3000);
      serve(URL_A, body);
      const first = await rig.downloader.downloadImage(URL_A, '1');
      // No interceptor is left: a second request would fail the download with a nock error.
      const second = await rig.downloader.downloadImage(URL_A, '1');
      expect(second).to.include({ status: 'success', skipped: true, filename: first.filename, checksum: sha256(body), byteSize: 3000, attempts: 0 });
      expect(rig.recorder.names().slice(-2)).to.deep.equal(['queued', 'skipped']);
      expect(rig.recorder.of('skipped')[0]).to.include({ reason: 'ledger' });
      expect(await ledger.lookup(URL_A)).to.include({ status: 'success', filename: first.filename, etag: '"v1"', postId: '1', index: 0 });
    });

    it('should download again when the recorded file was deleted or changed size', async () => {
      const body = jpegBytes(3000);
      serve(URL_A, body);
      serve(URL_A, body);
      serve(URL_A, body);
      const first = await rig.downloader.downloadImage(URL_A, '1');
      writeFileSync(first.filename, body.subarray(0, 100));
      const again = await rig.downloader.downloadImage(URL_A, '1');
      expect(again.skipped).to.equal(undefined);
      expect(again.status).to.equal('success');
      expect(readFileSync(again.filename).equals(body)).to.equal(true);
      unlinkSync(again.filename);
      const third = await rig.downloader.downloadImage(URL_A, '1');
      expect(third).to.include({ status: 'success', filename: again.filename });
      expect(third.skipped).to.equal(undefined);
    });

    it('should download again with skipCompleted off (--force), once per run, keeping every name recorded', async () => {
      await rig.cleanup();
      rig = rigWith({ skipCompleted: false, dedupe: 'off' });
      ledger = rig.container.get<MemoryDownloadLedger>(DownloadLedger);
      const body = jpegBytes(3000);
      serve(URL_A, body);
      serve(URL_A, body);
      const first = await rig.downloader.downloadImage(URL_A, '1');
      // The same URL again in the same run: fetched once, whatever --force says.
      const repeat = await rig.downloader.downloadImage(URL_A, '1');
      expect(repeat).to.include({ skipped: true, filename: first.filename });
      await rig.downloader.close();
      // The next --force run fetches it again, under a new name; the ledger keeps both.
      const next = createTestRig({ outputDir: rig.dir, ledger: { skipCompleted: false, dedupe: 'off' } }, (c) => c.rebind(DownloadLedger).toConstantValue(ledger));
      const second = await next.downloader.downloadImage(URL_A, '1');
      await next.downloader.close();
      expect(second.skipped).to.equal(undefined);
      expect(second.filename).to.not.equal(first.filename);
      expect(files()).to.have.length(2);
      const names: string[] = [];
      for await (const file of ledger.files()) names.push(file.path);
      expect(names).to.deep.equal([first.filename, second.filename]);
    });

    it('should retry a URL recorded as missing or failed', async () => {
      const body = jpegBytes(3000);
      nock(TUMBLR).get(new URL(URL_A).pathname).reply(404);
      serve(URL_A, body);
      expect((await rig.downloader.downloadImage(URL_A, '1')).status).to.equal('missing');
      expect(await ledger.lookup(URL_A)).to.include({ status: 'missing', errorCode: 'MEDIA_NOT_FOUND' });
      expect((await rig.downloader.downloadImage(URL_A, '1')).status).to.equal('success');
    });
  });

  describe('dedupe', () => {
    it('should make a second file with the same bytes a hard link to the first', async () => {
      const body = jpegBytes(5000);
      serve(URL_A, body);
      serve(URL_B, body);
      const first = await rig.downloader.downloadImage(URL_A, '1');
      const second = await rig.downloader.downloadImage(URL_B, '2');
      expect(second).to.include({ status: 'success', deduplicatedFrom: first.filename, checksum: sha256(body) });
      expect(second.filename).to.not.equal(first.filename);
      expect(statSync(second.filename).ino).to.equal(statSync(first.filename).ino);
      expect(statSync(first.filename).nlink).to.equal(2);
      expect(files().filter((f) => f.endsWith('.part'))).to.deep.equal([]);
      expect(await ledger.lookup(URL_B)).to.include({ deduplicatedFrom: first.filename });
    });

    it('should keep its own bytes, noting the twin, with dedupe copy', async () => {
      await rig.cleanup();
      rig = rigWith({ dedupe: 'copy' });
      const body = jpegBytes(5000);
      serve(URL_A, body);
      serve(URL_B, body);
      const first = await rig.downloader.downloadImage(URL_A, '1');
      const second = await rig.downloader.downloadImage(URL_B, '2');
      expect(second.deduplicatedFrom).to.equal(first.filename);
      expect(statSync(second.filename).ino).to.not.equal(statSync(first.filename).ino);
      expect(readFileSync(second.filename).equals(body)).to.equal(true);
    });

    it('should write no new file with dedupe reference, and name the earlier one in the result', async () => {
      await rig.cleanup();
      rig = rigWith({ dedupe: 'reference' });
      const body = jpegBytes(5000);
      serve(URL_A, body);
      serve(URL_B, body);
      const first = await rig.downloader.downloadImage(URL_A, '1');
      const second = await rig.downloader.downloadImage(URL_B, '2');
      expect(second).to.include({ status: 'success', filename: first.filename, deduplicatedFrom: first.filename });
      expect(files()).to.deep.equal([path.basename(first.filename)]);
    });

    it('should not link to an earlier file whose bytes rotted since it was saved', async () => {
      const body = jpegBytes(5000);
      serve(URL_A, body);
      serve(URL_B, body);
      const first = await rig.downloader.downloadImage(URL_A, '1');
      const rotten = Buffer.from(body);
      rotten[4000] = rotten[4000]! ^ 0xff;
      writeFileSync(first.filename, rotten);
      const second = await rig.downloader.downloadImage(URL_B, '2');
      expect(second.deduplicatedFrom).to.equal(undefined);
      expect(statSync(second.filename).nlink).to.equal(1);
      expect(readFileSync(second.filename).equals(body)).to.equal(true);
    });

    it('should leave different bytes alone', async () => {
      serve(URL_A, jpegBytes(5000, 1));
      serve(URL_C, jpegBytes(5000, 2));
      await rig.downloader.downloadImage(URL_A, '1');
      const other = await rig.downloader.downloadImage(URL_C, '3');
      expect(other.deduplicatedFrom).to.equal(undefined);
      expect(statSync(other.filename).nlink).to.equal(1);
    });
  });

  describe('a failing ledger', () => {
    it('should not fail downloads, and should warn once', async () => {
      await rig.cleanup();
      const broken = new MemoryDownloadLedger();
      await broken.close();
      rig = createTestRig({}, (c) => c.rebind(DownloadLedger).toConstantValue(broken));
      const warnings: string[] = [];
      const onWarning = (w: Error): number => warnings.push(w.message);
      process.on('warning', onWarning);
      try {
        serve(URL_A, jpegBytes(3000, 1));
        serve(URL_C, jpegBytes(3000, 2));
        expect((await rig.downloader.downloadImage(URL_A, '1')).status).to.equal('success');
        expect((await rig.downloader.downloadImage(URL_C, '3')).status).to.equal('success');
        await new Promise((resolve) => setImmediate(resolve));
        expect(warnings.filter((w) => w.includes('ledger'))).to.have.length(1);
      } finally {
        process.off('warning', onWarning);
      }
    });
  });
});
