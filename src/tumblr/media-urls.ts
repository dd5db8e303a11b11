/**
 * What a media URL says about itself: whether Tumblr hosts it, and whether it is a GIF. Read from the
 * parsed URL, never from a substring search, so `https://evil.test/?x=.tumblr.com` is not Tumblr's.
 */

import { hostMatches } from '../http/media-url.js';

/** Host name of a URL, lower-cased; `undefined` when the text is not an http(s) URL. */
function hostnameOf(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.hostname.toLowerCase() : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a URL is on a Tumblr host (`tumblr.com` or any `*.tumblr.com`): native video and audio live there. */
export function isTumblrUrl(url: string): boolean {
  const host = hostnameOf(url);
  return host !== undefined && hostMatches(host, ['tumblr.com']);
}

/**
 * Whether a URL is on Tumblr's media servers (`media.tumblr.com`, `64.media.tumblr.com`…): the only hosts
 * whose inline `<img>` in a post's HTML is the post's own media rather than a hot-linked picture.
 */
export function isTumblrMediaUrl(url: string): boolean {
  const host = hostnameOf(url);
  return host !== undefined && hostMatches(host, ['media.tumblr.com']);
}

/** Whether a URL's path ends in `.gif` or `.gifv` (Tumblr's GIF served as video or WebP), query ignored. */
export function isGifUrl(url: string): boolean {
  let pathname: string;
  try {
    pathname = new URL(url).pathname;
  } catch {
    pathname = url.split(/[?#]/, 1)[0] ?? '';
  }
  return /\.gifv?$/i.test(pathname);
}

/**
 * Whether Tumblr hosts a video or audio: the post says so (provider or `video_type`/`audio_type`
 * `tumblr`), or says nothing and its URL is on a Tumblr host.
 */
export function isHostedByTumblr(provider: string | undefined, url: string | undefined): boolean {
  return provider === undefined ? url !== undefined && isTumblrUrl(url) : provider.toLowerCase() === 'tumblr';
}
