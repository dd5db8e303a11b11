import { hostname } from 'node:os';
import { WaitingError, Worker, type Job } from 'bullmq';
import { Container } from 'inversify';
import { resolveDownloaderConfig } from '../config/downloader-config.js';
import { DownloadEvents } from '../events/download-events.js';
import type { DownloadResult } from '../model/download-result.js';
import { downloaderModule } from '../module.js';
import { RateLimiter } from '../rate-limit/rate-limiter.js';
import { BandwidthLimiter } from '../rate-limit/bandwidth-limiter.js';
import type { MediaJob, WorkerResult } from '../scale-out/media-job.js';
import { openMediaQueue, type MediaQueue } from '../scale-out/media-queue.js';
import { oncePerOutage, openRedis, probeRedis, redactRedisUrl } from '../scale-out/redis-connection.js';
import { RedisRateLimiter, RedisRateLimiterOptions } from '../scale-out/redis-rate-limiter.js';
import { RedisBandwidthLimiter, RedisBandwidthOptions } from '../scale-out/redis-bandwidth-limiter.js';
import { checkJobData } from '../scale-out/check-job-data.js';
import { RedisTwinRegistry, RedisTwinRegistryOptions, twinRegistryKey } from '../scale-out/redis-twin-registry.js';
import { parseS3Url, prefixUrl } from '../store/s3/s3-location.js';
import { MediaStore } from '../store/media-store.js';
import { TwinRegistry } from '../store/twin-registry.js';
import { noSuchQueue, queueExists } from '../scale-out/known-queues.js';
import { downloadRow, errorResult, refusedResult } from './download-row.js';
import { EXIT } from './exit-codes.js';
import { trackLiveBytes, type CommandIo } from './fetch-command.js';
import { collisionWarning, parseFilenameTemplate } from '../naming/filename-template.js';
import { resultRow } from './result-row.js';
import { writeItemSidecar } from './write-sidecar.js';
import { bucketProblem, failer, configOrProblem, downloadRunProblem } from './run-setup.js';
import { closeRun, openRun, type OpenRun } from './open-run.js';
import { announcePauses } from './pause-notice.js';
import { ProgressDisplay } from './progress-display.js';
import type { WorkerOptions } from './scale-out-options.js';
import { countResult, newTally } from './tally.js';

/** How often a worker looks at the whole queue's counts (for --exit-when-drained and the status line). */
const QUEUE_POLL_MS = 500;

/**
 * `tumblr-dl worker`: take jobs from the queue and run each through the same {@link MediaDownloader} as
 * `fetch`, into this worker's folder with its ledger and lock, under a request rate and cooldowns shared
 * with every other worker of the queue (the {@link RateLimiter} is rebound to {@link RedisRateLimiter}), and a
 * bandwidth cap shared the same way (`RedisBandwidthLimiter`). With `-o s3://…`, workers on many machines fill one
 * bucket, identical bytes kept once through a registry in Redis (`RedisTwinRegistry`).
 * A failed download completes its job with that result; only a crash is left to BullMQ's retries and
 * stalled-job recovery. SIGINT/SIGTERM abort the running downloads (their `.part` files stay) and put
 * their jobs back in the queue.
 */
