import { expect } from 'chai';
import * as path from 'node:path';
import { Container, injectable, injectFromBase } from 'inversify';
import nock from 'nock';
import { DownloaderConfig } from '../src/config/downloader-config.js';
import { DefaultMediaDownloader, MediaDownloader } from '../src/downloader/media-downloader.js';
import { DownloadError } from '../src/errors/download-error.js';
import { IntegrityError } from '../src/errors/integrity-error.js';
import { downloaderModule } from '../src/module.js';
import { DefaultFilenameGenerator, FilenameGenerator, type FilenameContext } from '../src/naming/filename-generator.js';
import { DownloadLedger } from '../src/ledger/download-ledger.js';
import { SqliteDownloadLedger } from '../src/ledger/sqlite-download-ledger.js';
import { RateLimiter, type AcquireOptions } from '../src/rate-limit/rate-limiter.js';
import { ExponentialBackoffRetryStrategy, RetryStrategy } from '../src/retry/retry-strategy.js';
import type { ContentFacts } from '../src/verify/verification-facts.js';
import { DefaultVerifier, Verifier } from '../src/verify/verifier.js';
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ensureBuilt, ROOT } from './support/built-package.js';
import { jpegBytes, tempDir } from './support/fixtures.js';
import { assertNockDoneAndClean, mediaHeaders, TUMBLR } from './support/nock-helpers.js';
import { createTestRig, type TestRig } from './support/test-container.js';

const URL_PATH = '/abc/tumblr_photo.jpg';
const MEDIA_URL = `${TUMBLR}${URL_PATH}`;

// Subclasses of defaults take the base constructor's injections with injectFromBase.
@injectable()
@injectFromBase({ extendConstructorArguments: true })
class BlogFolderNames extends DefaultFilenameGenerator {
  override generateFilename(context: FilenameContext): string {
    return `custom-${super.generateFilename(context)}`;
  }
}

@injectable()
@injectFromBase({ extendConstructorArguments: true })
class RejectEverything extends DefaultVerifier {
  override async verify(facts: ContentFacts): Promise<void> {
    throw new IntegrityError('PLACEHOLDER', `house rule rejects ${facts.url}`, { url: facts.url });
  }
}

@injectable()
class RecordingRateLimiter implements RateLimiter {
  readonly keys: string[] = [];
  async acquire(_n?: number, options?: AcquireOptions): Promise<void> {
    this.keys.push(options?.key ?? '');
  }
  cooldown(): void {}
  cooldownUntil(): number | undefined {
    return undefined;
  }
}

@injectable()
@injectFromBase({ extendConstructorArguments: true })
class NeverRetry extends ExponentialBackoffRetryStrategy {
  override computeDelay() {
    return { retry: false as const, reason: 'host policy: no retries' };
  }
}

@injectable()
@injectFromBase({ extendConstructorArguments: true })
class CountingDownloader extends DefaultMediaDownloader {
  calls = 0;
  override downloadImage(...args: Parameters<DefaultMediaDownloader['downloadImage']>) {
    this.calls++;
    return super.downloadImage(...args);
  }
}

