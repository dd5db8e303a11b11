import type { DetectedFormat, DetectedMediaType, MediaType } from '../model/media-type.js';

/** File extension and family of each recognised format: the name a file gets comes from its bytes. */
export const FORMAT_INFO: Readonly<Record<DetectedFormat, { extension: string; mediaType: DetectedMediaType }>> = {
  jpeg: { extension: 'jpg', mediaType: 'image' },
  png: { extension: 'png', mediaType: 'image' },
  apng: { extension: 'png', mediaType: 'image' },
  gif: { extension: 'gif', mediaType: 'gif' },
  webp: { extension: 'webp', mediaType: 'image' },
  avif: { extension: 'avif', mediaType: 'image' },
  heic: { extension: 'heic', mediaType: 'image' },
  jxl: { extension: 'jxl', mediaType: 'image' },
  bmp: { extension: 'bmp', mediaType: 'image' },
  tiff: { extension: 'tiff', mediaType: 'image' },
  mp4: { extension: 'mp4', mediaType: 'video' },
  mov: { extension: 'mov', mediaType: 'video' },
  m4v: { extension: 'm4v', mediaType: 'video' },
  avi: { extension: 'avi', mediaType: 'video' },
  webm: { extension: 'webm', mediaType: 'video' },
  mkv: { extension: 'mkv', mediaType: 'video' },
  mp3: { extension: 'mp3', mediaType: 'audio' },
  m4a: { extension: 'm4a', mediaType: 'audio' },
  ogg: { extension: 'ogg', mediaType: 'audio' },
  wav: { extension: 'wav', mediaType: 'audio' },
};

/** Other spellings of a format's extension: the extension they stand for, and the family they name. */
const EXTENSION_ALIASES: Readonly<Record<string, { extension: string; mediaType: DetectedMediaType }>> = {
  jpeg: { extension: 'jpg', mediaType: 'image' },
  jpe: { extension: 'jpg', mediaType: 'image' },
  tif: { extension: 'tiff', mediaType: 'image' },
  heif: { extension: 'heic', mediaType: 'image' },
  ogv: { extension: 'ogg', mediaType: 'video' },
  oga: { extension: 'ogg', mediaType: 'audio' },
  opus: { extension: 'ogg', mediaType: 'audio' },
};

/** Extensions of media files and the family each names; aliases included. */
const FAMILY_BY_EXTENSION: ReadonlyMap<string, DetectedMediaType> = new Map<string, DetectedMediaType>([
  ...Object.values(FORMAT_INFO).map((f): [string, DetectedMediaType] => [f.extension, f.mediaType]),
  ...Object.entries(EXTENSION_ALIASES).map(([alias, f]): [string, DetectedMediaType] => [alias, f.mediaType]),
]);

/** The extension a format's files get for an extension that may be an alias (`jpeg` → `jpg`, `tif` → `tiff`). */
export function canonicalExtension(extension: string): string {
  return Object.hasOwn(EXTENSION_ALIASES, extension) ? EXTENSION_ALIASES[extension]!.extension : extension;
}

/**
 * The only extensions a media file is ever given, whatever a URL or a header says: a name taken
 * from the server can never become `.html`, `.svg`, `.exe` or `.sh`.
 */
export const MEDIA_EXTENSIONS: ReadonlySet<string> = new Set(FAMILY_BY_EXTENSION.keys());

/** Extension to use when a response's Content-Type is the only hint (unknown bytes kept on their family). */
const EXTENSION_BY_CONTENT_TYPE: Readonly<Record<string, string>> = {
  'image/jpeg': 'jpg',
  'image/jpg': 'jpg',
  'image/pjpeg': 'jpg',
  'image/png': 'png',
  'image/apng': 'png',
  'image/gif': 'gif',
  'image/webp': 'webp',
  'image/avif': 'avif',
  'image/heic': 'heic',
  'image/heif': 'heif',
  'image/jxl': 'jxl',
  'image/bmp': 'bmp',
  'image/tiff': 'tiff',
  'video/mp4': 'mp4',
  'video/quicktime': 'mov',
  'video/x-m4v': 'm4v',
  'video/webm': 'webm',
  'video/x-matroska': 'mkv',
  'video/x-msvideo': 'avi',
  'video/ogg': 'ogv',
  'audio/mpeg': 'mp3',
  'audio/mp4': 'm4a',
  'audio/x-m4a': 'm4a',
  'audio/ogg': 'ogg',
  'audio/wav': 'wav',
  'audio/x-wav': 'wav',
};

