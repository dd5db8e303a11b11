import { resolveScaleOutConfig } from '../config/downloader-config.js';
import type { WorkerResult } from '../scale-out/media-job.js';
import { openMediaQueue, type MediaQueue } from '../scale-out/media-queue.js';
import { oncePerOutage, openRedis, probeRedis, redactRedisUrl } from '../scale-out/redis-connection.js';
import { checkJobData } from '../scale-out/check-job-data.js';
import { noSuchQueue, queueExists } from '../scale-out/known-queues.js';
import type { DownloadResult } from '../model/download-result.js';
import { errorResult, itemErrorResult } from './download-row.js';
import { EXIT } from './exit-codes.js';
import type { DisplayStream } from './progress-display.js';
import { failer, configOrProblem } from './run-setup.js';
import { ResultsFile } from './results-file.js';
import type { StatusOptions } from './scale-out-options.js';

/** Jobs read from Redis per round trip when exporting results. */
const PAGE = 1_000;

/**
 * `tumblr-dl status`: the queue's counts, its throughput over the last minute and ten minutes (from the
 * completed set, which Redis keeps ordered by finishing time), the connected workers, and with
 * `--results` every finished item's result as JSONL.
 */
export async function statusCommand(options: StatusOptions, stdout: DisplayStream, stderr: DisplayStream): Promise<number> {
  const fail = failer(stderr);
  const config = configOrProblem(() => resolveScaleOutConfig(options.scaleOut));
  if (typeof config === 'string') return fail(config);
  try {
    await probeRedis(config.redisUrl);
  } catch (error) {
    return fail((error as Error).message);
  }
  const outage = oncePerOutage(config.redisUrl, (line) => stderr.write(`${line}\n`));
  const redis = openRedis(config.redisUrl, outage);
  // Asked before the queue is opened, since opening it creates it: a misspelt --queue should say so.
  if (!(await queueExists(redis, config.queueName))) {
    const message = await noSuchQueue(redis, config.queueName, redactRedisUrl(config.redisUrl));
    await redis.quit();
    return fail(message, EXIT.someFailed);
  }
  const queue = openMediaQueue(redis, config).on('error', outage.onError);
  try {
    const counts = await queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed');
    const now = Date.now();
    const completedKey = queue.toKey('completed');
    const [lastMinute, lastTen, workers] = await Promise.all([
      redis.zcount(completedKey, now - 60_000, '+inf'),
      redis.zcount(completedKey, now - 600_000, '+inf'),
      // CLIENT LIST, which a managed Redis may refuse: the counts matter more than the names.
      queue.getWorkers().catch(() => undefined),
    ]);
    const waiting = (counts.waiting ?? 0) + (counts.prioritized ?? 0);
    stdout.write(
      `Queue "${config.queueName}" at ${redactRedisUrl(config.redisUrl)}\n` +
        `  waiting ${waiting}, delayed ${counts.delayed ?? 0}, active ${counts.active ?? 0}, completed ${counts.completed ?? 0}, failed ${counts.failed ?? 0}\n` +
        `  throughput: ${lastMinute} items in the last minute, ${(lastTen / 10).toFixed(1)}/min over the last 10 minutes\n` +
        `  workers connected: ${workers === undefined ? 'unknown (CLIENT LIST refused)' : `${workers.length}${workers.length > 0 ? ` (${workers.map((w) => w.name || w.addr).join(', ')})` : ''}`}\n`,
    );
    if (options.resultsFile) {
      const written = await exportResults(queue, options.resultsFile);
      stdout.write(`  ${written} results written to ${options.resultsFile}\n`);
    }
    return EXIT.ok;
  } catch (error) {
    return fail((error as Error).message, EXIT.someFailed);
  } finally {
    await queue.close();
    await redis.quit();
  }
}

/**
 * Every completed job's return value (the result, the worker and the path that hold its file), then one
 * error line for each failed job, written page by page so a queue of millions never sits in memory.
 * @returns the number of lines written
 */
async function exportResults(queue: MediaQueue, file: string): Promise<number> {
  const results = await ResultsFile.open(file);
  let written = 0;
  for (const state of ['completed', 'failed'] as const) {
    for (let start = 0; ; start += PAGE) {
      const jobs = await queue.getJobs([state], start, start + PAGE - 1, true);
      for (const job of jobs) {
        if (!job) continue;
        await results.write(state === 'completed' ? (job.returnvalue as WorkerResult) : failedJobResult(job.data, job.failedReason));
        written++;
      }
      if (jobs.length < PAGE) break;
    }
  }
  await results.commit();
  return written;
}

/** The result line of a job BullMQ gave up on. */
function failedJobResult(data: unknown, reason = 'the job failed'): DownloadResult {
  const item = checkJobData(data);
  return typeof item === 'string' ? errorResult('', 'JOB_FAILED', reason, {}) : itemErrorResult(item, 'JOB_FAILED', reason);
}
