import { expandPost } from '../../tumblr/expand-post.js';
import { isPost, postsIn } from '../../tumblr/post-shape.js';
import { isRecord } from '../../tumblr/json-fields.js';
import type { InputEntry, InputPosition } from './input-entry.js';
import { lineOf } from './input-entry.js';
import { itemFromFields, type UnknownKeys } from './item-fields.js';

/**
 * The entries of one parsed JSON value, whatever it is: a Tumblr post (its media), a page of posts (an
 * array, `{posts}`, an API response), or an item object `{url, …}`. Detection is per object, so a
 * folder or a JSONL file may mix them. Nothing here throws: what cannot be read is a {@link BadRow}.
 */
export function* entriesOfJson(value: unknown, at: InputPosition, keys: UnknownKeys): Generator<InputEntry> {
  if (isPost(value)) {
    yield* entriesOfPost(value as Record<string, unknown>, at);
    return;
  }
  const failed = apiError(value);
  if (failed !== undefined) {
    // A saved 429 or 404 page has no posts: said, so a crawl that went wrong does not pass for an empty blog.
    yield { at, problem: `an API error response (${failed}), not posts` };
    return;
  }
  const posts = postsIn(value);
  if (posts !== undefined) {
    let position = 0;
    for (const post of posts) {
      position++;
      const here = { ...at, post: position };
      if (isPost(post)) yield* entriesOfPost(post as Record<string, unknown>, here);
      else if (isRecord(post) && ('url' in post || 'urls' in post)) yield* entriesOfItem(post, here, keys);
      else yield { at: here, problem: 'not a post: a post has "blog_name" (or "blog.name") and "id_string" (or "id")' };
    }
    return;
  }
  if (isRecord(value)) {
    yield* entriesOfItem(value, at, keys);
    return;
  }
  yield { at, problem: 'expected a JSON object: an item {"url", …}, a Tumblr post, or a page of posts' };
}

/** The media of one post, best size first: items to fetch, and embeds to report. */
function* entriesOfPost(post: Record<string, unknown>, at: InputPosition): Generator<InputEntry> {
  let media;
  try {
    media = expandPost(post);
  } catch (error) {
    yield { at, problem: (error as Error).message };
    return;
  }
  const line = lineOf(at);
  for (const medium of media) {
    if (medium.kind === 'embed') {
      yield { embed: medium, at };
      continue;
    }
    yield {
      url: medium.url,
      postId: medium.metadata.postId,
      mediaType: medium.mediaType,
      index: medium.index,
      line,
      ...(at.file === undefined ? {} : { file: at.file }),
      ...(medium.fallbackUrls.length === 0 ? {} : { fallbackUrls: medium.fallbackUrls }),
      metadata: { ...medium.metadata },
      post,
    };
  }
}

/** An item object: its warnings for keys no item takes, then the item or what is wrong with it. */
function* entriesOfItem(fields: Record<string, unknown>, at: InputPosition, keys: UnknownKeys): Generator<InputEntry> {
  for (const warning of keys.warnings(Object.keys(fields))) yield { warning };
  try {
    const item = itemFromFields(fields, lineOf(at));
    yield at.file === undefined ? item : { ...item, file: at.file };
  } catch (error) {
    yield { at, problem: (error as Error).message };
  }
}

/** `429 Limit Exceeded` when `value` is an API response whose `meta.status` is not a success, else `undefined`. */
function apiError(value: unknown): string | undefined {
  if (!isRecord(value) || !isRecord(value.meta)) return undefined;
  const { status, msg } = value.meta;
  if (typeof status !== 'number' || (status >= 200 && status < 300)) return undefined;
  return typeof msg === 'string' ? `${status} ${msg}` : String(status);
}
