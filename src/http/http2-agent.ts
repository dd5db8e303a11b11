import type { RequestFunction } from 'got';
import http2wrapper from 'http2-wrapper';
import * as http from 'node:http';
import type { SecureClientSessionOptions } from 'node:http2';
import * as https from 'node:https';
import type { TLSSocket } from 'node:tls';

/** Origins whose protocol an agent remembers; past this, the oldest is asked again. */
const PROTOCOL_CACHE_SIZE = 1000;

/** A `Map` that forgets its oldest entry past `limit`: the protocol cache, bounded like http2-wrapper's own. */
class BoundedMap<K, V> extends Map<K, V> {
  constructor(private readonly limit: number) {
    super();
  }

  override set(key: K, value: V): this {
    if (!this.has(key) && this.size >= this.limit) this.delete(this.keys().next().value as K);
    return super.set(key, value);
  }
}

/**
 * got's HTTP/2 agent (an http2-wrapper `Agent`, one session per origin, the downloads of that origin its
 * streams) that, with its {@link Http2Agent.gotRequest}, costs an h2 origin one TLS connection, not two.
 *
 * Why: got's `http2: true` sends HTTPS requests through http2-wrapper's `auto`, which first opens a TLS
 * connection of its own to learn the origin's protocol by ALPN. Where that says h2, `auto` hands the socket to
 * the request that asked, as a `createConnection` option; but the agent files sessions by their options, that
 * function among them, so the session it makes is one that no other request can find. The requests that waited
 * for the same answer open a second connection, and every later request uses that one.
 *
 * Here the protocol is resolved per agent (once per origin; concurrent first requests wait for the one probe),
 * and the probe's socket becomes the agent's session for the origin under the options every request uses. Where
 * the answer is http/1.1, `auto` gives the socket to the keep-alive HTTPS agent as before.
 */
export class Http2Agent extends http2wrapper.Agent {
  /** The probe socket being made a session, for the one `createConnection` call that `#adopt` starts. */
  #adopting: { origin: string; socket: TLSSocket } | undefined;

  /** Protocol of each `host:port:ALPN list` once learned, and the probes under way: one probe per origin. */
  readonly #resolveProtocol = http2wrapper.auto.createResolveProtocol(new BoundedMap(PROTOCOL_CACHE_SIZE), new Map());

  /**
   * got's `request` option, set beside this agent as `agent.http2`: HTTPS requests that got would send
   * through http2-wrapper's `auto` go there with this agent's protocol resolution; anything else goes where
   * got would send it without a `request` option (http: URLs to `http.request`, HTTPS with `http2: false`
   * to `https.request`, another HTTP/2 agent to plain `auto`).
   */
  readonly gotRequest: RequestFunction = (...args: unknown[]) => {
    // got calls (url, options, callback); under its `cache` option, cacheable-request calls (options, callback).
    const at = typeof args[1] === 'function' ? 0 : 1;
    const options = args[at] as { protocol?: string; agent?: { http2?: unknown } };
    const protocol = at === 0 ? options.protocol : (args[0] as URL).protocol;
    // got hands over its agents object only with `http2`; otherwise the one agent for the protocol.
    if (protocol !== 'https:' || options.agent?.constructor !== Object) {
      return (protocol === 'https:' ? https.request : http.request)(...(args as Parameters<typeof http.request>));
    }
    if (options.agent.http2 === this) args[at] = { ...options, resolveProtocol: this.#resolve };
    return http2wrapper.auto(...(args as Parameters<typeof http2wrapper.auto>)) as ReturnType<RequestFunction>;
  };

  /**
   * The probe's socket becomes the session when it says h2. `auto` must then not get it: it would pass it on
   * as the request's `createConnection`, which files the session where no other request looks.
   */
  readonly #resolve: http2wrapper.ResolveProtocolFunction = async (options) => {
    const result = await this.#resolveProtocol(options);
    if (result.socket === undefined || result.alpnProtocol !== 'h2' || result.timeout === true || options.createConnection !== undefined) return result;
    return this.#adopt(result.socket, options) ? { alpnProtocol: result.alpnProtocol } : result;
  };

  /**
   * Start the origin's session on `socket`, filed under the options the request will bring to the agent
   * (`auto` passes the socket path as `path`, as the request does). If the agent already has a session or
   * one on the way, the socket is surplus and closed. False where the origin cannot be named (the request
   * then goes `auto`'s own way).
   */
  #adopt(socket: TLSSocket, options: http2wrapper.AutoRequestOptions): boolean {
    let origin: URL;
    try {
      // As http2-wrapper's ClientRequest names the origin it asks the agent for.
      origin = new URL(`https://${options.servername || options.host}:${options.port}`);
    } catch {
      return false;
    }
    // The probe was given the request's timeout, which would otherwise stay on the session's socket.
    socket.setTimeout(0);
    this.#adopting = { origin: origin.origin, socket };
    try {
      // Synchronously either picks a session (or one being made) or starts one through createConnection.
      this.getSession(origin, { ...options, path: options.socketPath } as SecureClientSessionOptions).catch(() => {});
    } finally {
      if (this.#adopting?.socket === socket) {
        this.#adopting = undefined;
        socket.destroy();
      }
    }
    return true;
  }

  override createConnection(origin: URL, options: SecureClientSessionOptions): Promise<TLSSocket> {
    const adopting = this.#adopting;
    if (adopting !== undefined && adopting.origin === origin.origin && !adopting.socket.destroyed) {
      this.#adopting = undefined;
      return Promise.resolve(adopting.socket);
    }
    return super.createConnection(origin, options);
  }
}
