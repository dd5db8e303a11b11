/** What the host asked for. `file` is anything else: no family checks apply. */
export type MediaType = 'image' | 'video' | 'gif' | 'file';

/** Container formats recognised from their first bytes. */
export type DetectedFormat = 'jpeg' | 'png' | 'gif' | 'webp' | 'bmp' | 'mp4' | 'webm' | 'mp3' | 'ogg';

/** Formats each extension may hold. An extension not listed here is not checked. */
const FORMATS_BY_EXTENSION: Readonly<Record<string, readonly DetectedFormat[]>> = {
  jpg: ['jpeg'],
  jpeg: ['jpeg'],
  jpe: ['jpeg'],
  png: ['png'],
  gif: ['gif'],
  webp: ['webp'],
  bmp: ['bmp'],
  mp4: ['mp4'],
  m4v: ['mp4'],
  mov: ['mp4'],
  webm: ['webm'],
  mkv: ['webm'],
  mp3: ['mp3'],
  ogg: ['ogg'],
  ogv: ['ogg'],
};

/** Extension to use when a response's Content-Type is the only hint. */
const EXTENSION_BY_CONTENT_TYPE: Readonly<Record<string, string>> = {
  'image/jpeg': 'jpg',
  'image/jpg': 'jpg',
  'image/pjpeg': 'jpg',
  'image/png': 'png',
  'image/gif': 'gif',
  'image/webp': 'webp',
  'image/bmp': 'bmp',
  'video/mp4': 'mp4',
  'video/quicktime': 'mov',
  'video/webm': 'webm',
  'video/x-matroska': 'mkv',
  'audio/mpeg': 'mp3',
  'audio/ogg': 'ogg',
  'video/ogg': 'ogv',
};

/** Extension used when neither URL nor Content-Type gives one. */
export const DEFAULT_EXTENSION: Readonly<Record<MediaType, string>> = {
  image: 'jpg',
  video: 'mp4',
  gif: 'gif',
  file: 'bin',
};

/** Bytes needed to recognise every format above. */
export const SNIFF_LENGTH = 16;

/** Recognise a container format from the first {@link SNIFF_LENGTH} bytes. */
export function detectFormat(head: Uint8Array): DetectedFormat | undefined {
  const b = head;
  const ascii = (from: number, to: number): string => String.fromCharCode(...b.subarray(from, to));
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b[0] === 0x89 && ascii(1, 4) === 'PNG' && b[4] === 0x0d && b[5] === 0x0a) return 'png';
  if (ascii(0, 6) === 'GIF87a' || ascii(0, 6) === 'GIF89a') return 'gif';
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'webp';
  if (ascii(0, 2) === 'BM' && b.length >= 14) return 'bmp';
  // ISO base media (MP4, MOV, M4V): a box size then the box type; old QuickTime files may start with moov/mdat/wide/free.
  if (['ftyp', 'moov', 'mdat', 'wide', 'free', 'skip'].includes(ascii(4, 8))) return 'mp4';
  if (b[0] === 0x1a && b[1] === 0x45 && b[2] === 0xdf && b[3] === 0xa3) return 'webm';
  if (ascii(0, 3) === 'ID3' || (b[0] === 0xff && ((b[1] ?? 0) & 0xe0) === 0xe0)) return 'mp3';
  if (ascii(0, 4) === 'OggS') return 'ogg';
  return undefined;
}

/** Formats allowed for a file extension, or `undefined` when the extension is not one we check. */
export function formatsForExtension(extension: string): readonly DetectedFormat[] | undefined {
  return FORMATS_BY_EXTENSION[extension.toLowerCase()];
}

/** Lower-case MIME type without parameters, e.g. `image/jpeg`. */
export function essenceOf(contentType: string | undefined): string | undefined {
  const essence = contentType?.split(';')[0]?.trim().toLowerCase();
  return essence === '' ? undefined : essence;
}

/** File extension for a Content-Type, if it is a media type we know. */
export function extensionForContentType(contentType: string | undefined): string | undefined {
  const essence = essenceOf(contentType);
  return essence === undefined ? undefined : EXTENSION_BY_CONTENT_TYPE[essence];
}

/** Media type implied by a file extension (`file` when unknown). */
export function mediaTypeForExtension(extension: string): MediaType {
  const formats = formatsForExtension(extension);
  if (!formats) return 'file';
  if (formats.includes('gif')) return 'gif';
  if (formats.some((f) => f === 'mp4' || f === 'webm' || f === 'ogg')) return 'video';
  if (formats.includes('mp3')) return 'file';
  return 'image';
}

/** Content types that say nothing about the bytes; magic-byte checks decide for them. */
const GENERIC_TYPES = new Set([undefined, 'application/octet-stream', 'binary/octet-stream', 'application/binary']);

/**
 * True when a Content-Type belongs to the family of the requested media type.
 * An absent or generic (`application/octet-stream`) type is accepted: magic bytes decide.
 */
export function contentTypeMatches(mediaType: MediaType, contentType: string | undefined): boolean {
  const essence = essenceOf(contentType);
  if (GENERIC_TYPES.has(essence)) return true;
  switch (mediaType) {
    case 'image':
      return essence?.startsWith('image/') ?? false;
    case 'gif':
      // Tumblr serves some "GIFs" as video (gifv) or webp; the image and video families are both acceptable.
      return essence === 'image/gif' || (essence?.startsWith('image/') ?? false) || (essence?.startsWith('video/') ?? false);
    case 'video':
      return essence?.startsWith('video/') ?? false;
    case 'file':
      return true;
  }
}

/** Is the type the family of an HTML/XML page (an error or login page served with 200)? */
export function isMarkup(contentType: string | undefined): boolean {
  const essence = essenceOf(contentType);
  return essence === 'text/html' || essence === 'application/xhtml+xml' || essence === 'text/xml' || essence === 'application/xml';
}
