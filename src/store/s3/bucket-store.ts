import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { inject, injectable } from 'inversify';
import { DownloaderConfig } from '../../config/downloader-config.js';
import { DownloadError } from '../../errors/download-error.js';
import type { FinalName, PlaceRequest } from '../../downloader/disk/place-file.js';
import { discardPart, partPaths } from '../../downloader/disk/part-file.js';
import type { Reservation } from '../../downloader/disk/path-reservations.js';
import type { CheckOptions, FileCheck, RecordedFile } from '../../ledger/check-recorded-file.js';
import type { MediaStore, PlaceContext } from '../media-store.js';
import { sha256OfFile } from '../../verify/file-digest.js';
import { TwinRegistry } from '../twin-registry.js';
import { connectS3, isAbsent, storeError, type S3Connection } from './s3-connection.js';
import { redactCredentials } from '../../http/redact.js';
import { objectUrl, parseS3Url, prefixUrl, type S3Location } from './s3-location.js';
import { dropUpload, KeyTakenError, uploadFile } from './object-upload.js';
import { UPLOAD_STATE_SUFFIX, type CleanupReport } from './upload-state.js';

/** What a HEAD tells of an object. */
interface ObjectFacts {
  size: number;
  /** The SHA-256 (hex) the object carries as metadata, if any. */
  sha256: string | undefined;
  /** Last-Modified, epoch ms. */
  modifiedMs: number;
}

/**
 * Keeps files in an S3 bucket under a prefix. Downloads are staged in the local state folder (the
 * config's `outputDir`) as `.part` files, resumed with Range + If-Range as for a folder; a verified,
 * sealed `.part` is then uploaded (one PUT, or a multipart upload continued across runs) and completed,
 * so an object exists under its key only whole and verified. Keys are the staging paths relative to
 * the state folder, under the prefix: the ledger's relative names are the keys.
 *
 * Identical bytes are kept once: a download whose SHA-256 an intact object already holds (found in the
 * ledger, or in the {@link TwinRegistry} the workers share) names that object and uploads nothing; with
 * dedupe `copy` it is uploaded anyway and names its twin. A name taken by an object with other bytes
 * gets the next free `name_N.ext`.
 */
@injectable()
export class BucketStore implements MediaStore {
  readonly location: string;
  private readonly where: S3Location;
  private readonly stagingRoot: string;
  private connection: Promise<S3Connection> | undefined;

  constructor(
    @inject(DownloaderConfig) private readonly config: DownloaderConfig,
    @inject(TwinRegistry) private readonly twins: TwinRegistry,
  ) {
    this.where = parseS3Url(config.store.url);
    this.location = prefixUrl(this.where);
    this.stagingRoot = config.outputDir;
  }

  /** The client, made on first use (the SDK loads only when a bucket is written to). Private: no public declaration may name the SDK's types. */
  private s3(): Promise<S3Connection> {
    this.connection ??= connectS3(this.config.store);
    return this.connection;
  }

