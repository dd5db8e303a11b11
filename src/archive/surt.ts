/**
 * The SURT key (Sort-friendly URI Reordering Transform) a CDXJ line starts with.
 *
 * Replay tools find a capture by binary search over sorted keys, so a key written here must be byte for byte
 * the key their own indexer computes for the same URL. The reference is warcio.js's `getSurt`
 * (`src/lib/utils.ts`, used by its `CDXIndexer` and by wabac.js / ReplayWeb.page); its rules, quirks included,
 * are reproduced exactly:
 *
 * - a URL not starting with `http:` or `https:` (case-sensitive: `HTTP://…` too) is returned unchanged;
 * - a leading `www.`, `www2.`… (`www\d*.`, lower-case only, right after `http(s)://`) is dropped;
 * - the whole URL, path and query included, is lower-cased, then parsed by WHATWG `URL` (so default ports,
 *   dot segments and the fragment go, the host is punycoded, and spaces are percent-encoded);
 * - the host's labels are reversed and joined by commas, IP addresses included (`1,0,0,127`), then `:port`
 *   when not the default, then `)` and the path;
 * - the query's `&`-separated arguments (empty ones kept) are sorted by UTF-16 code unit; a bare `?` vanishes;
 * - a URL the parser refuses is returned as it stood after the `www` step.
 *
 * Python `surt` (pywb's default) differs on IP hosts, `www` variants and case; keys from the two are not mixed here.
 *
 * @param url an absolute URL, as recorded in `WARC-Target-URI`
 * @returns the key, such as `com,example:8080)/a/b?a=1&b=2`
 */
export function surt(url: string): string {
  if (!url.startsWith('https:') && !url.startsWith('http:')) return url;
  const withoutWww = url.replace(/^(https?:\/\/)www\d*\./, '$1');
  let parsed: URL;
  try {
    parsed = new URL(withoutWww.toLowerCase());
  } catch {
    return withoutWww;
  }
  let key = parsed.hostname.split('.').reverse().join(',');
  if (parsed.port !== '') key += `:${parsed.port}`;
  key += `)${parsed.pathname}`;
  if (parsed.search !== '') key += `?${parsed.search.slice(1).split('&').sort().join('&')}`;
  return key;
}