/** Extension used when neither the bytes nor the Content-Type give one. */
export const DEFAULT_EXTENSION: Readonly<Record<MediaType, string>> = {
  image: 'jpg',
  video: 'mp4',
  gif: 'gif',
  audio: 'mp3',
  file: 'bin',
};

/** Bytes needed to recognise every format above (an `ftyp` box with its brands, a Matroska DocType). */
export const SNIFF_LENGTH = 64;

/** `ftyp` major or compatible brands, most telling first. */
const AVIF_BRANDS = new Set(['avif', 'avis']);
const HEIC_BRANDS = new Set(['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'hevm', 'hevs', 'mif1', 'msf1']);
const AUDIO_BRANDS = new Set(['M4A ', 'M4B ', 'M4P ', 'F4A ', 'F4B ']);
const M4V_BRANDS = new Set(['M4V ', 'M4VH', 'M4VP']);
/** First boxes of old QuickTime files that have no `ftyp`. */
const QUICKTIME_FIRST_BOXES = new Set(['moov', 'mdat', 'wide', 'free', 'skip', 'pnot']);

/**
 * Recognise a media format from the first 64 bytes of a file. Containers are told apart
 * by what is inside: AVIF and HEIC from MP4 by the `ftyp` brands, WebM from Matroska by the
 * DocType, APNG from PNG by an `acTL` chunk before the image data, WAV/AVI/WebP by the RIFF form.
 * @returns the format, or `undefined` when the bytes are not media this plugin knows
 */
export function detectFormat(head: Uint8Array): DetectedFormat | undefined {
  const b = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  const ascii = (from: number, to: number): string => b.toString('latin1', from, Math.min(to, b.length));
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b[0] === 0x89 && ascii(1, 4) === 'PNG' && b[4] === 0x0d && b[5] === 0x0a) return ascii(37, 41) === 'acTL' ? 'apng' : 'png';
  if (ascii(0, 6) === 'GIF87a' || ascii(0, 6) === 'GIF89a') return 'gif';
  if (ascii(0, 4) === 'RIFF') {
    const form = ascii(8, 12);
    if (form === 'WEBP') return 'webp';
    if (form === 'WAVE') return 'wav';
    if (form === 'AVI ') return 'avi';
    return undefined;
  }
  if (ascii(4, 8) === 'ftyp') return isoBrandFormat(b);
  if (QUICKTIME_FIRST_BOXES.has(ascii(4, 8)) && b.length >= 8 && b.readUInt32BE(0) >= 8) return 'mov';
  if (b[0] === 0x1a && b[1] === 0x45 && b[2] === 0xdf && b[3] === 0xa3) return ascii(0, b.length).includes('webm') ? 'webm' : 'mkv';
  if (b[0] === 0xff && b[1] === 0x0a) return 'jxl';
  if (b.length >= 12 && b.readUInt32BE(0) === 12 && ascii(4, 8) === 'JXL ') return 'jxl';
  if (ascii(0, 4) === 'II*\0' || ascii(0, 4) === 'MM\0*') return 'tiff';
  // "BM" alone starts plenty of text; a real bitmap header has its reserved fields zero.
  if (ascii(0, 2) === 'BM' && b.length >= 14 && b.readUInt32LE(6) === 0) return 'bmp';
  if (ascii(0, 4) === 'OggS') return 'ogg';
  if (ascii(0, 3) === 'ID3') return 'mp3';
  // An MPEG audio frame: 11 sync bits, then a layer that is not "reserved" (AAC's ADTS has layer 0).
  if (b[0] === 0xff && ((b[1] ?? 0) & 0xe0) === 0xe0 && ((b[1] ?? 0) & 0x06) !== 0) return 'mp3';
  return undefined;
}

/** Tell ISO base media files apart by the major brand, then the compatible brands within the head. */
function isoBrandFormat(b: Buffer): DetectedFormat {
  const major = b.toString('latin1', 8, 12);
  const boxEnd = Math.min(b.length, Math.max(16, b.readUInt32BE(0)));
  const brands = [major];
  for (let at = 16; at + 4 <= boxEnd; at += 4) brands.push(b.toString('latin1', at, at + 4));
  if (brands.some((brand) => AVIF_BRANDS.has(brand))) return 'avif';
  if (HEIC_BRANDS.has(major) || (major !== 'isom' && brands.some((brand) => HEIC_BRANDS.has(brand) && brand !== 'mif1'))) return 'heic';
  if (major === 'qt  ') return 'mov';
  if (M4V_BRANDS.has(major)) return 'm4v';
  if (AUDIO_BRANDS.has(major)) return 'm4a';
  return 'mp4';
}

/** What a body that is not media looks like, so the refusal can say so. */
export type NonMedia = 'markup' | 'json' | 'text' | 'binary';

/**
 * Classify the first bytes of a body no media signature matched: HTML, XML and SVG
 * (`<` after optional BOM and white space), JSON, plain text, or unknown binary.
 */
export function classifyNonMedia(head: Uint8Array): NonMedia {
  let text = Buffer.from(head.buffer, head.byteOffset, head.byteLength).toString('latin1');
  if (text.startsWith('\xef\xbb\xbf')) text = text.slice(3);
  const trimmed = text.trimStart();
  if (trimmed.startsWith('<')) return 'markup';
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) return 'json';
  // Printable ASCII, white space and UTF-8 lead/continuation bytes only: text. Tab, LF and CR are named on purpose.
  // eslint-disable-next-line no-control-regex
  return /^[\x09\x0a\x0d\x20-\x7e\x80-\xff]*$/.test(text) && !/[\x80-\xff]{8}/.test(text) ? 'text' : 'binary';
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

/** Media type implied by a file extension (`file` when it is no media extension). */
export function mediaTypeForExtension(extension: string): MediaType {
  return FAMILY_BY_EXTENSION.get(extension.toLowerCase()) ?? 'file';
}

/** Content types that say nothing about the bytes. */
const GENERIC_TYPES = new Set([undefined, 'application/octet-stream', 'binary/octet-stream', 'application/binary']);

/**
 * True when a Content-Type names the family of the requested media type (`image/*` for an image…).
 * A generic type (`application/octet-stream`, none) names no family: false.
 */
export function contentTypeInFamily(mediaType: MediaType, contentType: string | undefined): boolean {
  const essence = essenceOf(contentType);
  if (GENERIC_TYPES.has(essence) || essence === undefined) return false;
  switch (mediaType) {
    case 'image':
      return essence.startsWith('image/') && essence !== 'image/svg+xml';
    case 'gif':
      // Tumblr serves some "GIFs" as video (gifv) or WebP: both families are acceptable.
      return (essence.startsWith('image/') && essence !== 'image/svg+xml') || essence.startsWith('video/');
    case 'video':
      return essence.startsWith('video/');
    case 'audio':
      return essence.startsWith('audio/');
    case 'file':
      return true;
  }
}

/** Is the Content-Type one that never carries media (HTML, XML, SVG, JSON, text)? */
export function isNonMediaType(contentType: string | undefined): boolean {
  const essence = essenceOf(contentType);
  if (essence === undefined) return false;
  return (
    essence.startsWith('text/') ||
    essence === 'application/xhtml+xml' ||
    essence === 'application/xml' ||
    essence === 'image/svg+xml' ||
    essence === 'application/json' ||
    essence.endsWith('+json') ||
    essence.endsWith('+xml')
  );
}
