import { existsSync } from 'node:fs';
import type { DownloadResult } from '../model/download-result.js';
import { metadataSidecarPath, writeMetadataSidecar } from '../sidecar/metadata-sidecar.js';
import type { MediaStore } from '../store/media-store.js';
import { explain } from './explain-fs-error.js';
import type { MediaRow } from './input/input-entry.js';

/**
 * `--write-metadata`: write an item's `<file>.json` (with a bucket `store`, as an object beside the media's). A disk that refuses it is said with `say`, and the run
 * goes on: the media is saved and in the ledger, and the next run writes the missing file.
 */
export async function writeItemSidecar(result: DownloadResult, item: MediaRow, say: (line: string) => void, store?: MediaStore): Promise<void> {
  const inBucket = store !== undefined && result.objectUrl !== undefined;
  if (inBucket && (result.skipped || result.deduplicatedFrom !== undefined)) {
    // A bucket's metadata file of a shared or skipped object is the first item's, already there (a HEAD per item
    // would cost more than it tells), unless a run before could not hand it over: then it is still staged here.
    const staged = metadataSidecarPath(result.filename);
    if (result.skipped && existsSync(staged))
      await store.publishFile(staged).catch((error: unknown) => say(`tumblr-dl: cannot write the metadata file of ${result.filename}: ${explain(error)}`));
    return;
  }
  try {
    const written = await writeMetadataSidecar(result, { index: item.index, mediaType: item.mediaType, metadata: item.metadata, post: item.post });
    // Staged in the state folder, then put beside the object; the local copy goes.
    if (inBucket && written === 'written') await store.publishFile(metadataSidecarPath(result.filename));
  } catch (error) {
    say(`tumblr-dl: cannot write the metadata file of ${result.filename}: ${explain(error)}`);
  }
}
