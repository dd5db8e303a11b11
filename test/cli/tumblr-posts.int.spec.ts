import { expect } from 'chai';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { BUILT_CLI, ensureBuilt } from '../support/built-package.js';
import { FaultServer } from '../support/fault-server.js';
import { gifBytes, jpegBytes, listOutput, mp4Bytes, pngBytes, tempDir } from '../support/fixtures.js';

/** Files (not folders) under `dir`, as `a/b.jpg`, outside the state folder. */
const filesUnder = (dir: string): string[] => listOutput(dir, { recursive: true }).filter((f) => statSync(path.join(dir, f)).isFile());
import { useRealSockets } from '../support/nock-helpers.js';
import { runCli } from '../support/run-cli.js';

/** The fixtures of test/fixtures/tumblr/ a small tumblr-utils backup is made of, by the name each gets in `json/`. */
const BACKUP = {
  '746291850374561792.json': 'npf-photoset.json',
  '746300117204303872.json': 'npf-gif.json',
  '746310958273150976.json': 'npf-video-tumblr.json',
  '746322008120901632.json': 'npf-video-youtube.json',
  '746333771829182464.json': 'npf-reblog.json',
  '183599001122.json': 'legacy-audio.json',
  // An API response page beside single posts: detection is per document.
  'pages/page-1.json': 'api-page.json',
};

/** Tumblr's media hosts, as the fixtures write them. */
const MEDIA_HOSTS = ['https://64.media.tumblr.com/', 'https://va.media.tumblr.com/', 'https://a.tumblr.com/'];

/** An MP3 as Tumblr's audio host serves it: an ID3 tag, then MPEG frames. */
function mp3Bytes(size: number, seed: number): Buffer {
  const body = Buffer.alloc(size, seed);
  Buffer.from('ID3\x04\0\0\0\0\0\0', 'latin1').copy(body);
  return body;
}

/** Real bytes for a media path, of the format its extension names, different for every path. */
function bodyFor(file: string, seed: number): Buffer {
  const ext = path.extname(file).slice(1);
  if (ext === 'gif') return gifBytes(4_000, seed);
  if (ext === 'png') return pngBytes(6_000, seed);
  if (ext === 'mp4') return mp4Bytes(16_000, seed);
  if (ext === 'mp3') return mp3Bytes(4_000, seed);
  return jpegBytes(6_000, seed);
}

/** The best size of each medium of the backup (what alone must be requested), by the fixture's own URLs. */
const BEST = [
  '/64/92eb5ffee6ae2fec3ad71c777531578f/e9d71f5ee7c92d6d-4f/s2048x3072/1f7e33de15e22de9d2eaf502df284ed25ca40018.jpg',
  '/64/4a8a08f09d37b73795649038408b5f33/84a516841ba77a5b-a1/s540x810/6eeb3fecf98e6cb569171a38808fac301b190eab.gif',
  '/va/tumblr_sbx2k1Qw8e1z9y7vu.mp4',
  '/64/8277e0910d750195b448797616e091ad/3c363836cf4e1666-c2/s2048x3072/4a2b94f8a97ab5760cddd2707413b9edfddcae58.jpg',
  '/64/e1671797c52e15f763380b45e841ec32/58e6b3a414a1e090-d3/s2048x3072/e066133fdba5e5077ee034d757dc6dfcebd12979.jpg',
  '/64/8fa14cdd754f91cc6554c9e71929cce7/4a0a19218e082a34-e4/s2048x3072/06967d8e4a36243a7dc6404de1b1141f744adf2e.jpg',
  '/a/tumblr_pp1a2b3c4D1rx9y8zo1.mp3',
  '/64/8ce4b16b22b58894aa86c421e8759df3/tumblr_pq7rT8yU9i1qz8v4wo1_1280.jpg',
  // The page's third post is a text post whose inline image is on a Tumblr host: once rewritten to this
  // server it is an image of another site, which inline HTML never yields (test/tumblr covers the real host).
];
/** The photoset's first image: its best size is gone (404), so its next size is fetched instead. */
const GONE_BEST = '/64/0cc175b9c0f1b6a831c399e269772661/86f7e437faa5a7fc-8b/s2048x3072/2a2e1206b4222b0d7cc8c8a1d8b302ee70cfe817.jpg';

