import { DownloadError } from './download-error.js';

/** Statuses worth another try: the server may answer differently later. */
const RETRYABLE_STATUSES = new Set([408, 425, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524, 525, 526, 527, 529, 530]);

/** An HTTP status the downloader cannot use (other than the "missing" ones). */
export class HttpStatusError extends DownloadError {
  /** The response status. */
  readonly statusCode: number;
  /** Delay the server asked for through Retry-After, in ms, when it sent one. */
  readonly retryAfterMs: number | undefined;

  constructor(url: string, statusCode: number, retryAfterMs?: number) {
    super(statusCode === 429 ? 'RATE_LIMITED' : 'HTTP_ERROR', `HTTP ${statusCode} from ${url}`, {
      url,
      retryable: RETRYABLE_STATUSES.has(statusCode),
    });
    this.statusCode = statusCode;
    this.retryAfterMs = retryAfterMs;
  }
}
