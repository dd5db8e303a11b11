import type { MediaDownloader } from '../downloader/media-downloader.js';
import { DownloadError, type DownloadErrorCode } from '../errors/download-error.js';
import type { MediaItem } from '../model/media-item.js';
import type { DownloadResult } from '../model/download-result.js';
import type { PostEmbed } from '../tumblr/post-media.js';
import { lineOf, type InputPosition } from './input/input-entry.js';

/** Download one item with the call its media type asks for. */
export function downloadRow(downloader: MediaDownloader, row: MediaItem): Promise<DownloadResult> {
  const options = {
    index: row.index,
    metadata: itemMetadata(row),
    ...(row.priority === undefined ? {} : { priority: row.priority }),
    ...(row.fallbackUrls === undefined ? {} : { fallbackUrls: row.fallbackUrls }),
  };
  switch (row.mediaType) {
    case 'video':
      return downloader.downloadVideo(row.url, row.postId, options);
    case 'gif':
      return downloader.downloadGif(row.url, row.postId, options);
    case 'audio':
      return downloader.downloadAudio(row.url, row.postId, options);
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
  return { ...errorResult(item.url, code, message, itemMetadata(item)), postId: item.postId };
}

/**
 * The result of a medium that is never requested (a YouTube or Spotify embed): its embed URL and why.
 * Not a failure: the run's exit code does not count it.
 */
export function unsupportedResult(embed: PostEmbed, at: InputPosition): DownloadResult {
  const line = lineOf(at);
  return {
    ...errorResult(embed.url, 'UNSUPPORTED_PROVIDER', `a ${embed.provider} ${embed.mediaType} embed: only media hosted by Tumblr is downloaded`, {
      ...embed.metadata,
      line,
      ...(at.file === undefined ? {} : { file: at.file }),
    }),
    status: 'unsupported',
    source: 'origin',
    postId: embed.metadata.postId,
  };
}

/** The metadata a call carries: the item's own, and where in the input it was read. */
function itemMetadata(item: MediaItem): Record<string, unknown> {
  return { ...item.metadata, line: item.line, ...(item.file === undefined ? {} : { file: item.file }) };
}
