// The floor for Node: plain node:http with keep-alive, SHA-256 while writing, N at once.
// Usage: node raw-node.mjs <url-list> <outDir> <concurrency>
import { createHash } from 'node:crypto';
import { createWriteStream, readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';

const [list, outDir, concurrency = '16'] = process.argv.slice(2);
const urls = readFileSync(list, 'utf8').split('\n').filter(Boolean);
const agent = new http.Agent({ keepAlive: true, maxSockets: Number(concurrency) });
let next = 0;

async function one(url) {
  const res = await new Promise((resolve, reject) => http.get(url, { agent }, resolve).on('error', reject));
  if (res.statusCode !== 200) throw new Error(`${res.statusCode} ${url}`);
  const hash = createHash('sha256');
  const tap = new Transform({
    transform(chunk, _e, cb) {
      hash.update(chunk);
      cb(null, chunk);
    },
  });
  await pipeline(res, tap, createWriteStream(path.join(outDir, path.basename(new URL(url).pathname))));
  return hash.digest('hex');
}

await Promise.all(
  Array.from({ length: Number(concurrency) }, async () => {
    while (next < urls.length) await one(urls[next++]);
  }),
);
agent.destroy();
