import { inject, injectable } from 'inversify';
import { DownloaderConfig } from '../config/downloader-config.js';
import { placeFile, type FinalName, type PlaceRequest } from '../downloader/disk/place-file.js';
import { checkRecordedFile, type CheckOptions, type FileCheck, type RecordedFile } from '../ledger/check-recorded-file.js';
import type { MediaStore, PlaceContext } from './media-store.js';

/**
 * The default store: files live in the output folder. A verified `.part` is linked under its name without
 * ever clobbering a file (or hard-linked to an earlier twin); a recorded file is checked on disk.
 */
@injectable()
export class FolderStore implements MediaStore {
  readonly location: string;

  constructor(@inject(DownloaderConfig) config: DownloaderConfig) {
    this.location = config.outputDir;
  }

  place(request: PlaceRequest, context: PlaceContext): Promise<FinalName> {
    return placeFile(request, context.ledger, context.dedupe, context.reservations);
  }

  check(record: RecordedFile, options: CheckOptions): Promise<FileCheck> {
    return checkRecordedFile(record, options);
  }

  objectUrl(): undefined {
    return undefined;
  }

  async publishFile(): Promise<void> {
    // Already in place: the folder is the store.
  }

  async close(): Promise<void> {
    // Nothing held open.
  }
}
