import * as path from 'node:path';
import type { DownloadResult } from '../model/download-result.js';
import type { MediaItem } from '../model/media-item.js';
import type { PostMetadata } from '../tumblr/post-media.js';

/** One line of `results.jsonl`: a result, its names relative to the output folder, and what the item was. */
export interface ResultRow extends DownloadResult {
  /** The file, relative to the output folder (so a moved archive still finds it); `''` when no file was saved. */
  filename: string;
  /** Position of the media within its post. */
  index?: number;
  /** What the item asked for. */
  mediaType?: MediaItem['mediaType'];
  /** The blog of the post, when the item names it. */
  blog?: string;
}

/** What a results row tells of its item: an item read from the input, or an embed of a post. */
export interface RowItem {
  index: number;
  mediaType: ResultRow['mediaType'];
  metadata?: Record<string, unknown> | PostMetadata;
}

/**
 * The results line of a result. Only a saved item names a file: a failed one's would-be path is a file
 * that does not exist, and a reader of the results should not have to know which is which.
 */
export function resultRow(result: DownloadResult, outputDir: string, item?: RowItem): ResultRow {
  const saved = result.status === 'success' && result.filename !== '';
  const row: ResultRow = { ...result, filename: saved ? relativeTo(outputDir, result.filename) : '' };
  if (result.deduplicatedFrom !== undefined) row.deduplicatedFrom = relativeTo(outputDir, result.deduplicatedFrom);
  if (item) {
    row.index = item.index;
    row.mediaType = item.mediaType;
    const blog: unknown = item.metadata?.blog;
    if (typeof blog === 'string') row.blog = blog;
  }
  return row;
}

/** A path inside the output folder as `a/b.jpg` on every system; one outside it (a `--ledger` elsewhere) stays absolute. */
function relativeTo(outputDir: string, file: string): string {
  const relative = path.relative(path.resolve(outputDir), file);
  return relative.startsWith('..') || path.isAbsolute(relative) ? file : relative.split(path.sep).join('/');
}
