/** `scheme://user:secret@` anywhere in a text. */
const USERINFO = /([a-z][a-z0-9+.-]*:\/\/)[^/?#@\s]*@/gi;

/**
 * Replace the credentials of every URL in `text` (`https://user:secret@host/…`) with `***`, so they
 * never reach a result, the ledger, an event or a log line. Text without credentials is returned as is.
 */
export function redactCredentials(text: string): string {
  return text.includes('@') ? text.replace(USERINFO, '$1***@') : text;
}

/** The URL without user name and password: what the Wayback Machine knows it by. */
export function withoutCredentials(url: string): string {
  const parsed = new URL(url);
  parsed.username = '';
  parsed.password = '';
  return parsed.href;
}