/** `tumblr-dl` run as the user nobody (65534), for a root that must meet a folder it cannot list. */
function runAsNobody(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, BUILT_CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

/** The parts of a metadata file these tests read. */
interface SidecarJson {
  sha256: string;
  servedUrl?: string;
  metadata: Record<string, unknown> & { reblogOrigin?: { blog: string } };
  post: Record<string, unknown>;
}

describe('tumblr-dl fetch on Tumblr posts (built CLI, real server)', function () {
  this.timeout(90_000);
  useRealSockets();
  let server: FaultServer;
  let base: string;
  let work: { dir: string; cleanup: () => void };
  let backup: string;
  /** Every media path the backup names, each served with bytes of its own. */
  let served: string[];

  before(() => ensureBuilt());

  beforeEach(async () => {
    server = new FaultServer();
    base = await server.start();
    work = tempDir('mdl-posts-');
    backup = path.join(work.dir, 'backup', 'json');
    const paths = new Set<string>();
    for (const [name, fixture] of Object.entries(BACKUP)) {
      let text = readFileSync(new URL(`../fixtures/tumblr/${fixture}`, import.meta.url), 'utf8');
      for (const host of MEDIA_HOSTS) text = text.split(host).join(`${base}/${host.includes('64.') ? '64' : host.includes('va.') ? 'va' : 'a'}/`);
      for (const match of text.matchAll(new RegExp(`${base.replace(/[.:/]/g, '\\$&')}(/[^"\\s]+)`, 'g'))) paths.add(match[1]!);
      mkdirSync(path.dirname(path.join(backup, name)), { recursive: true });
      writeFileSync(path.join(backup, name), text);
    }
    served = [...paths].filter((p) => p !== GONE_BEST);
    served.forEach((p, i) => server.script(p, { body: bodyFor(p, i + 1) }));
  });

  afterEach(async () => {
    await server.stop();
    work.cleanup();
  });

  const out = (): string => path.join(work.dir, 'out');
  const results = (): Array<Record<string, unknown>> =>
    readFileSync(path.join(out(), 'results.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);

  it('should save every medium of a backup once at its best size, named by template, with metadata files, and re-run with no request', async () => {
    const run = await runCli(['fetch', backup, '-o', out(), '--write-metadata', '--name', '{blog}/{postId}_{index}.{ext}']);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stderr).to.equal('');

    // At the server: the best size alone, except where it was gone; then its next size, and no other size.
    const asked = server.requests.map((r) => r.path);
    expect(new Set(asked)).to.deep.equal(
      new Set([...BEST, GONE_BEST, '/64/0cc175b9c0f1b6a831c399e269772661/86f7e437faa5a7fc-8b/s1280x1920/2a2e1206b4222b0d7cc8c8a1d8b302ee70cfe817.jpg']),
    );
    expect(asked.length, 'each once').to.equal(BEST.length + 2);

    // On disk: names from the template, a metadata file beside each, nothing else.
    const media = [
      'harbour-lights/183700112233_0.jpg',
      'field-recordings/183599001122_0.mp3',
      'lighthouse-notes/746291850374561792_0.jpg',
      'lighthouse-notes/746291850374561792_1.jpg',
      'moss-appreciator/746333771829182464_0.jpg',
      'moss-appreciator/746333771829182464_1.jpg',
      'moss-appreciator/746333771829182464_2.jpg',
      'reaction-gifs-daily/746300117204303872_0.gif',
      'tidepool-diaries/746310958273150976_0.mp4',
    ];
    expect(filesUnder(out())).to.deep.equal([...media, ...media.map((m) => `${m}.json`), 'results.jsonl'].sort());

    // The embed is a result, never a request; the fallback is noted; names in results are relative.
    const rows = results();
    expect(rows).to.have.length(11);
    const youtube = rows.filter((r) => r.status === 'unsupported');
    expect(youtube.map((r) => [r.url, r.errorCode, r.attempts, r.filename, r.index, r.mediaType, r.blog])).to.deep.equal([
      ['https://www.youtube.com/watch?v=dQw4w9WgXcQ', 'UNSUPPORTED_PROVIDER', 0, '', 0, 'video', 'synth-archive'],
      ['https://www.youtube.com/watch?v=9bZkp7q19f0', 'UNSUPPORTED_PROVIDER', 0, '', 0, 'video', 'harbour-lights'],
    ]);
    const first = rows.find((r) => r.filename === 'lighthouse-notes/746291850374561792_0.jpg')!;
    expect(first).to.include({ status: 'success', index: 0, mediaType: 'image', blog: 'lighthouse-notes', candidateIndex: 1 });
    expect(run.stdout).to.match(/11 items: 9 saved, 0 missing, 0 failed, 2 not fetched \(embeds from other sites\)/);

    // A metadata file: the item's metadata, the file's facts, and the post as read.
    const reblog = JSON.parse(readFileSync(path.join(out(), 'moss-appreciator/746333771829182464_0.jpg.json'), 'utf8')) as SidecarJson;
    expect(reblog).to.include({ version: 1, file: '746333771829182464_0.jpg', index: 0, mediaType: 'image', detectedFormat: 'jpeg' });
    expect(reblog.sha256).to.match(/^[0-9a-f]{64}$/);
    expect(reblog.metadata).to.include({ blog: 'moss-appreciator', postId: '746333771829182464' });
    expect(reblog.metadata.reblogOrigin).to.have.property('blog').that.is.a('string').and.not.equal('moss-appreciator');
    expect(reblog.post.id_string).to.equal('746333771829182464');
    const fell = JSON.parse(readFileSync(path.join(out(), 'lighthouse-notes/746291850374561792_0.jpg.json'), 'utf8')) as SidecarJson;
    expect(fell.servedUrl).to.equal(`${base}/64/0cc175b9c0f1b6a831c399e269772661/86f7e437faa5a7fc-8b/s1280x1920/2a2e1206b4222b0d7cc8c8a1d8b302ee70cfe817.jpg`);

    // A re-run asks for nothing and changes nothing; a metadata file deleted by hand comes back.
    const sidecar = path.join(out(), 'lighthouse-notes/746291850374561792_1.jpg.json');
    const kept = path.join(out(), 'tidepool-diaries/746310958273150976_0.mp4.json');
    const keptBytes = readFileSync(kept);
    const keptMtime = statSync(kept).mtimeMs;
    rmSync(sidecar);
    const requestsBefore = server.requests.length;
    const again = await runCli(['fetch', backup, '-o', out(), '--write-metadata', '--name', '{blog}/{postId}_{index}.{ext}']);
    expect(again.code, again.stderr).to.equal(0);
    expect(server.requests.length, 'no request on a re-run').to.equal(requestsBefore);
    expect(readFileSync(kept).equals(keptBytes)).to.equal(true);
    expect(statSync(kept).mtimeMs, 'a metadata file that is there is not rewritten').to.equal(keptMtime);
    expect(JSON.parse(readFileSync(sidecar, 'utf8'))).to.include({ file: '746291850374561792_1.jpg', index: 1 });
    expect(
      results()
        .filter((r) => r.status === 'success')
        .every((r) => r.skipped === true),
    ).to.equal(true);
  });

  it('should report a broken document and a hostile post with their file and position, and save the rest', async () => {
    writeFileSync(path.join(backup, 'truncated.json'), '{"blog_name": "staff", "id_string": "1", "content": [');
    writeFileSync(
      path.join(backup, 'pages', 'page-2.json'),
      JSON.stringify({ meta: { status: 200 }, response: { posts: [{ blog_name: 'x', id_string: '../../etc', content: [] }, { hello: 1 }] } }),
    );
    const run = await runCli(['fetch', backup, '-o', out(), '-q']);
    expect(run.code, 'bad input makes the run exit 1').to.equal(1);
    const problems = run.stderr.trim().split('\n');
    expect(problems).to.deep.equal([
      'tumblr-dl: pages/page-2.json, post 1: post id must be digits (1 to 20), got "../../etc"',
      'tumblr-dl: pages/page-2.json, post 2: not a post: a post has "blog_name" (or "blog.name") and "id_string" (or "id")',
      `tumblr-dl: truncated.json: not valid JSON (${problems[2]!.match(/\((.*)\)$/)![1]})`,
    ]);
    const rows = results();
    expect(rows.filter((r) => r.errorCode === 'BAD_INPUT').map((r) => (r.metadata as Record<string, unknown>).file)).to.deep.equal([
      'pages/page-2.json',
      'pages/page-2.json',
      'truncated.json',
    ]);
    expect(rows.filter((r) => r.status === 'success')).to.have.length(9);
    // Nothing was named after the hostile id, and nothing left the output folder.
    expect(filesUnder(work.dir).some((f) => f.includes('etc'))).to.equal(false);
  });

  it('should read a pipe once, line by line, whatever its name says', async function () {
    if (process.platform === 'win32') this.skip();
    const fifo = path.join(work.dir, 'posts.json');
    const posts = ['746300117204303872.json', '746310958273150976.json'].map((n) => JSON.stringify(JSON.parse(readFileSync(path.join(backup, n), 'utf8'))));
    execFileSync('mkfifo', [fifo]);
    // The writer opens the pipe when the reader does, and writes two posts, one a line.
    const writer = spawn(process.execPath, ['-e', `require('fs').writeFileSync(${JSON.stringify(fifo)}, ${JSON.stringify(`${posts.join('\n')}\n`)})`]);
    const written = new Promise((resolve) => writer.on('exit', resolve));
    const run = await runCli(['fetch', fifo, '-o', out(), '-q']);
    expect(await written).to.equal(0);
    expect(run.code, run.stderr).to.equal(0);
    expect(results().map((r) => r.status)).to.deep.equal(['success', 'success']);
  });

  it('should read the rest of a folder when one of its sub-folders cannot be listed, and say which', async function () {
    if (process.platform === 'win32') this.skip();
    const locked = path.join(backup, 'locked');
    mkdirSync(locked);
    chmodSync(locked, 0o000);
    try {
      // Root lists any folder: as root, the run is made as nobody (setpriv), in a work folder nobody may use.
      const asRoot = process.getuid?.() === 0;
      if (asRoot) execFileSync('chmod', ['-R', 'a+rwX', work.dir]);
      chmodSync(locked, 0o000);
      const run = asRoot ? await runAsNobody(['fetch', backup, '-o', out(), '-q']) : await runCli(['fetch', backup, '-o', out(), '-q']);
      expect(run.code, run.stderr).to.equal(1);
      expect(run.stderr).to.match(/^tumblr-dl: locked\/: cannot list: .*permission denied/m);
      expect(results().filter((r) => r.status === 'success')).to.have.length(9);
    } finally {
      chmodSync(locked, 0o700);
    }
  });

  it('should read JSONL whose lines are posts, and refuse a template that would hide what a file is', async () => {
    const jsonl = path.join(work.dir, 'posts.jsonl');
    const posts = ['746300117204303872.json', '746310958273150976.json'].map((n) => JSON.stringify(JSON.parse(readFileSync(path.join(backup, n), 'utf8'))));
    writeFileSync(jsonl, `${posts.join('\n')}\n`);
    const bad = await runCli(['fetch', jsonl, '-o', out(), '--name', '{blog}/{postId}']);
    expect(bad.code).to.equal(2);
    expect(bad.stderr.split('\n')).to.have.length(2);
    expect(server.requests).to.have.length(0);
    const run = await runCli(['fetch', jsonl, '-o', out(), '-q', '--name', '{date}/{blog}_{postId}.{ext}']);
    expect(run.code, run.stderr).to.equal(0);
    expect(filesUnder(out()).filter((f) => f !== 'results.jsonl')).to.have.length(2);
    expect(filesUnder(out()).every((f) => f === 'results.jsonl' || /^\d{4}-\d{2}-\d{2}\/[a-z-]+_\d+\.(gif|mp4)$/.test(f))).to.equal(true);
  });

  it("should make one file of one medium under two URLs in one run, and keep the first item's metadata file when a later post brings the same bytes", async () => {
    const body = jpegBytes(9_000, 77);
    ['/same/a.jpg', '/same/b.jpg', '/same/c.jpg'].forEach((p) => server.script(p, { body }));
    const item = (url: string, postId: string): string => JSON.stringify({ url: `${base}${url}`, postId, metadata: { blog: 'staff', timestamp: 1712380000, postId } });
    const list = path.join(work.dir, 'same.jsonl');
    writeFileSync(list, `${[item('/same/a.jpg', '1001'), item('/same/b.jpg', '1001')].join('\n')}\n`);
    // One at a time: two downloads of the same bytes running at once can still end as the name and a name_1 link.
    const name = ['--name', '{blog}/{date}.{ext}', '--write-metadata', '-q', '-c', '1'];
    const run = await runCli(['fetch', list, '-o', out(), ...name]);
    expect(run.code, run.stderr).to.equal(0);
    expect(filesUnder(out())).to.deep.equal(['results.jsonl', 'staff/2024-04-06.jpg', 'staff/2024-04-06.jpg.json']);
    expect(results().map((r) => r.filename)).to.deep.equal(['staff/2024-04-06.jpg', 'staff/2024-04-06.jpg']);
    const sidecar = path.join(out(), 'staff/2024-04-06.jpg.json');
    const first = readFileSync(sidecar, 'utf8');
    // A later post, another URL, the same bytes: adopted as the same file, and the first post's metadata stays.
    writeFileSync(list, `${item('/same/c.jpg', '1002')}\n`);
    const later = await runCli(['fetch', list, '-o', out(), ...name]);
    expect(later.code, later.stderr).to.equal(0);
    expect(filesUnder(out())).to.deep.equal(['results.jsonl', 'staff/2024-04-06.jpg', 'staff/2024-04-06.jpg.json']);
    expect(results()[0]).to.include({ status: 'success', filename: 'staff/2024-04-06.jpg', deduplicatedFrom: 'staff/2024-04-06.jpg' });
    expect(readFileSync(sidecar, 'utf8')).to.equal(first);
  });

  it('should not copy a file again under name_1 when a run without the ledger finds the same bytes at the name', async () => {
    const name = ['--name', '{blog}/{postId}_{index}.{ext}'];
    const first = await runCli(['fetch', backup, '-o', out(), '-q', '--no-ledger', ...name]);
    expect(first.code, first.stderr).to.equal(0);
    const files = filesUnder(out());
    const again = await runCli(['fetch', backup, '-o', out(), '-q', '--no-ledger', ...name]);
    expect(again.code, again.stderr).to.equal(0);
    expect(filesUnder(out()), 'no name_1 copies').to.deep.equal(files);
    expect(results().filter((r) => r.status === 'success')).to.have.length(9);
    // --force asks for a second copy, and gets one.
    const forced = await runCli(['fetch', backup, '-o', out(), '-q', '-f', ...name]);
    expect(forced.code, forced.stderr).to.equal(0);
    expect(filesUnder(out()).filter((f) => /_\d+_1\.\w+$/.test(f))).to.have.length(9);
  });
});
