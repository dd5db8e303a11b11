import { expect } from 'chai';
import { Ajv2020 } from '../support/ajv.js';
import { existsSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { createArchiverHost } from '../../src/host/archiver-host.js';
import { readManifest } from '../../src/host/manifest-loader.js';

import type { ForwardedEvent } from '../../src/host/archiver-host.js';
import { FaultServer } from '../support/fault-server.js';
import { ensureBuilt, ROOT } from '../support/built-package.js';
import { jpegBytes, tempDir } from '../support/fixtures.js';
import { useRealSockets } from '../support/nock-helpers.js';

const MANIFEST = path.join(ROOT, 'plugin.manifest.json');
const token = (name: string): symbol => Symbol.for(`tumblr-media-downloader/${name}`);

interface Downloader {
  downloadImage(url: string, postId: string): Promise<{ status: string; filename: string; errorCode?: string }>;
  close(): Promise<void>;
}

describe('createArchiverHost (plugin loaded through its manifest from dist/)', function () {
  this.timeout(30_000);
  useRealSockets();
  let server: FaultServer;
  let base: string;
  let work: { dir: string; cleanup: () => void };

  before(() => ensureBuilt());

  beforeEach(async () => {
    server = new FaultServer();
    base = await server.start();
    work = tempDir('mdl-host-');
  });

  afterEach(async () => {
    await server.stop();
    work.cleanup();
  });

  it('should load the plugin, apply two DI overrides, and forward its events', async () => {
    const host = createArchiverHost();
    const forwarded: ForwardedEvent[] = [];
    host.events.on('plugin-event', (e) => forwarded.push(e));
    const acquiredKeys: string[] = [];
    const ledgerPath = path.join(work.dir, '.ledger', 'ledger.sqlite');
    await host.loadPlugin(
      MANIFEST,
      { outputDir: work.dir, ledger: { path: ledgerPath } },
      {
        configure: (container) => {
          container.rebind(token('FilenameGenerator')).toConstantValue({ generateFilename: ({ postId }: { postId: string }) => `host-${postId}.jpg` });
          container.rebind(token('RateLimiter')).toConstantValue({
            acquire: async (_n: number, options: { key: string }) => void acquiredKeys.push(options.key),
            cooldown: () => {},
            cooldownUntil: () => undefined,
          });
        },
      },
    );
    server.script('/a.jpg', { body: jpegBytes(5000) });
    server.script('/reblog.jpg', { body: jpegBytes(5000) });
    const downloader = host.container.get<Downloader>(token('MediaDownloader'));
    const result = await downloader.downloadImage(`${base}/a.jpg`, '42');
    const again = await downloader.downloadImage(`${base}/a.jpg`, '42');
    const reblog = await downloader.downloadImage(`${base}/reblog.jpg`, '43');
    await downloader.close();
    await host.container.get<{ close(): Promise<void> }>(token('DownloadLedger')).close();
    expect(result).to.include({ status: 'success', filename: path.join(work.dir, 'host-42.jpg') });
    expect(again).to.include({ status: 'success', skipped: true, filename: result.filename });
    expect(reblog).to.include({ status: 'success', deduplicatedFrom: result.filename });
    expect(existsSync(ledgerPath), 'the ledger path came through the manifest schema').to.equal(true);
    expect(server.requestsFor('/a.jpg')).to.have.length(1);
    expect(acquiredKeys).to.deep.equal(['127.0.0.1', '127.0.0.1']);
    expect(forwarded.map((e) => e.name).filter((n) => n !== 'progress')).to.deep.equal([
      ...['queued', 'started', 'verified', 'completed'],
      ...['queued', 'skipped'],
      ...['queued', 'started', 'verified', 'completed'],
    ]);
    expect(forwarded.every((e) => e.pluginId === 'tumblr-media-downloader')).to.equal(true);
    // Every payload the plugin really sent matches the schema its manifest publishes.
    const manifest = (await readManifest(MANIFEST)).manifest;
    const ajv = new Ajv2020({ strict: false });
    for (const event of forwarded) {
      const schema = manifest.events.find((e) => e.name === event.name)!.payload;
      const validate = ajv.compile(schema);
      expect(validate(JSON.parse(JSON.stringify(event.payload))), `${event.name}: ${ajv.errorsText(validate.errors)}`).to.equal(true);
    }
  });

  it('should refuse a config that breaks the manifest schema, naming every problem', async () => {
    const host = createArchiverHost();
    let error: unknown;
    await host.loadPlugin(MANIFEST, { outputDir: work.dir, maxConcurrent: 0, rateLimit: { scope: 'planet' }, bogus: 1 }).catch((e: unknown) => (error = e));
    expect(error).to.have.property('code', 'INVALID_CONFIG');
    const message = (error as Error).message;
    expect(message).to.include('maxConcurrent must be >= 1');
    expect(message).to.include('rateLimit/scope must be equal to one of the allowed values');
    expect(message).to.include('must NOT have additional properties');
  });

  it('should refuse a manifest written for another host API version', async () => {
    const manifest = JSON.parse((await import('node:fs')).readFileSync(MANIFEST, 'utf8')) as Record<string, unknown>;
    const file = path.join(work.dir, 'future.manifest.json');
    writeFileSync(file, JSON.stringify({ ...manifest, apiVersion: 99 }));
    let error: unknown;
    await createArchiverHost()
      .loadPlugin(file, { outputDir: work.dir })
      .catch((e: unknown) => (error = e));
    expect((error as Error).message).to.equal('Plugin tumblr-media-downloader needs host API version 99; this host supports version 1');
  });
});
