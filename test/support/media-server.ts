import { createReadStream } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

/** How one path behaves. */
export interface ServedFile {
  /** File on disk to serve (streamed, never loaded whole). */
  file: string;
  size: number;
  contentType: string;
  etag: string;
  /** Close the socket after this many body bytes on the first N requests. */
  cutAfterBytes?: number;
  cutRequests?: number;
  /** Send this many bytes, then hold the socket open without sending more. */
  stallAfterBytes?: number;
  /** Never answer: not even headers. */
  silent?: boolean;
}

/** What the server saw, for assertions. */
export interface ServerLog {
  requests: Array<{ path: string; range?: string; ifRange?: string; status: number }>;
  /** Body bytes written to sockets, all requests together. */
  bytesServed: number;
}

/**
 * A real HTTP/1.1 origin on 127.0.0.1 with Range and If-Range done by the book,
 * for what nock cannot show: sockets that close mid-body, stalls, real back-pressure.
 */
export class MediaServer {
  readonly log: ServerLog = { requests: [], bytesServed: 0 };
  private readonly files = new Map<string, ServedFile>();
  private readonly server = http.createServer((req, res) => this.handle(req, res));
  private readonly sockets = new Set<import('node:net').Socket>();

  /** Serve `file` at `path`. */
  serve(path: string, file: ServedFile): void {
    this.files.set(path, file);
  }

  /** Start listening on a random loopback port; resolves with the base URL. */
  async start(): Promise<string> {
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = req.url ?? '/';
    const spec = this.files.get(path);
    const range = req.headers.range;
    const ifRange = req.headers['if-range'] as string | undefined;
    if (!spec) {
      this.log.requests.push({ path, status: 404 });
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    if (spec.silent) {
      this.log.requests.push({ path, status: 0 });
      return;
    }
    let start = 0;
    const match = /^bytes=(\d+)-$/.exec(range ?? '');
    const rangeValid = match !== null && (ifRange === undefined || ifRange === spec.etag) && Number(match[1]) < spec.size;
    if (rangeValid) start = Number(match![1]);
    const status = rangeValid ? 206 : 200;
    this.log.requests.push({ path, range, ifRange, status });
    const headers: http.OutgoingHttpHeaders = {
      'content-type': spec.contentType,
      'content-length': spec.size - start,
      etag: spec.etag,
      'accept-ranges': 'bytes',
    };
    if (rangeValid) headers['content-range'] = `bytes ${start}-${spec.size - 1}/${spec.size}`;
    res.writeHead(status, headers);
    const requestNumber = this.log.requests.filter((r) => r.path === path).length;
    const cut = spec.cutAfterBytes !== undefined && requestNumber <= (spec.cutRequests ?? 1) ? spec.cutAfterBytes : undefined;
    const limit = cut ?? spec.stallAfterBytes;
    const body = createReadStream(spec.file, { start, end: limit === undefined ? undefined : Math.min(spec.size, start + limit) - 1 });
    body.on('data', (chunk) => (this.log.bytesServed += chunk.length));
    body.pipe(res, { end: false });
    body.on('end', () => {
      if (cut !== undefined) res.socket?.destroy();
      else if (spec.stallAfterBytes === undefined) res.end();
      // A stall keeps the socket open and silent until the client gives up.
    });
  }
}
