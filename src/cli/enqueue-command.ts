import { resolveScaleOutConfig } from '../config/downloader-config.js';
import type { MediaJob } from '../scale-out/media-job.js';
import { enqueueBatch, openMediaQueue } from '../scale-out/media-queue.js';
import { oncePerOutage, openRedis, probeRedis, redactRedisUrl } from '../scale-out/redis-connection.js';
import { EXIT } from './exit-codes.js';
import { explain } from './explain-fs-error.js';
import type { CommandIo } from './fetch-command.js';
import { failer, configOrProblem, inputProblem } from './run-setup.js';
import { inputKind, readInput } from './input/read-input.js';
import { describePosition } from './input/input-entry.js';
import type { EnqueueOptions } from './scale-out-options.js';

/** Items sent to Redis in one round trip: large enough that 100k items take seconds, small enough to stream. */
const BATCH = 1_000;

/**
 * `tumblr-dl enqueue`: stream the input into the queue, one job per item, in batches; bad lines are said
 * on stderr as `fetch` says them. Prints how many were new and how many the queue already held.
 */
export async function enqueueCommand(options: EnqueueOptions, io: CommandIo): Promise<number> {
  const fail = failer(io.stderr);
  const config = configOrProblem(() => resolveScaleOutConfig(options.scaleOut));
  if (typeof config === 'string') return fail(config);
  const badInput = await inputProblem(options.input);
  if (badInput) return fail(badInput);
  const kind = await inputKind(options.input).catch((error: unknown) => error as Error);
  if (kind instanceof Error) return fail(`cannot read ${options.input}: ${explain(kind)}`);
  try {
    await probeRedis(config.redisUrl);
  } catch (error) {
    return fail((error as Error).message);
  }
  const outage = oncePerOutage(config.redisUrl, (line) => io.stderr.write(`${line}\n`));
  const redis = openRedis(config.redisUrl, outage);
  const queue = openMediaQueue(redis, config).on('error', outage.onError);
  const reading = new AbortController();
  let stopped: 'SIGINT' | 'SIGTERM' | undefined;
  void io.interrupted.then((signal) => {
    stopped = signal;
    reading.abort();
  });
  const counts = { added: 0, alreadyQueued: 0, bad: 0, embeds: 0 };
  let batch: MediaJob[] = [];
  // Redis refusing a batch (a full `maxmemory`, a lost password) stops the enqueue; what was added stays added.
  let refused: Error | undefined;
  const flush = async (): Promise<void> => {
    const done = await enqueueBatch(queue, redis, batch).catch((error: unknown) => {
      refused = error as Error;
      reading.abort();
      return { added: 0, alreadyQueued: 0 };
    });
    counts.added += done.added;
    counts.alreadyQueued += done.alreadyQueued;
    batch = [];
  };
  let unreadable: Error | undefined;
  try {
    for await (const entry of readInput(options.input, kind, reading.signal)) {
      if ('warning' in entry) {
        io.stderr.write(`tumblr-dl: ${entry.warning}\n`);
        continue;
      }
      if ('problem' in entry) {
        counts.bad++;
        io.stderr.write(`tumblr-dl: ${describePosition(entry.at)}: ${entry.problem}\n`);
        continue;
      }
      if ('embed' in entry) {
        // A YouTube or Spotify embed is never fetched: nothing for a worker to do.
        counts.embeds++;
        continue;
      }
      // The post's JSON stays here: a job carries the item and its metadata, not the whole post, into Redis.
      const { post: _post, ...job } = entry;
      batch.push(job);
      if (batch.length >= BATCH) await flush();
    }
  } catch (error) {
    if (!stopped && !refused) unreadable = error as Error;
  }
  if (batch.length > 0 && !refused) await flush();
  await queue.close();
  await redis.quit();
  io.stdout.write(
    `${stopped ? 'Interrupted: ' : ''}${counts.added} added to queue "${config.queueName}" at ${redactRedisUrl(config.redisUrl)}, ` +
      `${counts.alreadyQueued} already queued${counts.bad > 0 ? `, ${counts.bad} bad input line${counts.bad === 1 ? '' : 's'}` : ''}` +
      `${counts.embeds > 0 ? `, ${counts.embeds} embed${counts.embeds === 1 ? '' : 's'} from other sites not queued` : ''}.\n`,
  );
  if (unreadable) return fail(`cannot read ${options.input}: ${explain(unreadable)}`);
  if (refused) return fail(`Redis refused jobs for queue "${config.queueName}": ${refused.message}`, EXIT.someFailed);
  if (stopped) return stopped === 'SIGTERM' ? EXIT.terminated : EXIT.interrupted;
  return counts.bad > 0 ? EXIT.someFailed : EXIT.ok;
}
