import type { HttpExchange } from './archive-recorder.js';

/**
 * Response headers that described the bytes on the wire, not the payload a record holds: the body was
 * de-chunked (and, when a server compressed it although identity was asked, decoded) before it was kept.
 * They are renamed as pywb and warcprox do, so a replay tool does not decode the payload twice.
 */
const WIRE_HEADERS: ReadonlySet<string> = new Set(['transfer-encoding', 'content-encoding']);

/**
 * The head of a response in HTTP/1.1 form (an HTTP/2 response too: WARC records hold HTTP/1.1 messages;
 * the record says `WARC-Protocol: h2`), headers in the order and case they came, those that describe the
 * wire renamed `X-Archive-Orig-…`. A decoded body's wire `Content-Length` is renamed too.
 */
export function responseHead(exchange: HttpExchange): Buffer {
  const { response } = exchange;
  const lines = [`HTTP/1.1 ${response.status} ${printable(response.statusText || reasonPhrase(response.status))}`];
  for (const [name, value] of response.headers) {
    const lower = name.toLowerCase();
    const renamed = WIRE_HEADERS.has(lower) || (lower === 'content-length' && exchange.decodedFrom !== undefined);
    lines.push(`${renamed ? `X-Archive-Orig-${name}` : name}: ${printable(value)}`);
  }
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
}

/** The head of the request as the client sent it, in HTTP/1.1 form. */
export function requestHead(exchange: HttpExchange): Buffer {
  const url = new URL(exchange.request.url);
  const lines = [`${exchange.request.method} ${url.pathname}${url.search} HTTP/1.1`];
  for (const [name, value] of exchange.request.headers) lines.push(`${name}: ${printable(value)}`);
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
}

/** `WARC-Protocol` of an exchange: `h2` for HTTP/2 (the proposed HTTP/2 extension), else `http/1.1`. */
export function warcProtocol(exchange: HttpExchange): string {
  return exchange.response.httpVersion.startsWith('2') ? 'h2' : `http/${exchange.response.httpVersion}`;
}

/** Header text with no line break: a value that held one could forge a header of the record. */
function printable(value: string): string {
  return value.replace(/[\r\n]+/g, ' ');
}

/** The usual reason phrase, for an HTTP/2 response (which has none). */
function reasonPhrase(status: number): string {
  return REASONS[status] ?? '';
}

const REASONS: Readonly<Record<number, string>> = { 200: 'OK', 206: 'Partial Content', 403: 'Forbidden', 404: 'Not Found', 410: 'Gone' };
