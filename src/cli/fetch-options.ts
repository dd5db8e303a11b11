import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import * as path from 'node:path';
import { DEDUPE_MODES, WARC_DIGESTS, type ArchiveConfig, type DownloaderConfigInput, type LedgerConfig } from '../config/downloader-config.js';
import { parseFilenameTemplate } from '../naming/filename-template.js';
import { STATE_FOLDER } from '../naming/safe-path.js';
import { DEFAULT_PLACEHOLDER_SHA256 } from '../verify/known-placeholders.js';
import { parseCommandArgs, UsageError, type OptionsConfig, type ParsedFlags } from './command-args.js';
import { explain } from './explain-fs-error.js';
import { isS3Url, parseS3Url, type S3Location } from '../store/s3/s3-location.js';
import { endpointFromEnvironment } from '../store/s3/s3-connection.js';

/** What `tumblr-dl fetch` was asked to do. */
export interface FetchOptions {
  /** Input file (`-` for stdin). */
  input: string;
  /** Downloader configuration built from the flags. */
  config: DownloaderConfigInput;
  /** Where to write one DownloadResult per line. */
  resultsFile: string;
  /** Print only errors and the summary. */
  quiet: boolean;
  /**
   * Write `<file>.json` beside each saved file: the item's metadata, URL, SHA-256, size, format and the
   * post's JSON (`--write-metadata`). @default false
   */
  writeMetadata: boolean;
  /** With `-o s3://`: first abort the bucket's unfinished uploads that no run continues (`--s3-cleanup`). */
  s3Cleanup: boolean;
}

/** The `fetch` usage text. */
export const FETCH_USAGE = `Usage: tumblr-dl fetch <input> -o <dir> [options]

<input> is a file (or - for stdin) or a folder. One item per line: a URL, a
JSON object {"url", "postId", "mediaType": "image"|"video"|"gif"|"audio",
"index", "metadata"}, or CSV rows under a header naming
url[,postId,mediaType,index] (file name ending in .csv). Or Tumblr API v2
posts: a tumblr-utils json/ folder, a .json file with a post, an array of
posts or an API response page, or JSONL of posts.

Options:
  -o, --output <dir>          directory to write files into (required), or
                              s3://bucket/prefix to keep them in a bucket
                              (credentials: AWS_ACCESS_KEY_ID and
                              AWS_SECRET_ACCESS_KEY, AWS_PROFILE, ~/.aws)
      --state <dir>           with -o s3://: the local folder of the ledger,
                              the lock and downloads under way (default
                              ~/.local/state/tumblr-dl/s3/<host>/<bucket>/…)
      --s3-endpoint <url>     S3-compatible server (MinIO, Ceph, R2…):
                              http(s)://host:port (default: AWS S3)
      --s3-region <name>      region to sign for (default: AWS_REGION)
      --s3-part-size <size>   multipart part size, 5M to 256M (default 8M)
      --s3-cleanup            first abort the unfinished uploads under the
                              prefix that no run continues (older than 24 h)
  -c, --concurrency <n>       downloads at once (default 5)
      --per-host <n>          downloads at once per host (default: concurrency)
  -r, --rate <n>              requests per second per host, 0 = unlimited
                              (default 10)
      --limit-rate <rate>     cap on all downloads together, bytes per second:
                              500K, 2M, 1G (default: none)
      --limit-rate-per-host <rate>
                              the same cap for each host
      --http2                 HTTP/2 where an HTTPS server offers it: a host's
                              downloads share a connection, as streams
      --retries <n>           retries after the first attempt (default 3)
      --max-retry-after <ms>  longest Retry-After (429/503) to wait for; a
                              longer one fails the item and pauses its host
                              this long (default 600000)
      --timeout <ms>          one attempt, headers to last byte
                              (default 300000; none under a --limit-rate cap)
      --stall-timeout <ms>    abort when no byte arrives for this long
                              (default 30000)
      --max-size <bytes>      refuse larger files (default 4 GiB)
      --placeholders <file>   extra SHA-256 hashes of placeholder images,
                              one per line
      --no-resume             do not continue .part files from earlier runs
      --ledger <file>         SQLite ledger of finished work
                              (default <dir>/.tumblr-dl/ledger.sqlite)
      --no-ledger             keep no ledger between runs
  -f, --force                 download again what the ledger or the disk
                              already has (saved as name_1.ext)
      --dedupe <mode>         same bytes already saved under another name:
                              hardlink (default), copy, reference (no new file,
                              the result names the earlier one) or off
      --wayback               media a Tumblr host says is gone: fetch the
                              newest Wayback Machine capture
      --wayback-endpoint <url>
                              Wayback Machine base URL
                              (default https://web.archive.org)
      --warc                  keep a web archive beside the files: WARC 1.1
                              records of each exchange, CDXJ-indexed, in
                              <dir>/warc/ (pack them with tumblr-dl wacz)
      --warc-max-size <size>  start a new WARC file past this size
                              (default 1000000000)
      --warc-digest <alg>     WARC-Payload-Digest: sha256 (the ledger's) or
                              sha1 (Base32) (default sha256)
      --results <file>        results JSONL, rewritten each run: one line per
                              input item (default <dir>/results.jsonl)
      --name <template>       file names from fields, / between folders:
                              {blog} {postId} {index} {mediaType}
                              {date} (YYYY-MM-DD) {hash8} (of the URL)
                              {ext} (from the bytes; names end in .{ext}),
                              e.g. --name '{blog}/{postId}_{index}.{ext}'
                              (default {postId}_{index}_{hash8}.{ext});
                              without {postId}, {index} and {hash8}, only
                              the ledger skips what an earlier run saved
      --write-metadata        write <file>.json beside each saved file: the
                              item's metadata, URL, SHA-256, size, format and
                              the post's JSON
  -q, --quiet                 print only errors and the summary
  -h, --help                  this text

Exit codes: 0 every item saved or missing at the origin, 1 some failed,
2 bad usage, 130 interrupted (143 on SIGTERM).`;

