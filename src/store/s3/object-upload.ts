import { createHash } from 'node:crypto';
import { readRange } from '../../downloader/disk/read-range.js';
import { writeAtomically } from '../../downloader/disk/write-atomically.js';
import { promises as fs } from 'node:fs';
import type { CompletedPart, Part } from '@aws-sdk/client-s3';
import { DownloadError } from '../../errors/download-error.js';
import { isAbsent, isNotImplemented, storeError, type S3Connection } from './s3-connection.js';

/** What is uploaded: a verified local file and the facts the object must carry. */
export interface UploadSource {
  /** The local file (a sealed `.part`) holding the verified bytes. */
  file: string;
  /** SHA-256 (hex) the bytes were verified to have: the object carries it, and the parts must add up to it. */
  sha256: string;
  /** Size of the file. */
  byteSize: number;
  /** Content-Type the object gets, if known. */
  contentType: string | undefined;
}

/** Where it goes, and where the multipart upload's id is kept between runs. */
export interface UploadTarget {
  /** Bucket name. */
  bucket: string;
  /** The object's key, prefix included. */
  key: string;
  /** JSON file naming the unfinished multipart upload, so a killed run's parts are continued, not sent again. */
  stateFile: string;
  /** Bytes per part (S3: at least 5 MiB, at most 10,000 parts). Files up to this size go in one PUT. */
  partSize: number;
  /** Stops the upload between requests and aborts the one in flight (Ctrl-C): what was sent stays for the next run. */
  signal?: AbortSignal | undefined;
  /**
   * Write only if no object has the key (`If-None-Match: *` on the PUT or the completion): another process that
   * took the key meanwhile is never overwritten, and the upload fails with {@link KeyTakenError}. A server that
   * ignores the condition (s3rver) overwrites; one that refuses it gets the write without it.
   */
  noClobber: boolean;
}

/** The key was taken by another object while this one was being uploaded (a `412` to `If-None-Match: *`). */
export class KeyTakenError extends DownloadError {
  constructor(readonly where: string) {
    super('STORE', `${where} was written by someone else meanwhile`, { retryable: true });
  }
}

/** What an unfinished multipart upload is remembered by. */
interface UploadState {
  uploadId: string;
  key: string;
  sha256: string;
  byteSize: number;
  partSize: number;
}

/** The most parts S3 allows in one upload: larger files get larger parts. */
const MAX_PARTS = 10_000;

/** How the upload went. */
export interface UploadReport {
  /** Whether it went as a multipart upload (the server assembled the object from parts). */
  multipart: boolean;
}

/**
 * Put a verified file under `key`, the object appearing only whole: one PUT for a small file, else a
 * multipart upload that S3 completes atomically. Each request carries the SHA-256 of its bytes
 * (`x-amz-checksum-sha256`), which servers that support it check on arrival; every part's MD5 ETag is
 * checked too where the server returns one. The object carries the file's SHA-256 as metadata
 * (`x-amz-meta-sha256`). An upload a killed run left unfinished is continued: its parts are listed
 * (ListParts) and only those missing or different are sent. A server without ListParts (s3rver) starts over.
 * @throws DownloadError `STORE`
 */
export async function uploadFile(s3: S3Connection, source: UploadSource, target: UploadTarget): Promise<UploadReport> {
  const partSize = Math.max(target.partSize, Math.ceil(source.byteSize / MAX_PARTS));
  if (source.byteSize <= partSize) {
    const body = await readVerified(source.file, 0, source.byteSize);
    if (sha256Hex(body) !== source.sha256) throw changedOnDisk(source.file);
    // A multipart upload an earlier run left for this file (it was larger parts then) will not be completed.
    await dropUpload(s3, target.bucket, target.stateFile);
    await send(
      `PutObject`,
      target,
      (options, condition) =>
        s3.client.send(
          new s3.sdk.PutObjectCommand({
            ...condition,
            Bucket: target.bucket,
            Key: target.key,
            Body: body,
            ContentLength: body.length,
            ContentMD5: createHash('md5').update(body).digest('base64'),
            ChecksumSHA256: hexToBase64(source.sha256),
            ...(source.contentType ? { ContentType: source.contentType } : {}),
            Metadata: { sha256: source.sha256 },
          }),
          options,
        ),
      true,
    );
    return { multipart: false };
  }
  return uploadInParts(s3, source, target, partSize);
}

