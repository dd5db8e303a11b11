import { ITEM_MEDIA_TYPES } from '../model/media-item.js';
import type { MediaJob } from './media-job.js';
import { isRecord } from '../tumblr/json-fields.js';

/**
 * A job's data as a {@link MediaJob}, or what is wrong with it. Anything with access to the Redis can add
 * a job, so a worker checks each one as it checks an input line, rather than trusting its shape.
 */
export function checkJobData(data: unknown): MediaJob | string {
  if (typeof data !== 'object' || data === null) return 'job data is not an object';
  const { url, postId, mediaType, index, line, file, priority, fallbackUrls, metadata } = data as Record<string, unknown>;
  if (typeof url !== 'string' || url === '') return 'job data has no "url"';
  if (typeof postId !== 'string') return '"postId" must be a string';
  if (typeof mediaType !== 'string' || !ITEM_MEDIA_TYPES.has(mediaType)) return `unknown mediaType ${JSON.stringify(mediaType)} (image, video, gif or audio)`;
  if (!Number.isSafeInteger(index) || (index as number) < 0) return `"index" must be a whole number ≥ 0, got ${JSON.stringify(index)}`;
  if (priority !== undefined && !Number.isSafeInteger(priority)) return `"priority" must be a whole number, got ${JSON.stringify(priority)}`;
  if (fallbackUrls !== undefined && (!Array.isArray(fallbackUrls) || fallbackUrls.some((u) => typeof u !== 'string'))) return '"fallbackUrls" must be a list of URLs';
  if (metadata !== undefined && !isRecord(metadata)) return '"metadata" must be an object';
  const item: MediaJob = { url, postId, mediaType: mediaType as MediaJob['mediaType'], index: index as number, line: Number.isSafeInteger(line) ? (line as number) : 0 };
  if (priority !== undefined) item.priority = priority as number;
  if (fallbackUrls !== undefined) item.fallbackUrls = [...(fallbackUrls as string[])];
  if (typeof file === 'string') item.file = file;
  if (metadata !== undefined) item.metadata = metadata as Record<string, unknown>;
  return item;
}
