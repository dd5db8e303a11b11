import * as path from 'node:path';
import { parseS3Url } from '../store/s3/s3-location.js';
import { DownloadError } from '../errors/download-error.js';
import { DEFAULT_FILENAME_TEMPLATE, filenameTemplateProblem, parseFilenameTemplate } from '../naming/filename-template.js';
import { DEFAULT_PLACEHOLDER_SHA256 } from '../verify/known-placeholders.js';
import { rejectUnknownKeys } from './config-schema.js';
import { serviceToken, type ServiceToken } from '../service-token.js';

/** Token of the resolved {@link DownloaderConfig}. */
export const DownloaderConfig: ServiceToken<DownloaderConfig> = serviceToken('DownloaderConfig');

/** Token bucket settings. */
export interface RateLimitConfig {
  /** Requests allowed per second, refilled continuously; `0` turns limiting off. @default 10 */
  requestsPerSecond: number;
  /** Requests that may start at once after a quiet period. @default requestsPerSecond (min 1) */
  burst: number;
  /** One bucket per host, or one shared by all hosts. Cooldowns are per host either way. @default 'host' */
  scope: 'host' | 'global';
}

/** A cap on how fast response bodies are read; `0` means no cap. */
export interface BandwidthConfig {
  /** All downloads together, in bytes per second (curl's `--limit-rate`, aria2's `--max-overall-download-limit`). @default 0 */
  bytesPerSecond: number;
  /** Each host, in bytes per second. @default 0 */
  perHostBytesPerSecond: number;
}

/** Backoff settings. All durations in milliseconds. */
export interface RetryConfig {
  /** Retries after the first attempt. @default 3 */
  maxRetries: number;
  /** Delay before the first retry; doubles each time. @default 1000 */
  baseBackoff: number;
  /** Ceiling of the exponential delay. @default 60000 */
  maxBackoff: number;
  /** A Retry-After longer than this makes the downloader give up instead of waiting. @default 600000 */
  maxRetryAfter: number;
}

/** Every value of {@link LedgerConfig.dedupe}. */
export const DEDUPE_MODES = ['hardlink', 'copy', 'reference', 'off'] as const;

/** The download ledger: what earlier runs saved, for skipping and deduplication. */
export interface LedgerConfig {
  /** SQLite file of the ledger (created with its directory); `':memory:'` keeps it for this process only. @default ':memory:' */
  path: string;
  /** Skip a URL the ledger records as saved while its file is still there with the recorded size. @default true */
  skipCompleted: boolean;
  /**
   * A new file whose SHA-256 the ledger already holds under another name becomes a hard link to it
   * (`'hardlink'`, falling back to a copy where links are not possible), a copy (`'copy'`), no file at
   * all, only a result naming the existing one (`'reference'`), or a file of its own (`'off'`).
   * @default 'hardlink'
   */
  dedupe: (typeof DEDUPE_MODES)[number];
}

/** Internet Archive fallback for media a Tumblr host says is gone (404/403/410). */
export interface WaybackConfig {
  /** Ask the Wayback Machine for a capture of missing Tumblr media. @default false */
  enabled: boolean;
  /** Base URL of the Wayback Machine: CDX search at `/cdx/search/cdx`, raw captures at `/web/<timestamp>id_/<url>`. @default 'https://web.archive.org' */
  endpoint: string;
  /** Captures tried, newest first, before the media is reported missing. @default 3 */
  maxCaptures: number;
}

/** The payload digests a WARC may carry: SHA-256 (the ledger's key), or Base32 SHA-1 (older dedupe pipelines). */
export const WARC_DIGESTS = ['sha256', 'sha1'] as const;

/** The web archive kept beside the files: WARC 1.1 records of each exchange, with CDXJ indexes (docs/warc.md). */
export interface ArchiveConfig {
  /** Write WARC files into `<outputDir>/warc/`. @default false */
  warc: boolean;
  /** A WARC file is closed and the next begun once it holds this many bytes. @default 1000000000 */
  maxSize: number;
  /** `WARC-Payload-Digest` algorithm: `sha256` (hex, the ledger's value) or `sha1` (Base32). @default 'sha256' */
  digest: (typeof WARC_DIGESTS)[number];
}

