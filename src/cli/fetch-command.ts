import { Container } from 'inversify';
import { resolveDownloaderConfig } from '../config/downloader-config.js';
import type { DownloadResult } from '../model/download-result.js';
import { DownloadEvents } from '../events/download-events.js';
import { downloaderModule } from '../module.js';
import { countLines } from './count-lines.js';
import type { FetchOptions } from './fetch-options.js';
import { collisionWarning, parseFilenameTemplate } from '../naming/filename-template.js';
import { bucketProblem, failer, configOrProblem, downloadRunProblem, inputProblem } from './run-setup.js';
import { closeRun, openRun, type OpenRun } from './open-run.js';
import { inputKind, readInput } from './input/read-input.js';
import { describePosition, lineOf, type BadRow, type MediaRow } from './input/input-entry.js';
import { resultRow, type RowItem } from './result-row.js';
import { writeItemSidecar } from './write-sidecar.js';
import { announcePauses } from './pause-notice.js';
import { ProgressDisplay, type DisplayStream } from './progress-display.js';
import { ResultsFile, ResultsFileError } from './results-file.js';
import { countResult, newTally, type Tally } from './tally.js';
import { withoutUrl } from './without-url.js';
import { explain } from './explain-fs-error.js';
import { EXIT } from './exit-codes.js';
import { downloadRow, errorResult, refusedResult, unsupportedResult } from './download-row.js';
import { MediaStore } from '../store/media-store.js';
import { BucketStore } from '../store/s3/bucket-store.js';
import { objectUrl } from '../store/s3/s3-location.js';
import { CLEANUP_MIN_AGE_MS } from '../store/s3/upload-state.js';

/** Where the command talks to. */
export interface CommandIo {
  stdout: DisplayStream;
  stderr: DisplayStream;
  /** Resolves with the signal when the user asks to stop (Ctrl-C: SIGINT; a service manager: SIGTERM). */
  interrupted: Promise<'SIGINT' | 'SIGTERM'>;
}

/**
 * `tumblr-dl fetch`: stream the input, keep a bounded number of items in
 * flight, write each result to the results file as it completes, and print a
 * summary. Ctrl-C (or SIGTERM) stops reading, aborts running transfers (their
 * `.part` files stay resumable) and still writes the results file.
 */
