import type { IncomingHttpHeaders } from 'node:http';

/** A Content-Encoding the downloader can undo. */
export type BodyEncoding = 'gzip' | 'deflate' | 'br';

/** The first value of a header (a repeated header counts as its first). */
export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** A Content-Length that is a plain non-negative integer, else `undefined` (never NaN, never a negative size). */
export function contentLength(headers: IncomingHttpHeaders): number | undefined {
  const value = header(headers, 'content-length');
  return value !== undefined && /^\d+$/.test(value.trim()) ? Number(value) : undefined;
}

/** The body's Content-Encoding when it is one we decode; `identity` and unknown ones are `undefined`. */
export function contentEncoding(headers: IncomingHttpHeaders): BodyEncoding | undefined {
  const value = header(headers, 'content-encoding')?.trim().toLowerCase();
  if (value === 'gzip' || value === 'x-gzip') return 'gzip';
  if (value === 'deflate' || value === 'br') return value;
  return undefined;
}
