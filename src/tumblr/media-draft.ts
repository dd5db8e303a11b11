import type { PostEmbed, PostMediaItem, PostMetadata } from './post-media.js';

/** What a medium adds to its post's metadata: its own size and alt text, the trail entry it comes from. */
export type MediaDetails = Pick<PostMetadata, 'altText' | 'width' | 'height' | 'caption' | 'reblogOrigin'>;

/**
 * A medium as the block and legacy parsers find it, before `expandPost` numbers it and joins the
 * post's metadata: the parsers see one block at a time and cannot know either.
 */
export type MediaDraft = (Omit<PostMediaItem, 'index' | 'metadata'> | Omit<PostEmbed, 'index' | 'metadata'>) & { details: MediaDetails };
