import type { MediaType } from './media-type.js';

/** The media types an item may name: every {@link MediaType} but the plain `file` of `downloadFile`. */
export const ITEM_MEDIA_TYPES: ReadonlySet<string> = new Set<Exclude<MediaType, 'file'>>(['image', 'video', 'gif', 'audio']);

/** One item of an input list, as `fetch` reads it and a queued job carries it. */
export interface MediaItem {
  url: string;
  postId: string;
  mediaType: Exclude<MediaType, 'file'>;
  index: number;
  /**
   * Where in the input it came from, for messages and results: the 1-based line of a line-based input,
   * or, for an item of a JSON document, the 1-based position of its post in that document.
   */
  line: number;
  /** The JSON document it came from, relative to the input folder (or the input file itself); absent for line-based input. */
  file?: string;
  /** Order among waiting items, higher first; absent: 0. */
  priority?: number;
  /** Other URLs of the same media, best first, tried when the one before is missing or refused. */
  fallbackUrls?: string[];
  /**
   * What the item is (a post's blog, id, URL, date, tags, reblog origin, alt text, size…), as the input
   * gave it: passed to the downloader as the call's `metadata`, so names and results carry it.
   */
  metadata?: Record<string, unknown>;
}
