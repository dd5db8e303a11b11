// The floor for got: the naive pipeline a user would write (got.stream → SHA-256 → file), N at once,
// with the same agent settings as a keep-alive node:http client. What tumblr-dl adds beyond it is ours.
// Usage: node got-floor.mjs <url-list> <outDir> <concurrency>
import { createHash } from 'node:crypto';
import { createWriteStream, readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import got from 'got';

const [list, outDir, concurrency = '16'] = process.argv.slice(2);
const urls = readFileSync(list, 'utf8').split('\n').filter(Boolean);
const agent = new http.Agent({ keepAlive: true, maxSockets: Number(concurrency) });
// HTTPS too (workload E), HTTP/1.1 keep-alive: trusting the bench's certificate through NODE_EXTRA_CA_CERTS.
const tlsAgent = new https.Agent({ keepAlive: true, maxSockets: Number(concurrency) });
const client = got.extend({ agent: { http: agent, https: tlsAgent }, retry: { limit: 0 }, decompress: false });
let next = 0;

async function one(url) {
  const hash = createHash('sha256');
  const tap = new Transform({
    transform(chunk, _e, cb) {
      hash.update(chunk);
      cb(null, chunk);
    },
  });
  await pipeline(client.stream(url), tap, createWriteStream(path.join(outDir, path.basename(new URL(url).pathname))));
  return hash.digest('hex');
}

await Promise.all(
  Array.from({ length: Number(concurrency) }, async () => {
    while (next < urls.length) await one(urls[next++]);
  }),
);
agent.destroy();
tlsAgent.destroy();
