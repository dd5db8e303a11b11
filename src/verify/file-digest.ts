import { createReadStream } from 'node:fs';
import { createHash, type Hash } from 'node:crypto';
import { StructureProbe } from './structure-probe.js';

/**
 * Feed the first `length` bytes of a file into `hash` (and `probe`, when given): after a resume the
 * checksum and the structure check must cover the whole file, not just the bytes of this transfer.
 */
export async function hashPrefix(file: string, length: number, hash: Hash, probe?: StructureProbe): Promise<void> {
  if (length === 0) return;
  for await (const chunk of createReadStream(file, { start: 0, end: length - 1, highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    probe?.update(chunk);
  }
}

/** A fresh SHA-256 hasher. */
export function newSha256(): Hash {
  return createHash('sha256');
}

/** SHA-256 (hex) of the first `size` bytes of a file: the whole file when `size` is its length. */
export async function sha256OfFile(file: string, size: number): Promise<string> {
  // No structure probe here: `verify` hashes whole archives, and only the hash is wanted.
  const hash = newSha256();
  await hashPrefix(file, size, hash);
  return hash.digest('hex');
}

/** SHA-256 of a file and what its structure shows, read once: for judging a file found on disk like a download. */
export async function analyseFile(file: string, size: number): Promise<{ sha256: string; probe: StructureProbe }> {
  const hash = newSha256();
  const probe = new StructureProbe();
  await hashPrefix(file, size, hash, probe);
  return { sha256: hash.digest('hex'), probe };
}
