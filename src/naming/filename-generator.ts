import * as path from 'node:path';
import { injectable } from 'inversify';
import type { DetectedFormat, MediaType } from '../model/media-type.js';
import { DEFAULT_EXTENSION, extensionForContentType, FORMAT_INFO, MEDIA_EXTENSIONS } from '../verify/media-formats.js';
import { DEFAULT_FILENAME_TEMPLATE, parseFilenameTemplate } from './filename-template.js';
import { sanitizeExtension } from './sanitize.js';
import { serviceToken, type ServiceToken } from '../service-token.js';

/** Token of the {@link FilenameGenerator} service. */
export const FilenameGenerator: ServiceToken<FilenameGenerator> = serviceToken('FilenameGenerator');

/**
 * Everything a name may be built from: the media item as the host passed it, and (once the bytes have
 * arrived) what they turned out to be. Every string in it comes from a crawl or a server: untrusted. Put
 * each through {@link sanitizeSegment} before it names a folder or a file.
 */
export interface FilenameContext {
  /** Media URL, credentials replaced by `***` (a name never changes with a password). */
  url: string;
  /** Id of the post. */
  postId: string;
  /** What is being downloaded. */
  mediaType: MediaType;
  /** Position of the media within its post. */
  index: number;
  /** The response's Content-Type, once it is known: names the extension of bytes of no known format. */
  contentType?: string;
  /** The format the bytes turned out to be, once they have arrived: it names the extension. */
  detectedFormat?: DetectedFormat;
  /** The `metadata` of the call (a host's blog name, post date, tags…), untouched. */
  metadata?: Record<string, unknown>;
}

/**
 * Decides the file name of a media item: a path relative to `outputDir`, sub-folders allowed
 * (`staff/123456/123456_0_1a2b3c4d.jpg`). It is asked twice: before the transfer (no `detectedFormat`
 * yet: the name reserved while the bytes arrive) and after verification (the name the file gets).
 * Names only; the downloader reserves them, creates the folders, and refuses with `UNSAFE_PATH` any
 * name that would leave `outputDir` or enter its state folder `.tumblr-dl/`. A name whose extension
 * names another format than the bytes is kept, with the result's warning `extension-mismatch`.
 */
export interface FilenameGenerator {
  /** The name for a media item, relative to `outputDir`. */
  generateFilename(context: FilenameContext): string;
}

/** Today's names, parsed once. */
const DEFAULT_TEMPLATE = parseFilenameTemplate(DEFAULT_FILENAME_TEMPLATE);

/**
 * `{postId}_{index}_{md5(url)[0:8]}.{ext}` (the template {@link DEFAULT_FILENAME_TEMPLATE}): stable across
 * runs, unique per URL within a post, and safe whatever the post id contains. Whatever `filenameTemplate`
 * the config names, this class keeps these names; the module binds {@link FilenameGenerator} to
 * `TemplateFilenameGenerator`, which follows the config.
 */
@injectable()
export class DefaultFilenameGenerator implements FilenameGenerator {
  generateFilename(context: FilenameContext): string {
    return DEFAULT_TEMPLATE.render(context, this.extensionFor(context));
  }

  /** The extension of a name: {@link extensionFor} unless a subclass decides otherwise. */
  protected extensionFor(context: FilenameContext): string {
    return extensionFor(context);
  }
}

/**
 * The extension a media file gets: that of the bytes' real format; before they arrive (or for bytes of no
 * known format), the Content-Type's, else the URL's, else the media type's default. Only media extensions
 * are ever returned: a URL ending in `.html`, `.svg` or `.gifv` does not name the file.
 */
export function extensionFor(context: Pick<FilenameContext, 'url' | 'mediaType' | 'contentType' | 'detectedFormat'>): string {
  if (context.detectedFormat !== undefined) return FORMAT_INFO[context.detectedFormat].extension;
  const fromUrl = extensionFromUrl(context.url);
  return extensionForContentType(context.contentType) ?? (fromUrl !== undefined && MEDIA_EXTENSIONS.has(fromUrl) ? fromUrl : undefined) ?? DEFAULT_EXTENSION[context.mediaType];
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