/** The flags that configure the downloader, shared by `fetch` and `worker`. */
export const DOWNLOADER_FLAGS = {
  output: { type: 'string', short: 'o' },
  concurrency: { type: 'string', short: 'c' },
  'per-host': { type: 'string' },
  rate: { type: 'string', short: 'r' },
  'limit-rate': { type: 'string' },
  'limit-rate-per-host': { type: 'string' },
  http2: { type: 'boolean' },
  retries: { type: 'string' },
  'max-retry-after': { type: 'string' },
  timeout: { type: 'string' },
  'stall-timeout': { type: 'string' },
  'max-size': { type: 'string' },
  placeholders: { type: 'string' },
  'no-resume': { type: 'boolean' },
  resume: { type: 'boolean' },
  redownload: { type: 'boolean' },
  force: { type: 'boolean', short: 'f' },
  ledger: { type: 'string' },
  'no-ledger': { type: 'boolean' },
  dedupe: { type: 'string' },
  wayback: { type: 'boolean' },
  'wayback-endpoint': { type: 'string' },
  // `fetch` also takes it as --name; `worker` cannot, its --name names the worker.
  'name-template': { type: 'string' },
  warc: { type: 'boolean' },
  'warc-max-size': { type: 'string' },
  'warc-digest': { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
  state: { type: 'string' },
  's3-endpoint': { type: 'string' },
  's3-region': { type: 'string' },
  's3-part-size': { type: 'string' },
} as const satisfies OptionsConfig;

/** Parse `fetch` arguments (after the subcommand). */
export function parseFetchOptions(args: string[]): FetchOptions {
  const flags = { ...DOWNLOADER_FLAGS, results: { type: 'string' }, name: { type: 'string' }, 'write-metadata': { type: 'boolean' }, 's3-cleanup': { type: 'boolean' } } as const;
  const { values, positional: input } = parseCommandArgs(args, flags, 'input');
  if (values.name !== undefined && values['name-template'] !== undefined) throw new UsageError('give --name or --name-template, not both');
  const config = configFromFlags({ ...values, 'name-template': values.name ?? values['name-template'] });
  if (values['s3-cleanup'] && config.store === undefined) throw new UsageError('--s3-cleanup is for a bucket output (-o s3://bucket/prefix)');
  return {
    input,
    config,
    resultsFile: values.results ?? `${config.outputDir.replace(/\/+$/, '')}/results.jsonl`,
    quiet: values.quiet ?? false,
    writeMetadata: values['write-metadata'] ?? false,
    s3Cleanup: values['s3-cleanup'] ?? false,
  };
}

/**
 * The downloader configuration that {@link DOWNLOADER_FLAGS} set; what is not given is left out, so the
 * defaults apply. @throws UsageError on a value of the wrong form (`-c x`), or no `-o`
 */
export function configFromFlags(values: ParsedFlags<typeof DOWNLOADER_FLAGS>): DownloaderConfigInput {
  if (!values.output) throw new UsageError('missing -o <dir>');
  const outputDir = stateOrOutputFolder(values);
  const config: DownloaderConfigInput = { outputDir, rateLimit: {}, retry: {}, stall: {} };
  if (isS3Url(values.output)) {
    config.store = {
      url: values.output,
      endpoint: values['s3-endpoint'] ?? endpointFromEnvironment(),
      region: values['s3-region'],
      partSize: byteCount('s3-part-size', values['s3-part-size'], 'a size such as 8M or 64M'),
    };
  }
  config.maxConcurrent = wholeNumber('concurrency', values.concurrency);
  config.perHostConcurrency = wholeNumber('per-host', values['per-host']) ?? config.maxConcurrent;
  const rate = values.rate === undefined ? undefined : Number(values.rate);
  if (rate !== undefined && !(rate >= 0)) throw new UsageError(`--rate takes a number ≥ 0, got "${values.rate}"`);
  config.rateLimit = { requestsPerSecond: rate };
  config.bandwidth = { bytesPerSecond: byteRate('limit-rate', values['limit-rate']), perHostBytesPerSecond: byteRate('limit-rate-per-host', values['limit-rate-per-host']) };
  config.retry = { maxRetries: wholeNumber('retries', values.retries), maxRetryAfter: wholeNumber('max-retry-after', values['max-retry-after']) };
  if (values.http2) config.http2 = true;
  config.timeout = wholeNumber('timeout', values.timeout);
  const stall = wholeNumber('stall-timeout', values['stall-timeout']);
  config.stall = { windowMs: stall };
  config.maxFileSize = wholeNumber('max-size', values['max-size']);
  config.resume = !values['no-resume'];
  // A re-run of an archive should cost nothing for what is already there: the ledger answers without a
  // request, and for files it does not know, names carry the URL's hash, so the file on disk answers.
  // A name without the hash does not tell which URL a file holds: only the ledger answers then.
  const force = values.force || values.redownload;
  const template = values['name-template'];
  if (template !== undefined) config.filenameTemplate = template;
  config.onExisting = force || !namesIdentifyMedia(template) ? 'rename' : 'skip';
  const dedupe = values.dedupe as LedgerConfig['dedupe'] | undefined;
  if (dedupe !== undefined && !DEDUPE_MODES.includes(dedupe)) throw new UsageError(`--dedupe takes ${DEDUPE_MODES.join(', ')}, got "${dedupe}"`);
  config.ledger = {
    path: values['no-ledger'] ? ':memory:' : (values.ledger ?? defaultLedgerPath(outputDir)),
    skipCompleted: !force,
    dedupe,
  };
  config.wayback = { enabled: values.wayback ?? false, endpoint: values['wayback-endpoint'] };
  const digest = values['warc-digest'] as ArchiveConfig['digest'] | undefined;
  if (digest !== undefined && !WARC_DIGESTS.includes(digest)) throw new UsageError(`--warc-digest takes ${WARC_DIGESTS.join(' or ')}, got "${digest}"`);
  config.archive = { warc: values.warc ?? false, maxSize: byteCount('warc-max-size', values['warc-max-size'], 'a size such as 500M or 1G'), digest };
  if (values.placeholders) config.placeholderSha256 = [...defaultsPlusFile(values.placeholders)];
  return dropUndefined(config);
}

/**
 * A byte rate as curl writes it: `500000`, `500K`, `2M`, `1.5G` (binary multiples, as curl's
 * `--limit-rate`); `0` means no cap. `undefined` when the flag was not given. @throws UsageError
 */
export function byteRate(name: string, value: string | undefined): number | undefined {
  return byteCount(name, value, 'bytes per second such as 500K, 2M or 1G');
}

/** `500K`, `2M`, `1.5G` or plain bytes (binary multiples), or `undefined` when not given. @throws UsageError naming `what` the flag takes */
function byteCount(name: string, value: string | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  const match = /^(\d+(?:\.\d+)?)([kmg]?)$/i.exec(value.trim());
  if (!match) throw new UsageError(`--${name} takes ${what}, got "${value}"`);
  const multiple = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[match[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Math.round(Number(match[1]) * multiple);
}

/** A flag's value as a whole number, or `undefined` when the flag was not given. @throws UsageError */
export function wholeNumber(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new UsageError(`--${name} takes a whole number, got "${value}"`);
  return Number(value);
}

/** The flag that sets each config key, so a bad value is reported in the words the user typed. */
const FLAG_OF_CONFIG_KEY: Readonly<Record<string, string>> = {
  outputDir: '-o/--output',
  maxConcurrent: '-c/--concurrency',
  perHostConcurrency: '--per-host',
  'rateLimit.requestsPerSecond': '-r/--rate',
  'rateLimit.burst': '-r/--rate',
  'bandwidth.bytesPerSecond': '--limit-rate',
  'bandwidth.perHostBytesPerSecond': '--limit-rate-per-host',
  'retry.maxRetries': '--retries',
  'retry.maxRetryAfter': '--max-retry-after',
  timeout: '--timeout',
  'stall.windowMs': '--stall-timeout',
  maxFileSize: '--max-size',
  placeholderSha256: '--placeholders',
  'ledger.path': '--ledger',
  'ledger.dedupe': '--dedupe',
  'wayback.endpoint': '--wayback-endpoint',
  'archive.maxSize': '--warc-max-size',
  'archive.digest': '--warc-digest',
  filenameTemplate: '--name',
  'store.url': '-o/--output',
  'store.endpoint': '--s3-endpoint',
  'store.region': '--s3-region',
  'store.partSize': '--s3-part-size',
  'scaleOut.redisUrl': '--redis',
  'scaleOut.queueName': '--queue',
  'scaleOut.lockDurationMs': '--lock-duration',
  'scaleOut.stalledIntervalMs': '--stalled-interval',
  'scaleOut.attempts': '--attempts',
};

/**
 * A config validation message (`Invalid downloader config: maxConcurrent must be …`) in terms of the
 * flag that set the value (`-c/--concurrency must be …`).
 * @param flags a command's own flag for a config key, where it is not fetch's (`worker --name-template`)
 */
export function flagForConfigError(message: string, flags: Readonly<Record<string, string>> = {}): string {
  const match = /^Invalid downloader config: (\S+) (.*)$/s.exec(message);
  const flag = match ? (flags[match[1]!] ?? FLAG_OF_CONFIG_KEY[match[1]!]) : undefined;
  return flag === undefined ? message : `${flag} ${match![2]}`;
}

/**
 * Whether a file found at a name made by `template` (the default when not given) may be taken for the item
 * with no request; an unusable template is refused later, by the config.
 */
function namesIdentifyMedia(template: string | undefined): boolean {
  if (template === undefined) return true;
  try {
    return parseFilenameTemplate(template).identifiesMedia;
  } catch {
    return true;
  }
}

/**
 * The local folder of the run: `-o <dir>` itself, or for `-o s3://…` the state folder (`--state`, else one
 * per endpoint, bucket and prefix under `$XDG_STATE_HOME` or `~/.local/state`). @throws UsageError on S3 flags
 * without a bucket, or a bucket URL that does not parse
 */
function stateOrOutputFolder(values: ParsedFlags<typeof DOWNLOADER_FLAGS>): string {
  const output = values.output!;
  if (!isS3Url(output)) {
    const s3Flag = (['state', 's3-endpoint', 's3-region', 's3-part-size'] as const).find((flag) => values[flag] !== undefined);
    if (s3Flag) throw new UsageError(`--${s3Flag} is for a bucket output (-o s3://bucket/prefix); -o ${output} is a folder`);
    return output;
  }
  let location: S3Location;
  try {
    location = parseS3Url(output);
  } catch (error) {
    throw new UsageError(`-o ${(error as Error).message.replace(/^Invalid S3 location "[^"]*": /, `${output}: `)}`);
  }
  return values.state ?? defaultStateFolder(location, values['s3-endpoint'] ?? endpointFromEnvironment());
}

/** `~/.local/state/tumblr-dl/s3/<endpoint host or aws>/<bucket>/<prefix>`: one state per bucket and prefix, as a user would look for it. */
export function defaultStateFolder(location: S3Location, endpoint: string | undefined): string {
  const base = process.env.XDG_STATE_HOME || path.join(homedir(), '.local', 'state');
  let server = 'aws';
  if (endpoint) {
    try {
      server = new URL(endpoint).host.replace(/[^A-Za-z0-9.-]/g, '_');
    } catch {
      server = 'endpoint';
    }
  }
  return path.join(base, 'tumblr-dl', 's3', server, location.bucket, ...location.prefix.split('/').filter(Boolean));
}

/** Where the ledger lives unless told: inside the archive, so it travels with the files it describes. */
export function defaultLedgerPath(outputDir: string): string {
  return path.join(outputDir, STATE_FOLDER, 'ledger.sqlite');
}

function* defaultsPlusFile(file: string): Iterable<string> {
  yield* DEFAULT_PLACEHOLDER_SHA256;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read --placeholders file ${file}: ${explain(error)}`);
  }
  for (const line of text.split(/\r?\n/)) {
    const hash = line.trim().toLowerCase();
    if (hash !== '' && !hash.startsWith('#')) yield hash;
  }
}

/** Remove keys whose value is undefined, recursively, so config defaults apply. */
function dropUndefined<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, dropUndefined(v)]),
  ) as T;
}
