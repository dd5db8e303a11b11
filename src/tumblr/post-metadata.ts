import { arrayField, isRecord, numberField, recordField, stringField } from './json-fields.js';
import { optionalPostId, readPostIdentity } from './post-identity.js';
import type { PostMetadata } from './post-media.js';

/**
 * The metadata every medium of a post carries: blog, id, URL, date, tags and type. Optional fields are
 * absent, never `undefined`, when the post lacks them or gives them with another type.
 * @throws DownloadError `BAD_INPUT` when the post's blog or id is unusable (see `readPostIdentity`).
 */
export function postMetadata(post: unknown): PostMetadata {
  const { blog, postId } = readPostIdentity(post);
  const record = post as Record<string, unknown>;
  const postUrl = stringField(record, 'post_url');
  const timestamp = numberField(record, 'timestamp');
  // NPF posts say `blocks` in `type`; `original_type` keeps the kind a reader knows (photo, video…).
  const postType = stringField(record, 'original_type') ?? stringField(record, 'type');
  const tags = arrayField(record, 'tags').filter((tag): tag is string => typeof tag === 'string');
  return {
    blog,
    postId,
    ...(postUrl === undefined ? {} : { postUrl }),
    ...(timestamp === undefined ? {} : { timestamp }),
    tags,
    ...(postType === undefined ? {} : { postType }),
  };
}

/**
 * Where a reblog trail entry was first posted: `blog.name` (or `broken_blog_name` for a trail entry whose
 * blog is gone) and `post.id` when it is a valid id. `undefined` when the entry names no blog.
 */
export function reblogOriginOf(entry: Record<string, unknown>): PostMetadata['reblogOrigin'] {
  const blogRecord = recordField(entry, 'blog');
  const blog = (blogRecord === undefined ? undefined : stringField(blogRecord, 'name')) ?? stringField(entry, 'broken_blog_name');
  if (blog === undefined) return undefined;
  const postId = isRecord(entry.post) ? optionalPostId(entry.post.id) : undefined;
  return postId === undefined ? { blog } : { blog, postId };
}
