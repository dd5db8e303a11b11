/**
 * Parse a Retry-After header: delta-seconds (`120`) or an HTTP date.
 * @returns milliseconds to wait from `nowMs` (≥ 0), or `undefined` when absent or unreadable
 */
export function parseRetryAfter(header: string | string[] | undefined, nowMs: number): number | undefined {
  const value = (Array.isArray(header) ? header[0] : header)?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  // A date must look like one: Date.parse alone accepts odd strings such as "1.5".
  if (!/[a-z]/i.test(value)) return undefined;
  const at = Date.parse(value);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}
