import { chooseLegacyPhotoSize } from './image-sizes.js';
import { arrayField, isRecord, stringField } from './json-fields.js';
import type { MediaDetails, MediaDraft } from './media-draft.js';
import { isGifUrl, isHostedByTumblr, isTumblrMediaUrl } from './media-urls.js';
import { reblogOriginOf } from './post-metadata.js';

/** The HTML fields of a legacy post that may hold inline images, in the order Tumblr shows them. */
const HTML_FIELDS = ['caption', 'body', 'answer'] as const;

/**
 * The start of an `<img>` tag, and its `src` attribute. Regular expressions are enough: only the
 * attribute's value is wanted, and a value they misread is dropped by the media-host check.
 */
const IMG_TAG = /<img\b/gi;
const SRC_ATTRIBUTE = /\ssrc\s*=\s*(?:"([^"]*)"|'([^']*)')/i;

/**
 * The `src` of each `<img …>` tag, in order. Each tag is read up to its `>` and the search goes on after
 * it, so the work is linear in the text: a hostile body of a million `<img ` without a `>` costs one pass.
 */
function* imageSources(html: string): Generator<string> {
  IMG_TAG.lastIndex = 0;
  for (let open = IMG_TAG.exec(html); open !== null; open = IMG_TAG.exec(html)) {
    const end = html.indexOf('>', open.index);
    if (end === -1) return;
    const src = SRC_ATTRIBUTE.exec(html.slice(open.index + 4, end));
    if (src) yield src[1] ?? src[2] ?? '';
    IMG_TAG.lastIndex = end + 1;
  }
}

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
  if (isHostedByTumblr(videoType, videoUrl)) return videoUrl === undefined ? [] : [{ kind: 'media', url: videoUrl, fallbackUrls: [], mediaType: 'video', details: {} }];
  if (post.type !== 'video') return [];
  const url = stringField(post, 'permalink_url') ?? stringField(post, 'source_url') ?? '';
  return [{ kind: 'embed', url, provider: videoType ?? 'unknown', mediaType: 'video', details: {} }];
}

/** `audio_url` of a Tumblr audio post; for an audio post of another provider (`spotify`, `soundcloud`…), its embed. */
function audioDrafts(post: Record<string, unknown>): MediaDraft[] {
  const audioType = stringField(post, 'audio_type');
  const audioUrl = stringField(post, 'audio_url');
  if (isHostedByTumblr(audioType, audioUrl)) return audioUrl === undefined ? [] : [{ kind: 'media', url: audioUrl, fallbackUrls: [], mediaType: 'audio', details: {} }];
  if (post.type !== 'audio') return [];
  const url = stringField(post, 'audio_source_url') ?? audioUrl ?? '';
  return [{ kind: 'embed', url, provider: audioType ?? 'unknown', mediaType: 'audio', details: {} }];
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
  for (const src of imageSources(html)) {
    const url = src.trim().replaceAll('&amp;', '&');
    if (!isTumblrMediaUrl(url)) continue;
    drafts.push({ kind: 'media', url, fallbackUrls: [], mediaType: isGifUrl(url) ? 'gif' : 'image', details: { ...details } });
  }
  return drafts;
}