  /**
   * Whether the bucket can be reached with the credentials at hand (HeadBucket): asked before a run starts, so a
   * missing bucket, a wrong endpoint or absent credentials stop it in one line instead of failing every item
   * after its download. @throws DownloadError `STORE` saying what the server (or the credential chain) said
   */
  async checkAccess(): Promise<void> {
    const s3 = await this.s3();
    try {
      await s3.client.send(new s3.sdk.HeadBucketCommand({ Bucket: this.where.bucket }));
    } catch (error) {
      if ((error as Error).name === 'CredentialsProviderError') {
        throw new DownloadError('STORE', 'no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE (~/.aws/credentials)', { cause: error });
      }
      // HeadBucket's errors have no body: its status is all the server says.
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 404) throw new DownloadError('STORE', `no bucket "${this.where.bucket}" at ${redactCredentials(this.config.store.endpoint) || 'AWS S3'}`, { cause: error });
      if (status === 301) throw new DownloadError('STORE', `bucket "${this.where.bucket}" is in another region: give it with --s3-region (or AWS_REGION)`, { cause: error });
      if (status === 403)
        throw new DownloadError('STORE', `access to bucket "${this.where.bucket}" denied: check the credentials (AWS_ACCESS_KEY_ID, AWS_PROFILE) and their policy`, {
          cause: error,
        });
      throw storeError('HeadBucket', `s3://${this.where.bucket}`, error);
    }
  }

  /** The bucket and prefix. */
  get s3Location(): S3Location {
    return this.where;
  }

  /**
   * `--s3-cleanup`: abort the unfinished multipart uploads under the prefix that no run will complete (see
   * `cleanUpUploads` in `unfinished-uploads.ts`). @throws DownloadError `STORE` when the bucket refuses the listing
   */
  async cleanUpUploads(stateFolder: string, nowMs: number): Promise<CleanupReport> {
    const { cleanUpUploads } = await import('./unfinished-uploads.js');
    return cleanUpUploads(await this.s3(), this.where, stateFolder, nowMs);
  }

  async place(request: PlaceRequest, context: PlaceContext): Promise<FinalName> {
    const { partBase } = request.target;
    const s3 = await this.s3();
    if (request.target.replaces !== undefined) {
      // A repair: the verified bytes replace what the recorded key holds, in one atomic write.
      const modifiedMs = await this.upload(s3, request, this.keyOf(request.reservation.path), false);
      return this.settle(partBase, { reservation: request.reservation, filename: request.reservation.path, ownBytes: true, mtimeMs: modifiedMs });
    }
    const twin = context.dedupe === 'off' ? undefined : await this.findTwin(s3, request, context);
    if (twin && context.dedupe !== 'copy') {
      await this.dropUploadOf(s3, partBase);
      return this.settle(partBase, { reservation: request.reservation, filename: twin.filename, ownBytes: false, deduplicatedFrom: twin.filename, mtimeMs: twin.modifiedMs });
    }
    // Names given up for a later variant stay held until the end: the first is the `.part`'s own.
    const superseded: Reservation[] = [];
    let reservation = request.reservation;
    try {
      for (;;) {
        const key = this.keyOf(reservation.path);
        const there = await this.head(s3, key);
        if (there && request.adoptIdentical && holds(there, request)) {
          // These bytes are at the name already (a run killed before its ledger row, another worker's twin).
          await this.dropUploadOf(s3, partBase);
          const named = await this.settleTwin(s3, request, context, key, there.modifiedMs);
          return this.settle(partBase, { reservation, ...named });
        }
        if (there) {
          superseded.push(reservation);
          reservation = context.reservations.reserve(reservation.requested, reservation.variant + 1);
          continue;
        }
        let modifiedMs: number | undefined;
        try {
          // Written only if the key is still free (If-None-Match): a worker that took it since is never overwritten.
          modifiedMs = await this.upload(s3, request, key, true);
        } catch (error) {
          if (error instanceof KeyTakenError) continue;
          throw error;
        }
        const named = await this.settleOwn(s3, request, context, key, modifiedMs);
        if (twin && named.ownBytes) named.deduplicatedFrom = twin.filename;
        return this.settle(partBase, { reservation, ...named });
      }
    } catch (error) {
      if (reservation !== request.reservation) reservation.release();
      throw error;
    } finally {
      // The caller lets go of the reservation it gets back (or, on failure, of the one it gave).
      for (const given of superseded) given.release();
    }
  }

  async check(record: RecordedFile, options: CheckOptions): Promise<FileCheck> {
    const s3 = await this.s3();
    const key = this.keyOf(record.filename);
    const there = await this.head(s3, key);
    if (!there) return { state: 'missing' };
    const facts = { bytes: there.size, mtimeMs: there.modifiedMs };
    if (there.size !== record.bytes) return { state: 'size-mismatch', ...facts };
    if (options.hash && !options.trustMtime) {
      const sha256 = await this.hashObject(s3, key);
      return { state: sha256 === record.sha256 ? 'intact' : 'hash-mismatch', ...facts, sha256, hashed: true };
    }
    // The checksum stored with the object stands for its bytes: S3 checked them on arrival.
    if (options.hash && there.sha256 !== record.sha256) return { state: 'hash-mismatch', ...facts, sha256: there.sha256 ?? '(none stored with the object)' };
    return { state: 'intact', ...facts, hashed: false };
  }

  objectUrl(filename: string): string {
    return objectUrl(this.where, this.keyOf(filename));
  }

  async publishFile(file: string): Promise<void> {
    const s3 = await this.s3();
    const key = this.keyOf(file);
    // Hashed as it stands now: the upload checks every part against these bytes, and the object carries the digest.
    const { size } = await fs.stat(file);
    const sha256 = await sha256OfFile(file, size);
    await uploadFile(
      s3,
      { file, sha256, byteSize: size, contentType: contentTypeOf(file) },
      // A file of the run's own (a metadata file rewritten, a WARC file named by its time) replaces what is there.
      { bucket: this.where.bucket, key, stateFile: `${file}${UPLOAD_STATE_SUFFIX}`, partSize: this.config.store.partSize, noClobber: false },
    );
    await fs.rm(file, { force: true });
  }

  async close(): Promise<void> {
    const connection = this.connection;
    this.connection = undefined;
    if (connection) (await connection.catch(() => undefined))?.client.destroy();
  }

  /** The key of a staging path: the path relative to the state folder, `/`-separated, under the prefix. */
  keyOf(filename: string): string {
    const relative = path.relative(this.stagingRoot, filename);
    if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) {
      throw new DownloadError('UNSAFE_PATH', `${filename} is outside the state folder ${this.stagingRoot}: it has no key in ${this.location}`);
    }
    return this.where.prefix + relative.split(path.sep).join('/');
  }

  /** The staging path a key stands for (what the pipeline and the ledger name it by). */
  filenameOf(key: string): string {
    return path.join(this.stagingRoot, ...key.slice(this.where.prefix.length).split('/'));
  }

  /**
   * Upload the verified `.part`. An object assembled from parts is read back (HEAD) for its size; a single PUT
   * needs no such look, since the server checked the body's Content-MD5 before it answered.
   * @returns the object's Last-Modified, when it was read back
   */
  private async upload(s3: S3Connection, request: PlaceRequest, key: string, noClobber: boolean): Promise<number | undefined> {
    const { partBase } = request.target;
    const sent = await uploadFile(
      s3,
      { file: partPaths(partBase).part, sha256: request.sha256, byteSize: request.byteSize, contentType: request.contentType },
      { bucket: this.where.bucket, key, stateFile: `${partBase}${UPLOAD_STATE_SUFFIX}`, partSize: this.config.store.partSize, signal: request.signal, noClobber },
    );
    if (!sent.multipart) return undefined;
    const there = await this.head(s3, key);
    if (!there || there.size !== request.byteSize || (there.sha256 !== undefined && there.sha256 !== request.sha256)) {
      throw new DownloadError('STORE', `${objectUrl(this.where, key)} does not hold the ${request.byteSize} bytes just uploaded (${there ? `${there.size} bytes` : 'no object'})`, {
        retryable: true,
      });
    }
    return there.modifiedMs;
  }

  /** An intact object with these bytes: the one the workers registered, else the oldest the ledger names. */
  private async findTwin(s3: S3Connection, request: PlaceRequest, context: PlaceContext): Promise<{ filename: string; modifiedMs: number } | undefined> {
    const registered = await this.twins.find(request.sha256);
    if (registered !== undefined) {
      const there = await this.head(s3, registered);
      if (there && holds(there, request)) return { filename: this.filenameOf(registered), modifiedMs: there.modifiedMs };
      await this.twins.forget(request.sha256, registered);
    }
    for (const candidate of await context.ledger.findBySha256(request.sha256)) {
      if (candidate.bytes !== request.byteSize) continue;
      const there = await this.head(s3, this.keyOf(candidate.filename)).catch(() => undefined);
      if (there && holds(there, request)) return { filename: candidate.filename, modifiedMs: there.modifiedMs };
    }
    return undefined;
  }

  /**
   * The staged `.part` has done its work once its bytes are in the bucket (or an object already holds them), and
   * goes. When a WARC is kept, the recorder still has to read the payload (the object is in the bucket, not on
   * disk): the `.part` stays for it, and it lets the `.part` go once the record is written. A run killed
   * meanwhile leaves it beside a recorded name, which the next run clears.
   */
  /**
   * Our object for these bytes is complete under `key`: register it, unless another object was registered first
   * and still holds them (another worker's). Then ours goes, and the item names theirs; with dedupe `copy` both
   * stay. A registered object that is gone or changed is forgotten, and ours takes its place.
   */
  private async settleOwn(s3: S3Connection, request: PlaceRequest, context: PlaceContext, key: string, modifiedMs: number | undefined): Promise<Omit<FinalName, 'reservation'>> {
    const own = { filename: this.filenameOf(key), ownBytes: true, mtimeMs: modifiedMs };
    if (context.dedupe === 'off') return own;
    const winner = await this.winnerFor(s3, request, key);
    if (winner === undefined || winner.key === key) return own;
    const filename = this.filenameOf(winner.key);
    if (context.dedupe === 'copy') return { ...own, deduplicatedFrom: filename };
    await this.send(s3, 'DeleteObject', key, (c) => c.client.send(new c.sdk.DeleteObjectCommand({ Bucket: this.where.bucket, Key: key })));
    return { filename, ownBytes: false, deduplicatedFrom: filename, mtimeMs: winner.modifiedMs };
  }

  /**
   * These bytes were found at `key` (not uploaded by us): the item names the object every worker agrees holds
   * them, which is `key` unless another was registered first. Nothing is deleted: the object at `key` is not ours.
   */
  private async settleTwin(s3: S3Connection, request: PlaceRequest, context: PlaceContext, key: string, modifiedMs: number): Promise<Omit<FinalName, 'reservation'>> {
    const winner = context.dedupe === 'off' ? undefined : await this.winnerFor(s3, request, key);
    const chosen = winner ?? { key, modifiedMs };
    const filename = this.filenameOf(chosen.key);
    return { filename, ownBytes: false, deduplicatedFrom: filename, mtimeMs: chosen.modifiedMs };
  }

  /** The registered object for these bytes after claiming `key` for them, checked to still hold them (else forgotten, and claimed again). */
  private async winnerFor(s3: S3Connection, request: PlaceRequest, key: string): Promise<{ key: string; modifiedMs: number | undefined } | undefined> {
    for (let tries = 0; tries < 3; tries++) {
      const winner = await this.twins.claim(request.sha256, key);
      if (winner === key) return { key, modifiedMs: undefined };
      const there = await this.head(s3, winner);
      if (there && holds(there, request)) return { key: winner, modifiedMs: there.modifiedMs };
      await this.twins.forget(request.sha256, winner);
    }
    return undefined;
  }

  /** The unfinished multipart upload a killed run left for this `.part`, if any: aborted, since its bytes will not be uploaded. */
  private dropUploadOf(s3: S3Connection, partBase: string): Promise<void> {
    return dropUpload(s3, this.where.bucket, `${partBase}${UPLOAD_STATE_SUFFIX}`);
  }

  private async settle(partBase: string, name: FinalName): Promise<FinalName> {
    if (!this.config.archive.warc) {
      await discardPart(partBase);
      return name;
    }
    return { ...name, payloadFile: partPaths(partBase).part, releasePayload: () => discardPart(partBase) };
  }

  private async head(s3: S3Connection, key: string): Promise<ObjectFacts | undefined> {
    try {
      const head = await s3.client.send(new s3.sdk.HeadObjectCommand({ Bucket: this.where.bucket, Key: key }));
      return { size: head.ContentLength ?? 0, sha256: head.Metadata?.sha256, modifiedMs: head.LastModified?.getTime() ?? 0 };
    } catch (error) {
      if (isAbsent(error)) return undefined;
      throw storeError('HeadObject', objectUrl(this.where, key), error);
    }
  }

  /** SHA-256 of the object's bytes, read in full (`verify --deep`). */
  private async hashObject(s3: S3Connection, key: string): Promise<string> {
    const got = await this.send(s3, 'GetObject', key, (c) => c.client.send(new c.sdk.GetObjectCommand({ Bucket: this.where.bucket, Key: key })));
    const hash = createHash('sha256');
    try {
      for await (const chunk of got.Body as AsyncIterable<Uint8Array>) hash.update(chunk);
    } catch (error) {
      // The connection broke mid-body: a failure to read, not a verdict on the object.
      throw storeError('GetObject', objectUrl(this.where, key), error);
    }
    return hash.digest('hex');
  }

  private async send<T>(s3: S3Connection, action: string, key: string, call: (s3: S3Connection) => Promise<T>): Promise<T> {
    try {
      return await call(s3);
    } catch (error) {
      throw storeError(action, objectUrl(this.where, key), error);
    }
  }
}

/** Whether an object holds the bytes being placed: their size, and the SHA-256 it carries. */
function holds(there: ObjectFacts, request: Pick<PlaceRequest, 'byteSize' | 'sha256'>): boolean {
  return there.size === request.byteSize && there.sha256 === request.sha256;
}

/** Content-Type of a file the store publishes beside the media: metadata sidecars, WARC files and their indexes. */
function contentTypeOf(file: string): string {
  if (file.endsWith('.json')) return 'application/json';
  if (file.endsWith('.warc.gz')) return 'application/warc';
  if (file.endsWith('.cdxj')) return 'text/x-cdxj';
  return 'application/octet-stream';
}
