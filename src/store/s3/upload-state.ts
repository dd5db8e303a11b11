/**
 * The names and values of unfinished uploads that the bucket store's public declarations use. Kept apart from the
 * modules that use the S3 SDK, so a host that installed without it (`--omit=optional`) still type-checks.
 */

/** Suffix of the file beside a staged `.part` (or a file handed to the bucket as it is) that names its unfinished multipart upload. */
export const UPLOAD_STATE_SUFFIX = '.part.upload.json';

/** Younger unfinished uploads may be a worker's on another machine, still running: `--s3-cleanup` leaves them alone. */
export const CLEANUP_MIN_AGE_MS = 24 * 60 * 60 * 1000;

/** An unfinished multipart upload the bucket holds under the prefix. */
export interface UnfinishedUpload {
  /** Its key, prefix included. */
  key: string;
  uploadId: string;
  /** When it was started, if the server says. */
  initiated: Date | undefined;
}

/** What `--s3-cleanup` did. */
export interface CleanupReport {
  aborted: UnfinishedUpload[];
  /** Left alone: this state folder continues them, or they may belong to a run still going elsewhere. */
  kept: number;
  /** The server cannot list unfinished uploads (s3rver): nothing was done. */
  unsupported: boolean;
}
