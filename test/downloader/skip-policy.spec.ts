import { expect } from 'chai';
import { statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { resolveDownloaderConfig, type DownloaderConfigInput } from '../../src/config/downloader-config.js';
import { FolderStore } from '../../src/store/folder-store.js';
import { SkipPolicy } from '../../src/downloader/skip-policy.js';
import { TolerantLedger } from '../../src/ledger/tolerant-ledger.js';
import { MemoryDownloadLedger } from '../../src/ledger/memory-download-ledger.js';
import { DefaultVerifier } from '../../src/verify/verifier.js';
import { jpegBytes, sha256, tempDir } from '../support/fixtures.js';
import { requestFor } from '../support/requests.js';

describe(SkipPolicy.name, () => {
  let dir: string;
  let cleanup: () => void;
  let ledger: MemoryDownloadLedger;
  const URL = 'https://64.media.tumblr.com/a/tumblr_a_1280.jpg';

  beforeEach(() => {
    ({ dir, cleanup } = tempDir());
    ledger = new MemoryDownloadLedger();
  });
  afterEach(() => cleanup());

  function policy(config: Partial<DownloaderConfigInput> = {}): SkipPolicy {
    const resolved = resolveDownloaderConfig({ outputDir: dir, ...config });
    return new SkipPolicy(resolved, new TolerantLedger(ledger), new DefaultVerifier(resolved), new FolderStore(resolved));
  }

  async function savedFiles(): Promise<unknown[]> {
    const all: unknown[] = [];
    for await (const file of ledger.files()) all.push(file);
    return all;
  }

  async function recordSaved(name: string, body: Buffer): Promise<string> {
    const file = path.join(dir, name);
    writeFileSync(file, body);
    const entry = { url: URL, mediaType: 'image' as const, filename: file, sha256: sha256(body), bytes: body.length, source: 'tumblr' as const, status: 'success' as const };
    await ledger.record({ ...entry, recordedAt: 1, mtimeMs: statSync(file).mtimeMs, captureTimestamp: '20200101000000' });
    return file;
  }

  describe('.decide', () => {
    it('should find nothing to go on when neither the ledger nor the disk knows the URL', async () => {
      expect(await policy().decide(requestFor(dir, URL, 'a.jpg'))).to.deep.equal({ kind: 'absent' });
    });

    it('should keep a recorded file with its size and time, carrying what the ledger remembers, and write nothing', async () => {
      const body = jpegBytes(4096);
      const file = await recordSaved('a.jpg', body);
      const before = JSON.stringify(await savedFiles());
      const decision = await policy().decide(requestFor(dir, URL, 'a.jpg'));
      expect(decision).to.include({ kind: 'kept', filename: file, checksum: sha256(body), verifiedBy: 'size-and-time', captureTimestamp: '20200101000000' });
      expect(JSON.stringify(await savedFiles())).to.equal(before);
    });

    it('should call a recorded file that was cut damaged, to be replaced under its own name', async () => {
      const file = await recordSaved('a.jpg', jpegBytes(4096));
      writeFileSync(file, jpegBytes(4096).subarray(0, 1000));
      expect(await policy().decide(requestFor(dir, URL, 'a.jpg'))).to.include({ kind: 'damaged', replaces: file });
    });

    it("should adopt an unknown file only with onExisting 'skip' and only when it verifies", async () => {
      writeFileSync(path.join(dir, 'a.jpg'), jpegBytes(4096));
      expect(await policy().decide(requestFor(dir, URL, 'a.jpg'))).to.deep.equal({ kind: 'absent' });
      expect(await policy({ onExisting: 'skip' }).decide(requestFor(dir, URL, 'a.jpg'))).to.include({ kind: 'kept', verifiedBy: 'verifier', detectedFormat: 'jpeg' });
      writeFileSync(path.join(dir, 'b.jpg'), '<!doctype html><html><body>' + 'gone '.repeat(100) + '</body></html>');
      expect(await policy({ onExisting: 'skip' }).decide(requestFor(dir, URL, 'b.jpg'))).to.include({ kind: 'damaged' });
      expect(await savedFiles()).to.have.length(0);
    });

    it('should find a URL saved in this run even with skipping off', async () => {
      const skipOff = policy({ ledger: { skipCompleted: false } });
      await recordSaved('a.jpg', jpegBytes(4096));
      expect(await skipOff.decide(requestFor(dir, URL, 'a.jpg'))).to.deep.equal({ kind: 'absent' });
      skipOff.saved(URL);
      expect(await skipOff.decide(requestFor(dir, URL, 'a.jpg'))).to.include({ kind: 'kept' });
    });
  });
});
