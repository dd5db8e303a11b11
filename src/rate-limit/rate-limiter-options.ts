import type { RateLimitConfig } from '../config/downloader-config.js';
import { serviceToken, type ServiceToken } from '../service-token.js';

/** Token of the options the default {@link RateLimiter} is built with (bound from the config). */
export const RateLimiterOptions: ServiceToken<RateLimiterOptions> = serviceToken('RateLimiterOptions');

/** Options of {@link TokenBucketRateLimiter}; the same shape as the config's `rateLimit`. */
export type RateLimiterOptions = RateLimitConfig;