/**
 * Scale-out over BullMQ on Redis: `tumblr-dl enqueue`, `worker` and `status`. The worker reads it (and
 * shares the rate limit and 429/503 cooldowns through the same Redis); the downloader itself ignores it.
 */
export interface ScaleOutConfig {
  /** `redis://[user:password@]host:port[/db]`, or `rediss://` for TLS; `''`: not in scale-out mode. @default '' */
  redisUrl: string;
  /** BullMQ queue name; also the prefix of the shared rate-limit keys. @default 'tumblr-dl' */
  queueName: string;
  /** A worker renews its lock on a running job at half this; a lapsed lock (a dead worker) returns the job to the queue. @default 30000 */
  lockDurationMs: number;
  /** How often workers look for jobs whose lock lapsed. @default 30000 */
  stalledIntervalMs: number;
  /** Times a job may lose its worker before it is failed. @default 2 */
  maxStalledCount: number;
  /** Runs of a job whose worker threw: a crash, not a failed download (that completes the job with its result). @default 3 */
  attempts: number;
}

/** Where verified files are kept: the output folder, or an S3 bucket (docs/object-storage.md). */
export interface StoreConfig {
  /**
   * `s3://bucket/prefix` keeps the files in a bucket; `outputDir` is then the local state folder (ledger, lock,
   * and the `.part` files of downloads under way, named as their keys). Empty: the files live in `outputDir`.
   * @default ''
   */
  url: string;
  /** `http(s)://host:port` of an S3-compatible server (MinIO, Ceph RGW, R2…), addressed path-style; empty: AWS S3. @default '' */
  endpoint: string;
  /** Region to sign for; empty: `AWS_REGION` or the shared config's, else `us-east-1` with a custom endpoint. @default '' */
  region: string;
  /** Bytes per part of a multipart upload, 5 MiB to 256 MiB (each is read into memory); a file up to this size is one PUT. @default 8 MiB */
  partSize: number;
}

/** Stall detection: abort an attempt when fewer than `minBytes` arrive within `windowMs`. */
export interface StallConfig {
  /** @default 1 */
  minBytes: number;
  /** `0` turns stall detection off. @default 30000 */
  windowMs: number;
}

/**
 * Everything the downloader can be told. Durations are milliseconds, sizes bytes.
 * Build it with {@link resolveDownloaderConfig}; the module binds the resolved value.
 */
