import { createWriteStream, open, write, writev } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { StallConfig } from '../../config/downloader-config.js';
import { DownloadError } from '../../errors/download-error.js';
import type { BodyEncoding } from '../../http/response-headers.js';
import type { ByteMeter } from './byte-meter.js';
import { OpenPart } from '../disk/open-part.js';

/** Where one body goes. */
export interface BodyTarget {
  /** The `.part` file. */
  part: string;
  /** Bytes of the `.part` that are kept (the body is written after them). */
  offset: number;
  /** Content-Encoding to undo on the way. */
  encoding: BodyEncoding | undefined;
  /** Counts the bytes as they arrived on the wire, before decoding (for the inflation cap). */
  onWireBytes?: (bytes: number) => void;
}

/**
 * Stream a response body through the meter into the `.part` (after a kept prefix). The part is left
 * open and not yet durable: the caller seals it (fsync before any final name: a crash must never
 * leave a complete-looking file with holes) or abandons it. On failure it is closed here.
 * Aborts with `STALLED` when fewer than `stall.minBytes` arrive in `stall.windowMs`. With `pace`, each
 * chunk waits for it before it is read on: a bandwidth cap, held on the wire by TCP's flow control.
 */
export async function writeBody(
  stream: NodeJS.ReadableStream,
  target: BodyTarget,
  meter: ByteMeter,
  stall: StallConfig,
  url: string,
  pace?: (bytes: number) => Promise<void>,
): Promise<OpenPart> {
  const part = await OpenPart.open(target.part, target.offset > 0);
  // The descriptor outlives the stream, for the seal: the stream is given a close that leaves it open
  // (destroy() closes a descriptor even with autoClose off; a FileHandle stream would make
  // handle.close() wait forever on the stream's reference).
  const out = createWriteStream('', { fd: part.fd, autoClose: false, start: target.offset, highWaterMark: 1024 * 1024, fs: LEAVE_OPEN });
  // A body held back by the bandwidth cap is not a stalled one: the watch does not count the time it waits.
  const held: PaceState = { waiting: false, waitedInWindow: false };
  const watch = watchForStall(meter, stream, stall, url, held);
  try {
    const decoder = decoderFor(target.encoding);
    // Paced on the wire, before decoding: the cap is on the network, whatever the bytes inflate to.
    const source = pace ? [stream, pacer(pace, held)] : [stream];
    if (decoder) await pipeline([...source, wireCounter(target.onWireBytes), decoder, meter, out]);
    else await pipeline([...source, meter, out]);
    return part;
  } catch (error) {
    await part.abandon();
    throw error;
  } finally {
    clearInterval(watch);
  }
}

/** The file-system calls of a write stream, except that closing is the {@link OpenPart}'s business. */
const LEAVE_OPEN = { open, write, writev, close: (_fd: number, callback: (error: NodeJS.ErrnoException | null) => void) => callback(null) };

/** Whether the pacer is holding a chunk back, or did since the stall watch last looked. */
interface PaceState {
  waiting: boolean;
  waitedInWindow: boolean;
}

/** Passes each chunk on once `pace` allows its bytes. */
function pacer(pace: (bytes: number) => Promise<void>, held: PaceState): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      held.waiting = true;
      held.waitedInWindow = true;
      pace(chunk.length).then(
        () => {
          held.waiting = false;
          callback(null, chunk);
        },
        (error: Error) => callback(error),
      );
    },
  });
}

function wireCounter(onWireBytes: ((bytes: number) => void) | undefined): Transform {
  let bytes = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      onWireBytes?.(bytes);
      callback(null, chunk);
    },
  });
}

/** Abort when fewer than `stall.minBytes` arrive within `stall.windowMs`, unless the bandwidth cap held the body back. */
function watchForStall(meter: ByteMeter, stream: NodeJS.ReadableStream, stall: StallConfig, url: string, held: PaceState): NodeJS.Timeout | undefined {
  const { minBytes, windowMs } = stall;
  if (windowMs === 0) return undefined;
  let seen = meter.bytes;
  const timer = setInterval(() => {
    const paced = held.waiting || held.waitedInWindow;
    held.waitedInWindow = false;
    if (meter.bytes - seen < minBytes && !paced) {
      const error = new DownloadError('STALLED', `Fewer than ${minBytes} bytes in ${windowMs} ms: ${url}`, { url, retryable: true });
      (stream as unknown as { destroy(error: Error): void }).destroy(error);
    }
    seen = meter.bytes;
  }, windowMs);
  timer.unref();
  return timer;
}

function decoderFor(encoding: BodyEncoding | undefined): Transform | undefined {
  switch (encoding) {
    case 'gzip':
      return createGunzip();
    case 'deflate':
      return createInflate();
    case 'br':
      return createBrotliDecompress();
    default:
      return undefined;
  }
}
