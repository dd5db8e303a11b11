import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { isNotImplemented, storeError, type S3Connection } from './s3-connection.js';
import { abortUpload } from './object-upload.js';
import { prefixUrl, type S3Location } from './s3-location.js';
import { CLEANUP_MIN_AGE_MS, UPLOAD_STATE_SUFFIX, type CleanupReport, type UnfinishedUpload } from './upload-state.js';

/**
 * Abort the unfinished multipart uploads under the prefix that no run will complete: those not
 * named by an upload state beside a `.part` in this state folder, and started at least
 * {@link CLEANUP_MIN_AGE_MS} before `nowMs`. An unfinished upload costs storage until it is aborted
 * (or a bucket lifecycle rule expires it).
 * @throws DownloadError `STORE` when the bucket refuses the listing
 */
export async function cleanUpUploads(s3: S3Connection, where: S3Location, stateFolder: string, nowMs: number): Promise<CleanupReport> {
  const continued = await uploadsContinuedIn(stateFolder);
  let unfinished: UnfinishedUpload[];
  try {
    unfinished = await listUnfinishedUploads(s3, where);
  } catch (error) {
    if (isNotImplemented((error as { cause?: unknown }).cause ?? error)) return { aborted: [], kept: 0, unsupported: true };
    throw error;
  }
  const aborted: UnfinishedUpload[] = [];
  for (const upload of unfinished) {
    const young = upload.initiated === undefined || nowMs - upload.initiated.getTime() < CLEANUP_MIN_AGE_MS;
    if (continued.has(upload.uploadId) || young) continue;
    await abortUpload(s3, { bucket: where.bucket, key: upload.key }, upload.uploadId);
    aborted.push(upload);
  }
  return { aborted, kept: unfinished.length - aborted.length, unsupported: false };
}

/** Every unfinished upload under the prefix (ListMultipartUploads, page by page). */
export async function listUnfinishedUploads(s3: S3Connection, where: S3Location): Promise<UnfinishedUpload[]> {
  const { bucket, prefix } = where;
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
    throw storeError('ListMultipartUploads', prefixUrl(where), error);
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
