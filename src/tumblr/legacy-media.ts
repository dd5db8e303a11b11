import { chooseLegacyPhotoSize } from './image-sizes.js';
import { arrayField, isRecord, stringField } from './json-fields.js';
import type { MediaDetails, MediaDraft } from './media-draft.js';
import { isGifUrl, isTumblrMediaUrl, isTumblrUrl } from './media-urls.js';
import { reblogOriginOf } from './post-metadata.js';

/** The HTML fields of a legacy post that may hold inline images, in the order Tumblr shows them. */
const HTML_FIELDS = ['caption', 'body', 'answer'] as const;

/**
 * `src` of the `<img>` tags of an HTML text. A regular expression is enough: only the attribute's value
 * is wanted, and a value it misreads is dropped by the media-host check.
 */
const IMG_SRC = /<img\b[^>]*?\ssrc\s*=\s*(?:"([^"]*)"|'([^']*)')/gi;

/**
 * The media of a legacy (non-NPF) post, in the order Tumblr shows them: `photos`, then the Tumblr-hosted
 * video (`video_url`) or audio (`audio_url`), or the embed a video or audio post of another provider is;
 * then the inline images of the reblog trail (`trail[].content_raw`, each with its origin), then those of
 * `caption`, `body` and `answer`. Inline images count only on Tumblr's media hosts: a hot-linked picture
 * from elsewhere is not the post's. Repeats (a reblogged image is in the trail and in the body) are
 * `expandPost`'s to drop.
 */
export function legacyMedia(post: Record<string, unknown>): MediaDraft[] {
  return [
    ...photoDrafts(post),
    ...videoDrafts(post),
    ...audioDrafts(post),
    ...trailImageDrafts(post),
    ...HTML_FIELDS.flatMap((field) => inlineImageDrafts(stringField(post, field), {})),
  ];
}

function photoDrafts(post: Record<string, unknown>): MediaDraft[] {
  const drafts: MediaDraft[] = [];
  for (const photo of arrayField(post, 'photos')) {
    const choice = chooseLegacyPhotoSize(photo);
    if (choice === undefined) continue;
    const { best } = choice;
    const caption = isRecord(photo) ? stringField(photo, 'caption') : undefined;
    const details: MediaDetails = {
      ...(best.width === undefined ? {} : { width: best.width }),
      ...(best.height === undefined ? {} : { height: best.height }),
      ...(caption === undefined ? {} : { caption }),
    };
    drafts.push({ kind: 'media', url: best.url, fallbackUrls: choice.fallbackUrls, mediaType: isGifUrl(best.url) ? 'gif' : 'image', details });
  }
  return drafts;
}

/** `video_url` of a Tumblr video; for a video post of another provider (`youtube`, `vimeo`…), its embed. */
function videoDrafts(post: Record<string, unknown>): MediaDraft[] {
  const videoType = stringField(post, 'video_type');
  const videoUrl = stringField(post, 'video_url');
  if (isNative(videoType, videoUrl)) return videoUrl === undefined ? [] : [{ kind: 'media', url: videoUrl, fallbackUrls: [], mediaType: 'video', details: {} }];
  if (post.type !== 'video') return [];
  const url = stringField(post, 'permalink_url') ?? stringField(post, 'source_url') ?? '';
  return [{ kind: 'embed', url, provider: videoType ?? 'unknown', mediaType: 'video', details: {} }];
}

/** `audio_url` of a Tumblr audio post; for an audio post of another provider (`spotify`, `soundcloud`…), its embed. */
function audioDrafts(post: Record<string, unknown>): MediaDraft[] {
  const audioType = stringField(post, 'audio_type');
  const audioUrl = stringField(post, 'audio_url');
  if (isNative(audioType, audioUrl)) return audioUrl === undefined ? [] : [{ kind: 'media', url: audioUrl, fallbackUrls: [], mediaType: 'audio', details: {} }];
  if (post.type !== 'audio') return [];
  const url = stringField(post, 'audio_source_url') ?? audioUrl ?? '';
  return [{ kind: 'embed', url, provider: audioType ?? 'unknown', mediaType: 'audio', details: {} }];
}

/** Tumblr hosts it: the post says so (`tumblr`), or says nothing and the URL is on a Tumblr host. */
function isNative(type: string | undefined, url: string | undefined): boolean {
  return type === undefined ? url !== undefined && isTumblrUrl(url) : type.toLowerCase() === 'tumblr';
}

/** Inline images of the trail entries, in trail order; those of an earlier post carry its origin. */
function trailImageDrafts(post: Record<string, unknown>): MediaDraft[] {
  return arrayField(post, 'trail').flatMap((entry) => {
    if (!isRecord(entry)) return [];
    // The current item is the reblogger's own text: it has no origin elsewhere.
    const origin = entry.is_current_item === true ? undefined : reblogOriginOf(entry);
    return inlineImageDrafts(stringField(entry, 'content_raw'), origin === undefined ? {} : { reblogOrigin: origin });
  });
}

function inlineImageDrafts(html: string | undefined, details: MediaDetails): MediaDraft[] {
  if (html === undefined) return [];
  const drafts: MediaDraft[] = [];
  for (const match of html.matchAll(IMG_SRC)) {
    const url = (match[1] ?? match[2] ?? '').trim().replaceAll('&amp;', '&');
    if (!isTumblrMediaUrl(url)) continue;
    drafts.push({ kind: 'media', url, fallbackUrls: [], mediaType: isGifUrl(url) ? 'gif' : 'image', details: { ...details } });
  }
  return drafts;
}
