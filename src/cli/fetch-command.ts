import { createWriteStream, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { once } from 'node:events';
import { Container } from 'inversify';
import { resolveDownloaderConfig } from '../config/downloader-config.js';
import type { DownloadResult } from '../downloader/download-result.js';
import { MediaDownloader } from '../downloader/media-downloader.js';
import { DownloadError } from '../errors/download-error.js';
import { DownloadEvents } from '../events/download-events.js';
import { DownloadLedger } from '../ledger/download-ledger.js';
import { downloaderModule } from '../module.js';
import type { FetchOptions } from './fetch-options.js';
import { readInputRows, type MediaRow } from './input-rows.js';
import { ProgressDisplay, type Tally } from './progress-display.js';

/** Exit codes of the CLI. */
export const EXIT = { ok: 0, someFailed: 1, usage: 2, interrupted: 130 } as const;

/** Where the command talks to. */
export interface CommandIo {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  /** Resolves when the user asks to stop (Ctrl-C). */
  interrupted: Promise<void>;
}

/**
 * `tumblr-dl fetch`: stream the input, keep a bounded number of items in
 * flight, append each result to the results JSONL as it completes, and print a
 * summary. Ctrl-C stops reading, aborts running transfers (their `.part` files
 * stay resumable) and still closes the results file cleanly.
 */
export async function fetchCommand(options: FetchOptions, io: CommandIo): Promise<number> {
  let config;
  try {
    config = resolveDownloaderConfig(options.config);
  } catch (error) {
    io.stderr.write(`tumblr-dl: ${(error as Error).message}\n`);
    return EXIT.usage;
  }
  mkdirSync(config.outputDir, { recursive: true });
  mkdirSync(path.dirname(path.resolve(options.resultsFile)), { recursive: true });
  const container = new Container();
  container.load(downloaderModule(config));
  let ledger: DownloadLedger | undefined;
  let downloader: MediaDownloader;
  try {
    ledger = container.get<DownloadLedger>(DownloadLedger);
    // Takes the folder's lock: a second run on the same folder stops here, before it touches a file.
    downloader = container.get<MediaDownloader>(MediaDownloader);
  } catch (error) {
    io.stderr.write(`tumblr-dl: ${(error as Error).message}\n`);
    await ledger?.close();
    return EXIT.usage;
  }
  // Rewritten, not appended: after an interrupted run, the next one lists every item exactly once
  // (what the ledger already holds comes back as `skipped`), instead of a run and a half.
  const results = createWriteStream(options.resultsFile, { flags: 'w' });
  const tally: Tally = {
    done: 0,
    total: 0,
    inputComplete: false,
    succeeded: 0,
    skipped: 0,
    deduplicated: 0,
    repaired: 0,
    warned: 0,
    missing: 0,
    failed: 0,
    bytes: 0,
    inFlightBytes: 0,
    startedAt: Date.now(),
  };
  const display = new ProgressDisplay(io.stdout, tally, options.quiet);
  const stopLiveBytes = io.stdout.isTTY ? trackLiveBytes(container.get<DownloadEvents>(DownloadEvents), tally, display) : () => {};
  let stopping = false;
  void io.interrupted.then(() => {
    stopping = true;
    display.line('Stopping: aborting running downloads; their .part files stay for --resume.');
    void downloader.close({ abort: true });
  });

  const pending = new Set<Promise<void>>();
  // Enough queued work to keep every slot busy, few enough that a 100k-line input is never all in memory.
  const maxPending = config.maxConcurrent * 4;
  const record = async (row: MediaRow): Promise<void> => {
    const result = await start(downloader, row).catch((error: unknown) => abortedResult(row, error));
    tally.done++;
    if (result.status === 'success') {
      tally.succeeded++;
      if (result.skipped) tally.skipped++;
      else tally.bytes += result.byteSize;
      if (result.deduplicatedFrom) tally.deduplicated++;
      if (result.repaired) tally.repaired++;
      if (result.warnings) tally.warned++;
    } else if (result.status === 'missing') tally.missing++;
    else tally.failed++;
    if (!results.write(`${JSON.stringify(result)}\n`)) await once(results, 'drain');
    display.item(result);
  };

  try {
    for await (const row of readInputRows(options.input)) {
      if (stopping) break;
      if ('problem' in row) {
        display.line(`input line ${row.line}: ${row.problem}`);
        tally.failed++;
        continue;
      }
      tally.total++;
      const task = record(row).finally(() => pending.delete(task));
      pending.add(task);
      if (pending.size >= maxPending) await Promise.race(pending);
    }
  } catch (error) {
    io.stderr.write(`tumblr-dl: cannot read ${options.input}: ${(error as Error).message}\n`);
    await downloader.close({ abort: true });
    await Promise.all(pending);
    await ledger.close();
    await closeStream(results);
    return EXIT.usage;
  }
  tally.inputComplete = true;
  display.draw(true);
  await Promise.all(pending);
  await downloader.close();
  await ledger.close();
  stopLiveBytes();
  await closeStream(results);
  display.summary(stopping);
  if (stopping) return EXIT.interrupted;
  return tally.failed > 0 ? EXIT.someFailed : EXIT.ok;
}

/**
 * On a terminal, count the bytes of running downloads too and redraw every
 * 250 ms, so a long video does not look like a hang. Returns the stop function.
 */
function trackLiveBytes(events: DownloadEvents, tally: Tally, display: ProgressDisplay): () => void {
  const running = new Map<string, number>();
  const sum = (): void => {
    tally.inFlightBytes = [...running.values()].reduce((a, b) => a + b, 0);
  };
  events.on('progress', (e) => {
    running.set(e.id, e.bytes);
    sum();
  });
  for (const end of ['completed', 'skipped', 'missing', 'failed'] as const) {
    events.on(end, (e: { id: string }) => {
      running.delete(e.id);
      sum();
    });
  }
  const timer = setInterval(() => display.draw(), 250);
  timer.unref();
  return () => clearInterval(timer);
}

function start(downloader: MediaDownloader, row: MediaRow): Promise<DownloadResult> {
  const options = { index: row.index, metadata: { line: row.line } };
  switch (row.mediaType) {
    case 'video':
      return downloader.downloadVideo(row.url, row.postId, options);
    case 'gif':
      return downloader.downloadGif(row.url, row.postId, options);
    default:
      return downloader.downloadImage(row.url, row.postId, options);
  }
}

/** A row refused because the downloader was already closing (Ctrl-C between read and start). */
function abortedResult(row: MediaRow, error: unknown): DownloadResult {
  const code = DownloadError.isDownloadError(error) ? error.code : 'ABORTED';
  return {
    filename: '',
    byteSize: 0,
    checksum: '',
    duration: 0,
    source: 'origin',
    status: 'error',
    errorCode: code,
    errorMessage: (error as Error).message,
    mediaMissingOnTumblr: false,
    url: row.url,
    attempts: 0,
    resumedFromByte: 0,
    postId: row.postId,
  };
}

async function closeStream(stream: NodeJS.WritableStream): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    stream.end((error?: Error | null) => (error ? reject(error) : resolve()));
  });
}