export async function workerCommand(options: WorkerOptions, io: CommandIo): Promise<number> {
  const fail = failer(io.stderr);
  // The worker's own --name is its name; its file names are --name-template.
  const config = configOrProblem(() => resolveDownloaderConfig(options.config), { filenameTemplate: '--name-template' });
  if (typeof config === 'string') return fail(config);
  const collides = collisionWarning(parseFilenameTemplate(config.filenameTemplate), '--name-template');
  if (collides) io.stderr.write(`${collides}\n`);
  const problem = downloadRunProblem(config, options.config.outputDir);
  if (problem) return fail(problem);
  const { scaleOut } = config;
  try {
    await probeRedis(scaleOut.redisUrl);
  } catch (error) {
    return fail((error as Error).message);
  }
  const name = options.name ?? `${hostname()}:${config.outputDir}`;
  const tally = newTally(Date.now());
  const display = new ProgressDisplay(io.stdout, tally, { quiet: options.quiet, errors: io.stderr });
  const outage = oncePerOutage(scaleOut.redisUrl, (line) => display.problem(line));
  const redis = openRedis(scaleOut.redisUrl, outage);

  const container = new Container();
  container.load(downloaderModule(config));
  // The DI swap the plugin exists for: one rate and one 429 pause per host for every worker of the queue.
  container.bind(RedisRateLimiterOptions).toConstantValue({ redis, prefix: `tumblr-dl:${scaleOut.queueName}`, ...config.rateLimit });
  container.rebind(RateLimiter).to(RedisRateLimiter).inSingletonScope();
  // And one --limit-rate / --limit-rate-per-host for all of them; with no cap set, the local limiter stays (it costs no Redis).
  if (config.bandwidth.bytesPerSecond > 0 || config.bandwidth.perHostBytesPerSecond > 0) {
    container.bind(RedisBandwidthOptions).toConstantValue({ redis, prefix: `tumblr-dl:${scaleOut.queueName}`, ...config.bandwidth });
    container.rebind(BandwidthLimiter).to(RedisBandwidthLimiter).inSingletonScope();
  }
  // Workers writing into one bucket keep identical bytes once: the first complete object for a SHA-256 wins.
  if (config.store.url !== '') {
    const location = prefixUrl(parseS3Url(config.store.url));
    container.bind(RedisTwinRegistryOptions).toConstantValue({ redis, key: twinRegistryKey(scaleOut.queueName, config.store.endpoint, location) });
    container.rebind(TwinRegistry).to(RedisTwinRegistry).inSingletonScope();
  }
  let opened: OpenRun;
  try {
    // The folder's lock comes first, as in fetch: a second worker on this folder never opens its ledger.
    opened = await openRun(container);
  } catch (error) {
    redis.disconnect();
    return fail((error as Error).message);
  }
  const { downloader } = opened;
  const store = container.get(MediaStore);
  const unusableBucket = await bucketProblem(store, config.outputDir, options.quiet ? undefined : io.stdout);
  if (unusableBucket) {
    await closeRun(opened);
    redis.disconnect();
    return fail(unusableBucket);
  }

  let stoppedBy: 'SIGINT' | 'SIGTERM' | undefined;
  const run = async (job: Job<MediaJob, WorkerResult>, token?: string): Promise<WorkerResult> => {
    const item = checkJobData(job.data);
    const result: DownloadResult =
      typeof item === 'string'
        ? errorResult(String((job.data as { url?: unknown })?.url ?? ''), 'BAD_INPUT', `job ${job.id}: ${item}`, {})
        : await downloadRow(downloader, item).catch((error: unknown) => refusedResult(item, error));
    if (options.writeMetadata && typeof item !== 'string') await writeItemSidecar(result, item, (line) => display.problem(line), store);
    if (stoppedBy && result.status === 'error' && (result.errorCode === 'ABORTED' || result.errorCode === 'CLOSED')) {
      // Not this item's failure: the worker is stopping. The job goes back for whichever worker comes next.
      await job.moveToWait(token);
      throw new WaitingError();
    }
    if (result.status === 'error' && result.errorCode === 'STORE') {
      // The bucket refused the upload: the bytes were fine, the store was not. The job goes back to the queue for
      // another try (BullMQ's attempts, with backoff) instead of completing as this item's failure.
      throw new Error(result.errorMessage ?? 'the bucket refused the upload');
    }
    tally.total++;
    countResult(tally, result);
    display.item(result);
    const row = resultRow(result, config.outputDir, typeof item === 'string' ? undefined : item);
    // `path` is the row's `filename` under the name workers' results have always used.
    return { ...row, worker: name, path: row.filename };
  };
  const worker = new Worker<MediaJob, WorkerResult>(scaleOut.queueName, run, {
    connection: openRedis(scaleOut.redisUrl, outage),
    name,
    // Twice the downloads at once, as fetch keeps work queued: a job holds its place until its result is in the
    // ledger, and the ledger commits results in groups (GroupCommit). With exactly maxConcurrent jobs, the
    // downloads of a group all waited for its commit with the network idle, and jobs came in waves of 16.
    concurrency: config.maxConcurrent * 2,
    lockDuration: scaleOut.lockDurationMs,
    stalledInterval: scaleOut.stalledIntervalMs,
    maxStalledCount: scaleOut.maxStalledCount,
    autorun: false,
  });
  worker.on('error', outage.onError);
  // Workers may well start before the list is enqueued; a misspelt --queue is worth a word all the same.
  const where = redactRedisUrl(scaleOut.redisUrl);
  if (!(await queueExists(redis, scaleOut.queueName))) {
    display.problem(`tumblr-dl: ${await noSuchQueue(redis, scaleOut.queueName, where)}${options.exitWhenDrained ? '' : '; waiting for jobs'}`);
  }
  const queue = openMediaQueue(redis, scaleOut).on('error', outage.onError);
  display.line(`Worker ${name}, ${config.maxConcurrent} at once`);
  display.line(`Queue "${scaleOut.queueName}" at ${where}`);
  const stopLiveBytes = io.stdout.isTTY ? trackLiveBytes(container.get(DownloadEvents), tally, display) : () => {};
  // This worker's own 429/503 pauses (the pause itself is shared with every worker through Redis).
  if (!options.quiet) announcePauses(container.get(DownloadEvents), display);
  void worker.run();

  const stopped = io.interrupted.then((signal) => {
    stoppedBy = signal;
    display.line('Stopping: running jobs go back to the queue; their .part files stay.');
  });
  const watching = new AbortController();
  // The queue's size is watched for the status line, and for --exit-when-drained.
  // The worker saying it found the queue empty is worth a look at once: --exit-when-drained ends then, not up to a poll later.
  // Until it takes a job again, each job that ends may be the last one: each is worth a look too (and no other
  // job end costs a Redis call).
  const drained = { wake: (): void => {} };
  let sawDrained = false;
  worker.on('drained', () => {
    sawDrained = true;
    drained.wake();
  });
  worker.on('active', () => (sawDrained = false));
  const jobEnded = (): void => (sawDrained ? drained.wake() : undefined);
  worker.on('completed', jobEnded).on('failed', jobEnded);
  const watch = options.exitWhenDrained || io.stdout.isTTY ? watchQueue(queue, (left) => (tally.queued = left), options.exitWhenDrained, watching.signal, drained) : undefined;
  await Promise.race([stopped, watch ?? new Promise<never>(() => {})]);
  watching.abort();
  stopLiveBytes();
  const closing = worker.close();
  if (stoppedBy) await downloader.close({ abort: true }).catch(() => undefined);
  await closing;
  const archiveProblem = await closeRun(opened).then(
    () => undefined,
    (error: unknown) => error as Error,
  );
  await queue.close();
  await redis.quit();
  display.summary(stoppedBy !== undefined, 'tumblr-dl status --results <file>');
  display.close();
  if (archiveProblem) {
    io.stderr.write(`tumblr-dl: ${archiveProblem.message}\n`);
    return EXIT.someFailed;
  }
  if (stoppedBy) return stoppedBy === 'SIGTERM' ? EXIT.terminated : EXIT.interrupted;
  return EXIT.ok;
}

/**
 * Report how many jobs are left in the queue (waiting, delayed, prioritized, active: every worker's) every
 * {@link QUEUE_POLL_MS}, and when `drained` is woken (the worker found the queue empty); with `untilDrained`,
 * resolve once that is none. A job held by a dead worker stays active until stalled-job recovery puts it
 * back, so the last worker standing waits for it, takes it and finishes it. Never resolves otherwise;
 * `signal` ends the watch.
 */
async function watchQueue(queue: MediaQueue, report: (left: number) => void, untilDrained: boolean, signal: AbortSignal, drained: { wake: () => void }): Promise<void> {
  while (!signal.aborted) {
    const counts = await queue.getJobCounts('waiting', 'delayed', 'prioritized', 'active', 'waiting-children');
    const left = Object.values(counts).reduce((sum, n) => sum + n, 0);
    report(left);
    if (untilDrained && left === 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, QUEUE_POLL_MS);
      drained.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
  return new Promise<never>(() => {});
}
