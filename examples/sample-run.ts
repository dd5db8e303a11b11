/**
 * The main job on a sample, offline: a local origin serves a handful of
 * generated media (good images, a video, a GIF, a placeholder pixel, an HTML
 * error page, a 404 and a flaky 503), and the plugin, loaded into a plain
 * inversify container as a host would, downloads them all and reports.
 *
 *   npm ci && npm run sample            # files land in ./sample-output
 *   npm run sample -- /some/other/dir
 */
import { createHash, randomBytes } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { Container } from 'inversify';
import { DownloadEvents, downloaderModule, MediaDownloader, type DownloadResult } from '../src/index.js';

/** Random bytes behind a real magic number, so verification has something true to check. */
function media(magic: number[] | string, size: number): Buffer {
  const body = randomBytes(size);
  (typeof magic === 'string' ? Buffer.from(magic, 'ascii') : Buffer.from(magic)).copy(body);
  return body;
}

const PIXEL = Buffer.from('R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==', 'base64');
const files: Record<string, { body: Buffer; type: string }> = {
  '/photo1.jpg': { body: media([0xff, 0xd8, 0xff, 0xe0], 300_000), type: 'image/jpeg' },
  '/photo2.png': { body: media([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 120_000), type: 'image/png' },
  '/clip.mp4': { body: media([0, 0, 0, 0x20, 0x66, 0x74, 0x79, 0x70, 0x69, 0x73, 0x6f, 0x6d], 2_000_000), type: 'video/mp4' },
  '/anim.gif': { body: media('GIF89a', 80_000), type: 'image/gif' },
  '/removed.gif': { body: PIXEL, type: 'image/gif' },
  '/login.jpg': { body: Buffer.from('<!doctype html><h1>Please log in</h1>'), type: 'text/html' },
};
let flakyCalls = 0;

const origin = http.createServer((req, res) => {
  if (req.url === '/flaky.jpg' && ++flakyCalls <= 2) {
    res.writeHead(503, { 'retry-after': '1' }).end();
    return;
  }
  const file = req.url === '/flaky.jpg' ? files['/photo1.jpg'] : files[req.url ?? ''];
  if (!file) {
    res.writeHead(404).end();
    return;
  }
  const etag = `"${createHash('sha1').update(file.body).digest('hex')}"`;
  res.writeHead(200, { 'content-type': file.type, 'content-length': file.body.length, etag }).end(file.body);
});
await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;

const outputDir = path.resolve(process.argv[2] ?? 'sample-output');
const container = new Container();
container.load(downloaderModule({ outputDir, maxConcurrent: 4, retry: { baseBackoff: 200 }, tumblrHosts: ['127.0.0.1'] }));

const events = container.get<DownloadEvents>(DownloadEvents);
events.on('retrying', (e) => console.log(`  retry   ${e.url} in ${e.delayMs} ms (${e.reason})`));
events.on('rate-limited', (e) => console.log(`  pause   ${e.host} until ${new Date(e.untilMs).toISOString()}`));

await using downloader = container.get<MediaDownloader>(MediaDownloader);
console.log(`Downloading 9 sample items from ${base} into ${outputDir}\n`);
const results: DownloadResult[] = await Promise.all([
  downloader.downloadImage(`${base}/photo1.jpg`, '1001'),
  downloader.downloadImage(`${base}/photo2.png`, '1001', { index: 1 }),
  downloader.downloadVideo(`${base}/clip.mp4`, '1002'),
  downloader.downloadGif(`${base}/anim.gif`, '1003'),
  downloader.downloadGif(`${base}/removed.gif`, '1004'),
  downloader.downloadImage(`${base}/login.jpg`, '1005'),
  downloader.downloadImage(`${base}/deleted.jpg`, '1006'),
  downloader.downloadImage(`${base}/flaky.jpg`, '1007'),
  downloader.downloadImage(`${base}/photo1.jpg`, '../../etc/passwd'),
]);

for (const r of results) {
  const what = r.status === 'success' ? `${path.relative(process.cwd(), r.filename)} ${r.byteSize} B sha256:${r.checksum.slice(0, 12)}…` : `${r.errorCode}: ${r.errorMessage}`;
  console.log(`${r.status.padEnd(7)} ${what}`);
}
const ok = results.filter((r) => r.status === 'success').length;
console.log(`\n${ok} saved, ${results.filter((r) => r.status === 'missing').length} missing, ${results.filter((r) => r.status === 'error').length} refused or failed`);
origin.close();
