import { expect } from 'chai';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { resolveDownloaderConfig } from '../../../src/config/downloader-config.js';
import type { VerifiedOutcome } from '../../../src/downloader/fetch-outcome.js';
import type { OpenPart } from '../../../src/downloader/disk/open-part.js';
import { PartIndex } from '../../../src/downloader/disk/part-index.js';
import { FolderStore } from '../../../src/store/folder-store.js';
import { Placement } from '../../../src/downloader/disk/placement.js';
import { TolerantLedger } from '../../../src/ledger/tolerant-ledger.js';
import { MemoryDownloadLedger } from '../../../src/ledger/memory-download-ledger.js';
import { jpegBytes, listOutput, sha256, tempDir } from '../../support/fixtures.js';
import { requestFor } from '../../support/requests.js';

describe(Placement.name, () => {
  let dir: string;
  let cleanup: () => void;
  let ledger: MemoryDownloadLedger;
  let placement: Placement;

  beforeEach(() => {
    ({ dir, cleanup } = tempDir());
    ledger = new MemoryDownloadLedger();
    placement = new Placement(
      new FolderStore(resolveDownloaderConfig({ outputDir: dir })),
      resolveDownloaderConfig({ outputDir: dir }).ledger.dedupe,
      new TolerantLedger(ledger),
      new PartIndex(),
    );
  });
  afterEach(() => cleanup());

  function verified(body: Buffer, nameByContent?: string): VerifiedOutcome {
    return {
      part: undefined as unknown as OpenPart,
      sha256: sha256(body),
      byteSize: body.length,
      contentType: 'image/jpeg',
      declaredSize: body.length,
      resumedFrom: 0,
      finalUrl: '',
      hasSidecar: false,
      etag: undefined,
      lastModified: undefined,
      detectedFormat: 'jpeg',
      warnings: [],
      nameByContent,
    };
  }

  /** Reserve a name for `name`, write the `.part` there as a transfer would, and place it. */
  async function download(name: string, body: Buffer, nameByContent?: string): Promise<{ filename: string; deduplicatedFrom?: string; mtimeMs?: number }> {
    const request = requestFor(dir, `https://x.test/${name}`, name);
    const reservation = await placement.reserve(request, undefined);
    writeFileSync(`${reservation.path}.part`, body);
    const sealed = { outcome: verified(body, nameByContent), mtimeMs: statSync(`${reservation.path}.part`).mtimeMs };
    return placement.place(reservation, { partBase: reservation.path, replaces: undefined }, sealed, async (placed) => {
      await ledger.record({
        url: request.url,
        mediaType: 'image',
        filename: placed.filename,
        sha256: sha256(body),
        bytes: body.length,
        source: 'origin',
        status: 'success',
        recordedAt: 1,
      });
      return placed;
    });
  }

  describe('.place', () => {
    it('should give the bytes the name their format asks for, keeping the time the sealed .part had', async () => {
      const placed = await download('a.png', jpegBytes(3000), path.join(dir, 'a.jpg'));
      expect(placed.filename).to.equal(path.join(dir, 'a.jpg'));
      expect(placed.mtimeMs).to.equal(statSync(placed.filename).mtimeMs);
      expect(listOutput(dir)).to.deep.equal(['a.jpg']);
    });

    it('should never clobber a file that appeared under the name meanwhile', async () => {
      const request = requestFor(dir, 'https://x.test/b.jpg', 'b.jpg');
      const reservation = await placement.reserve(request, undefined);
      writeFileSync(`${reservation.path}.part`, jpegBytes(3000, 1));
      writeFileSync(path.join(dir, 'b.jpg'), 'someone else');
      const placed = await placement.place(reservation, { partBase: reservation.path, replaces: undefined }, { outcome: verified(jpegBytes(3000, 1)), mtimeMs: 0 }, async (p) => p);
      expect(placed.filename).to.equal(path.join(dir, 'b_1.jpg'));
      expect(readFileSync(path.join(dir, 'b.jpg'), 'utf8')).to.equal('someone else');
    });

    it('should make twins finishing together one inode: the second placement waits for the first to be recorded', async () => {
      const body = jpegBytes(5000, 9);
      const [first, second] = await Promise.all([download('c.jpg', body), download('d.jpg', body)]);
      // Whichever took the turn first is the original; the other is a link to it.
      const links = [first!, second!].filter((placed) => placed.deduplicatedFrom !== undefined);
      expect(links).to.have.length(1);
      expect([first!.filename, second!.filename]).to.include(links[0]!.deduplicatedFrom);
      expect(statSync(first!.filename).ino).to.equal(statSync(second!.filename).ino);
    });
  });

  describe('.clearLeftovers', () => {
    it('should remove a .part and sidecar left beside a kept file, but not those of a name a download holds', async () => {
      const kept = path.join(dir, 'k.jpg');
      writeFileSync(kept, jpegBytes(3000));
      writeFileSync(`${kept}.part`, jpegBytes(3000));
      writeFileSync(`${kept}.part.json`, '{}');
      await placement.clearLeftovers(kept);
      expect(listOutput(dir)).to.deep.equal(['k.jpg']);
      // Killed between deleting the .part and its sidecar: the sidecar alone.
      const other = path.join(dir, 'o.jpg');
      writeFileSync(other, jpegBytes(3000));
      writeFileSync(`${other}.part.json`, '{}');
      await new Placement(
        new FolderStore(resolveDownloaderConfig({ outputDir: dir })),
        resolveDownloaderConfig({ outputDir: dir }).ledger.dedupe,
        new TolerantLedger(ledger),
        new PartIndex(),
      ).clearLeftovers(other);
      expect(listOutput(dir)).to.deep.equal(['k.jpg', 'o.jpg']);

      const held = await placement.reserve(requestFor(dir, 'https://x.test/h.jpg', 'h.jpg'), undefined);
      writeFileSync(`${held.path}.part`, 'being written');
      await placement.clearLeftovers(held.path);
      expect(listOutput(dir)).to.include('h.jpg.part');
    });
  });
});
