import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * A JPEG-looking body of `size` bytes: SOI and APP0 markers, deterministic filler, and the EOI marker
 * at the end, so the structure check sees a whole file (cut it with `subarray` to get a truncated one).
 */
export function jpegBytes(size = 2048, seed = 1): Buffer {
  const body = filler(size, seed);
  body[0] = 0xff;
  body[1] = 0xd8;
  body[2] = 0xff;
  body[3] = 0xe0;
  if (size >= 6) body.writeUInt16BE(0xffd9, size - 2);
  return body;
}

/** The IEND chunk that closes every PNG. */
const PNG_IEND = Buffer.from([0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]);

/** A PNG-looking body of `size` bytes: signature, filler, IEND. */
export function pngBytes(size = 2048, seed = 2): Buffer {
  const body = filler(size, seed);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(body);
  if (size >= 8 + PNG_IEND.length) PNG_IEND.copy(body, size - PNG_IEND.length);
  return body;
}

/** A GIF89a body of `size` bytes, ending in the GIF trailer. */
export function gifBytes(size = 512, seed = 3): Buffer {
  const body = filler(size, seed);
  body.write('GIF89a', 0, 'ascii');
  if (size > 6) body[size - 1] = 0x3b;
  return body;
}

/** An MP4-looking body of `size` bytes: an `ftyp` box (brand `isom`, or `brand`), then one `mdat` box to the end. */
export function mp4Bytes(size = 8192, seed = 4, brand = 'isom'): Buffer {
  const body = filler(size, seed);
  Buffer.from([0, 0, 0, 0x20]).copy(body);
  body.write(`ftyp${brand}`, 4, 'ascii');
  body.fill(0, 12, 16);
  body.write('isommp41mp42avc1', 16, 'ascii');
  if (size >= 40) {
    body.writeUInt32BE(size - 32, 32);
    body.write('mdat', 36, 'ascii');
  }
  return body;
}

/** A WebP body of `size` bytes (even): RIFF header whose size covers the whole body, `WEBP`, a VP8L chunk. */
export function webpBytes(size = 4096, seed = 5): Buffer {
  const body = filler(size, seed);
  body.write('RIFF', 0, 'ascii');
  body.writeUInt32LE(size - 8, 4);
  body.write('WEBPVP8L', 8, 'ascii');
  body.writeUInt32LE(size - 20, 16);
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

/**
 * What a download left in an output folder: every entry but the downloader's own state folder
 * (`.tumblr-dl`, where the folder lock and the CLI's ledger live), sorted.
 */
export function listOutput(dir: string, options: { recursive?: boolean } = {}): string[] {
  return (readdirSync(dir, { recursive: options.recursive ?? false }) as string[]).filter((name) => name.split(/[\\/]/)[0] !== '.tumblr-dl').sort();
}
