import type { StatusVerdict } from '../http/status-rules.js';
import { DownloadError } from './download-error.js';
import { HttpStatusError } from './http-status-error.js';
import { MediaNotFoundError } from './media-not-found-error.js';

/** The typed error for a status that brings no usable body: missing, a refused range, or a failure. */
export function errorForStatus(url: string, statusCode: number, verdict: Exclude<StatusVerdict, { kind: 'whole' | 'partial' }>): DownloadError {
  switch (verdict.kind) {
    case 'missing':
      return new MediaNotFoundError(url, statusCode);
    case 'range-refused':
      return new DownloadError('RANGE_MISMATCH', `Server refused the resume range (416): ${url}`, { url, retryable: true });
    case 'failed':
      return new HttpStatusError(url, statusCode, verdict.retryAfterMs);
  }
}
