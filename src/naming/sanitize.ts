/** Longest post-id part of a file name; longer ids are cut and keep a hash suffix. */
const MAX_SEGMENT = 64;

/** Windows device names: a file called `CON.jpg` cannot be opened there. */
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])$/i;

/**
 * Reduce untrusted text (a post id from a crawl) to `[A-Za-z0-9_-]`, so it can
 * never name a directory, a device, a hidden file or a path outside the output.
 * Returns `fallback` when nothing usable is left.
 */
export function sanitizeSegment(value: string, fallback: string): string {
  // NFKC first so full-width and other look-alike characters fold to ASCII where they can.
  const cleaned = value
    .normalize('NFKC')
    .replace(/[^A-Za-z0-9_-]+/g, '_')
    .replace(/_+/g, '_')
    .replace(/^[_-]+|[_-]+$/g, '')
    .slice(0, MAX_SEGMENT);
  if (cleaned === '' || WINDOWS_RESERVED.test(cleaned)) return cleaned === '' ? fallback : `_${cleaned}`;
  return cleaned;
}

/** A file extension reduced to lower-case `[a-z0-9]`, at most 5 characters, or `undefined`. */
export function sanitizeExtension(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const cleaned = value.toLowerCase().replace(/[^a-z0-9]/g, '');
  return cleaned.length >= 1 && cleaned.length <= 5 ? cleaned : undefined;
}
