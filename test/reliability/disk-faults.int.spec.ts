import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Container } from 'inversify';
import { DownloadEvents } from '../../src/events/download-events.js';
import { MediaDownloader } from '../../src/downloader/media-downloader.js';
import { downloaderModule } from '../../src/module.js';
import { EventRecorder } from '../support/event-recorder.js';
import { FaultServer } from '../support/fault-server.js';
import { useRealSockets } from '../support/nock-helpers.js';
import { jpegBytes, listOutput } from '../support/fixtures.js';
import { BUILT_CLI, ensureBuilt } from '../support/built-package.js';

/** Mount a small tmpfs (root only); `undefined` where this machine does not allow it. */
function mountTmpfs(options: string): string | undefined {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mdl-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { stdio: 'ignore' });
    return dir;
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
}

function unmount(dir: string): void {
  execFileSync('umount', [dir], { stdio: 'ignore' });
  rmSync(dir, { recursive: true, force: true });
}

describe('Reliability: disk faults', function () {
  this.timeout(20_000);
  let server: FaultServer;
  let base: string;
  let mounted: string | undefined;

  useRealSockets();

  before(async () => {
    server = new FaultServer();
    base = await server.start();
    server.script('/big.jpg', { body: jpegBytes(2 * 1024 * 1024), etag: '"v1"' });
  });

  after(() => server.stop());

  afterEach(() => {
    if (mounted) unmount(mounted);
    mounted = undefined;
  });

  async function download(outputDir: string): Promise<{ result: Awaited<ReturnType<MediaDownloader['downloadFile']>>; recorder: EventRecorder }> {
    const container = new Container();
    container.load(downloaderModule({ outputDir, retry: { maxRetries: 0 } }));
    const recorder = new EventRecorder(container.get<DownloadEvents>(DownloadEvents));
    const downloader = container.get<MediaDownloader>(MediaDownloader);
    const result = await downloader.downloadFile(`${base}/big.jpg`, 'big.jpg');
    await downloader.close();
    return { result, recorder };
  }

  it('should report ENOSPC as a FILESYSTEM error and keep the resumable part', async function () {
    mounted = mountTmpfs('size=128k');
    if (!mounted) this.skip();
    const { result, recorder } = await download(mounted);
    expect(result).to.include({ status: 'error', errorCode: 'FILESYSTEM' });
    expect(result.errorMessage).to.include('ENOSPC');
    expect(recorder.of('failed')[0]?.error.code).to.equal('FILESYSTEM');
    // Resumable (the origin sent an ETag): the bytes that fitted stay for a later run with more space.
    expect(listOutput(mounted)).to.deep.equal(['big.jpg.part', 'big.jpg.part.json']);
  });

  it('should report a read-only output directory as a FILESYSTEM error and write nothing', async function () {
    mounted = mountTmpfs('size=1m,ro');
    if (!mounted) this.skip();
    const { result } = await download(mounted);
    expect(result).to.include({ status: 'error', errorCode: 'FILESYSTEM', attempts: 1 });
    expect(result.errorMessage).to.include('EROFS');
    expect(listOutput(mounted)).to.deep.equal([]);
  });

  it('should keep the previous results when the disk under the results file fills mid-run (CLI: one line, exit 1)', async function () {
    mounted = mountTmpfs('size=64k');
    if (!mounted) this.skip();
    ensureBuilt();
    const results = path.join(mounted, 'results.jsonl');
    writeFileSync(results, '{"previous":"run"}\n');
    const work = mkdtempSync(path.join(os.tmpdir(), 'mdl-disk-cli-'));
    try {
      // Refused URLs need no network: 400 result lines of ~400 bytes overflow 64 KiB.
      const input = path.join(work, 'input.txt');
      writeFileSync(input, Array.from({ length: 400 }, (_, i) => `ftp://example.invalid/${i}.jpg`).join('\n'));
      const run = spawnSync(process.execPath, [BUILT_CLI, 'fetch', input, '-o', path.join(work, 'out'), '--results', results, '-q'], { encoding: 'utf8' });
      expect(run.status).to.equal(1);
      expect(run.stderr).to.match(/^tumblr-dl: cannot write results to .*results\.jsonl: the disk is full\n$/m);
      expect(readFileSync(results, 'utf8')).to.equal('{"previous":"run"}\n');
      expect(readdirSync(mounted)).to.deep.equal(['results.jsonl']);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('should refuse a read-only output folder (or one to be made under it) with one line and exit 2 (CLI)', async function () {
    mounted = mountTmpfs('size=1m,ro');
    if (!mounted) this.skip();
    ensureBuilt();
    const work = mkdtempSync(path.join(os.tmpdir(), 'mdl-disk-cli-'));
    try {
      const input = path.join(work, 'input.txt');
      writeFileSync(input, `${base}/big.jpg\n`);
      for (const out of [mounted, path.join(mounted, 'sub')]) {
        const run = spawnSync(process.execPath, [BUILT_CLI, 'fetch', input, '-o', out, '--results', path.join(work, 'r.jsonl')], { encoding: 'utf8' });
        expect(run.status, out).to.equal(2);
        expect(run.stderr).to.equal(`tumblr-dl: cannot use -o ${out} as the output folder: the file system is read-only\n`);
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
