import { Transform, type TransformCallback } from 'node:stream';
import type { Hash } from 'node:crypto';
import { SNIFF_LENGTH } from '../verify/media-type.js';

/** Options of {@link ByteMeter}. */
export interface ByteMeterOptions {
  /** Hash that receives every byte passing through. */
  hash: Hash;
  /** Bytes already on disk before this stream (a resumed prefix). */
  offset: number;
  /** First bytes of the file when known from the prefix. */
  head: Buffer;
  /** Abort once the file would exceed this many bytes. */
  maxBytes: number;
  /** Called when the file would exceed {@link maxBytes}; returns the error to fail with. */
  onTooLarge: (bytes: number) => Error;
  /** Called with the file's byte count after each chunk. Must be cheap. */
  onBytes?: (bytes: number) => void;
}

/**
 * Pass-through that hashes, counts and keeps the first bytes of the body while
 * it streams to disk, so nothing has to be read back after the transfer.
 */
export class ByteMeter extends Transform {
  /** Bytes of the whole file so far (prefix included). */
  bytes: number;
  /** First {@link SNIFF_LENGTH} bytes of the file. */
  head: Buffer;

  constructor(private readonly options: ByteMeterOptions) {
    super();
    this.bytes = options.offset;
    this.head = options.head;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const bytes = this.bytes + chunk.length;
    if (bytes > this.options.maxBytes) {
      callback(this.options.onTooLarge(bytes));
      return;
    }
    if (this.head.length < SNIFF_LENGTH) {
      this.head = Buffer.concat([this.head, chunk.subarray(0, SNIFF_LENGTH - this.head.length)]);
    }
    this.options.hash.update(chunk);
    this.bytes = bytes;
    this.options.onBytes?.(bytes);
    callback(null, chunk);
  }
}
