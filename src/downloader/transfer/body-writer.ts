import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { Transform } from 'node:stream';
import type { StallConfig } from '../../config/downloader-config.js';
import { DownloadError } from '../../errors/download-error.js';
import type { BodyEncoding } from '../../http/response-headers.js';
import type { ByteMeter } from './byte-meter.js';
import { OpenPart } from '../disk/open-part.js';
import { BodySink, type BodySource, type PaceState } from './body-sink.js';

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
  // A body held back by the bandwidth cap is not a stalled one: the watch does not count the time it waits.
  const held: PaceState = { waiting: false, waitedInWindow: false };
  const watch = watchForStall(meter, stream, stall, url, held);
  try {
    const decoder = decoderFor(target.encoding);
    const sink = new BodySink(part.fd, target.offset, meter, { pace, held, decoder, onWireBytes: target.onWireBytes });
    await sink.drain(stream as BodySource);
    return part;
  } catch (error) {
    await part.abandon();
    throw error;
  } finally {
    clearInterval(watch);
  }
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
