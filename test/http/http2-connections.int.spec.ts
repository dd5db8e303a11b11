import { expect } from 'chai';
import { once } from 'node:events';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import * as https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { createHttpClient, type HttpClient } from '../../src/http/http-client.js';
import { tempDir } from '../support/fixtures.js';
import { useRealSockets } from '../support/nock-helpers.js';
import { selfSigned, type SelfSigned } from '../support/self-signed.js';

const FILES = 40;
const CONCURRENT = 16;

/** The body of `/<i>.bin`: distinct per file, so a mixed-up response shows. */
const body = (i: number): Buffer => Buffer.alloc(4096 + i, i % 251);

/** A loopback server that counts its connections and can drop them all when it closes. */
interface CountingServer {
  base: string;
  /** TCP connections for http:, TLS connections (`secureConnection`) for https:. */
  connections(): number;
  close(): Promise<void>;
}

async function listen(server: http.Server | https.Server | http2.Http2SecureServer, protocol: 'http' | 'https'): Promise<CountingServer> {
  const sockets = new Set<Socket>();
  let connections = 0;
  server.on(protocol === 'https' ? 'secureConnection' : 'connection', (socket: Socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('request', (req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse) => {
    const data = body(Number(/(\d+)\.bin$/.exec(req.url ?? '')?.[1] ?? 0));
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': data.length });
    res.end(data);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    base: `${protocol}://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections: () => connections,
    close: async () => {
      // Idle keep-alive sockets and h2 sessions would hold close() open.
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

/** Fetch `/0.bin` … `/39.bin`, 16 at a time, the way the downloader's transfer does: the response, then the body. */
async function fetchAll(client: HttpClient, base: string): Promise<{ versions: Set<string>; bodies: Buffer[] }> {
  const versions = new Set<string>();
  const bodies: Buffer[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < FILES) {
      const i = next++;
      const stream = client.stream(`${base}/${i}.bin`, { headers: {}, signal: new AbortController().signal });
      const [response] = (await once(stream, 'response')) as [http.IncomingMessage];
      versions.add(response.httpVersion);
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(chunk as Buffer);
      bodies[i] = Buffer.concat(chunks);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENT }, worker));
  return { versions, bodies };
}

function expectBodies(bodies: Buffer[]): void {
  expect(bodies).to.have.length(FILES);
  bodies.forEach((data, i) => expect(data.equals(body(i)), `body of ${i}.bin`).to.equal(true));
}

describe(createHttpClient.name, () => {
  useRealSockets();
  const temp = tempDir('tdl-h2c-');
  let tls: SelfSigned;

  before(() => {
    tls = selfSigned(temp.dir);
  });
  after(() => temp.cleanup());

  /** `--http2` as the CLI builds it, trusting the test's certificate. */
  const h2Client = (): HttpClient => createHttpClient({ userAgent: 'test', maxSockets: CONCURRENT, http2: true }).extend({ https: { certificateAuthority: tls.cert } });

  describe('with http2', () => {
    it('should use exactly one TLS connection for 40 files, 16 at a time, when the host offers h2', async () => {
      const server = await listen(http2.createSecureServer({ allowHTTP1: true, key: tls.key, cert: tls.cert }), 'https');
      try {
        const { versions, bodies } = await fetchAll(h2Client(), server.base);
        expectBodies(bodies);
        expect([...versions]).to.deep.equal(['2.0']);
        // The ALPN answer comes on the connection that then carries the h2 session: no probe connection beside it.
        expect(server.connections()).to.equal(1);
      } finally {
        await server.close();
      }
    });

    it('should keep using that connection for a later batch', async () => {
      const server = await listen(http2.createSecureServer({ allowHTTP1: true, key: tls.key, cert: tls.cert }), 'https');
      try {
        const client = h2Client();
        await fetchAll(client, server.base);
        const { versions, bodies } = await fetchAll(client, server.base);
        expectBodies(bodies);
        expect([...versions]).to.deep.equal(['2.0']);
        expect(server.connections()).to.equal(1);
      } finally {
        await server.close();
      }
    });

    /** Every body over HTTP/1.1 keep-alive sockets, at most {@link CONCURRENT}, from a server `listen` started. */
    async function expectKeepAliveHttp1(server: Awaited<ReturnType<typeof listen>>): Promise<void> {
      try {
        const { versions, bodies } = await fetchAll(h2Client(), server.base);
        expectBodies(bodies);
        expect([...versions]).to.deep.equal(['1.1']);
        expect(server.connections()).to.be.within(1, CONCURRENT);
      } finally {
        await server.close();
      }
    }

    it('should fetch over keep-alive HTTP/1.1 sockets, at most 16, when the host offers only http/1.1', async () => {
      await expectKeepAliveHttp1(await listen(https.createServer({ key: tls.key, cert: tls.cert }), 'https'));
    });

    it('should fetch http: URLs over the keep-alive HTTP agent, at most 16 sockets', async () => {
      await expectKeepAliveHttp1(await listen(http.createServer(), 'http'));
    });

    it('should speak HTTP/1.1 to an h2 host when an extension turns http2 off', async () => {
      const server = await listen(http2.createSecureServer({ allowHTTP1: true, key: tls.key, cert: tls.cert }), 'https');
      try {
        const { versions, bodies } = await fetchAll(h2Client().extend({ http2: false }), server.base);
        expectBodies(bodies);
        expect([...versions]).to.deep.equal(['1.1']);
        expect(server.connections()).to.be.within(1, CONCURRENT);
      } finally {
        await server.close();
      }
    });
  });

  describe('without http2', () => {
    it('should speak HTTP/1.1 over at most 16 keep-alive sockets to a host that offers h2', async () => {
      const server = await listen(http2.createSecureServer({ allowHTTP1: true, key: tls.key, cert: tls.cert }), 'https');
      try {
        const client = createHttpClient({ userAgent: 'test', maxSockets: CONCURRENT }).extend({ https: { certificateAuthority: tls.cert } });
        const { versions, bodies } = await fetchAll(client, server.base);
        expectBodies(bodies);
        expect([...versions]).to.deep.equal(['1.1']);
        expect(server.connections()).to.be.within(1, CONCURRENT);
      } finally {
        await server.close();
      }
    });
  });
});
