import type { MediaItem } from '../../model/media-item.js';
import type { PostEmbed } from '../../tumblr/post-media.js';

/** Where in the input an entry was read: a line of a line-based input, or a post of a JSON document. */
export interface InputPosition {
  /** The JSON document, relative to the input folder (or the input file itself); absent for line-based input. */
  file?: string;
  /** 1-based line of a line-based input; 0 for a JSON document. */
  line: number;
  /** 1-based position of the post within its document (or within the page on a line), when it is one of several. */
  post?: number;
}

/** One item to download, with the post it came from (for its metadata file), if any. */
export interface MediaRow extends MediaItem {
  /** The post's JSON as it was read, for the `<file>.json` metadata file; never sent to a queue. */
  post?: Record<string, unknown>;
}

/** A medium of a post that is not fetched (a YouTube or Spotify embed): it gets a result row, not a request. */
export interface EmbedRow {
  /** The embed, with its post's metadata. */
  embed: PostEmbed;
  /** Where its post was read. */
  at: InputPosition;
}

/** Something in the input that could not be understood; reported with its position, never fatal. */
export interface BadRow {
  /** Where it was read: a line, a document, a post of a document. */
  at: InputPosition;
  /** What is wrong, in one line. */
  problem: string;
}

/** A note about the input that is not an item (an unknown key, said once per run). */
export interface InputWarning {
  /** The note, in one line. */
  warning: string;
}

/** What the input readers yield. */
export type InputEntry = MediaRow | EmbedRow | BadRow | InputWarning;

/** `input line 4`, `input line 4, post 2`, `json/123.json`, `page.json, post 3`: where to look. */
export function describePosition(at: InputPosition): string {
  const where = at.file ?? `input line ${at.line}`;
  return at.post === undefined ? where : `${where}, post ${at.post}`;
}

/** The `line` an item of this position carries: the input line, else the post's position in its document. */
export function lineOf(at: InputPosition): number {
  return at.file === undefined ? at.line : (at.post ?? 1);
}
