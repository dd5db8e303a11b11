import { createReadStream } from 'node:fs';

/**
 * Lines in a file, counted ahead of the reader so the progress bar has a total from the start: a
 * streaming count of newline bytes, flat in memory whatever the size. Blank lines, comments and a CSV
 * header count too, so it is an upper bound, shown as `~N` until the input has been read.
 * @returns the count, or `undefined` for stdin or an unreadable file
 */
export async function countLines(file: string, signal?: AbortSignal): Promise<number | undefined> {
  if (file === '-') return undefined;
  let lines = 0;
  let last = 0x0a;
  try {
    for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024, signal }) as AsyncIterable<Buffer>) {
      for (let at = chunk.indexOf(0x0a); at !== -1; at = chunk.indexOf(0x0a, at + 1)) lines++;
      last = chunk[chunk.length - 1] ?? last;
    }
  } catch {
    return undefined;
  }
  return last === 0x0a ? lines : lines + 1;
}
