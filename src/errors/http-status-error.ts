import { isRetryableStatus } from '../http/status-rules.js';
import { DownloadError } from './download-error.js';

/** An HTTP status the downloader cannot use (other than the "missing" ones). */
export class HttpStatusError extends DownloadError {
  /** The response status. */
  readonly statusCode: number;
  /** Delay the server asked for through Retry-After, in ms, when it sent one. */
  readonly retryAfterMs: number | undefined;

  constructor(url: string, statusCode: number, retryAfterMs?: number) {
    super(statusCode === 429 ? 'RATE_LIMITED' : 'HTTP_ERROR', `HTTP ${statusCode} from ${url}`, {
      url,
      retryable: isRetryableStatus(statusCode),
    });
    this.statusCode = statusCode;
    this.retryAfterMs = retryAfterMs;
  }
}