describe('downloaderModule', () => {
  before(() => ensureBuilt());

  let rig: TestRig | undefined;

  afterEach(async () => {
    await rig?.cleanup();
    rig = undefined;
    assertNockDoneAndClean();
  });

  it('should bind every token, each default a singleton', () => {
    const { dir, cleanup } = tempDir();
    const container = new Container();
    container.load(downloaderModule({ outputDir: dir }));
    for (const token of [MediaDownloader, RateLimiter, RetryStrategy, Verifier, FilenameGenerator, DownloadLedger, DownloaderConfig]) {
      expect(container.isBound(token), String(token)).to.equal(true);
    }
    expect(container.get(MediaDownloader)).to.equal(container.get(DefaultMediaDownloader));
    expect(container.get(DownloadLedger)).to.be.instanceOf(SqliteDownloadLedger).and.equal(container.get(SqliteDownloadLedger));
    expect(container.get(MediaDownloader)).to.equal(container.get(MediaDownloader));
    cleanup();
  });

  it('should fail at load time, not later, on a bad config', () => {
    expect(() => downloaderModule({ outputDir: '/tmp/x', maxConcurrent: -3 })).to.throw(DownloadError, 'maxConcurrent');
  });

  it('should use a rebound FilenameGenerator', async () => {
    rig = createTestRig({}, (c) => c.rebind(FilenameGenerator).to(BlogFolderNames).inSingletonScope());
    const body = jpegBytes(2000);
    nock(TUMBLR).get(URL_PATH).reply(200, body, mediaHeaders(body));
    const result = await rig.downloader.downloadImage(MEDIA_URL, '42');
    expect(path.basename(result.filename)).to.match(/^custom-42_0_[0-9a-f]{8}\.jpg$/);
  });

  it('should use a rebound Verifier', async () => {
    rig = createTestRig({}, (c) => c.rebind(Verifier).to(RejectEverything).inSingletonScope());
    const body = jpegBytes(2000);
    nock(TUMBLR).get(URL_PATH).reply(200, body, mediaHeaders(body));
    const result = await rig.downloader.downloadImage(MEDIA_URL, '42');
    expect(result).to.include({ status: 'error', errorCode: 'INTEGRITY' });
    expect(result.errorMessage).to.include('house rule');
  });

  it('should use a rebound RateLimiter, keyed by host', async () => {
    const limiter = new RecordingRateLimiter();
    rig = createTestRig({}, (c) => c.rebind(RateLimiter).toConstantValue(limiter));
    const body = jpegBytes(2000);
    nock(TUMBLR).get(URL_PATH).reply(200, body, mediaHeaders(body));
    await rig.downloader.downloadImage(MEDIA_URL, '42');
    expect(limiter.keys).to.deep.equal(['64.media.tumblr.com']);
  });

  it('should use a rebound RetryStrategy', async () => {
    rig = createTestRig({}, (c) => c.rebind(RetryStrategy).to(NeverRetry).inSingletonScope());
    nock(TUMBLR).get(URL_PATH).reply(503);
    const result = await rig.downloader.downloadImage(MEDIA_URL, '42');
    expect(result).to.include({ status: 'error', attempts: 1 });
  });

  it('should hand out a rebound MediaDownloader subclass', async () => {
    rig = createTestRig({}, (c) => c.rebind(MediaDownloader).to(CountingDownloader).inSingletonScope());
    expect(rig.downloader).to.be.instanceOf(CountingDownloader);
    nock(TUMBLR).get(URL_PATH).reply(404);
    await rig.downloader.downloadImage(MEDIA_URL, '1');
    expect((rig.downloader as CountingDownloader).calls).to.equal(1);
  });

  it('should keep the ledger in memory, with one warning, when the native SQLite module cannot load', () => {
    const work = tempDir();
    try {
      const script = [
        "import 'reflect-metadata';",
        "import { Container } from 'inversify';",
        `import { downloaderModule, DownloadLedger, MediaDownloader } from ${JSON.stringify(pathToFileURL(path.join(ROOT, 'dist', 'index.js')).href)};`,
        'const container = new Container();',
        `container.load(downloaderModule({ outputDir: ${JSON.stringify(work.dir)} }));`,
        'console.log(container.get(DownloadLedger).constructor.name);',
        'await container.get(MediaDownloader).close();',
      ].join('\n');
      const run = spawnSync(process.execPath, ['-r', fileURLToPath(new URL('./support/without-sqlite.cjs', import.meta.url)), '--input-type=module', '-e', script], {
        cwd: ROOT,
        encoding: 'utf8',
      });
      expect(run.status, run.stderr).to.equal(0);
      expect(run.stdout.trim()).to.equal('MemoryDownloadLedger');
      expect(run.stderr.match(/LedgerWarning/g)).to.have.length(1);
      expect(run.stderr).to.match(/npm rebuild better-sqlite3/);
    } finally {
      work.cleanup();
    }
  });
});
