import { DownloadError } from '../errors/download-error.js';
import { isRecord } from './json-fields.js';

/** Which post it is: what names its folder and its files, and what the ledger keys it by. */
export interface PostIdentity {
  /** The blog's name, as the post gives it: not sanitized here (naming does that), but a string of 1–255 characters. */
  blog: string;
  /** The post id, 1 to 20 digits (a 64-bit unsigned id has at most 20). */
  postId: string;
}

/** Longest blog name accepted: a DNS label is far shorter; anything longer is not a blog name. */
const MAX_BLOG_NAME = 255;

/** What a post id must look like. It names files: `../x` or `1 2` never reach the disk. */
const POST_ID = /^\d{1,20}$/;

/**
 * The blog and id of a post, validated. Blog: `blog_name`, else `blog.name`. Id: `id_string`, else `id`
 * (a number must be a safe integer: 64-bit ids beyond 2^53 are exact only in `id_string`).
 * @throws DownloadError `BAD_INPUT` naming what is wrong, for a value that is not a post or has no usable blog or id.
 */
export function readPostIdentity(post: unknown): PostIdentity {
  if (!isRecord(post)) throw badPost(`a post must be a JSON object, got ${describe(post)}`);
  return { blog: readBlogName(post), postId: readPostId(post.id_string ?? post.id) };
}

/**
 * A post id as digits: a safe non-negative integer, or a string of 1–20 digits.
 * @throws DownloadError `BAD_INPUT` naming the value, for anything else.
 */
export function readPostId(value: unknown): string {
  if (value === undefined || value === null) throw badPost('post has no id (id_string or id)');
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) throw badPost(`post id must be a whole number ≥ 0 within 2^53 (else give id_string), got ${String(value)}`);
    return String(value);
  }
  if (typeof value !== 'string') throw badPost(`post id must be a string of digits or a number, got ${describe(value)}`);
  if (!POST_ID.test(value)) throw badPost(`post id must be digits (1 to 20), got ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`);
  return value;
}

/** A post id when the value is one, else `undefined`: for ids that are optional, such as a trail entry's. */
export function optionalPostId(value: unknown): string | undefined {
  try {
    return readPostId(value);
  } catch {
    return undefined;
  }
}

function readBlogName(post: Record<string, unknown>): string {
  const blog = isRecord(post.blog) ? post.blog : undefined;
  const name = post.blog_name ?? blog?.name;
  if (name === undefined || name === null) throw badPost('post has no blog name (blog_name or blog.name)');
  if (typeof name !== 'string') throw badPost(`blog name must be a string, got ${describe(name)}`);
  if (name === '') throw badPost('blog name is empty');
  if (name.length > MAX_BLOG_NAME) throw badPost(`blog name is ${name.length} characters long, more than ${MAX_BLOG_NAME}`);
  return name;
}

/** A short description of a value for a message: its JSON when short, else its kind. */
function describe(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/** A post refused: a coded error (`BAD_INPUT`) a host can branch on, with the reason as its message. */
function badPost(message: string): DownloadError {
  return new DownloadError('BAD_INPUT', message);
}
