import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { injectable } from 'inversify';
import { DownloadError } from '../errors/download-error.js';
import { DEFAULT_EXTENSION, extensionForContentType, FORMAT_INFO, MEDIA_EXTENSIONS } from '../verify/media-formats.js';
import type { DetectedFormat, MediaType } from '../model/media-type.js';
import { sanitizeExtension, sanitizeSegment } from './sanitize.js';
import { serviceToken, type ServiceToken } from '../service-token.js';

/** Token of the {@link FilenameGenerator} service. */
export const FilenameGenerator: ServiceToken<FilenameGenerator> = serviceToken('FilenameGenerator');

/** What else a name may be built from: the caller's item, as passed to `downloadImage` & co. */
export interface NameContext {
  /** The `metadata` of the call (a host's blog name, post date, tags…), untouched. */
  metadata?: Record<string, unknown>;
}

/**
 * Decides the file name of a media item: a path relative to `outputDir`, sub-folders allowed
 * (`staff/123456/123456_0_1a2b3c4d.jpg`). Names only; the downloader reserves them, creates the
 * folders, and refuses with `UNSAFE_PATH` any name that would leave `outputDir`.
 */
export interface FilenameGenerator {
  /**
   * Base name (no directory) for a media item.
   * @param url media URL
   * @param postId id of the post; untrusted
   * @param mediaType what is being downloaded
   * @param index position of the media within its post @default 0
   * @param contentType response Content-Type, used when the bytes are of no known format
   * @param format the format the bytes turned out to be, once they have arrived: it names the extension
   * @param context the item's metadata, for names built from more than the post (a blog folder)
   */
  generateFilename(url: string, postId: string, mediaType: MediaType, index?: number, contentType?: string, format?: DetectedFormat, context?: NameContext): string;
}

/**
 * `{postId}_{index}_{md5(url)[0:8]}.{ext}`: stable across runs, unique per URL
 * within a post, and safe whatever the post id contains.
 */
@injectable()
export class DefaultFilenameGenerator implements FilenameGenerator {
  generateFilename(url: string, postId: string, mediaType: MediaType, index = 0, contentType?: string, format?: DetectedFormat, _context?: NameContext): string {
    if (!Number.isSafeInteger(index) || index < 0) {
      throw new DownloadError('UNSAFE_PATH', `Media index must be a whole number ≥ 0, got ${String(index)}`, { url });
    }
    const urlHash = createHash('md5').update(url).digest('hex').slice(0, 8);
    const post = sanitizeSegment(String(postId), 'post');
    return `${post}_${index}_${urlHash}.${this.extensionFor(url, mediaType, contentType, format)}`;
  }

  /**
   * The extension of the bytes' real format; before they arrive (or for bytes of no known format),
   * the Content-Type's, else the URL's, else the media type's default. Only media extensions are
   * ever used: a URL ending in `.html`, `.svg` or `.gifv` does not name the file.
   */
  protected extensionFor(url: string, mediaType: MediaType, contentType?: string, format?: DetectedFormat): string {
    if (format !== undefined) return FORMAT_INFO[format].extension;
    const fromUrl = extensionFromUrl(url);
    return extensionForContentType(contentType) ?? (fromUrl !== undefined && MEDIA_EXTENSIONS.has(fromUrl) ? fromUrl : undefined) ?? DEFAULT_EXTENSION[mediaType];
  }
}

/** Extension of the last path segment of a URL (query and fragment ignored), if it looks like one. */
export function extensionFromUrl(url: string): string | undefined {
  let pathname: string;
  try {
    pathname = new URL(url).pathname;
  } catch {
    return undefined;
  }
  const ext = path.posix.extname(safeDecode(pathname.split('/').pop() ?? '')).slice(1);
  return sanitizeExtension(ext);
}

/** Percent-decode, keeping the raw text when the encoding is malformed (`%E0%A4%A`): a bad URL must not throw here. */
function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