export async function fetchCommand(options: FetchOptions, io: CommandIo): Promise<number> {
  const fail = failer(io.stderr);
  const config = configOrProblem(() => resolveDownloaderConfig(options.config));
  if (typeof config === 'string') return fail(config);
  const collides = collisionWarning(parseFilenameTemplate(config.filenameTemplate));
  if (collides) io.stderr.write(`${collides}\n`);
  // Before anything is locked, opened or replaced: an input that cannot be read is a usage error.
  const badInput = await inputProblem(options.input);
  if (badInput) return fail(badInput);
  const kind = await inputKind(options.input).catch((error: unknown) => error as Error);
  if (kind instanceof Error) return fail(`cannot read ${options.input}: ${explain(kind)}`);
  const problem = downloadRunProblem(config, options.config.outputDir);
  if (problem) return fail(problem);
  const container = new Container();
  container.load(downloaderModule(config));
  let opened: OpenRun;
  try {
    opened = await openRun(container);
  } catch (error) {
    return fail((error as Error).message);
  }
  const { downloader } = opened;
  const store = container.get(MediaStore);
  const unusableBucket =
    (await bucketProblem(store, config.outputDir, options.quiet ? undefined : io.stdout)) ??
    (options.s3Cleanup && store instanceof BucketStore ? await cleanUpBucket(store, config.outputDir, io.stdout) : undefined);
  if (unusableBucket) {
    await closeRun(opened);
    return fail(unusableBucket);
  }
  let results: ResultsFile;
  try {
    // Written beside the old results and renamed at the end: a failed run never destroys the last one's.
    results = await ResultsFile.open(options.resultsFile);
  } catch (error) {
    // Let go of the ledger and the folder's lock before saying why.
    await closeRun(opened);
    return fail((error as Error).message);
  }
  const tally = newTally(Date.now());
  const display = new ProgressDisplay(io.stdout, tally, { quiet: options.quiet, errors: io.stderr });
  const events = container.get(DownloadEvents);
  const stopLiveBytes = io.stdout.isTTY ? trackLiveBytes(events, tally, display) : () => {};
  // Retries are shown as wget shows them: a flaky origin is visible, not just slow.
  if (!options.quiet) events.on('retrying', (e) => display.line(retryLine(e.url, e.delayMs, e.attempt, e.reason)));
  // A 429/503 that pauses a whole host is said once, with when it resumes: silence would look like a hang.
  if (!options.quiet) announcePauses(events, display);
  const reading = new AbortController();
  // A line count is a total only for a regular file read by lines; a pipe is read once, by the reader.
  if (kind === 'lines') void countLines(options.input, reading.signal).then((lines) => (tally.expected ??= lines));
  let stoppedBy: 'SIGINT' | 'SIGTERM' | undefined;
  void io.interrupted.then((signal) => {
    stoppedBy = signal;
    // Stop reading at once, even while `fetch -` waits for a line on stdin.
    reading.abort();
    display.line('Stopping: running downloads keep their .part files; the next run resumes them.');
    // What the archive could not keep is said once the run is closed (closeRun); not here, mid-stop.
    void downloader.close({ abort: true }).catch(() => undefined);
  });

  const pending = new Set<Promise<void>>();
  // Enough queued work to keep every slot busy, few enough that a 100k-line input is never all in memory.
  const maxPending = config.maxConcurrent * 4;
  let writeFailure: ResultsFileError | undefined;
  const report = async (result: DownloadResult, item?: MediaRow | RowItem): Promise<void> => {
    countResult(tally, result);
    const row = resultRow(result, config.outputDir, item);
    // A bad input line was said on stderr as it was read; its result line is for the results file.
    if (result.errorCode !== 'BAD_INPUT') display.item(row);
    if (options.writeMetadata && item && 'url' in item) await writeItemSidecar(result, item, (line) => display.problem(line), store);
    try {
      await results.write(row);
    } catch (error) {
      // A full disk under the results file: stop starting work; what is running finishes and is in the ledger.
      writeFailure ??= error as ResultsFileError;
      reading.abort();
    }
  };

  let unreadable: Error | undefined;
  try {
    for await (const entry of readInput(options.input, kind, reading.signal)) {
      if (stoppedBy || writeFailure) break;
      if ('warning' in entry) {
        display.problem(`tumblr-dl: ${entry.warning}`);
        continue;
      }
      tally.total++;
      if ('problem' in entry) {
        display.problem(`tumblr-dl: ${describePosition(entry.at)}: ${entry.problem}`);
        await report(badInputResult(entry));
        continue;
      }
      if ('embed' in entry) {
        await report(unsupportedResult(entry.embed, entry.at), entry.embed);
        continue;
      }
      const row = entry;
      const task = downloadRow(downloader, row)
        .catch((error: unknown) => refusedResult(row, error))
        .then((result) => report(result, row))
        .finally(() => pending.delete(task));
      pending.add(task);
      if (pending.size >= maxPending) await Promise.race(pending);
    }
  } catch (error) {
    unreadable = error as Error;
    await downloader.close({ abort: true }).catch(() => undefined);
  }
  tally.inputComplete = !unreadable && !stoppedBy && !writeFailure;
  if (tally.inputComplete) tally.expected = tally.total;
  display.draw(true);
  await Promise.all(pending);
  // The WARC's last file is closed here: records a full disk refused are said once, after the results.
  const archiveProblem = await closeRun(opened).then(
    () => undefined,
    (error: unknown) => error as Error,
  );
  stopLiveBytes();
  const committed = await results.commit().then(
    () => undefined,
    (error: unknown) => error as Error,
  );
  display.summary(stoppedBy !== undefined, results.file);
  display.close();
  if (unreadable) return fail(`cannot read ${options.input}: ${explain(unreadable)}`);
  const resultsProblem = writeFailure ?? committed ?? archiveProblem;
  if (resultsProblem) {
    io.stderr.write(`tumblr-dl: ${resultsProblem.message}\n`);
    return EXIT.someFailed;
  }
  if (stoppedBy) return stoppedBy === 'SIGTERM' ? EXIT.terminated : EXIT.interrupted;
  return tally.failed > 0 ? EXIT.someFailed : EXIT.ok;
}

/**
 * On a terminal, count the bytes of running downloads too and redraw every
 * 250 ms, so a long video does not look like a hang. Returns the stop function.
 */
export function trackLiveBytes(events: DownloadEvents, tally: Tally, display: ProgressDisplay): () => void {
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

/** `retry <url> in 1.0 s (after attempt 1): HTTP 503` — the URL once. */
function retryLine(url: string, delayMs: number, attempt: number, reason: string): string {
  return `retry ${url} in ${(delayMs / 1000).toFixed(1)} s (after attempt ${attempt}): ${withoutUrl(reason, url)}`;
}

/** `--s3-cleanup`: abort the bucket's forgotten unfinished uploads, one line each; the problem in one line, if any. */
async function cleanUpBucket(store: BucketStore, stateFolder: string, out: DisplayStream): Promise<string | undefined> {
  try {
    const report = await store.cleanUpUploads(stateFolder, Date.now());
    if (report.unsupported) out.write(`--s3-cleanup: this server cannot list unfinished uploads: nothing done\n`);
    for (const upload of report.aborted)
      out.write(`aborted unfinished upload ${objectUrl(store.s3Location, upload.key)} (started ${upload.initiated?.toISOString() ?? 'at an unknown time'})\n`);
    if (!report.unsupported) out.write(`--s3-cleanup: ${report.aborted.length} aborted, ${report.kept} kept (resumable here, or < ${CLEANUP_MIN_AGE_MS / 3_600_000} h old)\n`);
    return undefined;
  } catch (error) {
    return `--s3-cleanup: ${(error as Error).message}`;
  }
}

/** The result line of an input entry that could not be understood: every input item gets one. */
function badInputResult(row: BadRow): DownloadResult {
  return errorResult('', 'BAD_INPUT', row.problem, { line: lineOf(row.at), ...(row.at.file === undefined ? {} : { file: row.at.file }) });
}
