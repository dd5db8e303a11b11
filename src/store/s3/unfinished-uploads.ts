import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { isNotImplemented, storeError } from './s3-connection.js';
import { abortUpload } from './object-upload.js';
import { UPLOAD_STATE_SUFFIX, type BucketStore } from './bucket-store.js';

/** An unfinished multipart upload the bucket holds under the prefix. */
export interface UnfinishedUpload {
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

/** Younger uploads may be a worker's on another machine, still running: they are left alone. */
export const CLEANUP_MIN_AGE_MS = 24 * 60 * 60 * 1000;

/**
 * Abort the unfinished multipart uploads under the store's prefix that no run will complete: those not
 * named by an upload state beside a `.part` in this state folder, and started at least
 * {@link CLEANUP_MIN_AGE_MS} before `nowMs`. An unfinished upload costs storage until it is aborted
 * (or a bucket lifecycle rule expires it).
 * @throws DownloadError `STORE` when the bucket refuses the listing
 */
export async function cleanUpUploads(store: BucketStore, stateFolder: string, nowMs: number): Promise<CleanupReport> {
  const continued = await uploadsContinuedIn(stateFolder);
  let unfinished: UnfinishedUpload[];
  try {
    unfinished = await listUnfinishedUploads(store);
  } catch (error) {
    if (isNotImplemented((error as { cause?: unknown }).cause ?? error)) return { aborted: [], kept: 0, unsupported: true };
    throw error;
  }
  const aborted: UnfinishedUpload[] = [];
  const s3 = await store.s3();
  for (const upload of unfinished) {
    const young = upload.initiated === undefined || nowMs - upload.initiated.getTime() < CLEANUP_MIN_AGE_MS;
    if (continued.has(upload.uploadId) || young) continue;
    await abortUpload(s3, { bucket: store.s3Location.bucket, key: upload.key }, upload.uploadId);
    aborted.push(upload);
  }
  return { aborted, kept: unfinished.length - aborted.length, unsupported: false };
}

/** Every unfinished upload under the prefix (ListMultipartUploads, page by page). */
export async function listUnfinishedUploads(store: BucketStore): Promise<UnfinishedUpload[]> {
  const s3 = await store.s3();
  const { bucket, prefix } = store.s3Location;
  const found: UnfinishedUpload[] = [];
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  try {
    for (;;) {
      const page = await s3.client.send(new s3.sdk.ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }));
      for (const upload of page.Uploads ?? []) {
        if (upload.Key !== undefined && upload.UploadId !== undefined) found.push({ key: upload.Key, uploadId: upload.UploadId, initiated: upload.Initiated });
      }
      if (!page.IsTruncated) return found;
      keyMarker = page.NextKeyMarker;
      uploadIdMarker = page.NextUploadIdMarker;
    }
  } catch (error) {
    throw storeError('ListMultipartUploads', `s3://${bucket}/${prefix}`, error);
  }
}

/** Upload ids named by upload states whose file is still in the state folder: the next run continues those. */
async function uploadsContinuedIn(stateFolder: string): Promise<Set<string>> {
  const ids = new Set<string>();
  let entries: string[];
  try {
    entries = await fs.readdir(stateFolder, { recursive: true });
  } catch {
    return ids;
  }
  for (const entry of entries) {
    if (!entry.endsWith(UPLOAD_STATE_SUFFIX)) continue;
    const stateFile = path.join(stateFolder, entry);
    // Named after what it uploads: a media file's staged `.part`, or a file handed to the bucket as it is (a WARC).
    const subject = stateFile.slice(0, -UPLOAD_STATE_SUFFIX.length);
    try {
      const state = JSON.parse(await fs.readFile(stateFile, 'utf8')) as { uploadId?: unknown };
      const present = await Promise.any([fs.access(`${subject}.part`), fs.access(subject)]).then(
        () => true,
        () => false,
      );
      if (present && typeof state.uploadId === 'string') ids.add(state.uploadId);
    } catch {
      // An unreadable state names no upload anyone will continue.
    }
  }
  return ids;
}
