import type { Response } from 'got';
import type { HttpExchange } from '../../archive/archive-recorder.js';
import { redactCredentials } from '../../http/redact.js';

/** Most of a body kept of a response that saved nothing (a 404 page): enough to show what it said. */
export const ERROR_BODY_LIMIT = 64 * 1024;

/** Request headers whose values are credentials: kept as `***` in what is recorded. */
const SECRET_HEADERS: ReadonlySet<string> = new Set(['authorization', 'proxy-authorization', 'cookie']);

/** How long the head of such a body is waited for: it is evidence, not the download. */
const ERROR_BODY_WAIT_MS = 5_000;

/**
 * The exchange a response ended: the request as the client sent it (rebuilt from its options, `Host`
 * first, as HTTP/1.1 writes it) and the response head as it came (raw header names and order; HTTP/2's
 * pseudo-headers left out, their values being the status line).
 */
export function describeExchange(response: Response, sentAt: number, fromByte: number, decodedFrom: string | undefined): HttpExchange {
  const url = new URL(response.url);
  const requestHeaders: Array<[string, string]> = [['Host', url.host]];
  for (const [name, value] of Object.entries(response.request.options.headers)) {
    if (value === undefined || name.startsWith(':') || name.toLowerCase() === 'host') continue;
    // An archive is handed on: the password that fetched a file must not travel with it.
    const secret = SECRET_HEADERS.has(name.toLowerCase());
    for (const one of Array.isArray(value) ? value : [value]) requestHeaders.push([name, secret ? '***' : String(one)]);
  }
  const raw = response.rawHeaders;
  const responseHeaders: Array<[string, string]> = [];
  for (let i = 0; i + 1 < raw.length; i += 2) if (!raw[i]!.startsWith(':')) responseHeaders.push([raw[i]!, raw[i + 1]!]);
  return {
    date: new Date(sentAt),
    request: { method: 'GET', url: redactCredentials(response.url), headers: requestHeaders },
    response: { status: response.statusCode, statusText: response.statusMessage ?? '', httpVersion: response.httpVersion, headers: responseHeaders },
    fromByte,
    ...(decodedFrom === undefined ? {} : { decodedFrom }),
  };
}

/**
 * The first {@link ERROR_BODY_LIMIT} bytes of a body, for the record of a response that saved nothing.
 * Best effort: a body that does not come within a few seconds is recorded as far as it came.
 */
export function readBodyHead(stream: NodeJS.ReadableStream & { destroy(): void }): Promise<{ body: Buffer; truncated: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (truncated: boolean): void => {
      clearTimeout(timer);
      stream.removeListener('data', onData);
      stream.removeListener('end', onEnd);
      stream.removeListener('error', onEnd);
      const body = Buffer.concat(chunks, size);
      resolve({ body: body.subarray(0, ERROR_BODY_LIMIT), truncated: truncated || body.length > ERROR_BODY_LIMIT });
    };
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      size += chunk.length;
      if (size > ERROR_BODY_LIMIT) finish(true);
    };
    const onEnd = (): void => finish(false);
    const timer = setTimeout(() => finish(true), ERROR_BODY_WAIT_MS);
    timer.unref();
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('error', onEnd);
  });
}