async function uploadInParts(s3: S3Connection, source: UploadSource, target: UploadTarget, partSize: number): Promise<UploadReport> {
  const { uploadId, listed } = await openUpload(s3, source, target, partSize);
  const parts: CompletedPart[] = [];
  const whole = createHash('sha256');
  for (let offset = 0, number = 1; offset < source.byteSize; offset += partSize, number++) {
    const body = await readVerified(source.file, offset, Math.min(partSize, source.byteSize - offset));
    whole.update(body);
    const md5 = createHash('md5').update(body).digest('hex');
    const checksum = createHash('sha256').update(body).digest('base64');
    const earlier = listed.get(number);
    if (earlier && earlier.Size === body.length && md5OfEtag(earlier.ETag) === md5 && (earlier.ChecksumSHA256 === undefined || earlier.ChecksumSHA256 === checksum)) {
      parts.push({ PartNumber: number, ETag: earlier.ETag, ChecksumSHA256: checksum });
      continue;
    }
    const sent = await send(`UploadPart ${number} of`, target, (options) =>
      s3.client.send(
        new s3.sdk.UploadPartCommand({
          Bucket: target.bucket,
          Key: target.key,
          UploadId: uploadId,
          PartNumber: number,
          Body: body,
          ContentLength: body.length,
          ContentMD5: Buffer.from(md5, 'hex').toString('base64'),
          ChecksumSHA256: checksum,
        }),
        options,
      ),
    );
    // A part whose ETag is a plain MD5 must be this part's; some servers' ETags are not MD5s at all.
    const sentMd5 = md5OfEtag(sent.ETag);
    if (sent.ETag === undefined || (sentMd5 !== undefined && sentMd5 !== md5)) {
      throw new DownloadError('STORE', `UploadPart ${number} of s3://${target.bucket}/${target.key}: the server's ETag ${sent.ETag ?? '(none)'} is not the part's MD5 ${md5}`, {
        retryable: true,
      });
    }
    parts.push({ PartNumber: number, ETag: sent.ETag, ChecksumSHA256: checksum });
  }
  // The bytes read for the parts must be the verified ones: a file changed on disk since is not completed.
  if (whole.digest('hex') !== source.sha256) {
    await abortUpload(s3, target, uploadId);
    throw changedOnDisk(source.file);
  }
  await send(
    'CompleteMultipartUpload',
    target,
    (options, condition) =>
      s3.client.send(
        new s3.sdk.CompleteMultipartUploadCommand({ ...condition, Bucket: target.bucket, Key: target.key, UploadId: uploadId, MultipartUpload: { Parts: parts } }),
        options,
      ),
    true,
  );
  await fs.rm(target.stateFile, { force: true });
  return { multipart: true };
}

/** The upload to send parts to: the one a killed run left (with its parts), or a new one. */
async function openUpload(s3: S3Connection, source: UploadSource, target: UploadTarget, partSize: number): Promise<{ uploadId: string; listed: Map<number, Part> }> {
  const earlier = await readState(target.stateFile);
  if (earlier && earlier.key === target.key && earlier.sha256 === source.sha256 && earlier.byteSize === source.byteSize && earlier.partSize === partSize) {
    const listed = await listParts(s3, target, earlier.uploadId);
    if (listed) return { uploadId: earlier.uploadId, listed };
  }
  // Another file's upload, or one the server forgot or cannot list: it will never be completed.
  if (earlier) await abortUpload(s3, { ...target, key: earlier.key }, earlier.uploadId);
  const created = await send('CreateMultipartUpload', target, (options) =>
    s3.client.send(
      new s3.sdk.CreateMultipartUploadCommand({
        Bucket: target.bucket,
        Key: target.key,
        ChecksumAlgorithm: 'SHA256',
        ...(source.contentType ? { ContentType: source.contentType } : {}),
        Metadata: { sha256: source.sha256 },
      }),
      options,
    ),
  );
  if (!created.UploadId) throw new DownloadError('STORE', `CreateMultipartUpload s3://${target.bucket}/${target.key}: the server gave no upload id`);
  const state: UploadState = { uploadId: created.UploadId, key: target.key, sha256: source.sha256, byteSize: source.byteSize, partSize };
  // Written whole or not at all: half a state would strand the upload it names.
  await writeAtomically(target.stateFile, JSON.stringify(state));
  return { uploadId: created.UploadId, listed: new Map() };
}

/** The parts of an unfinished upload, by number; `undefined` when the upload is gone or cannot be listed. */
async function listParts(s3: S3Connection, target: UploadTarget, uploadId: string): Promise<Map<number, Part> | undefined> {
  const parts = new Map<number, Part>();
  let marker: string | undefined;
  try {
    do {
      const page = await s3.client.send(new s3.sdk.ListPartsCommand({ Bucket: target.bucket, Key: target.key, UploadId: uploadId, PartNumberMarker: marker }));
      for (const part of page.Parts ?? []) if (part.PartNumber !== undefined) parts.set(part.PartNumber, part);
      marker = page.IsTruncated ? page.NextPartNumberMarker : undefined;
    } while (marker !== undefined);
    return parts;
  } catch (error) {
    if (isAbsent(error) || isNotImplemented(error)) return undefined;
    throw storeError('ListParts', `s3://${target.bucket}/${target.key}`, error);
  }
}

