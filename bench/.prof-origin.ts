// temp: serve workloads A and D from nginx for profiling; writes /tmp/prof2/{A,D}.jsonl and .txt
import { generate, startOrigin } from './bench-kit.js';
import { writeFileSync, mkdirSync } from 'node:fs';
const WORK = '/tmp/prof2/work'; mkdirSync(WORK + '/www', { recursive: true });
const origin = await startOrigin(WORK + '/www', WORK);
for (const w of [{ id: 'A', count: 2000, size: 65536 }, { id: 'D', count: 20000, size: 4096 }, { id: 'B', count: 100, size: 4 << 20 }]) {
  const names = [...generate(w, WORK + '/www').keys()];
  writeFileSync(`/tmp/prof2/${w.id}.txt`, names.map((n) => `${origin.base}/${n}`).join('\n') + '\n');
  writeFileSync(`/tmp/prof2/${w.id}.jsonl`, names.map((n) => JSON.stringify({ url: `${origin.base}/${n}`, postId: n.replace('.jpg', ''), mediaType: 'image' })).join('\n') + '\n');
}
console.log('ready', origin.base, origin.kind);
process.on('SIGTERM', () => { origin.stop(); process.exit(0); });
setInterval(() => {}, 1 << 30);
