import type { Hash } from 'node:crypto';
import { SNIFF_LENGTH } from '../../verify/media-formats.js';
import type { StructureProbe } from '../../verify/structure-probe.js';

/** Options of {@link ByteMeter}. */
export interface ByteMeterOptions {
  /** Hash that receives every byte passing through. */
  hash: Hash;
  /** Watches the body's structure; already fed with a resumed prefix, if any. */
  probe: StructureProbe;
  /** Called with the file's size after each chunk, before it is stored: an error returned stops the transfer (too large). */
  check: (bytes: number) => Error | undefined;
  /**
   * Called once, when the first {@link SNIFF_LENGTH} bytes of the file are known: an error returned
   * stops the transfer there (a page where media was asked for costs one chunk, not the whole body).
   */
  onHead?: (head: Buffer) => Error | undefined;
  /** Called with the file's byte count after each chunk. Must be cheap. */
  onBytes?: (bytes: number) => void;
}

/**
 * Hashes, counts and probes the body's structure chunk by chunk while it streams to disk, so nothing
 * has to be read back after the transfer. A plain object the body's writer calls, not a stream stage:
 * a Transform per download cost its own buffering, callbacks and events per chunk.
 */
export class ByteMeter {
  private headJudged: boolean;

  constructor(private readonly options: ByteMeterOptions) {
    this.headJudged = options.onHead === undefined || options.probe.head.length >= SNIFF_LENGTH;
  }

  /** Bytes of the whole file so far (prefix included). */
  get bytes(): number {
    return this.options.probe.bytes;
  }

  /** Take the next chunk of the body. @returns an error that stops the transfer (too large, a refused head), or undefined */
  take(chunk: Buffer): Error | undefined {
    const { probe } = this.options;
    const bytes = probe.bytes + chunk.length;
    const tooLarge = this.options.check(bytes);
    if (tooLarge) return tooLarge;
    probe.update(chunk);
    if (!this.headJudged && probe.head.length >= SNIFF_LENGTH) {
      this.headJudged = true;
      const refusal = this.options.onHead?.(probe.head);
      if (refusal) return refusal;
    }
    this.options.hash.update(chunk);
    this.options.onBytes?.(bytes);
    return undefined;
  }
}
