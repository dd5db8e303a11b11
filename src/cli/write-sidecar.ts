import type { DownloadResult } from '../model/download-result.js';
import { writeMetadataSidecar } from '../sidecar/metadata-sidecar.js';
import { explain } from './explain-fs-error.js';
import type { MediaRow } from './input/input-entry.js';

/**
 * `--write-metadata`: write an item's `<file>.json`. A disk that refuses it is said with `say`, and the run
 * goes on: the media is saved and in the ledger, and the next run writes the missing file.
 */
export async function writeItemSidecar(result: DownloadResult, item: MediaRow, say: (line: string) => void): Promise<void> {
  try {
    await writeMetadataSidecar(result, { index: item.index, mediaType: item.mediaType, metadata: item.metadata, post: item.post });
  } catch (error) {
    say(`tumblr-dl: cannot write the metadata file of ${result.filename}: ${explain(error)}`);
  }
}
