import { DownloadError } from './download-error.js';

/** The origin answered 404, 403 or 410: the media is gone. Never retried. */
export class MediaNotFoundError extends DownloadError {
  /** The HTTP status that said the media is missing. */
  readonly statusCode: number;

  constructor(url: string, statusCode: number) {
    super('MEDIA_NOT_FOUND', `Media not found (HTTP ${statusCode}): ${url}`, { url, retryable: false });
    this.statusCode = statusCode;
  }
}
