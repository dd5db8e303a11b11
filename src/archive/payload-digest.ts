import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { ArchiveConfig } from '../config/downloader-config.js';

/**
 * `WARC-Payload-Digest` of a saved file: `sha256:<hex>` is the ledger's SHA-256, already known, so
 * ledger, CDXJ and WARC join on one value; `sha1:<BASE32>` (what older dedupe pipelines expect) costs a
 * read of the file.
 */
export async function fileDigest(algorithm: ArchiveConfig['digest'], sha256: string, file: string): Promise<string> {
  if (algorithm === 'sha256') return `sha256:${sha256}`;
  const hash = createHash('sha1');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return `sha1:${base32(hash.digest())}`;
}

/** The digest of bytes in memory (a 404 page), in the archive's algorithm. */
export function bufferDigest(algorithm: ArchiveConfig['digest'], bytes: Buffer): string {
  const hash = createHash(algorithm).update(bytes).digest();
  return algorithm === 'sha256' ? `sha256:${hash.toString('hex')}` : `sha1:${base32(hash)}`;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 Base32, without padding for a SHA-1 (160 bits are 32 characters exactly). */
export function base32(bytes: Buffer): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out.padEnd(Math.ceil(out.length / 8) * 8, '=');
}
