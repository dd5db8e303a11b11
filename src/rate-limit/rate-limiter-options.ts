import type { RateLimitConfig } from '../config/downloader-config.js';
import { DownloadError } from '../errors/download-error.js';
import { serviceToken, type ServiceToken } from '../service-token.js';

/** Token of the options the default {@link RateLimiter} is built with (bound from the config). */
export const RateLimiterOptions: ServiceToken<RateLimiterOptions> = serviceToken('RateLimiterOptions');

/** Options of {@link TokenBucketRateLimiter}; the same shape as the config's `rateLimit`. */
export type RateLimiterOptions = RateLimitConfig;

/**
 * Refuse a rate or burst no token bucket can work with, coded like every other configuration error. The
 * in-process bucket and the shared Redis one both check their options here.
 * @throws DownloadError `INVALID_CONFIG`
 */
export function checkRateOptions(requestsPerSecond: unknown, burst: unknown): void {
  if (typeof requestsPerSecond !== 'number' || !(requestsPerSecond >= 0) || !Number.isFinite(requestsPerSecond)) {
    throw invalid(`requestsPerSecond must be a finite number ≥ 0, got ${JSON.stringify(requestsPerSecond)}`);
  }
  if (typeof burst !== 'number' || !(burst >= 1)) throw invalid(`burst must be ≥ 1, got ${JSON.stringify(burst)}`);
}

function invalid(problem: string): DownloadError {
  return new DownloadError('INVALID_CONFIG', `Invalid rate-limit options: ${problem}`);
}
