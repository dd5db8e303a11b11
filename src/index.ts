/**
 * Public surface of the media downloader plugin: the module, the services and their defaults, the values
 * they exchange, the events and the errors. The reference host and manifest loader are the subpath
 * `tumblr-media-downloader/host`; scale-out over Redis is `tumblr-media-downloader/scale-out`.
 * @packageDocumentation
 */
// inversify reads constructor metadata through the Reflect API; load the polyfill for every host.
import 'reflect-metadata';

export { downloaderModule } from './module.js';
export { serviceToken, type ServiceToken } from './service-token.js';
export {
  DownloaderConfig,
  resolveDownloaderConfig,
  resolveScaleOutConfig,
  type DownloaderConfigInput,
  type RateLimitConfig,
  type RetryConfig,
  type BandwidthConfig,
  type StallConfig,
  type LedgerConfig,
  DEDUPE_MODES,
  DOWNLOADER_DEFAULTS,
  type WaybackConfig,
  type ArchiveConfig,
  WARC_DIGESTS,
  type ScaleOutConfig,
  type StoreConfig,
} from './config/downloader-config.js';

// The downloader and the values it takes and returns.
export { MediaDownloader, DefaultMediaDownloader, type CloseOptions } from './downloader/media-downloader.js';
export type { CommonDownloadOptions, DownloadFileOptions, DownloadMediaOptions, ProgressCallback } from './downloader/download-options.js';
export type { DownloadResult, DownloadSource, DownloadStatus } from './model/download-result.js';
export type { MediaType, DetectedFormat, DetectedMediaType } from './model/media-type.js';
export { FolderLock, SqliteFolderLock } from './downloader/disk/folder-lock.js';

// Politeness: requests, bytes, retries.
export { RateLimiter, TokenBucketRateLimiter, type AcquireOptions } from './rate-limit/rate-limiter.js';
export { RateLimiterOptions } from './rate-limit/rate-limiter-options.js';
export { BandwidthLimiter, BandwidthOptions, SmoothBandwidthLimiter, type TakeBytesOptions } from './rate-limit/bandwidth-limiter.js';
export { RetryStrategy, ExponentialBackoffRetryStrategy, type RetryContext, type RetryDecision, type RetryNotice, type RunOptions } from './retry/retry-strategy.js';
export { RetryOptions } from './retry/retry-options.js';
export { isRetryable } from './retry/is-retryable.js';
export { parseRetryAfter } from './retry/retry-after.js';
export { judgeStatus, type StatusVerdict } from './http/status-rules.js';

// Verification: the service, the facts it judges, and the default rules, to compose a Verifier of one's own.
export { Verifier, DefaultVerifier, type ContentVerdict } from './verify/verifier.js';
export type { ContentFacts, HeadFacts, ResponseFacts } from './verify/verification-facts.js';
export type { Completeness } from './verify/structure-probe.js';
export {
  WARNINGS,
  mediaSignature,
  declaredSize,
  sizeFloor,
  knownPlaceholders,
  structure,
  extensionMatchesContent,
  expectedChecksum,
  type VerificationCheck,
} from './verify/verification-checks.js';
export { DEFAULT_PLACEHOLDER_SHA256 } from './verify/known-placeholders.js';
export { detectFormat, classifyNonMedia, type NonMedia } from './verify/media-formats.js';

// Names: the service, and the guards every name built from crawled values goes through.
export { FilenameGenerator, DefaultFilenameGenerator, extensionFor, type FilenameContext } from './naming/filename-generator.js';
export { TemplateFilenameGenerator } from './naming/template-filename-generator.js';
export {
  FilenameTemplate,
  parseFilenameTemplate,
  filenameTemplateProblem,
  collisionWarning,
  DEFAULT_FILENAME_TEMPLATE,
  FILENAME_TEMPLATE_FIELDS,
  FILENAME_TEMPLATE_FALLBACKS,
  MAX_TEMPLATE_FOLDERS,
  type FilenameTemplateField,
  type FilenameTemplateItem,
} from './naming/filename-template.js';
export { sanitizeSegment } from './naming/sanitize.js';
export { resolveInside, STATE_FOLDER } from './naming/safe-path.js';

// The archive's memory.
export { DownloadLedger, type LedgerRecord, type LedgerEntry, type PartRecord, type SavedFile } from './ledger/download-ledger.js';
export { SqliteDownloadLedger } from './ledger/sqlite-download-ledger.js';
export { MemoryDownloadLedger } from './ledger/memory-download-ledger.js';
export { checkRecordedFile, describeCheck, type FileCheck, type CheckOptions, type RecordedFile } from './ledger/check-recorded-file.js';

// Tumblr posts in (API v2 JSON, NPF and legacy: pure functions), metadata files out.
export { expandPost } from './tumblr/expand-post.js';
export { isPost, postsIn } from './tumblr/post-shape.js';
export type { PostMedia, PostMediaItem, PostEmbed, PostMediaType, PostMetadata } from './tumblr/post-media.js';
export { writeMetadataSidecar, metadataSidecarOf, metadataSidecarPath, type MetadataSidecar, type SidecarItem, type SidecarOutcome } from './sidecar/metadata-sidecar.js';

// The web archive beside the files: WARC 1.1 with CDXJ indexes, packed as WACZ (docs/warc.md).
export { ArchiveRecorder, NoArchiveRecorder, type HttpExchange, type SavedDownload, type MissingDownload } from './archive/archive-recorder.js';
export { WarcRecorder, WARC_FOLDER, IDENTICAL_PAYLOAD_PROFILE } from './archive/warc-recorder.js';
export { MediaStore, type PlaceContext } from './store/media-store.js';
export { FolderStore } from './store/folder-store.js';
export { BucketStore } from './store/s3/bucket-store.js';
export { TwinRegistry, LocalTwinRegistry } from './store/twin-registry.js';
export { parseS3Url, isS3Url, type S3Location } from './store/s3/s3-location.js';
export type { FinalName, PlaceRequest } from './downloader/disk/place-file.js';
export type { PathReservations, Reservation } from './downloader/disk/path-reservations.js';
export type { DownloadTarget } from './downloader/download-target.js';
export { UPLOAD_STATE_SUFFIX, CLEANUP_MIN_AGE_MS, type CleanupReport, type UnfinishedUpload } from './store/s3/upload-state.js';
export { WarcWriter, type WarcWriterOptions, type WarcRecoverOptions } from './archive/warc-writer.js';
export type { FinishedWarc } from './archive/warc-files.js';
export type { WarcRecordSpec, WarcRecordType, FilePayload, CdxjFields, WrittenRecord } from './archive/warc-record.js';
export { surt } from './archive/surt.js';
export { packWacz, WaczError, WACZ_VERSION, type PackWaczOptions, type WaczSummary, type WaczFailure } from './archive/wacz.js';

export { HttpClient, createHttpClient, type HttpClientOptions } from './http/http-client.js';
export { Clock, SystemClock } from './time/clock.js';

// What a host hears.
export { DownloadEvents, DownloadEventEmitter } from './events/download-events.js';
export type * from './events/download-event-map.js';
export { DOWNLOAD_EVENT_NAMES } from './events/download-event-map.js';
export { DownloadError, type DownloadErrorCode, type DownloadErrorOptions } from './errors/download-error.js';
export { MediaNotFoundError } from './errors/media-not-found-error.js';
export { IntegrityError, type IntegrityFailure } from './errors/integrity-error.js';
export { HttpStatusError } from './errors/http-status-error.js';