export interface DownloaderConfig {
  /** Directory every file is written under; nothing is ever written outside it. */
  outputDir: string;
  /**
   * Transfers running at once, all hosts together. Up to as many finished ones may meanwhile be made
   * durable (fsync) and named, outside their slot. @default 5
   */
  maxConcurrent: number;
  /** Transfers running at once against one host. @default maxConcurrent */
  perHostConcurrency: number;
  /** @see RateLimitConfig */
  rateLimit: RateLimitConfig;
  /** @see RetryConfig */
  retry: RetryConfig;
  /** @see BandwidthConfig */
  bandwidth: BandwidthConfig;
  /**
   * Upper bound of one attempt, headers to last byte. `0` means none. @default 300000, or `0` when a
   * bandwidth cap is set (a capped download of a large file takes as long as the cap says; stall
   * detection still stops one that hangs)
   */
  timeout: number;
  /** Time allowed to receive response headers. @default 30000 */
  responseTimeout: number;
  /** @see StallConfig */
  stall: StallConfig;
  /** Larger responses are aborted and deleted. @default 4 GiB */
  maxFileSize: number;
  /** Keep `.part` files of interrupted transfers and continue them with Range + If-Range. @default true */
  resume: boolean;
  /**
   * When the file's name is already taken: `rename` downloads again under `name_1.ext` (never
   * overwriting), `skip` reports the existing file as the result without a request (what a re-run
   * of an archive wants: the name holds the URL's hash). @default 'rename'
   */
  onExisting: 'rename' | 'skip';
  /**
   * How the default {@link FilenameGenerator} names files, relative to `outputDir`: literal text and the
   * fields `{blog}` (`metadata.blog`), `{postId}`, `{index}`, `{mediaType}`, `{date}` (`YYYY-MM-DD`, UTC, of
   * `metadata.timestamp` in seconds, else of a `metadata.date` starting with one), `{hash8}` (first 8 hex
   * digits of the MD5 of the URL) and `{ext}` (from the bytes), `/` between folders (at most 8), the file
   * name ending in `.{ext}`: `'{blog}/{postId}_{index}.{ext}'`. Each value becomes one segment of
   * `[A-Za-z0-9_-]` (`unknown-blog`, `post`, `media`, `undated` when nothing usable is left), so no value
   * can add a folder or leave `outputDir`. A template without `{hash8}` that also lacks `{postId}` or
   * `{index}` can give two media one name: the later ones are saved as `name_1.ext`, `name_2.ext`…
   * `onExisting: 'skip'` needs `{postId}`, `{index}` and `{hash8}` (the file of one media would otherwise
   * be taken for another's).
   * @default '{postId}_{index}_{hash8}.{ext}'
   */
  filenameTemplate: string;
  /** SHA-256 (hex) of images that stand in for removed media; such files are rejected. @default 1×1 pixel GIFs */
  placeholderSha256: string[];
  /** Hosts whose 404/403/410 mean "media removed from Tumblr". @default ['tumblr.com'] (and subdomains) */
  tumblrHosts: string[];
  /** Minimum interval between progress events of one download. @default 100 */
  progressIntervalMs: number;
  /** Redirects followed before giving up. @default 10 */
  maxRedirects: number;
  /** Sent as User-Agent. */
  userAgent: string;
  /**
   * Speak HTTP/2 where the server offers it (ALPN, over TLS), HTTP/1.1 elsewhere, decided per host: the
   * downloads of one host become streams of one connection. @default false
   */
  http2: boolean;
  /** @see LedgerConfig */
  ledger: LedgerConfig;
  /** @see WaybackConfig */
  wayback: WaybackConfig;
  /** @see ArchiveConfig */
  archive: ArchiveConfig;
  /** @see ScaleOutConfig */
  scaleOut: ScaleOutConfig;
  /** @see StoreConfig */
  store: StoreConfig;
}

/** What a caller may pass: `outputDir` plus any subset of the rest. */
export type DownloaderConfigInput = Partial<Omit<DownloaderConfig, 'rateLimit' | 'retry' | 'stall' | 'ledger' | 'wayback' | 'archive' | 'scaleOut' | 'bandwidth' | 'store'>> & {
  outputDir: string;
  rateLimit?: Partial<RateLimitConfig>;
  bandwidth?: Partial<BandwidthConfig>;
  retry?: Partial<RetryConfig>;
  stall?: Partial<StallConfig>;
  ledger?: Partial<LedgerConfig>;
  wayback?: Partial<WaybackConfig>;
  archive?: Partial<ArchiveConfig>;
  scaleOut?: Partial<ScaleOutConfig>;
  store?: Partial<StoreConfig>;
};

/**
 * Every default, in one frozen object: {@link resolveDownloaderConfig} fills from it, and a test keeps
 * the manifest schema's `default`s equal to it. Two defaults follow other keys and are not here:
 * `perHostConcurrency` (= `maxConcurrent`) and `rateLimit.burst` (= `requestsPerSecond`, at least 1).
 */
export const DOWNLOADER_DEFAULTS = deepFreeze({
  maxConcurrent: 5,
  rateLimit: { requestsPerSecond: 10, scope: 'host' as RateLimitConfig['scope'] },
  retry: { maxRetries: 3, baseBackoff: 1_000, maxBackoff: 60_000, maxRetryAfter: 600_000 },
  bandwidth: { bytesPerSecond: 0, perHostBytesPerSecond: 0 },
  timeout: 300_000,
  responseTimeout: 30_000,
  stall: { minBytes: 1, windowMs: 30_000 },
  maxFileSize: 4 * 1024 ** 3,
  resume: true,
  onExisting: 'rename' as DownloaderConfig['onExisting'],
  filenameTemplate: DEFAULT_FILENAME_TEMPLATE,
  placeholderSha256: DEFAULT_PLACEHOLDER_SHA256,
  tumblrHosts: ['tumblr.com'],
  progressIntervalMs: 100,
  maxRedirects: 10,
  /** Names the tool, so origin operators can tell what is fetching. */
  userAgent: 'tumblr-media-downloader/0.1',
  http2: false,
  ledger: { path: ':memory:', skipCompleted: true, dedupe: 'hardlink' as LedgerConfig['dedupe'] },
  wayback: { enabled: false, endpoint: 'https://web.archive.org', maxCaptures: 3 },
  archive: { warc: false, maxSize: 1_000_000_000, digest: 'sha256' as ArchiveConfig['digest'] },
  scaleOut: { redisUrl: '', queueName: 'tumblr-dl', lockDurationMs: 30_000, stalledIntervalMs: 30_000, maxStalledCount: 2, attempts: 3 },
  store: { url: '', endpoint: '', region: '', partSize: 8 * 1024 * 1024 },
});

