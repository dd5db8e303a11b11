import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** A JPEG-looking body of `size` bytes: valid magic, deterministic filler. */
export function jpegBytes(size = 2048, seed = 1): Buffer {
  const body = filler(size, seed);
  body[0] = 0xff;
  body[1] = 0xd8;
  body[2] = 0xff;
  body[3] = 0xe0;
  return body;
}

/** A PNG-looking body of `size` bytes. */
export function pngBytes(size = 2048, seed = 2): Buffer {
  const body = filler(size, seed);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(body);
  return body;
}

/** A GIF89a body of `size` bytes. */
export function gifBytes(size = 512, seed = 3): Buffer {
  const body = filler(size, seed);
  body.write('GIF89a', 0, 'ascii');
  return body;
}

/** An MP4-looking body (ftyp box) of `size` bytes. */
export function mp4Bytes(size = 8192, seed = 4): Buffer {
  const body = filler(size, seed);
  Buffer.from([0, 0, 0, 0x20]).copy(body);
  body.write('ftypisom', 4, 'ascii');
  return body;
}

/** Deterministic pseudo-random bytes (xorshift), incompressible enough for tests. */
export function filler(size: number, seed = 7): Buffer {
  const out = Buffer.allocUnsafe(size);
  let x = seed * 2654435761 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** SHA-256 hex of a buffer. */
export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A fresh temporary directory and a function that removes it. */
export function tempDir(prefix = 'mdl-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
