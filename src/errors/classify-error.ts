import { DownloadError } from './download-error.js';
import { isRetryable } from '../retry/is-retryable.js';

/** Error codes of the file system that no retry will cure. */
const FILESYSTEM_SYSCALLS = new Set(['open', 'write', 'writev', 'fsync', 'close', 'rename', 'link', 'mkdir', 'ftruncate']);

/**
 * Turn whatever a transfer threw (got errors, socket errors, fs errors) into a
 * {@link DownloadError} with the right code and retry verdict.
 */
export function toDownloadError(error: unknown, url: string, signal?: AbortSignal): DownloadError {
  // got wraps errors raised inside its stream (a stall we detected, a size cap) as RequestError causes.
  const ours = findInCauses(error, DownloadError.isDownloadError);
  if (ours) return ours;
  if (signal?.aborted) return new DownloadError('ABORTED', `Download aborted: ${url}`, { url, cause: signal.reason ?? error });
  const e = (typeof error === 'object' && error !== null ? error : {}) as { code?: string; name?: string; syscall?: string; message?: string; cause?: unknown };
  // got wraps the socket error; the interesting code may sit on the cause.
  const inner = (typeof e.cause === 'object' && e.cause !== null ? e.cause : {}) as { code?: string; syscall?: string };
  const syscall = e.syscall ?? inner.syscall;
  const code = e.code ?? inner.code;
  if (syscall !== undefined && FILESYSTEM_SYSCALLS.has(syscall) && code !== undefined && !code.startsWith('ECONN')) {
    return new DownloadError('FILESYSTEM', `Cannot write file (${code}): ${e.message ?? String(error)}`, { url, cause: error });
  }
  if (e.name === 'TimeoutError' || code === 'ETIMEDOUT') {
    return new DownloadError('TIMEOUT', `Timed out: ${e.message ?? url}`, { url, cause: error, retryable: true });
  }
  if (code === 'ERR_UNSUPPORTED_PROTOCOL' || code === 'ERR_INVALID_URL') {
    return new DownloadError('INVALID_URL', `Unsupported or invalid URL (possibly after a redirect): ${e.message ?? url}`, { url, cause: error });
  }
  if (e.name === 'MaxRedirectsError') {
    return new DownloadError('HTTP_ERROR', `Too many redirects: ${url}`, { url, cause: error });
  }
  const retryable = isRetryable(error) || isRetryable(e.cause) || e.name === 'ReadError' || e.name === 'RequestError';
  return new DownloadError('NETWORK_ERROR', `Network error: ${e.message ?? String(error)}`, { url, cause: error, retryable });
}

function findInCauses<T>(error: unknown, test: (value: unknown) => value is T): T | undefined {
  let current = error;
  for (let depth = 0; depth < 5 && current !== undefined && current !== null; depth++) {
    if (test(current)) return current;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
