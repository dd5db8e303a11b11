import { ContainerModule } from 'inversify';
import { DownloaderConfig, resolveDownloaderConfig, type DownloaderConfigInput } from './config/downloader-config.js';
import { DefaultMediaDownloader, MediaDownloader } from './downloader/media-downloader.js';
import { DownloadEventEmitter, DownloadEvents } from './events/download-events.js';
import { createHttpClient, HttpClient } from './http/http-client.js';
import { DefaultFilenameGenerator, FilenameGenerator } from './naming/filename-generator.js';
import { RateLimiterOptions } from './rate-limit/rate-limiter-options.js';
import { RateLimiter, TokenBucketRateLimiter } from './rate-limit/rate-limiter.js';
import { RetryOptions } from './retry/retry-options.js';
import { ExponentialBackoffRetryStrategy, RetryStrategy } from './retry/retry-strategy.js';
import { Clock, SystemClock } from './time/clock.js';
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
    bind(HttpClient)
      .toDynamicValue(() => createHttpClient({ userAgent: config.userAgent, maxSockets: config.perHostConcurrency }))
      .inSingletonScope();

    bind(SystemClock).toSelf().inSingletonScope();
    bind(Clock).toService(SystemClock);
    bind(DownloadEventEmitter).toSelf().inSingletonScope();
    bind(DownloadEvents).toService(DownloadEventEmitter);
    bind(TokenBucketRateLimiter).toSelf().inSingletonScope();
    bind(RateLimiter).toService(TokenBucketRateLimiter);
    bind(ExponentialBackoffRetryStrategy).toSelf().inSingletonScope();
    bind(RetryStrategy).toService(ExponentialBackoffRetryStrategy);
    bind(DefaultVerifier).toSelf().inSingletonScope();
    bind(Verifier).toService(DefaultVerifier);
    bind(DefaultFilenameGenerator).toSelf().inSingletonScope();
    bind(FilenameGenerator).toService(DefaultFilenameGenerator);
    bind(DefaultMediaDownloader).toSelf().inSingletonScope();
    bind(MediaDownloader).toService(DefaultMediaDownloader);
  });
}
