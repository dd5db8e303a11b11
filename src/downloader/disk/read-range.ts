import { open } from 'node:fs/promises';

/**
 * `length` bytes of `file` from `position`, in one buffer: for ranges that fit in memory (a small WARC payload,
 * one part of an upload). Fewer only where the file ends first; the caller says what a short file means.
 */
export async function readRange(file: string, position: number, length: number): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.allocUnsafe(length);
    let filled = 0;
    while (filled < length) {
      const { bytesRead } = await handle.read(buffer, filled, length - filled, position + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    // Only what was read is handed back: the rest of an unsafe allocation is whatever memory held.
    return filled === length ? buffer : buffer.subarray(0, filled);
  } finally {
    await handle.close();
  }
}
