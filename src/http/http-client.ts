import * as http from 'node:http';
import * as https from 'node:https';
import got, { type Got } from 'got';
import { serviceToken, type ServiceToken } from '../service-token.js';
import { Http2Agent } from './http2-agent.js';

/** Token of the {@link HttpClient}: the got instance every request goes through. */
export const HttpClient: ServiceToken<HttpClient> = serviceToken('HttpClient');

/**
 * A got instance. Hosts rebind it to set a proxy, agents, cookies or headers:
 * `container.rebind(HttpClient).toConstantValue(got.extend({ agent: { https: proxyAgent } }))`.
 * The downloader sets per-request what correctness needs (no decompression,
 * no automatic retry, no throwing on status) on top of whatever it is given.
 */
export type HttpClient = Got;

/** Options of {@link createHttpClient}. */
export interface HttpClientOptions {
  /** Sent as User-Agent. */
  userAgent: string;
  /** Sockets kept per host; matches the downloader's per-host concurrency. */
  maxSockets: number;
  /** HTTP/2 where the server offers it over TLS (ALPN), HTTP/1.1 elsewhere. @default false */
  http2?: boolean;
}

/**
 * The default client: keep-alive agents shared by all downloads (one TCP/TLS
 * handshake per socket, not per file), identity encoding so stored bytes are
 * the origin's bytes, and got's own retry off because the RetryStrategy owns retries. With `http2`,
 * got asks each HTTPS host for h2 by ALPN, once per host, on the connection that then carries the
 * host's one h2 session (the downloads of that host its streams: see `Http2Agent`), and falls
 * back to the keep-alive HTTPS agent where h2 is not offered.
 */
export function createHttpClient(options: HttpClientOptions): HttpClient {
  const agentOptions = { keepAlive: true, maxSockets: options.maxSockets, scheduling: 'lifo' as const };
  const agent = { http: new http.Agent(agentOptions), https: new https.Agent(agentOptions) };
  const common = {
    headers: { 'user-agent': options.userAgent, 'accept-encoding': 'identity' },
    retry: { limit: 0 },
    decompress: false,
    throwHttpErrors: false,
  };
  if (options.http2 !== true) return got.extend({ ...common, agent, http2: false });
  const http2 = new Http2Agent();
  return got.extend({ ...common, agent: { ...agent, http2 }, request: http2.gotRequest, http2: true });
}
