import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { gzipSync } from 'node:zlib';

/** A scripted answer that replaces the normal one for some requests. */
export interface ScriptedStatus {
  status: number;
  headers?: http.OutgoingHttpHeaders;
  body?: string | Buffer;
}

/**
 * How one path misbehaves. Everything is optional: an empty script serves
 * `body` by the book, Range and If-Range included.
 */
export interface FaultScript {
  /** The origin's content. */
  body: Buffer;
  contentType?: string;
  /** ETag per request number (from 1), or one for all; `null` sends none. */
  etag?: string | null | ((request: number) => string);
  lastModified?: string;
  /** `honour` (default), `ignore` (always 200 with the whole body), or `wrong-offset` (206 that starts elsewhere). */
  ranges?: 'honour' | 'ignore' | 'wrong-offset';
  /** Answer these request numbers with something else (429, 503, 500, 302…); `nowMs` is the server's clock, for dated headers. */
  statusFor?: (request: number, nowMs: number) => ScriptedStatus | undefined;
  /** Close the socket after this many body bytes, for the first `requests` requests (default 1). */
  cutAfter?: { bytes: number; requests?: number };
  /** Announce the full Content-Length but send this many fewer bytes, then close. First request only. */
  shortBy?: number;
  /** Send this many body bytes, then fall silent with the socket open. */
  stallAfter?: number;
  /** Send `bytes` every `everyMs` ms. */
  trickle?: { bytes: number; everyMs: number };
  /** gzip the body and say so, whatever the client asked. */
  gzip?: boolean;
  /** Wait this long before sending headers. */
  headerDelayMs?: number;
  /** Extra headers on the body response. */
  headers?: http.OutgoingHttpHeaders;
  /** Send no Content-Length (chunked): the client cannot tell a cut body by its length. */
  chunked?: boolean;
  /** Body per request number instead of `body` (a server that sends other bytes the second time). */
  bodyFor?: (request: number) => Buffer;
  /**
   * Hold each response to this path until {@link FaultServer.release}: before its headers (`true`), or once
   * `afterBytes` of its body are out. Released, it is served by the rest of this script as if never held.
   * Lets a test keep a download running (or a slot taken) for exactly as long as it needs, instead of a delay.
   */
  hold?: boolean | { afterBytes: number };
}

/** One request as the server saw it. */
export interface SeenRequest {
  path: string;
  number: number;
  status: number;
  range?: string;
  ifRange?: string;
  /** Value of the server's clock when the request arrived. */
  at: number;
}

/**
 * A real HTTP/1.1 origin on 127.0.0.1 whose misbehaviour is scripted per path:
 * for what nock cannot show (sockets closing mid-body, stalls, back-pressure).
 */
export class FaultServer {
  readonly requests: SeenRequest[] = [];
  /** Body bytes written, all requests together. */
  bytesServed = 0;
  private readonly scripts = new Map<string, FaultScript>();
  private readonly server = http.createServer((req, res) => this.handle(req, res));
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Responses waiting for {@link release}, each with what serves it once let go. */
  private parked: Array<{ res: http.ServerResponse; go: () => void }> = [];
  /** Scripts whose `hold` a {@link release} has ended. */
  private readonly disarmed = new WeakSet<FaultScript>();
  private holdingAll = false;
  /** Calls of {@link release} so far: a hold decided before one is over, even if its bytes were still on their way. */
  private releases = 0;
  private readonly awaitingArrivals: Array<{ count: number; resolve: () => void }> = [];

  /** @param now clock stamped on each request (tests pass their virtual clock) */
  constructor(private readonly now: () => number = Date.now) {}

  /** Serve `script` at `path` (replacing any earlier script). */
  script(path: string, script: FaultScript): void {
    this.scripts.set(path, script);
  }

  /** Requests for one path. */
  requestsFor(path: string): SeenRequest[] {
    return this.requests.filter((r) => r.path === path);
  }

