import type { DownloaderConfigInput, ScaleOutConfig } from '../config/downloader-config.js';
import { parseCommandArgs, UsageError, type ParsedFlags } from './command-args.js';
import { configFromFlags, DOWNLOADER_FLAGS, wholeNumber } from './fetch-options.js';

/** Where the queue is: every scale-out command takes these. */
const QUEUE_FLAGS = {
  redis: { type: 'string' },
  queue: { type: 'string' },
} as const;

/** The environment variable read when `--redis` is not given (keeps a password out of `ps`). */
export const REDIS_URL_ENV = 'TUMBLR_DL_REDIS_URL';

/** `tumblr-dl enqueue`'s options. */
export interface EnqueueOptions {
  /** Input file (`-` for stdin), in any form `fetch` reads. */
  input: string;
  scaleOut: Partial<ScaleOutConfig>;
}

/** `tumblr-dl worker`'s options. */
export interface WorkerOptions {
  /** The downloader's configuration, `scaleOut` included. */
  config: DownloaderConfigInput;
  /** Names this worker in job results; default `<host name>:<output folder>`. */
  name: string | undefined;
  /** Exit once no job is waiting, delayed or active anywhere in the queue. */
  exitWhenDrained: boolean;
  /** Write `<file>.json` beside each saved file (a job carries the item's metadata, not its post). @default false */
  writeMetadata: boolean;
  quiet: boolean;
}

/** `tumblr-dl status`'s options. */
export interface StatusOptions {
  scaleOut: Partial<ScaleOutConfig>;
  /** Write every finished item's result here, as JSONL. */
  resultsFile: string | undefined;
}

const REDIS_HELP = `      --redis <url>           the queue's Redis, redis://[user:pw@]host:port/db
                              or rediss:// (default $${REDIS_URL_ENV})
      --queue <name>          queue name (default tumblr-dl)`;

/** The `enqueue` usage text. */
export const ENQUEUE_USAGE = `Usage: tumblr-dl enqueue <input> --redis <url> [--queue <name>]

Add one job per item of <input> (URLs, JSONL, CSV or Tumblr posts, as fetch
reads them) to a BullMQ queue; embeds from other sites are counted, not queued.
A job's id comes from the item's url, postId and index: enqueueing the same
list twice adds nothing.

Options:
${REDIS_HELP}
      --attempts <n>          runs of a job whose worker crashed (default 3)
  -h, --help                  this text

Exit codes: 0 every line queued (new or already there), 1 some lines were bad,
2 bad usage or no Redis.`;

/** The `worker` usage text. */
export const WORKER_USAGE = `Usage: tumblr-dl worker -o <dir> --redis <url> [options]

Take jobs from the queue and download each into <dir>, with the folder's own
ledger and lock. The rate per host (-r) and 429/503 pauses are shared by every
worker of the queue through Redis.

Options:
${REDIS_HELP}
  -o, --output <dir>          this worker's folder (required), or
                              s3://bucket/prefix: every worker fills one
                              bucket, identical bytes stored once
      --state <dir>           with -o s3://: this worker's own local folder
                              (ledger, lock, downloads under way)
      --s3-endpoint <url>     S3-compatible server, as fetch's
  -c, --concurrency <n>       jobs at once (default 5)
      --exit-when-drained     exit once no job is waiting, delayed or active
                              anywhere in the queue
      --name <id>             this worker's name in results
                              (default <host name>:<dir>)
      --name-template <template>
                              file names, as fetch's --name
                              (default {postId}_{index}_{hash8}.{ext})
      --write-metadata        <file>.json beside each saved file, as fetch's
                              (the job's metadata; a job carries no post)
      --lock-duration <ms>    a dead worker's jobs run again after about this
                              (default 30000)
      --stalled-interval <ms>
                              how often to look for them (default 30000)
  -q, --quiet                 print only errors and the summary
  -h, --help                  this text

Every download option of fetch applies too: -r, --per-host, --limit-rate,
--limit-rate-per-host, --http2, --retries, --max-retry-after, --timeout,
--stall-timeout, --max-size, --placeholders, --no-resume, --ledger,
--no-ledger, -f, --dedupe, --wayback, --wayback-endpoint, --warc,
--warc-max-size, --warc-digest, --s3-region, --s3-part-size. -r,
--limit-rate and --limit-rate-per-host are shared by all workers of the queue:
each caps the queue, not one worker.

SIGINT/SIGTERM: running downloads stop (their .part files stay) and their jobs
go back to the queue.
Exit codes: 0 stopped when drained, 2 bad usage or no Redis, 130/143 stopped by
a signal.`;

/** The `status` usage text. */
export const STATUS_USAGE = `Usage: tumblr-dl status --redis <url> [--queue <name>] [--results <file>]

Print the queue's counts (waiting, active, completed, failed) and throughput.

Options:
${REDIS_HELP}
      --results <file>        write every finished item's result as JSONL,
                              naming the worker and the path of its file
  -h, --help                  this text`;

/** Parse `enqueue` arguments. */
export function parseEnqueueOptions(args: string[]): EnqueueOptions {
  const { values, positional } = parseCommandArgs(args, { ...QUEUE_FLAGS, attempts: { type: 'string' } }, 'input');
  return { input: positional, scaleOut: { ...queueOf(values), ...defined({ attempts: wholeNumber('attempts', values.attempts) }) } };
}

/** Parse `worker` arguments. */
export function parseWorkerOptions(args: string[]): WorkerOptions {
  const flags = {
    ...DOWNLOADER_FLAGS,
    ...QUEUE_FLAGS,
    'exit-when-drained': { type: 'boolean' },
    'write-metadata': { type: 'boolean' },
    name: { type: 'string' },
    'lock-duration': { type: 'string' },
    'stalled-interval': { type: 'string' },
  } as const;
  const { values } = parseCommandArgs(args, flags, null);
  const config = configFromFlags(values);
  config.scaleOut = {
    ...queueOf(values),
    ...defined({ lockDurationMs: wholeNumber('lock-duration', values['lock-duration']), stalledIntervalMs: wholeNumber('stalled-interval', values['stalled-interval']) }),
  };
  if (values.name !== undefined && values.name.trim() === '') throw new UsageError('--name needs a non-empty value');
  return { config, name: values.name, exitWhenDrained: values['exit-when-drained'] ?? false, writeMetadata: values['write-metadata'] ?? false, quiet: values.quiet ?? false };
}

/** Parse `status` arguments. */
export function parseStatusOptions(args: string[]): StatusOptions {
  const { values } = parseCommandArgs(args, { ...QUEUE_FLAGS, results: { type: 'string' } }, null);
  return { scaleOut: queueOf(values), resultsFile: values.results };
}

/** `--redis` (or the environment) and `--queue`; no Redis at all is a usage error. */
function queueOf(values: ParsedFlags<typeof QUEUE_FLAGS>): Partial<ScaleOutConfig> {
  const redisUrl = values.redis ?? process.env[REDIS_URL_ENV];
  if (!redisUrl) throw new UsageError(`missing --redis <url> (or set ${REDIS_URL_ENV})`);
  return defined({ redisUrl, queueName: values.queue });
}

function defined<T extends object>(section: T): Partial<T> {
  return Object.fromEntries(Object.entries(section).filter(([, value]) => value !== undefined)) as Partial<T>;
}
