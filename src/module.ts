import { ContainerModule, type Newable, type ServiceIdentifier } from 'inversify';
import { DownloaderConfig, resolveDownloaderConfig, type DownloaderConfigInput } from './config/downloader-config.js';
import { FolderLock, SqliteFolderLock } from './downloader/disk/folder-lock.js';
import { DefaultMediaDownloader, MediaDownloader } from './downloader/media-downloader.js';
import { DownloadEventEmitter, DownloadEvents } from './events/download-events.js';
import { createHttpClient, HttpClient } from './http/http-client.js';
import { DownloadLedger } from './ledger/download-ledger.js';
import { MemoryDownloadLedger } from './ledger/memory-download-ledger.js';
import { NativeModuleMissingError } from './ledger/open-sqlite.js';
import { SqliteDownloadLedger } from './ledger/sqlite-download-ledger.js';
import { DefaultFilenameGenerator, FilenameGenerator } from './naming/filename-generator.js';
import { ArchiveRecorder, NoArchiveRecorder } from './archive/archive-recorder.js';
import { WarcRecorder } from './archive/warc-recorder.js';
import { FilenameTemplate, parseFilenameTemplate } from './naming/filename-template.js';
import { TemplateFilenameGenerator } from './naming/template-filename-generator.js';
import { BandwidthLimiter, BandwidthOptions, SmoothBandwidthLimiter } from './rate-limit/bandwidth-limiter.js';
import { RateLimiterOptions } from './rate-limit/rate-limiter-options.js';
import { RateLimiter, TokenBucketRateLimiter } from './rate-limit/rate-limiter.js';
import { RetryOptions } from './retry/retry-options.js';
import { ExponentialBackoffRetryStrategy, RetryStrategy } from './retry/retry-strategy.js';
import { Clock, SystemClock } from './time/clock.js';
import { MediaStore } from './store/media-store.js';
import { FolderStore } from './store/folder-store.js';
import { BucketStore } from './store/s3/bucket-store.js';
import { LocalTwinRegistry, TwinRegistry } from './store/twin-registry.js';
import { DefaultVerifier, Verifier } from './verify/verifier.js';

/**
 * The plugin's bindings. The config is validated here, so a wrong value fails
 * when the host loads the module, not in the middle of an archive.
 *
 * Every default class is bound `toSelf().inSingletonScope()` and its token
 * `toService(DefaultClass)`: a host replaces a service with
 * `container.rebind(Token).to(Custom)` (or subclasses the default), before
 * the first `get` of the downloader.
 * @throws DownloadError `INVALID_CONFIG`
 */
export function downloaderModule(input: DownloaderConfigInput): ContainerModule {
  const config = resolveDownloaderConfig(input);
  return new ContainerModule(({ bind }) => {
    bind(DownloaderConfig).toConstantValue(config);
    bind(RateLimiterOptions).toConstantValue(config.rateLimit);
    bind(RetryOptions).toConstantValue(config.retry);
    bind(BandwidthOptions).toConstantValue(config.bandwidth);
    bind(HttpClient)
      .toDynamicValue(() => createHttpClient({ userAgent: config.userAgent, maxSockets: config.perHostConcurrency, http2: config.http2 }))
      .inSingletonScope();

    // Default class as a singleton, token as an alias of it: a host can `rebind` the token, or subclass the class.
    const bindDefault = <T>(token: ServiceIdentifier<T>, implementation: Newable<T>): void => {
      bind(implementation).toSelf().inSingletonScope();
      bind(token).toService(implementation);
    };
    bindDefault<Clock>(Clock, SystemClock);
    bindDefault<DownloadEvents>(DownloadEvents, DownloadEventEmitter);
    bindDefault<RateLimiter>(RateLimiter, TokenBucketRateLimiter);
    bindDefault<BandwidthLimiter>(BandwidthLimiter, SmoothBandwidthLimiter);
    bindDefault<RetryStrategy>(RetryStrategy, ExponentialBackoffRetryStrategy);
    bindDefault<Verifier>(Verifier, DefaultVerifier);
    // Names follow config.filenameTemplate; DefaultFilenameGenerator (today's names, whatever the config) stays bound for hosts that ask for it.
    bind(FilenameTemplate).toConstantValue(parseFilenameTemplate(config.filenameTemplate));
    bind(DefaultFilenameGenerator).toSelf().inSingletonScope();
    bindDefault<FilenameGenerator>(FilenameGenerator, TemplateFilenameGenerator);
    bindDefault<FolderLock>(FolderLock, SqliteFolderLock);
    // Nothing is recorded unless archive.warc asks for WARC files.
    bind(NoArchiveRecorder).toSelf().inSingletonScope();
    bind(WarcRecorder).toSelf().inSingletonScope();
    bind(ArchiveRecorder).toService(config.archive.warc ? WarcRecorder : NoArchiveRecorder);
    // Files live in the output folder unless store.url names a bucket; then the output folder is the state folder.
    bind(FolderStore).toSelf().inSingletonScope();
    bind(BucketStore).toSelf().inSingletonScope();
    bind(MediaStore).toService(config.store.url === '' ? FolderStore : BucketStore);
    bindDefault<TwinRegistry>(TwinRegistry, LocalTwinRegistry);
    // SQLite, unless its native module cannot load (installed with --ignore-scripts, no compiler): then the
    // ledger lives in memory for this process, with one warning, and downloads work as before.
    bind(SqliteDownloadLedger).toSelf().inSingletonScope();
    bind(DownloadLedger)
      .toDynamicValue((context) => {
        // The folder is ours before its ledger is opened, checked or migrated: a second run stops at the lock.
        const lock = context.get(FolderLock);
        lock.acquire();
        try {
          return context.get(SqliteDownloadLedger);
        } catch (error) {
          const missing = findNativeModuleMissing(error);
          if (!missing) {
            // A ledger that cannot be opened (damaged, unwritable) must not keep the folder from the next attempt.
            lock.release();
            throw error;
          }
          process.emitWarning(`${missing.message}. Keeping the ledger in memory for this process.`, 'LedgerWarning');
          return new MemoryDownloadLedger();
        }
      })
      .inSingletonScope();
    bindDefault<MediaDownloader>(MediaDownloader, DefaultMediaDownloader);
  });
}

/** The native-module failure behind whatever inversify wrapped it in, if that is what went wrong. */
function findNativeModuleMissing(error: unknown): NativeModuleMissingError | undefined {
  for (let current = error, depth = 0; current && depth < 5; current = (current as { cause?: unknown }).cause, depth++) {
    if (current instanceof NativeModuleMissingError) return current;
  }
  return undefined;
}
