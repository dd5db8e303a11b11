import { isRecord } from './json-fields.js';

/**
 * Whether a value looks like a Tumblr post: an object with a blog name (`blog_name`, or `blog.name`) and an
 * id (`id_string`, or `id` as a number or a string). A shape test only: `readPostIdentity` validates the values.
 */
export function isPost(value: unknown): boolean {
  if (!isRecord(value)) return false;
  const hasBlog = typeof value.blog_name === 'string' || (isRecord(value.blog) && typeof value.blog.name === 'string');
  const hasId = typeof value.id_string === 'string' || typeof value.id === 'number' || typeof value.id === 'string';
  return hasBlog && hasId;
}

/**
 * The posts a parsed JSON document holds, in order, as it holds them: a single post (`[post]`); an array
 * (its elements, posts or not: the caller validates each); `{posts: […]}` or `{liked_posts: […]}`; an API
 * response whose `response` is one of those, an array (`/v2/tagged`), a post (`/posts/{id}`), or
 * `{post: {…}}`. An API error (`"response": []`) gives no posts. `undefined` when the document is none of these.
 *
 * An object that says `object_type: "post"`, and the object under `post`, count as posts even when their
 * blog or id is missing: the caller's validation then says what is wrong with the post, which is more use
 * than "no posts found".
 */
export function postsIn(value: unknown): unknown[] | undefined {
  if (Array.isArray(value)) return [...value];
  if (!isRecord(value)) return undefined;
  if (isPostLike(value)) return [value];
  const listed = postList(value);
  if (listed !== undefined) return listed;
  const response = value.response;
  if (Array.isArray(response)) return [...response];
  if (!isRecord(response)) return undefined;
  if (isPostLike(response)) return [response];
  if (isRecord(response.post)) return [response.post];
  return postList(response);
}

/** A post, or an object that says it is one (`object_type: "post"`). */
function isPostLike(value: Record<string, unknown>): boolean {
  return isPost(value) || value.object_type === 'post';
}

/** The `posts` (blog, dashboard) or `liked_posts` (likes) array of an object, copied. */
function postList(record: Record<string, unknown>): unknown[] | undefined {
  if (Array.isArray(record.posts)) return [...record.posts];
  if (Array.isArray(record.liked_posts)) return [...record.liked_posts];
  return undefined;
}
