import type { DownloadCall, DownloadRequest } from '../model/download-request.js';
import type { DetectedFormat, MediaType } from '../model/media-type.js';
import type { DownloadFileOptions, DownloadMediaOptions } from './download-options.js';
import type { FilenameContext, FilenameGenerator } from '../naming/filename-generator.js';
import { resolveInside } from '../naming/safe-path.js';
import { parseMediaUrl } from '../http/media-url.js';
import { redactCredentials } from '../http/redact.js';
import { DownloadError } from '../errors/download-error.js';

/** Where a call's file goes: a fixed name (`downloadFile`), or a name that follows the bytes (media calls). */
export interface Destination {
  /** Absolute path inside `outputDir`. */
  intendedPath: string;
  /** The name once the bytes' format is known (media calls only). */
  nameFor?: (format: DetectedFormat | undefined, contentType: string | undefined) => string;
}

/** What a public download method was given, frozen into a {@link DownloadCall}. */
export function describeCall(
  id: string,
  url: string,
  mediaType: MediaType,
  postId: string | undefined,
  options: DownloadFileOptions & DownloadMediaOptions,
  defaults: { resume: boolean; nowMs: number },
): DownloadCall {
  return Object.freeze({
    id,
    url: redactCredentials(String(url)),
    requestUrl: String(url),
    postId: postId === undefined ? undefined : String(postId),
    mediaType,
    metadata: options.metadata,
    index: options.index,
    verifySize: options.verifySize ?? true,
    verifyContentType: options.verifyContentType ?? true,
    expectedChecksum: options.expectedChecksum,
    resume: options.resume ?? defaults.resume,
    progressCallback: options.progressCallback,
    priority: options.priority,
    fallbackUrls: Object.freeze((options.fallbackUrls ?? []).map(String)),
    startedAt: defaults.nowMs,
  });
}

/**
 * Judge a call's URL, name and priority: a malformed or non-http(s) URL, a name that would leave
 * `outputDir`, or a priority that is not a whole number throws a typed error before any request or write.
 */
export function acceptCall(call: DownloadCall, locate: () => Destination): DownloadRequest {
  if (call.priority !== undefined && !Number.isSafeInteger(call.priority)) {
    throw new DownloadError('BAD_INPUT', `priority must be a whole number, got ${JSON.stringify(call.priority)}`, { url: call.url });
  }
  // A malformed fallback refuses the call as a malformed URL does: better said now than when it is reached.
  const candidates = [call.requestUrl, ...call.fallbackUrls].map((requestUrl, index) =>
    Object.freeze({ index, requestUrl, host: parseMediaUrl(requestUrl).hostname.toLowerCase() }),
  );
  const destination = locate();
  return Object.freeze({ ...call, host: candidates[0]!.host, candidates: Object.freeze(candidates), intendedPath: destination.intendedPath, nameFor: destination.nameFor });
}

/** Where a media item goes: the generated name, which follows the bytes' real format once it is known. */
export function mediaDestination(outputDir: string, generator: FilenameGenerator, item: FilenameContext): Destination {
  // Names hash the URL without its credentials: the same media keeps its name when a password changes.
  const named = { ...item, url: redactCredentials(String(item.url)) };
  const nameFor = (detectedFormat?: DetectedFormat, contentType?: string): string => {
    const context: FilenameContext = { ...named };
    if (detectedFormat !== undefined) context.detectedFormat = detectedFormat;
    if (contentType !== undefined) context.contentType = contentType;
    return resolveInside(outputDir, generator.generateFilename(context), named.url);
  };
  return { intendedPath: nameFor(), nameFor };
}
