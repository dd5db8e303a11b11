import type { RetryConfig } from '../config/downloader-config.js';
import { serviceToken, type ServiceToken } from '../service-token.js';

/** Token of the options the default {@link RetryStrategy} is built with (bound from the config). */
export const RetryOptions: ServiceToken<RetryOptions> = serviceToken('RetryOptions');

/** Options of {@link ExponentialBackoffRetryStrategy}. */
export interface RetryOptions extends RetryConfig {
  /** Decides which errors are worth another attempt. @default isRetryable */
  shouldRetry?: (error: unknown) => boolean;
  /** Source of randomness for jitter, returning [0, 1). @default Math.random */
  random?: () => number;
}