  /** Responses held right now (see {@link FaultScript.hold} and {@link holdAll}). */
  get held(): number {
    return this.parked.length;
  }

  /** Hold every response that arrives from now on, before its headers, until {@link release}. */
  holdAll(): void {
    this.holdingAll = true;
  }

  /**
   * Let every held response go on, served by its script, and end the holds in force ({@link holdAll} and
   * every script's `hold`): later requests are served at once until a new holdAll() or a newly set script holds.
   */
  release(): void {
    this.holdingAll = false;
    this.releases++;
    for (const script of this.scripts.values()) this.disarmed.add(script);
    const parked = this.parked;
    this.parked = [];
    for (const { res, go } of parked) if (!res.destroyed) go();
  }

  /**
   * Resolves once `count` requests have arrived, all paths together (at once if they already have):
   * the event "the client got this far", e.g. a download holds its slot once its request is here.
   */
  arrived(count: number): Promise<void> {
    if (this.requests.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.awaitingArrivals.push({ count, resolve }));
  }

  /** Listen on a random port of a loopback address (127.0.0.2 gives a second "host"); resolves with the base URL. */
  async start(address = '127.0.0.1'): Promise<string> {
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.server.listen(0, address, resolve));
    return `http://${address}:${(this.server.address() as AddressInfo).port}`;
  }

  /** Close every connection and stop listening; held responses are dropped, never served. */
  async stop(): Promise<void> {
    this.parked = [];
    for (const timer of this.timers) clearTimeout(timer);
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0]!;
    const script = this.scripts.get(path);
    const number = this.requests.filter((r) => r.path === path).length + 1;
    const seen: SeenRequest = { path, number, status: 0, range: req.headers.range, ifRange: req.headers['if-range'] as string | undefined, at: this.now() };
    this.requests.push(seen);
    this.noteArrival();
    const hold = this.holdFor(script);
    const heldSince = this.releases;
    const reply = (): void => {
      if (!script) return this.send(res, seen, { status: 404, body: 'not found' });
      const scripted = script.statusFor?.(number, seen.at);
      if (scripted) return this.send(res, seen, scripted);
      this.serveBody(res, seen, script, typeof hold === 'object' ? { afterBytes: hold.afterBytes, heldSince } : undefined);
    };
    const answer = (): void => (script?.headerDelayMs ? this.later(script.headerDelayMs, reply) : reply());
    if (hold === true) this.park(res, answer, heldSince);
    else answer();
  }

  /** How this request is held, if it is: `true` before its headers, or after some body bytes. */
  private holdFor(script: FaultScript | undefined): FaultScript['hold'] {
    if (this.holdingAll) return true;
    if (!script?.hold || this.disarmed.has(script)) return undefined;
    return script.hold;
  }

  /** Hold `go` until the next release, unless one came since the hold was decided (`heldSince`). */
  private park(res: http.ServerResponse, go: () => void, heldSince: number): void {
    if (heldSince < this.releases) go();
    else this.parked.push({ res, go });
  }

  private noteArrival(): void {
    for (const waiter of [...this.awaitingArrivals]) {
      if (this.requests.length < waiter.count) continue;
      this.awaitingArrivals.splice(this.awaitingArrivals.indexOf(waiter), 1);
      waiter.resolve();
    }
  }

  private send(res: http.ServerResponse, seen: SeenRequest, answer: ScriptedStatus): void {
    seen.status = answer.status;
    res.writeHead(answer.status, answer.headers ?? {}).end(answer.body ?? '');
  }

  /** Answer with the body by the script; with `hold`, park once `afterBytes` of it are out. */
  private serveBody(res: http.ServerResponse, seen: SeenRequest, script: FaultScript, hold?: { afterBytes: number; heldSince: number }): void {
    const etag = typeof script.etag === 'function' ? script.etag(seen.number) : script.etag === undefined ? '"v1"' : script.etag;
    const body = script.bodyFor?.(seen.number) ?? script.body;
    const full = script.gzip ? gzipSync(body) : body;
    const size = full.length;
    const match = /^bytes=(\d+)-$/.exec(seen.range ?? '');
    const validatorOk = seen.ifRange === undefined || seen.ifRange === etag || seen.ifRange === script.lastModified;
    if (match && validatorOk && (script.ranges ?? 'honour') === 'honour' && Number(match[1]) >= size) {
      // As nginx answers a range past the end: 416, naming the size (the client may then know it holds it all).
      seen.status = 416;
      res.writeHead(416, { 'content-range': `bytes */${size}`, ...(etag === null ? {} : { etag }), 'content-length': 0 });
      res.end();
      return;
    }
    let start = 0;
    let status = 200;
    if (match && validatorOk && (script.ranges ?? 'honour') !== 'ignore' && Number(match[1]) < size) {
      status = 206;
      start = Number(match[1]);
    }
    const headers: http.OutgoingHttpHeaders = { 'content-type': script.contentType ?? 'image/jpeg', 'accept-ranges': 'bytes', ...script.headers };
    if (etag !== null) headers.etag = etag;
    if (script.lastModified) headers['last-modified'] = script.lastModified;
    if (script.gzip) headers['content-encoding'] = 'gzip';
    if (status === 206) {
      const claimed = script.ranges === 'wrong-offset' ? Math.max(0, start - 100) : start;
      headers['content-range'] = `bytes ${claimed}-${size - 1}/${size}`;
      if (script.ranges === 'wrong-offset') start = claimed;
    }
    if (!script.chunked) headers['content-length'] = size - start;
    seen.status = status;
    res.writeHead(status, headers);
    let slice = full.subarray(start);
    let closeAfter = false;
    if (script.cutAfter && seen.number <= (script.cutAfter.requests ?? 1)) {
      slice = slice.subarray(0, script.cutAfter.bytes);
      closeAfter = true;
    } else if (script.shortBy && seen.number === 1) {
      slice = slice.subarray(0, Math.max(0, slice.length - script.shortBy));
      closeAfter = true;
    }
    if (hold === undefined) return this.deliver(res, slice, script, closeAfter);
    // Up to the hold as the script says (trickled or at once); the rest once released.
    const head = slice.subarray(0, hold.afterBytes);
    const holdRest = (): void => this.park(res, () => this.deliver(res, slice.subarray(hold.afterBytes), script, closeAfter), hold.heldSince);
    if (script.trickle) return this.trickle(res, head, script.trickle, holdRest);
    this.write(res, head);
    holdRest();
  }

  /** Send (what is left of) a body as the script says: at once, trickled, stalled, or cut. */
  private deliver(res: http.ServerResponse, slice: Buffer, script: FaultScript, closeAfter: boolean): void {
    if (script.stallAfter !== undefined) {
      this.write(res, slice.subarray(0, script.stallAfter));
      return; // silent, socket open
    }
    if (script.trickle) {
      this.trickle(res, slice, script.trickle);
      return;
    }
    this.write(res, slice);
    // Drop the connection a moment after the bytes left, as a failing link does while the client reads;
    // closing in the same tick would only test how much a client buffers before it starts writing.
    if (closeAfter) this.later(20, () => res.socket?.destroySoon());
    else res.end();
  }

  /** Send `rest` a few bytes at a time, then `done` (by default, end the response). */
  private trickle(res: http.ServerResponse, rest: Buffer, pace: { bytes: number; everyMs: number }, done = (): void => void res.end()): void {
    if (res.destroyed) {
      res.end();
      return;
    }
    if (rest.length === 0) return done();
    this.write(res, rest.subarray(0, pace.bytes));
    this.later(pace.everyMs, () => this.trickle(res, rest.subarray(pace.bytes), pace, done));
  }

  private write(res: http.ServerResponse, chunk: Buffer): void {
    this.bytesServed += chunk.length;
    res.write(chunk);
  }
}
