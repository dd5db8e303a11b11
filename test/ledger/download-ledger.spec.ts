import { expect } from 'chai';
import { existsSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { resolveDownloaderConfig } from '../../src/config/downloader-config.js';
import { DownloadError } from '../../src/errors/download-error.js';
import type { DownloadLedger, LedgerEntry, LedgerRecord } from '../../src/ledger/download-ledger.js';
import { MemoryDownloadLedger } from '../../src/ledger/memory-download-ledger.js';
import { openSqlite } from '../../src/ledger/open-sqlite.js';
import { SqliteDownloadLedger } from '../../src/ledger/sqlite-download-ledger.js';
import { tempDir } from '../support/fixtures.js';

/** A successful result for `url`, with overridable facts. */
function saved(url: string, facts: Partial<LedgerEntry> = {}): LedgerEntry {
  return {
    url,
    postId: 'p1',
    index: 0,
    mediaType: 'image',
    filename: `/archive/${url.split('/').pop()}`,
    sha256: 'a'.repeat(64),
    bytes: 1234,
    etag: '"v1"',
    source: 'tumblr',
    status: 'success',
    recordedAt: 1_000,
    ...facts,
  };
}

async function all(ledger: DownloadLedger): Promise<LedgerRecord[]> {
  const rows: LedgerRecord[] = [];
  for await (const row of ledger.records()) rows.push(row);
  return rows;
}

/** The contract every ledger keeps; run against both implementations. */
function ledgerContract(name: string, open: () => { ledger: DownloadLedger; done: () => void }): void {
  describe(name, () => {
    let ledger: DownloadLedger;
    let done: () => void;

    beforeEach(() => ({ ledger, done } = open()));
    afterEach(async () => {
      await ledger.close();
      done();
    });

    describe('.record', () => {
      it('should keep one row per URL with the latest result and the first time it was recorded', async () => {
        await ledger.record(saved('https://x/1.jpg', { status: 'error', errorCode: 'TIMEOUT', sha256: '', bytes: 0, recordedAt: 1 }));
        await ledger.record(saved('https://x/1.jpg', { recordedAt: 5 }));
        const row = await ledger.lookup('https://x/1.jpg');
        expect(row).to.deep.include({ status: 'success', bytes: 1234, etag: '"v1"', firstRecordedAt: 1, recordedAt: 5, postId: 'p1', index: 0 });
        expect(row).to.not.have.property('errorCode');
        expect(await all(ledger)).to.have.length(1);
      });

      it('should not let a later failure replace a success', async () => {
        await ledger.record(saved('https://x/1.jpg'));
        await ledger.record(saved('https://x/1.jpg', { status: 'missing', errorCode: 'MEDIA_NOT_FOUND', sha256: '', bytes: 0, recordedAt: 9 }));
        expect(await ledger.lookup('https://x/1.jpg')).to.deep.include({ status: 'success', recordedAt: 1_000 });
      });

      it('should keep the Wayback source, capture timestamp and deduplication link', async () => {
        await ledger.record(saved('https://x/2.jpg', { source: 'internet_archive', captureTimestamp: '20190102030405', deduplicatedFrom: '/archive/1.jpg' }));
        expect(await ledger.lookup('https://x/2.jpg')).to.deep.include({
          source: 'internet_archive',
          captureTimestamp: '20190102030405',
          deduplicatedFrom: '/archive/1.jpg',
        });
      });
    });

    describe('.findBySha256', () => {
      it('should list successful files with those bytes, oldest first, up to the limit', async () => {
        const sha = 'b'.repeat(64);
        await ledger.record(saved('https://x/1.jpg', { sha256: sha }));
        await ledger.record(saved('https://x/2.jpg', { sha256: 'c'.repeat(64) }));
        await ledger.record(saved('https://x/3.jpg', { sha256: sha }));
        await ledger.record(saved('https://x/4.jpg', { sha256: sha }));
        await ledger.record(saved('https://x/5.jpg', { status: 'error', sha256: sha }));
        expect((await ledger.findBySha256(sha)).map((r) => r.url)).to.deep.equal(['https://x/1.jpg', 'https://x/3.jpg', 'https://x/4.jpg']);
        expect((await ledger.findBySha256(sha, 1)).map((r) => r.url)).to.deep.equal(['https://x/1.jpg']);
        expect(await ledger.findBySha256('d'.repeat(64))).to.deep.equal([]);
      });
    });

    describe('.markStarted', () => {
      it('should list a started transfer as in progress until its result is recorded', async () => {
        await ledger.markStarted({ url: 'https://x/1.jpg', partPath: '/archive/1.jpg.part', startedAt: 7 });
        await ledger.markStarted({ url: 'https://x/2.jpg', partPath: '/archive/2.jpg.part', startedAt: 8 });
        await ledger.record(saved('https://x/1.jpg'));
        expect(await ledger.inProgress()).to.deep.equal([{ url: 'https://x/2.jpg', partPath: '/archive/2.jpg.part', startedAt: 8 }]);
      });

      it('should keep the mark of a failure whose .part stays for resuming', async () => {
        await ledger.markStarted({ url: 'https://x/1.jpg', partPath: '/archive/1.jpg.part', startedAt: 7 });
        await ledger.record({ ...saved('https://x/1.jpg', { status: 'error', errorCode: 'ABORTED', sha256: '', bytes: 0 }), partKept: true });
        expect(await ledger.inProgress()).to.have.length(1);
        expect(await ledger.lookup('https://x/1.jpg')).to.not.have.property('partKept');
      });
    });

    describe('.close', () => {
      it('should make further calls fail with a typed error', async () => {
        await ledger.close();
        const error = await ledger.lookup('https://x/1.jpg').then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(DownloadError.isDownloadError(error), String(error)).to.equal(true);
      });
    });
  });
}

describe('DownloadLedger', () => {
  ledgerContract(MemoryDownloadLedger.name, () => ({ ledger: new MemoryDownloadLedger(), done: () => {} }));

  ledgerContract(SqliteDownloadLedger.name, () => {
    const { dir, cleanup } = tempDir();
    const config = resolveDownloaderConfig({ outputDir: dir, ledger: { path: path.join(dir, 'ledger', 'ledger.sqlite') } });
    return { ledger: new SqliteDownloadLedger(config), done: cleanup };
  });

  describe(`${SqliteDownloadLedger.name} on disk`, () => {
    it('should keep what was recorded across a close and reopen, in WAL mode', async () => {
      const { dir, cleanup } = tempDir();
      try {
        const config = resolveDownloaderConfig({ outputDir: dir, ledger: { path: path.join(dir, 'l.sqlite') } });
        const first = new SqliteDownloadLedger(config);
        await first.record(saved('https://x/1.jpg'));
        expect(existsSync(`${config.ledger.path}-wal`), 'write-ahead log').to.equal(true);
        await first.markStarted({ url: 'https://x/2.jpg', partPath: '/archive/2.jpg.part', startedAt: 3 });
        await first.close();
        const second = new SqliteDownloadLedger(config);
        expect(await second.lookup('https://x/1.jpg')).to.deep.include({ status: 'success', sha256: 'a'.repeat(64) });
        expect(await second.inProgress()).to.have.length(1);
        // The mark an earlier run left goes with this run's result for its URL.
        await second.record(saved('https://x/2.jpg'));
        expect(await second.inProgress()).to.deep.equal([]);
        await second.close();
      } finally {
        cleanup();
      }
    });

    it('should commit results of one turn together, resolve each only once committed, and fail only the bad one', async () => {
      const { dir, cleanup } = tempDir();
      try {
        const config = resolveDownloaderConfig({ outputDir: dir, ledger: { path: path.join(dir, 'l.sqlite') } });
        const ledger = new SqliteDownloadLedger(config);
        const reader = openSqlite(config.ledger.path);
        const committed = (): number => (reader.prepare('SELECT count(*) AS n FROM results').get() as { n: number }).n;
        const good = ['https://x/1.jpg', 'https://x/2.jpg', 'https://x/3.jpg'].map((url) => ledger.record(saved(url)));
        // A NOT NULL column left empty: SQLite refuses this row, and with it the group's transaction.
        const bad = ledger.record({ ...saved('https://x/bad.jpg'), mediaType: null as unknown as 'image' });
        expect(committed(), 'nothing is committed before the group is').to.equal(0);
        await Promise.all(good);
        expect(
          await bad.then(
            () => 'recorded',
            (error: DownloadError) => error.code,
          ),
        ).to.equal('LEDGER');
        expect(committed()).to.equal(3);
        reader.close();
        await ledger.close();
      } finally {
        cleanup();
      }
    });

    it('should commit what is waiting when closed', async () => {
      const { dir, cleanup } = tempDir();
      try {
        const config = resolveDownloaderConfig({ outputDir: dir, ledger: { path: path.join(dir, 'l.sqlite') } });
        const ledger = new SqliteDownloadLedger(config);
        const recorded = ledger.record(saved('https://x/1.jpg'));
        await ledger.close();
        await recorded;
        const reopened = new SqliteDownloadLedger(config);
        expect(await reopened.lookup('https://x/1.jpg')).to.include({ status: 'success' });
        await reopened.close();
      } finally {
        cleanup();
      }
    });

    it('should refuse a file that is not a SQLite database with a LEDGER error', async () => {
      const { dir, cleanup } = tempDir();
      try {
        const file = path.join(dir, 'not-a-db.sqlite');
        writeFileSync(file, 'this is not a database, just text long enough to have a header....'.repeat(20));
        expect(() => new SqliteDownloadLedger(resolveDownloaderConfig({ outputDir: dir, ledger: { path: file } })))
          .to.throw(DownloadError)
          .with.property('code', 'LEDGER');
      } finally {
        cleanup();
      }
    });
  });
});
