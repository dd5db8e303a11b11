import { dimensionField, isRecord, stringField } from './json-fields.js';

/** One size of an image, as a post lists it. */
export interface ImageSize {
  /** Where this size is served. */
  url: string;
  /** Absent when the post gives none, or gives it as something else than a number. */
  width?: number;
  height?: number;
  /** The MIME type the post names (NPF only): `image/gif` tells a GIF whatever its URL. */
  type?: string;
}

/** The size to download, and the other sizes of the same image to try when it is missing or refused. */
export interface SizeChoice {
  /** The size to download. */
  best: ImageSize;
  /** Widest first, without duplicates and never the best one's URL. */
  fallbackUrls: string[];
}

/** An NPF media object read: its size and the two flags that rank it. */
interface RankedSize {
  size: ImageSize;
  original: boolean;
  cropped: boolean;
}

/**
 * The sizes of an NPF image block's `media` list. Best: the size with `has_original_dimensions` (widest of
 * them if several), else the widest. Cropped sizes (square thumbnails) are used only when nothing uncropped
 * is listed: a thumbnail is not the image, even as a fallback. A lone media object counts as a list of one.
 * `undefined` when no entry has a URL.
 */
export function chooseNpfImageSize(media: unknown): SizeChoice | undefined {
  const sizes = (Array.isArray(media) ? media : [media]).map(readRankedSize).filter((s): s is RankedSize => s !== undefined);
  const uncropped = sizes.filter((s) => !s.cropped);
  const pool = widestFirst(uncropped.length > 0 ? uncropped : sizes, (s) => s.size);
  const best = pool.find((s) => s.original) ?? pool[0];
  if (best === undefined) return undefined;
  return {
    best: best.size,
    fallbackUrls: otherUrls(
      pool.map((s) => s.size.url),
      best.size.url,
    ),
  };
}

/**
 * The sizes of a legacy photo (`{original_size, alt_sizes}`): `original_size` is the best, the `alt_sizes`
 * widest first its fallbacks (Tumblr lists the original again among them: it is not repeated). The 75×75
 * square thumbnail (`_75sq`) is a crop, left out as NPF's cropped sizes are unless it is all there is.
 * Without a usable `original_size`, the widest alternative is the best. `undefined` when no size has a URL.
 */
export function chooseLegacyPhotoSize(photo: unknown): SizeChoice | undefined {
  if (!isRecord(photo)) return undefined;
  const listed = Array.isArray(photo.alt_sizes) ? photo.alt_sizes.map(readSize).filter((s): s is ImageSize => s !== undefined) : [];
  const original = readSize(photo.original_size);
  const uncropped = listed.filter((s) => !isSquareThumbnail(s));
  const ordered = widestFirst(original !== undefined || uncropped.length > 0 ? uncropped : listed, (s) => s);
  const best = original ?? ordered[0];
  if (best === undefined) return undefined;
  return {
    best,
    fallbackUrls: otherUrls(
      ordered.map((s) => s.url),
      best.url,
    ),
  };
}

/** Tumblr's legacy square crop: `…_75sq.jpg`, 75×75. */
function isSquareThumbnail(size: ImageSize): boolean {
  // Text, not `new URL()`: a malformed URL must not throw here (it is refused later, as one item's failure).
  return /_75sq\.[a-z0-9]+$/i.test(size.url.split(/[?#]/, 1)[0]!) || (size.width === 75 && size.height === 75);
}

/** A media object with a URL; `undefined` for anything else (no URL, a URL that is not text, not an object). */
function readSize(value: unknown): ImageSize | undefined {
  if (!isRecord(value)) return undefined;
  const url = stringField(value, 'url');
  if (url === undefined) return undefined;
  const width = dimensionField(value, 'width');
  const height = dimensionField(value, 'height');
  const type = stringField(value, 'type');
  return { url, ...(width === undefined ? {} : { width }), ...(height === undefined ? {} : { height }), ...(type === undefined ? {} : { type }) };
}

function readRankedSize(value: unknown): RankedSize | undefined {
  const size = readSize(value);
  if (size === undefined || !isRecord(value)) return undefined;
  // Only a literal `true` counts: `"false"` is truthy and must not promote a size.
  return { size, original: value.has_original_dimensions === true, cropped: value.cropped === true };
}

/** Sorted widest first; sizes of unknown width last; equal widths keep the post's order (the sort is stable). */
function widestFirst<T>(items: readonly T[], sizeOf: (item: T) => ImageSize): T[] {
  return [...items].sort((a, b) => (sizeOf(b).width ?? -1) - (sizeOf(a).width ?? -1));
}

/** The URLs in order, each once, without `chosen`. */
function otherUrls(urls: readonly string[], chosen: string): string[] {
  const seen = new Set([chosen]);
  const out: string[] = [];
  for (const url of urls) {
    if (seen.has(url)) continue;
    seen.add(url);
    out.push(url);
  }
  return out;
}
