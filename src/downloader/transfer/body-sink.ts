import { finished, type Transform } from 'node:stream';
import { writeFully } from '../disk/write-fully.js';
import type { ByteMeter } from './byte-meter.js';

/**
 * Bytes gathered before the first write: a file of up to this size is written in one call once its body
 * has ended (a write per network chunk was 7 thread-pool round trips per 64 KiB file). Past them, bytes are
 * written as they come (gathered while a write is in flight): a large body that falls silent has every
 * byte it sent on disk, for a resume after a kill. A smaller one is never kept for resuming.
 */
const FIRST_WRITE = 256 * 1024;

/** Most bytes waiting for the disk: beyond, the body is paused until a write has taken them. */
const MAX_PENDING = 1024 * 1024;

/** Whether the pacer is holding the body back, or did since the stall watch last looked. */
export interface PaceState {
  waiting: boolean;
  waitedInWindow: boolean;
}

/** A response body: a readable stream that can be paused, resumed and destroyed. */
export type BodySource = NodeJS.ReadableStream & { destroy(error?: Error): void };

/** What a {@link BodySink} does beyond metering and writing. */
export interface BodySinkOptions {
  /** The bandwidth cap: each chunk off the wire waits for it before the next is read. */
  pace: ((bytes: number) => Promise<void>) | undefined;
  /** Told when the pacer holds the body back, for the stall watch. */
  held: PaceState;
  /** Undoes a Content-Encoding between the wire and the meter. */
  decoder: Transform | undefined;
  /** Counts the bytes as they arrived on the wire, before decoding (for the inflation cap). */
  onWireBytes: ((bytes: number) => void) | undefined;
}

/**
 * One download's body, from the wire to its `.part`: every chunk is paced, decoded, metered (hash,
 * structure, size, progress) and gathered by this one object, then written in batches at explicit
 * positions. It replaces a chain of stream stages (pacer, meter, write stream, and the pipeline joining
 * them), each with its own buffer, callbacks and events per chunk, and the pipeline's AbortController
 * and DOMException per file. The descriptor is the caller's: nothing is closed here, and the promise
 * settles only when no write is in flight, so the caller may close it at once.
 */
export class BodySink {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private position: number;
  private writing = false;
  /** Whether the first write is done: from then on, bytes are written as they come. */
  private eager = false;
  private bodyEnded = false;
  private failure: Error | undefined;
  /** Reasons the source is paused (the pacer, the decoder, the disk): it resumes when none is left. */
  private holds = 0;
  private heldForDisk = false;
  /** Chunks the pacer has not yet let pass: the body is done only once it has let the last one. */
  private pacing = 0;
  private wireBytes = 0;
  private source: BodySource | undefined;
  private settle: (error?: Error) => void = () => {};

  /**
   * @param fd the open `.part`
   * @param offset where the body's first byte goes (after a kept prefix)
   */
  constructor(
    private readonly fd: number,
    offset: number,
    private readonly meter: ByteMeter,
    private readonly options: BodySinkOptions,
  ) {
    this.position = offset;
  }

  /** Take the whole body of `source`; resolves once every byte is written, rejects with the first failure. */
  drain(source: BodySource): Promise<void> {
    this.source = source;
    return new Promise((resolve, reject) => {
      this.settle = (error) => (error ? reject(error) : resolve());
      const { decoder } = this.options;
      source.on('data', (chunk: Buffer) => this.fromWire(chunk));
      finished(source, { writable: false }, (error) => (error ? this.fail(error) : decoder ? decoder.end() : this.ended()));
      if (decoder) {
        decoder.on('data', (chunk: Buffer) => this.fromBody(chunk));
        finished(decoder, { writable: false }, (error) => (error ? this.fail(error) : this.ended()));
      }
    });
  }

  private fromWire(chunk: Buffer): void {
    if (this.failure) return;
    const { pace, held, decoder, onWireBytes } = this.options;
    this.wireBytes += chunk.length;
    onWireBytes?.(this.wireBytes);
    if (pace) {
      held.waiting = true;
      held.waitedInWindow = true;
      this.hold();
      this.pacing++;
      pace(chunk.length).then(
        () => {
          held.waiting = false;
          this.pacing--;
          this.release();
          this.finishIfDone();
        },
        (error: Error) => this.fail(error),
      );
    }
    if (!decoder) this.fromBody(chunk);
    else if (!decoder.write(chunk)) {
      this.hold();
      decoder.once('drain', () => this.release());
    }
  }

  private fromBody(chunk: Buffer): void {
    if (this.failure) return;
    const refusal = this.meter.take(chunk);
    if (refusal) return this.fail(refusal);
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.eager || this.pendingBytes >= FIRST_WRITE) this.flush();
    if (this.pendingBytes >= MAX_PENDING && !this.heldForDisk) {
      this.heldForDisk = true;
      this.hold();
    }
  }

  private ended(): void {
    this.bodyEnded = true;
    this.flush();
    this.finishIfDone();
  }

  /** Write what is gathered, unless a write is in flight (its end writes the rest). */
  private flush(): void {
    if (this.writing || this.pending.length === 0) return;
    const buffers = this.pending;
    const bytes = this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    this.writing = true;
    this.eager = true;
    writeFully(this.fd, buffers, this.position, (error) => {
      this.writing = false;
      if (error) {
        // The disk refused: nothing more is written, the first failure is the one told.
        this.pending = [];
        if (this.failure) return this.settle(this.failure);
        return this.fail(error);
      }
      this.position += bytes;
      if (this.failure) return this.pending.length > 0 ? this.flush() : this.settle(this.failure);
      if (this.heldForDisk && this.pendingBytes < MAX_PENDING) {
        this.heldForDisk = false;
        this.release();
      }
      this.flush();
      this.finishIfDone();
    });
  }

  private finishIfDone(): void {
    if (this.bodyEnded && !this.writing && this.pending.length === 0 && this.pacing === 0 && !this.failure) this.settle();
  }

  /**
   * Stop at the first failure: the source is destroyed, the bytes already metered are written (an
   * interrupted `.part` keeps every byte its hash covers, to be continued), and the promise settles once
   * no write is in flight.
   */
  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    this.source?.destroy();
    this.options.decoder?.destroy();
    if (this.writing) return;
    if (this.pending.length > 0) this.flush();
    else this.settle(error);
  }

  private hold(): void {
    if (this.holds++ === 0) this.source?.pause();
  }

  private release(): void {
    if (--this.holds === 0 && !this.failure) this.source?.resume();
  }
}
