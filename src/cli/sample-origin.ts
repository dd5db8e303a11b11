import { createHash, randomBytes } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PIXEL_GIFS_BASE64 } from '../verify/known-placeholders.js';

/** A running sample origin. */
export interface SampleOrigin {
  /** `http://127.0.0.1:<port>` */
  base: string;
  /** JSONL input rows covering every case the origin stages. */
  inputRows: Array<{ url: string; postId: string; mediaType: 'image' | 'video' | 'gif'; index: number }>;
  close(): Promise<void>;
}

/** Random bytes between a real magic number and a real end (EOI, IEND, trailer), so verification has something true to check. */
function media(magic: number[] | string, size: number, end: number[] = []): Buffer {
  const body = randomBytes(size);
  (typeof magic === 'string' ? Buffer.from(magic, 'ascii') : Buffer.from(magic)).copy(body);
  Buffer.from(end).copy(body, size - end.length);
  return body;
}

/** An MP4 whose top-level boxes add up: `ftyp`, then one `mdat` to the end. */
function mp4(size: number): Buffer {
  const body = media([0, 0, 0, 0x18, 0x66, 0x74, 0x79, 0x70, 0x69, 0x73, 0x6f, 0x6d, 0, 0, 0, 0, 0x69, 0x73, 0x6f, 0x6d, 0x6d, 0x70, 0x34, 0x31], size);
  body.writeUInt32BE(size - 24, 24);
  body.write('mdat', 28, 'ascii');
  return body;
}

/**
 * A local origin for the demo and the CLI tests: good images, a video and a
 * GIF, a placeholder pixel, an HTML login page served as an image, a deleted
 * file (404) and a flaky one (503 with Retry-After, twice). Loopback only.
 * @param port preferred port (`0`: any). When it is taken, any free port is used.
 */
export async function startSampleOrigin(port = 0): Promise<SampleOrigin> {
  const files: Record<string, { body: Buffer; type: string }> = {
    '/photo1.jpg': { body: media([0xff, 0xd8, 0xff, 0xe0], 300_000, [0xff, 0xd9]), type: 'image/jpeg' },
    '/photo2.png': { body: media([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 120_000, [0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]), type: 'image/png' },
    '/clip.mp4': { body: mp4(2_000_000), type: 'video/mp4' },
    '/anim.gif': { body: media('GIF89a', 80_000, [0x3b]), type: 'image/gif' },
    '/removed.gif': { body: Buffer.from(PIXEL_GIFS_BASE64[0], 'base64'), type: 'image/gif' },
    '/login.jpg': { body: Buffer.from('<!doctype html><h1>Please log in</h1>'), type: 'text/html' },
  };
  let flakyCalls = 0;
  const server = http.createServer((req, res) => {
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
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      if (error.code === 'EADDRINUSE' && port !== 0) server.listen(0, '127.0.0.1', resolve);
      else reject(error);
    };
    server.once('error', onError);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', onError);
      resolve();
    });
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const row = (p: string, postId: string, mediaType: 'image' | 'video' | 'gif', index = 0) => ({ url: `${base}${p}`, postId, mediaType, index });
  return {
    base,
    inputRows: [
      row('/photo1.jpg', '1001', 'image'),
      row('/photo2.png', '1001', 'image', 1),
      row('/clip.mp4', '1002', 'video'),
      row('/anim.gif', '1003', 'gif'),
      row('/removed.gif', '1004', 'gif'),
      row('/login.jpg', '1005', 'image'),
      row('/deleted.jpg', '1006', 'image'),
      row('/flaky.jpg', '1007', 'image'),
    ],
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
