import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { DownloadResult } from '../model/download-result.js';
import type { DetectedFormat } from '../model/media-type.js';
import { KeyedTurns } from '../concurrency/keyed-turns.js';
import { writeAtomically } from '../downloader/disk/write-atomically.js';

/**
 * What `<file>.json` beside a saved media file holds (the gallery-dl convention: `photo.jpg` →
 * `photo.jpg.json`): what the file is, where it came from, and the post it belongs to. Only facts of the
 * file and the item (no server header, no timing), so writing it again gives the same bytes; written
 * again from the ledger (after it was deleted), it lacks `servedUrl`, which the ledger does not keep.
 */
export interface MetadataSidecar {
  /** Version of this layout; a reader refuses a higher one it does not know. */
  version: 1;
  /** The media file's name, beside this one. */
  file: string;
  /** The URL asked for (credentials as `***`). */
  url: string;
  /** The URL whose bytes were saved, when a fallback size or mirror served them. */
  servedUrl?: string;
  /** SHA-256 (hex) of the file: the key the ledger knows it by. */
  sha256: string;
  /** Bytes in the file. */
  byteSize: number;
  /** The format the bytes are, by their signature. */
  detectedFormat?: DetectedFormat;
  /** Where the bytes came from: `tumblr`, `internet_archive` (a Wayback capture), or `origin` (any other host). */
  source: DownloadResult['source'];
  /** True when Tumblr said the media is gone and the bytes came from elsewhere. */
  mediaMissingOnTumblr: boolean;
  /** Wayback capture timestamp, when `source` is `internet_archive`. */
  captureTimestamp?: string;
  /** The post the item belongs to. */
  postId?: string;
  /** Position of the media within its post. */
  index?: number;
  /** What the item asked for: `image`, `video`, `gif` or `audio`. */
  mediaType?: string;
  /** The item's metadata as the input gave it (for a post: blog, post id, URL, date, tags, reblog origin, alt text, size). */
  metadata?: Record<string, unknown>;
  /** The post's JSON as it was read, when the item came from a post. */
  post?: Record<string, unknown>;
}

/** What is known of the item beside its result. */
export interface SidecarItem {
  /** Position of the media within its post. */
  index?: number;
  /** What the item asked for. */
  mediaType?: string;
  /** The item's metadata, as the input gave it. */
  metadata?: Record<string, unknown>;
  /** The post's JSON as it was read, when the item came from a post. */
  post?: Record<string, unknown>;
}

/** `photo.jpg` → `photo.jpg.json`. */
export function metadataSidecarPath(mediaFile: string): string {
  return `${mediaFile}.json`;
}

/** The metadata file of a saved result. */
export function metadataSidecarOf(result: DownloadResult, item: SidecarItem): MetadataSidecar {
  const sidecar: MetadataSidecar = {
    version: 1,
    file: path.basename(result.filename),
    url: result.url,
    sha256: result.checksum,
    byteSize: result.byteSize,
    source: result.source,
    mediaMissingOnTumblr: result.mediaMissingOnTumblr,
  };
  if (result.servedUrl !== undefined && result.servedUrl !== result.url) sidecar.servedUrl = result.servedUrl;
  if (result.detectedFormat !== undefined) sidecar.detectedFormat = result.detectedFormat;
  if (result.captureTimestamp !== undefined) sidecar.captureTimestamp = result.captureTimestamp;
  if (result.postId !== undefined) sidecar.postId = result.postId;
  if (item.index !== undefined) sidecar.index = item.index;
  if (item.mediaType !== undefined) sidecar.mediaType = item.mediaType;
  if (item.metadata !== undefined) sidecar.metadata = item.metadata;
  if (item.post !== undefined) sidecar.post = item.post;
  return sidecar;
}

/** What {@link writeMetadataSidecar} did. */
export type SidecarOutcome = 'written' | 'kept' | 'none';

/**
 * Write the metadata file of a result, atomically (a temporary file, flushed, renamed over the name), so
 * a crash leaves the old file or the new one, never half of one. A fresh download (or a repair) writes
 * it; a skipped item writes it only when it is missing; an item with no file of its own (dedupe
 * `reference`) or no file at all gets none.
 * @throws the file system's error (a full disk, a read-only folder)
 */
export async function writeMetadataSidecar(result: DownloadResult, item: SidecarItem): Promise<SidecarOutcome> {
  if (result.status !== 'success' || result.filename === '') return 'none';
  const target = metadataSidecarPath(result.filename);
  // One writer of a file at a time in this process: two items sharing a file must not mix their texts.
  const endTurn = await writers.take(target);
  try {
    // A file shared with another item (dedupe `reference`, or these very bytes found at the name) keeps the
    // metadata file of the first; a skipped item's is written only when it is missing.
    const shared = result.deduplicatedFrom !== undefined && result.deduplicatedFrom === result.filename;
    if ((result.skipped || shared) && (await exists(target))) return 'kept';
    await writeAtomically(target, serializeSidecar(metadataSidecarOf(result, item)));
    return 'written';
  } finally {
    endTurn();
  }
}

/** Writers of metadata files, one per path at a time. */
const writers = new KeyedTurns();

/**
 * The metadata file's text. A post's numeric `id` above 2^53 (every post id of recent years) lost its last
 * digits when the post was parsed; its `id_string` still has them, so the number is written back exactly,
 * and the post in the file reads as the post that was read.
 */
export function serializeSidecar(sidecar: MetadataSidecar): string {
  const post = sidecar.post;
  const exact =
    post && typeof post.id === 'number' && !Number.isSafeInteger(post.id) && typeof post.id_string === 'string' && /^\d{1,30}$/.test(post.id_string) ? post.id_string : undefined;
  if (exact === undefined) return `${JSON.stringify(sidecar, null, 2)}\n`;
  const marker = `tumblr-dl-exact-id-${randomBytes(8).toString('hex')}`;
  const text = JSON.stringify({ ...sidecar, post: { ...post, id: marker } }, null, 2);
  return `${text.replace(`"${marker}"`, exact)}\n`;
}

function exists(file: string): Promise<boolean> {
  return fs.stat(file).then(
    (found) => found.isFile(),
    () => false,
  );
}
