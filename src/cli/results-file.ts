import { createWriteStream, promises as fs, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import * as path from 'node:path';
import type { ResultRow } from './result-row.js';
import { explain } from './explain-fs-error.js';

/** The results file could not be opened or written: one line for the user, no stack trace. */
export class ResultsFileError extends Error {}

/** How long result lines are gathered before they are written together. */
const BATCH_MS = 100;

/**
 * The results JSONL of a run, written to `<file>.tmp` as items finish and renamed over `<file>` at the end:
 * a run that dies (a full disk, a kill) never destroys the previous run's results, and a finished run
 * leaves exactly one line per input item.
 */
export class ResultsFile {
  private failure: Error | undefined;
  /** While lines are being gathered: the timer that writes them. */
  private batch: NodeJS.Timeout | undefined;
  /** While the stream is over its buffer: the one wait for `drain` that every writer shares. */
  private draining: Promise<unknown> | undefined;

  private constructor(
    readonly file: string,
    private readonly temp: string,
    private readonly stream: WriteStream,
  ) {
    stream.on('error', (error) => (this.failure = error));
  }

  /**
   * Open `<file>.tmp` for writing, creating the folder.
   * @throws ResultsFileError when `file` is a directory, or its folder cannot be made or written
   */
  static async open(file: string): Promise<ResultsFile> {
    const target = path.resolve(file);
    const existing = await fs.stat(target).catch(() => undefined);
    if (existing?.isDirectory()) throw new ResultsFileError(`--results ${file} is a directory; give a file name`);
    const temp = `${target}.tmp`;
    try {
      await fs.mkdir(path.dirname(target), { recursive: true });
      const handle = await fs.open(temp, 'w');
      return new ResultsFile(target, temp, createWriteStream(temp, { fd: handle, flush: true }));
    } catch (error) {
      throw new ResultsFileError(`cannot write results to ${file}: ${explain(error)}`);
    }
  }

  /**
   * Append one result line. Lines are gathered and written together every {@link BATCH_MS} (one write
   * call per result was a thread-pool round trip each); the file only takes its name at commit, so
   * nothing is promised about lines before then. @throws ResultsFileError when the disk refused an earlier line
   */
  async write(row: ResultRow): Promise<void> {
    if (this.failure) throw new ResultsFileError(`cannot write results to ${this.file}: ${explain(this.failure)}`);
    if (this.batch === undefined) {
      this.stream.cork();
      this.batch = setTimeout(() => this.flushBatch(), BATCH_MS);
    }
    // `once` rejects if the stream errors while we wait, so a full disk cannot leave this waiting forever.
    if (!this.stream.write(`${JSON.stringify(row)}\n`)) {
      this.flushBatch();
      // One wait shared by every writer held up: a listener pair each would pass Node's limit of 10 at -c 16.
      this.draining ??= once(this.stream, 'drain')
        .catch(() => undefined)
        .finally(() => (this.draining = undefined));
      await this.draining;
    }
  }

  private flushBatch(): void {
    if (this.batch === undefined) return;
    clearTimeout(this.batch);
    this.batch = undefined;
    this.stream.uncork();
  }

  /** Flush, then put the file in place of the previous run's. @throws ResultsFileError */
  async commit(): Promise<void> {
    await this.end();
    if (this.failure) {
      // Half a results file helps nobody and fills a full disk further: the previous one stays.
      await fs.rm(this.temp, { force: true });
      throw new ResultsFileError(`cannot write results to ${this.file}: ${explain(this.failure)}`);
    }
    await fs.rename(this.temp, this.file).catch((error: unknown) => {
      throw new ResultsFileError(`cannot write results to ${this.file}: ${explain(error)}`);
    });
  }

  private async end(): Promise<void> {
    this.flushBatch();
    if (this.stream.closed) return;
    await new Promise<void>((resolve) => this.stream.end(() => resolve()));
  }
}
