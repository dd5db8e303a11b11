import type { WaybackConfig } from '../config/downloader-config.js';
import { HttpStatusError } from '../errors/http-status-error.js';
import type { HttpClient } from '../http/http-client.js';
import { judgeStatus } from '../http/status-rules.js';
import { toDownloadError } from '../errors/classify-error.js';

/** One capture of a URL in the Wayback Machine. */
export interface WaybackCapture {
  /** Capture time, `YYYYMMDDhhmmss` (UTC). */
  timestamp: string;
  /** The URL as it was captured. */
  original: string;
  /** The capture's bytes as the origin sent them, without the Wayback banner or rewriting (the `id_` form). */
  rawUrl: string;
  /** Lower-case host of `rawUrl` (the Wayback Machine's): the key of its rate limit. */
  host: string;
}

const TIMESTAMP = /^\d{14}$/;

/**
 * Ask the Wayback Machine's CDX index for the newest captures of `url` that
 * were answered with 200, newest first, at most `maxCaptures`
 * (`limit=-N` asks the CDX server for the last N rows, which are the newest).
 * A CDX answer that is not the expected JSON table is an error, not "no captures".
 * One request, no retries: the caller runs it under the retry strategy, whose
 * waits are on the injectable clock and honour Retry-After (read against `nowMs`, the same clock).
 * @throws DownloadError (an HTTP status, network or timeout failure, classified like a download's)
 */
export async function findCaptures(http: HttpClient, config: WaybackConfig, url: string, signal: AbortSignal, nowMs: () => number): Promise<WaybackCapture[]> {
  const query = new URL(`${config.endpoint}/cdx/search/cdx`);
  query.searchParams.set('url', url);
  query.searchParams.set('output', 'json');
  query.searchParams.set('fl', 'timestamp,original');
  query.searchParams.set('filter', 'statuscode:200');
  query.searchParams.set('limit', String(-config.maxCaptures));
  let body: unknown;
  try {
    const response = await http.get(query, { signal, throwHttpErrors: false, retry: { limit: 0 }, timeout: { request: 60_000 }, responseType: 'text' });
    const verdict = judgeStatus(response.statusCode, response.headers, nowMs());
    if (verdict.kind !== 'whole') {
      throw new HttpStatusError(query.href, response.statusCode, verdict.kind === 'failed' ? verdict.retryAfterMs : undefined);
    }
    body = response.body === '' ? '' : JSON.parse(response.body);
  } catch (error) {
    throw error instanceof SyntaxError ? new Error('the CDX answer is not JSON') : toDownloadError(error, query.href, signal);
  }
  // An empty index answers with an empty body or `[]`; otherwise a header row, then one row per capture.
  if (body === '' || (Array.isArray(body) && body.length === 0)) return [];
  if (!Array.isArray(body) || !body.every((row) => Array.isArray(row) && row.length >= 2)) {
    throw new Error('the CDX answer is not a JSON table');
  }
  const [header, ...rows] = body as unknown[][];
  const at = (name: string): number => header!.indexOf(name);
  const [t, o] = [at('timestamp'), at('original')];
  if (t < 0 || o < 0) throw new Error('the CDX answer has no timestamp/original columns');
  const host = query.hostname.toLowerCase();
  return rows
    .map((row) => ({ timestamp: String(row[t]), original: String(row[o]) }))
    .filter((c) => TIMESTAMP.test(c.timestamp) && /^https?:\/\//i.test(c.original))
    .sort((a, b) => b.timestamp.localeCompare(a.timestamp))
    .slice(0, config.maxCaptures)
    .map((c) => ({ ...c, rawUrl: `${config.endpoint}/web/${c.timestamp}id_/${c.original}`, host }));
}
