import { close, fstat, fsync, open } from 'node:fs';
import { promisify } from 'node:util';

const openFile = promisify(open);
const closeFile = promisify(close);
const syncFile = promisify(fsync);
const statFile = promisify(fstat);

/**
 * A `.part` whose bytes are all written but not yet durable, its descriptor still open. Sealing it
 * (fsync, then the file's modification time, then close) is left to the caller, so the download's
 * network slot can go to the next one while the disk writes this one back: the fsync of a large
 * body no longer holds a connection idle. The time read here is the time the ledger records, so
 * nothing has to stat the file again once it has its final name (link and rename keep the time).
 */
export class OpenPart {
  private sealing: Promise<number> | undefined;
  private closing: Promise<void> | undefined;

  private constructor(readonly fd: number) {}

  /** Open `part` for writing: from scratch, or (`append`) to continue after a kept prefix. */
  static async open(part: string, append: boolean): Promise<OpenPart> {
    return new OpenPart(await openFile(part, append ? 'r+' : 'w'));
  }

  /** Make the bytes durable and close the file; resolves with its modification time (ms). Idempotent. */
  seal(): Promise<number> {
    this.sealing ??= (async () => {
      try {
        await syncFile(this.fd);
        return (await statFile(this.fd)).mtimeMs;
      } finally {
        await this.abandon();
      }
    })();
    return this.sealing;
  }

  /** Close without making anything durable: for bytes that will be deleted or continued later. Idempotent. */
  abandon(): Promise<void> {
    this.closing ??= closeFile(this.fd);
    return this.closing;
  }
}
