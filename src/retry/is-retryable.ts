import { DownloadError } from '../errors/download-error.js';

/** Socket-level failures that a later attempt may not meet. */
const TRANSIENT_CODES = new Set([
  'ETIMEDOUT',
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ERR_STREAM_PREMATURE_CLOSE',
  'UND_ERR_SOCKET',
]);

/**
 * Default retry predicate. Plugin errors say it themselves ({@link DownloadError.retryable});
 * foreign errors are retried when they carry a transient socket code. Aborts never are.
 */
export function isRetryable(error: unknown): boolean {
  if (DownloadError.isDownloadError(error)) return error.retryable;
  if (typeof error !== 'object' || error === null) return false;
  if ((error as { name?: unknown }).name === 'AbortError') return false;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && TRANSIENT_CODES.has(code);
}