/**
 * Fill defaults and validate. A wrong value is reported here, at load time,
 * with the name of the key, rather than as a strange failure mid-archive.
 * @throws DownloadError with code `INVALID_CONFIG`
 */
export function resolveDownloaderConfig(input: DownloaderConfigInput): DownloaderConfig {
  if (typeof input !== 'object' || input === null) fail('config', 'must be an object');
  rejectUnknownKeys(input);
  if (typeof input.outputDir !== 'string' || input.outputDir.trim() === '' || input.outputDir.includes('\0')) {
    fail('outputDir', 'must be a non-empty path');
  }
  const d = DOWNLOADER_DEFAULTS;
  const maxConcurrent = input.maxConcurrent ?? d.maxConcurrent;
  const requestsPerSecond = input.rateLimit?.requestsPerSecond ?? d.rateLimit.requestsPerSecond;
  const config: DownloaderConfig = {
    outputDir: path.resolve(input.outputDir),
    maxConcurrent,
    perHostConcurrency: input.perHostConcurrency ?? maxConcurrent,
    rateLimit: {
      requestsPerSecond,
      burst: input.rateLimit?.burst ?? Math.max(1, Math.ceil(requestsPerSecond)),
      scope: input.rateLimit?.scope ?? d.rateLimit.scope,
    },
    retry: { ...d.retry, ...definedOnly(input.retry) },
    bandwidth: { ...d.bandwidth, ...definedOnly(input.bandwidth) },
    timeout: input.timeout ?? (isCapped(input.bandwidth) ? 0 : d.timeout),
    responseTimeout: input.responseTimeout ?? d.responseTimeout,
    stall: { ...d.stall, ...definedOnly(input.stall) },
    maxFileSize: input.maxFileSize ?? d.maxFileSize,
    resume: input.resume ?? d.resume,
    onExisting: input.onExisting ?? d.onExisting,
    filenameTemplate: input.filenameTemplate ?? d.filenameTemplate,
    placeholderSha256: (input.placeholderSha256 ?? d.placeholderSha256).map((h) => String(h).toLowerCase()),
    tumblrHosts: input.tumblrHosts ?? [...d.tumblrHosts],
    progressIntervalMs: input.progressIntervalMs ?? d.progressIntervalMs,
    maxRedirects: input.maxRedirects ?? d.maxRedirects,
    userAgent: input.userAgent ?? d.userAgent,
    http2: input.http2 ?? d.http2,
    ledger: { ...d.ledger, ...definedOnly(input.ledger) },
    wayback: { ...d.wayback, ...definedOnly(input.wayback) },
    archive: { ...d.archive, ...definedOnly(input.archive) },
    scaleOut: resolveScaleOutConfig(input.scaleOut),
    store: { ...d.store, ...definedOnly(input.store) },
  };
  integer('maxConcurrent', config.maxConcurrent, 1, 1024);
  integer('perHostConcurrency', config.perHostConcurrency, 1, 1024);
  number('rateLimit.requestsPerSecond', config.rateLimit.requestsPerSecond, 0, 1e6);
  integer('rateLimit.burst', config.rateLimit.burst, 1, 1e6);
  if (config.rateLimit.scope !== 'host' && config.rateLimit.scope !== 'global') fail('rateLimit.scope', "must be 'host' or 'global'");
  integer('retry.maxRetries', config.retry.maxRetries, 0, 100);
  integer('retry.baseBackoff', config.retry.baseBackoff, 0, 86_400_000);
  integer('retry.maxBackoff', config.retry.maxBackoff, 0, 86_400_000);
  integer('retry.maxRetryAfter', config.retry.maxRetryAfter, 0, 86_400_000);
  if (config.retry.maxBackoff < config.retry.baseBackoff) fail('retry.maxBackoff', 'must be ≥ retry.baseBackoff');
  integer('bandwidth.bytesPerSecond', config.bandwidth.bytesPerSecond, 0, Number.MAX_SAFE_INTEGER);
  integer('bandwidth.perHostBytesPerSecond', config.bandwidth.perHostBytesPerSecond, 0, Number.MAX_SAFE_INTEGER);
  integer('timeout', config.timeout, 0, 86_400_000);
  integer('responseTimeout', config.responseTimeout, 1, 86_400_000);
  integer('stall.minBytes', config.stall.minBytes, 1, 1024 ** 3);
  integer('stall.windowMs', config.stall.windowMs, 0, 86_400_000);
  integer('maxFileSize', config.maxFileSize, 1, Number.MAX_SAFE_INTEGER);
  integer('progressIntervalMs', config.progressIntervalMs, 0, 3_600_000);
  integer('maxRedirects', config.maxRedirects, 0, 100);
  if (typeof config.resume !== 'boolean') fail('resume', 'must be a boolean');
  if (config.onExisting !== 'rename' && config.onExisting !== 'skip') fail('onExisting', "must be 'rename' or 'skip'");
  const templateProblem = filenameTemplateProblem(config.filenameTemplate);
  if (templateProblem !== undefined) fail('filenameTemplate', templateProblem);
  if (config.onExisting === 'skip' && !parseFilenameTemplate(config.filenameTemplate).identifiesMedia) {
    fail(
      'filenameTemplate',
      `${JSON.stringify(config.filenameTemplate)} does not say which media a name holds, and onExisting 'skip' would take the file of one for another: use {postId}, {index} and {hash8}, or onExisting 'rename'`,
    );
  }
  if (typeof config.userAgent !== 'string') fail('userAgent', 'must be a string');
  if (typeof config.http2 !== 'boolean') fail('http2', 'must be a boolean');
  if (!Array.isArray(config.tumblrHosts) || config.tumblrHosts.some((h) => typeof h !== 'string' || h === '')) {
    fail('tumblrHosts', 'must be a list of host names');
  }
  if (typeof config.ledger.path !== 'string' || config.ledger.path === '' || config.ledger.path.includes('\0')) fail('ledger.path', "must be a file path or ':memory:'");
  if (config.ledger.path !== ':memory:') config.ledger.path = path.resolve(config.ledger.path);
  if (typeof config.ledger.skipCompleted !== 'boolean') fail('ledger.skipCompleted', 'must be a boolean');
  if (!DEDUPE_MODES.includes(config.ledger.dedupe)) fail('ledger.dedupe', `must be one of ${DEDUPE_MODES.join(', ')}`);
  if (typeof config.wayback.enabled !== 'boolean') fail('wayback.enabled', 'must be a boolean');
  if (!isHttpUrl(config.wayback.endpoint)) fail('wayback.endpoint', 'must be an http(s) URL');
  config.wayback.endpoint = config.wayback.endpoint.replace(/\/+$/, '');
  integer('wayback.maxCaptures', config.wayback.maxCaptures, 1, 100);
  if (typeof config.archive.warc !== 'boolean') fail('archive.warc', 'must be a boolean');
  integer('archive.maxSize', config.archive.maxSize, 1_000_000, Number.MAX_SAFE_INTEGER);
  if (!WARC_DIGESTS.includes(config.archive.digest)) fail('archive.digest', `must be ${WARC_DIGESTS.join(' or ')}`);
  checkStore(config.store);
  for (const hash of config.placeholderSha256) {
    if (!/^[0-9a-f]{64}$/.test(hash)) fail('placeholderSha256', `"${hash}" is not a hex SHA-256`);
  }
  return config;
}

