/**
 * What one Tumblr post holds, as items the downloader can take: the contract between the post parsers of
 * this folder (pure functions from API v2 JSON) and the input readers of the CLI.
 */

/** The media kinds a post yields. `audio` is Tumblr-hosted audio (an MP3 or M4A). */
export type PostMediaType = 'image' | 'video' | 'gif' | 'audio';

/** The post (and, for reblogged media, the trail entry) a media item belongs to: kept in results and sidecars. */
export interface PostMetadata {
  /** Name of the blog the post was read from (`blog_name`, or `blog.name`). */
  blog: string;
  /** The post's id, as digits (`id_string`, else `id`). */
  postId: string;
  /** `post_url`, when the post has one. */
  postUrl?: string;
  /** Seconds since the epoch (`timestamp`), when the post has one. */
  timestamp?: number;
  /** The post's tags, in order (empty when it has none). */
  tags: string[];
  /** The post's type: `original_type` when given (NPF posts say `blocks` in `type`), else `type`. */
  postType?: string;
  /** For media inside a reblog trail: the blog and post it was first posted in. */
  reblogOrigin?: { blog: string; postId?: string };
  /** The image's alt text (NPF `alt_text`), when it has one. */
  altText?: string;
  /** Width of the chosen size, in pixels, when the post gives it. */
  width?: number;
  /** Height of the chosen size, in pixels, when the post gives it. */
  height?: number;
  /** Caption of a legacy photo, when it has one. */
  caption?: string;
}

/** A medium to download: the best size first, the other sizes (widest first) as fallbacks. */
export interface PostMediaItem {
  /** A medium to download. */
  kind: 'media';
  /** The best size's URL. */
  url: string;
  /** The other sizes of the same medium, widest first: tried only when the one before is missing or refused. */
  fallbackUrls: string[];
  /** What it is: a GIF is `gif` whatever its size's format, a Tumblr video `video`, Tumblr audio `audio`. */
  mediaType: PostMediaType;
  /** Position within the post: the reblog trail first, then the post's own content, as Tumblr shows it. */
  index: number;
  /** The post's facts, and this medium's (alt text, size, reblog origin). */
  metadata: PostMetadata;
}

/** A medium this tool does not fetch (a YouTube, Vimeo, Spotify… embed): reported, never requested. */
export interface PostEmbed {
  /** A medium reported, never requested. */
  kind: 'embed';
  /** The embed's page or player URL, as the post gives it (may be empty when the post gives none). */
  url: string;
  /** The provider the post names (`youtube`, `vimeo`, `spotify`…), or `unknown`. */
  provider: string;
  /** A video or an audio player. */
  mediaType: 'video' | 'audio';
  /** Position within the post (an embed takes its place in the numbering). */
  index: number;
  /** The post's facts. */
  metadata: PostMetadata;
}

/** One entry of a post's media list. */
export type PostMedia = PostMediaItem | PostEmbed;
