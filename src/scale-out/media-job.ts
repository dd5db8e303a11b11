import { createHash } from 'node:crypto';
import type { MediaItem } from '../model/media-item.js';
import type { DownloadResult } from '../model/download-result.js';

/** What one queued job asks for: one item of an input list. */
export type MediaJob = MediaItem;

/**
 * A finished job's return value: the download's result as a `results.jsonl` row gives it (`filename` relative
 * to the worker's output folder, `''` when nothing was saved; the item's `index`, `mediaType`, `blog`).
 */
export interface WorkerResult extends DownloadResult {
  index?: number;
  mediaType?: string;
  blog?: string;
  /** The worker that ran it (`--name`, by default `host:folder`). */
  worker: string;
  /** The file's path relative to that worker's output folder (the same as `filename`); `''` when nothing was saved. */
  path: string;
}

/**
 * The job id of an item: the same (url, postId, index) always gives the same id, so BullMQ refuses a
 * second copy and enqueueing a list twice adds nothing. A hash, because ids go into Redis keys and a URL
 * can hold anything; 128 bits, so a collision among even billions of items is not a concern.
 */
export function jobIdFor(item: Pick<MediaJob, 'url' | 'postId' | 'index'>): string {
  return createHash('sha256').update(`${item.url}\0${item.postId}\0${item.index}`).digest('hex').slice(0, 32);
}
