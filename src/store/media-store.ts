import type { LedgerConfig } from '../config/downloader-config.js';
import type { FinalName, PlaceRequest } from '../downloader/disk/place-file.js';
import type { PathReservations } from '../downloader/disk/path-reservations.js';
import type { CheckOptions, FileCheck, RecordedFile } from '../ledger/check-recorded-file.js';
import type { DownloadLedger } from '../ledger/download-ledger.js';
import { serviceToken, type ServiceToken } from '../service-token.js';

/** Token of the {@link MediaStore} service. */
export const MediaStore: ServiceToken<MediaStore> = serviceToken('MediaStore');

/** What a store needs from the run to place a file: the ledger's twins, the dedupe mode, the names taken. */
export interface PlaceContext {
  ledger: Pick<DownloadLedger, 'findBySha256'>;
  dedupe: LedgerConfig['dedupe'];
  reservations: PathReservations;
}

/**
 * Where verified files are kept: the output folder (the default, {@link FolderStore}) or an S3 bucket
 * (`BucketStore`). Downloads are staged as `.part` files in the local output folder (for a bucket, the
 * state folder) either way, so resume works the same; the store decides what a final name is, how
 * identical bytes are kept once, and how a recorded file is checked. Nothing unverified is ever visible
 * under a final name or key.
 */
export interface MediaStore {
  /** Where files are kept, for messages: the output folder, or `s3://bucket/prefix/`. */
  readonly location: string;
  /** Give a verified, sealed `.part` its final name, deduplicated against earlier files (see `placeFile`). */
  place(request: PlaceRequest, context: PlaceContext): Promise<FinalName>;
  /** Is the file the ledger recorded still what was saved? A bucket answers from the object's size and stored SHA-256, or (`hash` without `trustMtime`) from its bytes. */
  check(record: RecordedFile, options: CheckOptions): Promise<FileCheck>;
  /** The object URL (`s3://bucket/key`) of a file the pipeline names by its staging path; `undefined` for the folder, whose paths are the files. */
  objectUrl(filename: string): string | undefined;
  /** A file written beside the media in the local folder (a metadata sidecar, a finished WARC file or index) goes where the media went: the folder keeps it; a bucket takes it under its key (multipart when large) and the local copy goes. */
  publishFile(file: string): Promise<void>;
  /** Release connections. */
  close(): Promise<void>;
}
