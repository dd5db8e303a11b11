import { arrayField, isRecord } from './json-fields.js';
import { legacyMedia } from './legacy-media.js';
import type { MediaDetails, MediaDraft } from './media-draft.js';
import { npfMedia } from './npf-media.js';
import type { PostMedia, PostMetadata } from './post-media.js';
import { postMetadata, reblogOriginOf } from './post-metadata.js';

/**
 * Everything a post holds to download or report, in the order Tumblr shows it, numbered 0, 1, 2… (embeds
 * take a number too, so a medium keeps its number whichever others are skipped). An NPF post (one with a
 * `content` array) gives the media of its reblog trail first, oldest entry first, each with its
 * `reblogOrigin`, then its own; a legacy post gives its photos, video or audio and inline images. A URL
 * met twice in one post is listed once, where it is first met. Every entry has a metadata object of its own.
 * Pure: no I/O. Odd media blocks are skipped, never thrown on.
 * @throws DownloadError `BAD_INPUT` naming the problem, for a value that is not a post or whose blog or id is unusable.
 */
export function expandPost(post: unknown): PostMedia[] {
  const base = postMetadata(post);
  const record = post as Record<string, unknown>;
  const drafts = Array.isArray(record.content) ? npfPostMedia(record) : legacyMedia(record);
  const seen = new Set<string>();
  const media: PostMedia[] = [];
  for (const draft of drafts) {
    // An embed without a URL is still worth reporting; two of them are two embeds, not one.
    if (draft.url !== '') {
      if (seen.has(draft.url)) continue;
      seen.add(draft.url);
    }
    media.push(finish(draft, media.length, base));
  }
  return media;
}

/** The trail's media, each entry's with its origin, then the post's own. */
function npfPostMedia(post: Record<string, unknown>): MediaDraft[] {
  const trail = arrayField(post, 'trail').flatMap((entry) => {
    if (!isRecord(entry)) return [];
    const origin = reblogOriginOf(entry);
    return npfMedia(entry.content).map((draft) => (origin === undefined ? draft : { ...draft, details: { ...draft.details, reblogOrigin: origin } }));
  });
  return [...trail, ...npfMedia(post.content)];
}

/** A draft numbered, with the post's metadata merged into a fresh object (no array or object shared with another entry). */
function finish(draft: MediaDraft, index: number, base: PostMetadata): PostMedia {
  const { details, ...medium } = draft;
  const metadata: PostMetadata = { ...base, tags: [...base.tags], ...copyDetails(details) };
  if (medium.kind === 'media') return { ...medium, fallbackUrls: [...medium.fallbackUrls], index, metadata };
  return { ...medium, index, metadata };
}

function copyDetails(details: MediaDetails): MediaDetails {
  const { reblogOrigin, ...rest } = details;
  return reblogOrigin === undefined ? rest : { ...rest, reblogOrigin: { ...reblogOrigin } };
}
