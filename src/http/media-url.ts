import { DownloadError } from '../errors/download-error.js';

/**
 * Parse a media URL from untrusted input. Only absolute http(s) URLs with a host
 * are accepted: `file:`, `data:`, `ftp:` and relative strings are refused here,
 * before any request or file exists.
 * @throws DownloadError `INVALID_URL`
 */
export function parseMediaUrl(url: unknown): URL {
  if (typeof url !== 'string' || url.trim() === '') {
    throw new DownloadError('INVALID_URL', `Media URL must be a non-empty string, got ${JSON.stringify(url)}`);
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new DownloadError('INVALID_URL', `Malformed URL: ${url}`, { url, cause });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new DownloadError('INVALID_URL', `Only http and https URLs can be downloaded, got ${parsed.protocol} in ${url}`, { url });
  }
  if (parsed.hostname === '') throw new DownloadError('INVALID_URL', `URL has no host: ${url}`, { url });
  return parsed;
}

/** True when `host` is one of `domains` or a subdomain of one. */
export function hostMatches(host: string, domains: readonly string[]): boolean {
  const h = host.toLowerCase();
  return domains.some((d) => {
    const domain = d.toLowerCase();
    return h === domain || h.endsWith(`.${domain}`);
  });
}
