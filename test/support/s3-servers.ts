import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { freePort } from './redis-server.js';

// Every client here is the pinned SDK on Node 20: its notice about later releases is not the test's news.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** One request the S3 server received (through the recording proxy in front of it). */
export interface S3Request {
  method: string;
  /** Path and query, as sent. */
  url: string;
}

/** A real S3-compatible server started for a suite, on a random loopback port, behind a recording proxy. */
export interface S3UnderTest {
  /** `s3rver` or `moto`. */
  name: string;
  /** The proxy's `http://127.0.0.1:PORT`: what the code under test is given as its endpoint. */
  endpoint: string;
  /** Credentials and region as the AWS environment gives them (the servers accept these). */
  env: Record<string, string>;
  /** Every request, in arrival order; `seen` emits `request` as each arrives. */
  requests: S3Request[];
  seen: EventEmitter<{ request: [S3Request] }>;
  /** A client for the test's own checks (listing, reading objects back). */
  client: S3Client;
  /**
   * Requests for which this says true are held by the proxy, unanswered, until {@link release}: an upload the
   * test keeps in flight for as long as it needs. Set it to `undefined` to hold no more.
   */
  holdWhen: ((request: S3Request) => boolean) | undefined;
  /** Let the held requests through (a client that gave up on them finds its socket gone). */
  release(): void;
  createBucket(name: string): Promise<void>;
  stop(): Promise<void>;
}

/** How a suite starts one kind of server. */
export interface S3ServerKind {
  name: string;
  /** Whether it can run here (moto_server is a Python tool: used where installed). */
  available: boolean;
  start(): Promise<S3UnderTest>;
}

const CREDENTIALS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' };

/** `s3rver` (npm), in this process, storing in a temporary folder. */
export const S3RVER: S3ServerKind = {
  name: 's3rver',
  available: true,
  async start() {
    const { default: S3rver } = await import('s3rver');
    const directory = mkdtempSync(path.join(tmpdir(), 'tdl-s3rver-'));
    const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory });
    const { port } = (await server.run()) as AddressInfo;
    return underTest('s3rver', `http://127.0.0.1:${port}`, async () => {
      // Keep-alive sockets would hold close() open until they time out.
      server.httpServer?.closeAllConnections();
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    });
  },
};

/** `moto_server` (Python), where installed: a stricter S3 (ListParts, checksums, ListMultipartUploads). */
export const MOTO: S3ServerKind = {
  name: 'moto',
  available: spawnSync('sh', ['-c', 'command -v moto_server'], { stdio: 'ignore' }).status === 0,
  async start() {
    for (let attempt = 0; ; attempt++) {
      const port = await freePort();
      const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
      const started = await waitForLine(child, /Running on http/);
      if (started) {
        return underTest('moto', `http://127.0.0.1:${port}`, async () => {
          child.kill('SIGKILL');
          await new Promise((resolve) => (child.exitCode === null ? child.once('exit', resolve) : resolve(undefined)));
        });
      }
      child.kill('SIGKILL');
      if (attempt >= 2) throw new Error('moto_server did not start');
    }
  },
};

/** The servers every S3 suite runs against: s3rver always, moto where installed. */
export const S3_SERVERS: S3ServerKind[] = [S3RVER, MOTO];

/** Resolves true when the child prints a line matching `pattern`, false when it exits first. */
function waitForLine(child: ChildProcess, pattern: RegExp): Promise<boolean> {
  return new Promise((resolve) => {
    let text = '';
    const onData = (chunk: Buffer): void => {
      text += chunk.toString();
      if (pattern.test(text)) {
        child.stdout!.off('data', onData);
        child.stderr!.off('data', onData);
        resolve(true);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', () => resolve(false));
  });
}

/** Put a recording proxy in front of `upstream` and make the test's client. */
async function underTest(name: string, upstream: string, stopServer: () => Promise<void>): Promise<S3UnderTest> {
  const requests: S3Request[] = [];
  const seen = new EventEmitter<{ request: [S3Request] }>();
  const target = new URL(upstream);
  let held: Array<() => void> = [];
  const proxy: Server = createServer((req, res) => {
    const entry = { method: req.method ?? 'GET', url: req.url ?? '/' };
    requests.push(entry);
    const forward = (): void => {
      const upstreamRequest = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, agent: false }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstreamRequest.on('error', () => res.destroy());
      req.pipe(upstreamRequest);
    };
    // Paused before its body is read: the client's upload stays in flight, as over a slow link. Let go after its
    // client gave up, it is dropped: half a body must not reach the server.
    if (underTest.holdWhen?.(entry)) held.push(() => (req.destroyed || res.destroyed ? res.destroy() : forward()));
    else forward();
    seen.emit('request', entry);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  const client = new S3Client({
    endpoint: upstream,
    forcePathStyle: true,
    region: CREDENTIALS.AWS_REGION,
    credentials: { accessKeyId: CREDENTIALS.AWS_ACCESS_KEY_ID, secretAccessKey: CREDENTIALS.AWS_SECRET_ACCESS_KEY },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const underTest: S3UnderTest = {
    name,
    endpoint,
    env: { ...CREDENTIALS },
    requests,
    seen,
    client,
    holdWhen: undefined,
    release() {
      const waiting = held;
      held = [];
      for (const forward of waiting) forward();
    },
    async createBucket(bucket) {
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
    },
    async stop() {
      client.destroy();
      proxy.closeAllConnections();
      await new Promise((resolve) => proxy.close(resolve));
      await stopServer();
    },
  };
  return underTest;
}
