import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One capture the fake archive holds. */
export interface FakeCapture {
  timestamp: string;
  body: Buffer;
  contentType: string;
}

/**
 * A local stand-in for the Wayback Machine: a CDX search endpoint answering
 * like `web.archive.org/cdx/search/cdx?output=json&fl=timestamp,original&limit=-N`
 * and raw captures at `/web/<timestamp>id_/<url>`. Records every request path.
 */
export class FakeWayback {
  readonly requests: string[] = [];
  private readonly captures = new Map<string, FakeCapture[]>();
  private server: http.Server | undefined;
  /** Status the CDX endpoint answers with (to simulate an outage). */
  cdxStatus = 200;
  /** A body the CDX endpoint sends instead of its JSON (to simulate a broken proxy page). */
  cdxBody: string | undefined;

  /** Add a capture of `url`. */
  capture(url: string, capture: FakeCapture): void {
    const list = this.captures.get(url) ?? [];
    list.push(capture);
    list.sort((a, b) => a.timestamp.localeCompare(b.timestamp));
    this.captures.set(url, list);
  }

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => this.answer(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  private answer(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.requests.push(req.url ?? '');
    const url = new URL(req.url ?? '/', 'http://fake');
    if (url.pathname === '/cdx/search/cdx') {
      if (this.cdxStatus !== 200) return void res.writeHead(this.cdxStatus).end();
      if (this.cdxBody !== undefined) return void res.writeHead(200, { 'content-type': 'text/html' }).end(this.cdxBody);
      const limit = Number(url.searchParams.get('limit') ?? '0');
      const all = (this.captures.get(url.searchParams.get('url') ?? '') ?? []).filter(() => url.searchParams.get('filter') === 'statuscode:200');
      const rows = limit < 0 ? all.slice(limit) : all;
      // The real server answers an empty result with an empty body, not `[]`.
      if (rows.length === 0) return void res.writeHead(200, { 'content-type': 'application/json' }).end();
      const original = url.searchParams.get('url');
      const table = [['timestamp', 'original'], ...rows.map((c) => [c.timestamp, original])];
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(table));
    }
    const raw = /^\/web\/(\d{14})id_\/(.+)$/.exec(req.url ?? '');
    const capture = raw && this.captures.get(raw[2]!)?.find((c) => c.timestamp === raw[1]);
    if (!capture) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': capture.contentType, 'content-length': capture.body.length }).end(capture.body);
  }
}
