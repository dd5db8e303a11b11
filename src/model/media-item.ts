import type { MediaType } from './media-type.js';

/** The media types an item may name: every {@link MediaType} but the plain `file` of `downloadFile`. */
export const ITEM_MEDIA_TYPES: ReadonlySet<string> = new Set<Exclude<MediaType, 'file'>>(['image', 'video', 'gif']);

/** One item of an input list, as `fetch` reads it and a queued job carries it. */
export interface MediaItem {
  url: string;
  postId: string;
  mediaType: Exclude<MediaType, 'file'>;
  index: number;
  /** 1-based line of the input it came from, for messages and results. */
  line: number;
  /** Order among waiting items, higher first; absent: 0. */
  priority?: number;
  /** Other URLs of the same media, best first, tried when the one before is missing or refused. */
  fallbackUrls?: string[];
}
