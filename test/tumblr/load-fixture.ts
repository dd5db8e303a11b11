import { readFileSync } from 'node:fs';

/** A fixture of test/fixtures/tumblr/, parsed: written from the public API documentation (api.md, npf-spec.md). */
export function loadFixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`../fixtures/tumblr/${name}`, import.meta.url), 'utf8')) as Record<string, unknown>;
}

/** The NPF content block at `index` of a post's own `content`. */
export function blockAt(post: Record<string, unknown>, index: number): Record<string, unknown> {
  return (post.content as Record<string, unknown>[])[index]!;
}