/**
 * The scale-out section alone, defaults filled and checked: what `enqueue` and `status` need, which
 * have no output folder. @throws DownloadError `INVALID_CONFIG`
 */
export function resolveScaleOutConfig(input?: Partial<ScaleOutConfig>): ScaleOutConfig {
  const scaleOut = { ...DOWNLOADER_DEFAULTS.scaleOut, ...definedOnly(input) };
  if (typeof scaleOut.redisUrl !== 'string' || (scaleOut.redisUrl !== '' && !isRedisUrl(scaleOut.redisUrl))) {
    fail('scaleOut.redisUrl', `must be a redis:// or rediss:// URL, got ${JSON.stringify(scaleOut.redisUrl)}`);
  }
  // BullMQ joins key parts with ':', and the name shows up in every key: keep it plain.
  if (typeof scaleOut.queueName !== 'string' || !/^[A-Za-z0-9._-]{1,100}$/.test(scaleOut.queueName)) {
    fail('scaleOut.queueName', `must be 1 to 100 letters, digits, '.', '_' or '-', got ${JSON.stringify(scaleOut.queueName)}`);
  }
  integer('scaleOut.lockDurationMs', scaleOut.lockDurationMs, 1_000, 3_600_000);
  integer('scaleOut.stalledIntervalMs', scaleOut.stalledIntervalMs, 100, 3_600_000);
  integer('scaleOut.maxStalledCount', scaleOut.maxStalledCount, 0, 100);
  integer('scaleOut.attempts', scaleOut.attempts, 1, 100);
  return scaleOut;
}

function isRedisUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'redis:' || url.protocol === 'rediss:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/** The store section: a bucket URL that parses, an http(s) endpoint, a part size S3 accepts. */
function checkStore(store: StoreConfig): void {
  if (typeof store.url !== 'string') fail('store.url', 'must be a string');
  if (store.url !== '') {
    try {
      parseS3Url(store.url);
    } catch (error) {
      fail('store.url', (error as Error).message.replace(/^Invalid S3 location /, ''));
    }
  }
  if (typeof store.endpoint !== 'string' || (store.endpoint !== '' && !isHttpUrl(store.endpoint)))
    fail('store.endpoint', `must be an http(s) URL, got ${JSON.stringify(store.endpoint)}`);
  if (store.endpoint !== '' && store.url === '') fail('store.endpoint', 'needs store.url (an s3:// bucket to write to)');
  if (/^[a-z]+:\/\/[^/]*@/i.test(store.endpoint)) fail('store.endpoint', 'must not carry credentials: give them in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE');
  if (typeof store.region !== 'string' || !/^[a-z0-9-]{0,64}$/.test(store.region))
    fail('store.region', `must be a region name such as us-east-1, got ${JSON.stringify(store.region)}`);
  // Each part is read into memory (one per upload under way): 256 MiB still takes 10,000 parts to 2.5 TB.
  integer('store.partSize', store.partSize, 5 * 1024 * 1024, 256 * 1024 * 1024);
}

/** Whether a bandwidth cap is asked for (the default timeout follows it). */
function isCapped(bandwidth: Partial<BandwidthConfig> | undefined): boolean {
  return (bandwidth?.bytesPerSecond ?? 0) > 0 || (bandwidth?.perHostBytesPerSecond ?? 0) > 0;
}

/** The keys of a partial section whose value is not `undefined` (an explicit `undefined` means "the default"). */
function definedOnly<T extends object>(section: Partial<T> | undefined): Partial<T> {
  if (section === undefined || section === null) return {};
  return Object.fromEntries(Object.entries(section).filter(([, value]) => value !== undefined)) as Partial<T>;
}

function deepFreeze<T extends object>(value: T): T {
  for (const inner of Object.values(value)) if (typeof inner === 'object' && inner !== null) deepFreeze(inner as object);
  return Object.freeze(value);
}

function isHttpUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

function integer(key: string, value: unknown, min: number, max: number): void {
  number(key, value, min, max);
  if (!Number.isInteger(value)) fail(key, `must be a whole number, got ${String(value)}`);
}

function number(key: string, value: unknown, min: number, max: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    fail(key, `must be a number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
}

function fail(key: string, problem: string): never {
  throw new DownloadError('INVALID_CONFIG', `Invalid downloader config: ${key} ${problem}`);
}
