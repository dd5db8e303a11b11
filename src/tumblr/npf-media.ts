import { chooseNpfImageSize } from './image-sizes.js';
import { dimensionField, isRecord, numberField, stringField } from './json-fields.js';
import type { MediaDetails, MediaDraft } from './media-draft.js';
import { isGifUrl, isHostedByTumblr } from './media-urls.js';

/**
 * The media of an NPF `content` block list, in block order: images and GIFs (best size, others as
 * fallbacks), Tumblr-hosted video and audio as items, third-party video and audio as embeds. Text, link,
 * poll and unknown blocks give nothing; so does a media block whose media is missing or malformed.
 * Posters and filmstrips are previews of a medium, not media: never listed.
 */
export function npfMedia(content: unknown): MediaDraft[] {
  if (!Array.isArray(content)) return [];
  const drafts: MediaDraft[] = [];
  for (const block of content) {
    if (!isRecord(block)) continue;
    const draft = block.type === 'image' ? imageDraft(block) : block.type === 'video' || block.type === 'audio' ? playableDraft(block, block.type) : undefined;
    if (draft !== undefined) drafts.push(draft);
  }
  return drafts;
}

function imageDraft(block: Record<string, unknown>): MediaDraft | undefined {
  const choice = chooseNpfImageSize(block.media);
  if (choice === undefined) return undefined;
  const { best } = choice;
  const altText = stringField(block, 'alt_text');
  const details: MediaDetails = {
    ...(altText === undefined ? {} : { altText }),
    ...(best.width === undefined ? {} : { width: best.width }),
    ...(best.height === undefined ? {} : { height: best.height }),
  };
  const mediaType = best.type?.toLowerCase() === 'image/gif' || isGifUrl(best.url) ? 'gif' : 'image';
  return { kind: 'media', url: best.url, fallbackUrls: choice.fallbackUrls, mediaType, details };
}

/**
 * A video or audio block: an item when Tumblr hosts it (`provider: tumblr`, or no provider and a media URL
 * on a Tumblr host, as older native videos are given), else an embed that is reported, never fetched.
 */
function playableDraft(block: Record<string, unknown>, mediaType: 'video' | 'audio'): MediaDraft | undefined {
  const provider = stringField(block, 'provider');
  const media = widestMedia(block.media);
  const mediaUrl = media === undefined ? undefined : stringField(media, 'url');
  if (!isHostedByTumblr(provider, mediaUrl)) {
    const url = stringField(block, 'url') ?? stringField(block, 'embed_url') ?? '';
    return { kind: 'embed', url, provider: provider ?? 'unknown', mediaType, details: {} };
  }
  // A native block whose media has no URL has nothing to download, and no page to report either.
  if (mediaUrl === undefined || media === undefined) return undefined;
  const width = mediaType === 'video' ? dimensionField(media, 'width') : undefined;
  const height = mediaType === 'video' ? dimensionField(media, 'height') : undefined;
  const details: MediaDetails = { ...(width === undefined ? {} : { width }), ...(height === undefined ? {} : { height }) };
  return { kind: 'media', url: mediaUrl, fallbackUrls: [], mediaType, details };
}

/** A block's `media`: the object itself, or of a list the widest entry with a URL (the first of equals). */
function widestMedia(media: unknown): Record<string, unknown> | undefined {
  if (!Array.isArray(media)) return isRecord(media) ? media : undefined;
  let widest: Record<string, unknown> | undefined;
  for (const entry of media) {
    if (!isRecord(entry) || stringField(entry, 'url') === undefined) continue;
    if (widest === undefined || (numberField(entry, 'width') ?? -1) > (numberField(widest, 'width') ?? -1)) widest = entry;
  }
  return widest;
}