/** Abort an upload that will not be completed; a server that cannot (or already forgot it) is no failure. */
export async function abortUpload(s3: S3Connection, target: Pick<UploadTarget, 'bucket' | 'key'>, uploadId: string): Promise<void> {
  try {
    await s3.client.send(new s3.sdk.AbortMultipartUploadCommand({ Bucket: target.bucket, Key: target.key, UploadId: uploadId }));
  } catch (error) {
    if (!isAbsent(error) && !isNotImplemented(error)) throw storeError('AbortMultipartUpload', `s3://${target.bucket}/${target.key}`, error);
  }
}

/** Forget an unfinished upload kept for `stateFile` (the bytes failed or went elsewhere): abort it, remove its state. */
export async function dropUpload(s3: S3Connection, bucket: string, stateFile: string): Promise<void> {
  const state = await readState(stateFile);
  if (state) await abortUpload(s3, { bucket, key: state.key }, state.uploadId).catch(() => undefined);
  await fs.rm(stateFile, { force: true });
}

/** The SDK's per-request options: the upload's abort signal, when it has one. */
type SendOptions = { abortSignal?: AbortSignal };

/** The write's condition, for the requests that make the object appear (PUT, completion). */
type WriteCondition = { IfNoneMatch?: string };

/**
 * One request of the upload, its failure as a `STORE` error; a request cut short by the upload's signal (Ctrl-C)
 * is `ABORTED`, as an aborted download is, so a worker puts its job back and the next run continues the upload.
 * With `noClobber`, a `412` is {@link KeyTakenError}, and a server that refuses the condition (`501`) is asked
 * again without it.
 */
async function send<T>(
  action: string,
  target: Pick<UploadTarget, 'bucket' | 'key' | 'signal' | 'noClobber'>,
  call: (options: SendOptions, condition: WriteCondition) => Promise<T>,
  makesTheObject = false,
): Promise<T> {
  const where = `s3://${target.bucket}/${target.key}`;
  const options: SendOptions = target.signal ? { abortSignal: target.signal } : {};
  let condition: WriteCondition = makesTheObject && target.noClobber ? { IfNoneMatch: '*' } : {};
  for (;;) {
    if (target.signal?.aborted) throw aborted(where, target.signal);
    try {
      return await call(options, condition);
    } catch (error) {
      if (target.signal?.aborted) throw aborted(where, target.signal);
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (condition.IfNoneMatch !== undefined && status === 412) throw new KeyTakenError(where);
      if (condition.IfNoneMatch !== undefined && isNotImplemented(error)) {
        condition = {};
        continue;
      }
      throw storeError(action, where, error);
    }
  }
}

function aborted(where: string, signal: AbortSignal): DownloadError {
  return new DownloadError('ABORTED', `Upload to ${where} stopped; the next run continues it`, { cause: signal.reason });
}

/** The `length` bytes of the verified file from `offset`: a file cut short since it was verified is not uploaded. */
async function readVerified(file: string, offset: number, length: number): Promise<Buffer> {
  const bytes = await readRange(file, offset, length);
  if (bytes.length !== length) throw changedOnDisk(file);
  return bytes;
}

async function readState(stateFile: string): Promise<UploadState | undefined> {
  try {
    const state = JSON.parse(await fs.readFile(stateFile, 'utf8')) as Partial<UploadState>;
    const complete = typeof state.uploadId === 'string' && typeof state.key === 'string' && typeof state.sha256 === 'string';
    return complete && typeof state.byteSize === 'number' && typeof state.partSize === 'number' ? (state as UploadState) : undefined;
  } catch {
    return undefined;
  }
}

function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function hexToBase64(hex: string): string {
  return Buffer.from(hex, 'hex').toString('base64');
}

/** The MD5 (hex) an ETag is, when it is a plain one; a multipart or an encrypted object's ETag is not. */
function md5OfEtag(etag: string | undefined): string | undefined {
  const bare = etag?.replace(/"/g, '').toLowerCase();
  return bare !== undefined && /^[0-9a-f]{32}$/.test(bare) ? bare : undefined;
}

function changedOnDisk(file: string): DownloadError {
  return new DownloadError('STORE', `${file} changed on disk after it was verified: not uploaded`);
}
