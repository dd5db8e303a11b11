import { expect } from 'chai';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { Container } from 'inversify';
import { FolderLock, SqliteFolderLock } from '../../../src/downloader/disk/folder-lock.js';
import { MediaDownloader } from '../../../src/downloader/media-downloader.js';
import { DownloadLedger } from '../../../src/ledger/download-ledger.js';
import { downloaderModule } from '../../../src/module.js';
import { tempDir } from '../../support/fixtures.js';

describe(SqliteFolderLock.name, () => {
  let work: ReturnType<typeof tempDir>;
  beforeEach(() => (work = tempDir('mdl-lock-')));
  afterEach(() => work.cleanup());

  /** A container for a downloader writing into `outputDir`, its ledger at `ledgerPath`. */
  function containerFor(outputDir: string, ledgerPath: string): Container {
    const container = new Container();
    container.load(downloaderModule({ outputDir, ledger: { path: ledgerPath } }));
    return container;
  }

  it('should take the folder before the ledger: a second container never opens, creates or migrates its ledger', async () => {
    const folder = path.join(work.dir, 'archive');
    const first = containerFor(folder, path.join(folder, '.tumblr-dl', 'ledger.sqlite'));
    const downloader = first.get(MediaDownloader);
    const otherLedger = path.join(work.dir, 'other-ledger.sqlite');
    const second = containerFor(folder, otherLedger);
    expect(() => second.get(DownloadLedger))
      .to.throw(`${folder} is in use by another tumblr-dl run (pid ${process.pid})`)
      .with.property('code', 'LOCKED');
    expect(() => second.get(MediaDownloader))
      .to.throw()
      .with.property('code', 'LOCKED');
    for (const file of [otherLedger, `${otherLedger}-wal`, `${otherLedger}-shm`]) expect(existsSync(file), file).to.equal(false);
    await downloader.close();
    // Released with the downloader: the next one gets the folder and opens its ledger.
    const third = containerFor(folder, otherLedger);
    await third.get(MediaDownloader).close();
    expect(existsSync(otherLedger)).to.equal(true);
  });

  it('should refuse a damaged ledger of a folder in use with LOCKED, not by reading it', async () => {
    const folder = path.join(work.dir, 'archive');
    const downloader = containerFor(folder, ':memory:').get(MediaDownloader);
    const garbage = path.join(work.dir, 'garbage.sqlite');
    writeFileSync(garbage, 'not a database');
    expect(() => containerFor(folder, garbage).get(DownloadLedger))
      .to.throw()
      .with.property('code', 'LOCKED');
    expect(readFileSync(garbage, 'utf8')).to.equal('not a database');
    await downloader.close();
  });

  it('should let the folder go when its ledger cannot be opened, so the next attempt in this process gets it', async () => {
    const folder = path.join(work.dir, 'archive');
    const garbage = path.join(work.dir, 'garbage.sqlite');
    writeFileSync(garbage, 'not a database');
    expect(() => containerFor(folder, garbage).get(DownloadLedger))
      .to.throw()
      .with.property('code', 'LEDGER');
    expect(existsSync(path.join(folder, '.tumblr-dl', 'lock.pid')), 'lock.pid after the failure').to.equal(false);
    const next = containerFor(folder, path.join(work.dir, 'good.sqlite')).get(MediaDownloader);
    await next.close();
  });

  it('should name the holder in lock.pid while held, and remove it on release', () => {
    const folder = path.join(work.dir, 'archive');
    const lock = new SqliteFolderLock({ outputDir: folder });
    const pidFile = path.join(folder, '.tumblr-dl', 'lock.pid');
    expect(lock.held).to.equal(true);
    expect(readFileSync(pidFile, 'utf8')).to.equal(`${process.pid}\n`);
    lock.release();
    lock.release();
    expect(lock.held).to.equal(false);
    expect(existsSync(pidFile), 'lock.pid after release').to.equal(false);
    const again = new SqliteFolderLock({ outputDir: folder });
    expect(again.held).to.equal(true);
    again.release();
  });

  it('should be the token the downloader releases on close, so a host may rebind it', async () => {
    const folder = path.join(work.dir, 'archive');
    const container = containerFor(folder, ':memory:');
    const released: string[] = [];
    container.rebind(FolderLock).toConstantValue({ folder, held: true, acquire: () => {}, release: () => released.push(folder) });
    await container.get(MediaDownloader).close();
    expect(released).to.deep.equal([folder]);
    expect(existsSync(path.join(folder, '.tumblr-dl', 'lock'))).to.equal(false);
  });
});
