import type { MediaDownloader } from '../downloader/media-downloader.js';
import { DownloadError, type DownloadErrorCode } from '../errors/download-error.js';
import type { MediaItem } from '../model/media-item.js';
import type { DownloadResult } from '../model/download-result.js';

/** Download one item with the call its media type asks for. */
export function downloadRow(downloader: MediaDownloader, row: MediaItem): Promise<DownloadResult> {
  const options = {
    index: row.index,
    metadata: { line: row.line },
    ...(row.priority === undefined ? {} : { priority: row.priority }),
    ...(row.fallbackUrls === undefined ? {} : { fallbackUrls: row.fallbackUrls }),
  };
  switch (row.mediaType) {
    case 'video':
      return downloader.downloadVideo(row.url, row.postId, options);
    case 'gif':
      return downloader.downloadGif(row.url, row.postId, options);
    default:
      return downloader.downloadImage(row.url, row.postId, options);
  }
}

/** The result of an item that never reached the downloader: every item read gets one. */
export function errorResult(url: string, code: DownloadErrorCode, message: string, metadata: Record<string, unknown>): DownloadResult {
  return {
    filename: '',
    byteSize: 0,
    checksum: '',
    duration: 0,
    source: 'origin',
    status: 'error',
    errorCode: code,
    errorMessage: message,
    mediaMissingOnTumblr: false,
    url,
    attempts: 0,
    resumedFromByte: 0,
    metadata,
  };
}

/**
 * A call the downloader refused before it began (it was closing: Ctrl-C between read and start, or a
 * worker stopping), as the item's result: never started.
 */
export function refusedResult(item: MediaItem, error: unknown): DownloadResult {
  return itemErrorResult(item, DownloadError.isDownloadError(error) ? error.code : 'ABORTED', (error as Error).message);
}

/** The error result of an item that got no further: its URL, post and input line, and why. */
export function itemErrorResult(item: MediaItem, code: DownloadErrorCode, message: string): DownloadResult {
  return { ...errorResult(item.url, code, message, { line: item.line }), postId: item.postId };
}
