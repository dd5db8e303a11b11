import { DownloadError } from './download-error.js';

/** Which verification failed. */
export type IntegrityFailure =
  'CHECKSUM_MISMATCH' | 'SIZE_MISMATCH' | 'CONTENT_TYPE_MISMATCH' | 'HTML_INSTEAD_OF_MEDIA' | 'EMPTY' | 'TOO_SMALL' | 'PLACEHOLDER' | 'MAGIC_MISMATCH' | 'TRUNCATED';

/**
 * The bytes received are not the media that was asked for. The file is never kept.
 * Retryable only when another transfer could yield other bytes (a short body, a
 * checksum mismatch on a spliced resume).
 */
export class IntegrityError extends DownloadError {
  /** Which check failed. */
  readonly failure: IntegrityFailure;

  constructor(failure: IntegrityFailure, message: string, options: { url?: string; retryable?: boolean } = {}) {
    super('INTEGRITY', message, options);
    this.failure = failure;
  }
}
