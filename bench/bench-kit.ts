/** What `npm run bench` and `bench/scale-out.ts` share: workload files, the nginx origin, timed runs. */
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { selfSigned } from '../test/support/self-signed.js';

const MiB = 1024 * 1024;

/**
 * The `tumblr-dl` a checkout's users run: its bundled bin, or tsc's output for a checkout from before the
 * bundle (a `--baseline` older than it).
 */
export function cliOf(checkout: string): string {
  const bundle = path.join(checkout, 'dist/cli/tumblr-dl.bundle.js');
  return existsSync(bundle) ? bundle : path.join(checkout, 'dist/cli/tumblr-dl.js');
}

/** The files of a workload: `count` files of `size` bytes, named `<id><i>.jpg`. */
export interface WorkloadFiles {
  id: string;
  count: number;
  size: number;
}

/** One timed run. */
export interface Sample {
  wall: number;
  cpu: number;
  rssKiB: number;
}

/** Generate the files of a workload (random bytes behind a JPEG signature) and their SHA-256. */
export function generate(w: WorkloadFiles, dir: string): Map<string, string> {
  mkdirSync(dir, { recursive: true });
  const sums = new Map<string, string>();
  for (let i = 0; i < w.count; i++) {
    const name = `${w.id.toLowerCase()}${i}.jpg`;
    const hash = createHash('sha256');
    const fd = openSync(path.join(dir, name), 'w');
    for (let written = 0; written < w.size;) {
      const chunk = randomBytes(Math.min(16 * MiB, w.size - written));
      if (written === 0) chunk.set([0xff, 0xd8, 0xff, 0xe0]);
      // A whole JPEG ends in EOI: without it the structure check would flag every file as cut.
      if (written + chunk.length === w.size) chunk.set([0xff, 0xd9], chunk.length - 2);
      hash.update(chunk);
      writeSync(fd, chunk);
      written += chunk.length;
    }
    closeSync(fd);
    sums.set(name, hash.digest('hex'));
  }
  return sums;
}

/** The origin of a bench run: plain HTTP, and with nginx also HTTPS with HTTP/2 (for workload E). */
export interface Origin {
  base: string;
  kind: string;
  stop: () => void;
  /** `https://…` with h2 and TLS 1.3, a self-signed certificate made for this run; `undefined` without nginx. */
  tls?: {
    base: string;
    /** The certificate to trust (each tool is given it). */
    caFile: string;
    /** nginx logs one line per request: the number of the connection it came on. */
    connectionLog: string;
  };
}

/**
 * nginx on 127.0.0.1 (installed from Debian if missing), else a Node static server with a warning. nginx also
 * serves the same files over HTTPS with HTTP/2, with a certificate openssl makes now, and logs each TLS
 * request's connection number, so a bench can say how many TLS connections a tool opened.
 */
export async function startOrigin(root: string, work: string): Promise<Origin> {
  if (!existsSync('/usr/sbin/nginx') && process.getuid?.() === 0) {
    spawnSync('bash', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light'], { stdio: 'ignore' });
  }
  if (existsSync('/usr/sbin/nginx')) {
    const port = 18000 + Math.floor(Math.random() * 2000);
    const tlsPort = port + 2000;
    const conf = path.join(work, 'nginx.conf');
    const connectionLog = path.join(work, 'tls-connections.log');
    const { keyFile: key, certFile: caFile } = selfSigned(work);
    writeFileSync(
      conf,
      `daemon off; worker_processes 1; pid ${work}/nginx.pid; error_log ${work}/nginx-error.log;
events { worker_connections 1024; }
http { include /etc/nginx/mime.types; access_log off; sendfile on; tcp_nopush on; keepalive_requests 100000;
  client_body_temp_path ${work}/tmp; proxy_temp_path ${work}/tmp; fastcgi_temp_path ${work}/tmp; uwsgi_temp_path ${work}/tmp; scgi_temp_path ${work}/tmp;
  log_format connection '$connection';
  server { listen 127.0.0.1:${port}; root ${root}; }
  server { listen 127.0.0.1:${tlsPort} ssl http2; root ${root}; ssl_certificate ${caFile}; ssl_certificate_key ${key};
    ssl_protocols TLSv1.3; http2_max_concurrent_streams 128; access_log ${connectionLog} connection; } }`,
    );
    mkdirSync(path.join(work, 'tmp'), { recursive: true });
    const nginx = spawn('/usr/sbin/nginx', ['-c', conf], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 500));
    return { base: `http://127.0.0.1:${port}`, kind: 'nginx', stop: () => nginx.kill(), tls: { base: `https://127.0.0.1:${tlsPort}`, caFile, connectionLog } };
  }
  console.warn('WARNING: nginx not available; serving with a Node static server (numbers are not comparable).');
  const server = http.createServer((req, res) => {
    const file = path.join(root, path.basename(req.url ?? ''));
    if (!existsSync(file)) return void res.writeHead(404).end();
    const body = readFileSync(file);
    res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': body.length, etag: `"${body.length}"` }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, kind: 'node (fallback)', stop: () => server.close() };
}

/** Run a command under GNU time; returns wall seconds, CPU seconds and peak RSS. */
export function timed(cmd: string, cmdArgs: string[], env?: NodeJS.ProcessEnv): Sample {
  const out = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', cmd, ...cmdArgs], { encoding: 'utf8', maxBuffer: 64 * MiB, ...(env ? { env: { ...process.env, ...env } } : {}) });
  const last = out.stderr.trim().split('\n').pop() ?? '';
  const [wall, user, sys, rss] = last.split(' ').map(Number);
  if (out.status !== 0 && out.status !== 1) throw new Error(`${cmd} failed (${out.status}): ${out.stderr.slice(-500)}`);
  return { wall: wall!, cpu: user! + sys!, rssKiB: rss! };
}
