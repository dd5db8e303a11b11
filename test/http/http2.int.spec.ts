import 'reflect-metadata';
import { expect } from 'chai';
import * as http2 from 'node:http2';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { Container } from 'inversify';
import { MediaDownloader } from '../../src/downloader/media-downloader.js';
import { createHttpClient, HttpClient } from '../../src/http/http-client.js';
import { DownloadLedger } from '../../src/ledger/download-ledger.js';
import { downloaderModule } from '../../src/module.js';
import { jpegBytes, sha256, tempDir } from '../support/fixtures.js';
import { useRealSockets } from '../support/nock-helpers.js';
import { selfSigned, type SelfSigned } from '../support/self-signed.js';

describe('HTTP/2 over TLS against real servers (node:http2, self-signed certificate)', () => {
  useRealSockets();
  const temp = tempDir('tdl-h2-');
  const body = (i: number): Buffer => jpegBytes(16 * 1024 + i, i + 1);
  let tls: SelfSigned;

  before(() => {
    tls = selfSigned(temp.dir);
  });
  after(() => temp.cleanup());

  /** An h2 server that also closes its sessions when it closes: a session left open keeps the test process alive. */
  const h2Server = (): http2.Http2SecureServer & { shut(): void } => {
    const server = http2.createSecureServer({ key: tls.key, cert: tls.cert });
    const open = new Set<http2.ServerHttp2Session>();
    server.on('session', (session) => {
      open.add(session);
      session.on('close', () => open.delete(session));
    });
    return Object.assign(server, {
      shut: () => {
        for (const session of open) session.destroy();
        server.close();
      },
    });
  };

  /** The downloader as `--http2` builds it, trusting the test's certificate. */
  const open = (dir: string, http2Enabled = true) => {
    const container = new Container();
    container.load(
      downloaderModule({ outputDir: `${temp.dir}/${dir}`, maxConcurrent: 8, rateLimit: { requestsPerSecond: 0 }, retry: { maxRetries: 2, baseBackoff: 10 }, http2: http2Enabled }),
    );
    container.rebind(HttpClient).toConstantValue(createHttpClient({ userAgent: 'test', maxSockets: 8, http2: http2Enabled }).extend({ https: { certificateAuthority: tls.cert } }));
    return {
      downloader: container.get(MediaDownloader),
      close: async () => {
        await container.get(MediaDownloader).close();
        await container.get(DownloadLedger).close();
      },
    };
  };

  it('should fetch 20 files as streams of one h2 connection (and the connection that asked for h2)', async () => {
    let sessions = 0;
    const protocols = new Set<string>();
    const server = h2Server();
    const streamsPerSession: number[] = [];
    server.on('session', (session) => {
      const at = sessions++;
      streamsPerSession[at] = 0;
      session.on('stream', () => streamsPerSession[at]!++);
    });
    server.on('stream', (stream, headers) => {
      protocols.add('h2');
      const i = Number(/(\d+)\.jpg$/.exec(String(headers[':path']))![1]);
      const data = body(i);
      stream.respond({ ':status': 200, 'content-type': 'image/jpeg', 'content-length': data.length });
      stream.end(data);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const { downloader, close } = open('one-connection');
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => downloader.downloadImage(`${base}/${i}.jpg`, `p${i}`)));
      await close();
      results.forEach((r, i) => expect(r.checksum, r.errorMessage).to.equal(sha256(body(i))));
      expect([...protocols]).to.deep.equal(['h2']);
      // The connection that asked the host for h2 is its one session (Http2Agent): one connection, not twenty.
      expect(sessions, `streams per session: ${streamsPerSession.join(', ')}`).to.equal(1);
      expect(streamsPerSession).to.deep.equal([20]);
    } finally {
      server.shut();
    }
  });

  it('should retry a stream the server refused (NGHTTP2_REFUSED_STREAM) and keep the bytes of the next try', async () => {
    let refused = 0;
    const server = h2Server();
    server.on('stream', (stream) => {
      stream.on('error', () => {}); // the refused stream errors on this side too
      if (refused++ === 0) return void stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
      stream.respond({ ':status': 200, 'content-type': 'image/jpeg', 'content-length': body(1).length });
      stream.end(body(1));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { downloader, close } = open('refused');
      const result = await downloader.downloadImage(`https://127.0.0.1:${(server.address() as AddressInfo).port}/1.jpg`, 'r');
      await close();
      expect(result).to.include({ status: 'success', checksum: sha256(body(1)), attempts: 2 });
    } finally {
      server.shut();
    }
  });

  it('should fall back to HTTP/1.1 where a TLS server does not offer h2', async () => {
    const server = https.createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
      const data = body(Number(/(\d+)\.jpg$/.exec(req.url!)![1]));
      res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': data.length, 'x-protocol': req.httpVersion }).end(data);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { downloader, close } = open('fallback');
      const results = await Promise.all([3, 4, 5].map((i) => downloader.downloadImage(`https://127.0.0.1:${(server.address() as AddressInfo).port}/${i}.jpg`, `f${i}`)));
      await close();
      results.forEach((r, i) => expect(r.checksum, r.errorMessage).to.equal(sha256(body(i + 3))));
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
