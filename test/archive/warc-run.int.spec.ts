import { expect } from 'chai';
import { createReadStream, existsSync, openSync, readdirSync, readFileSync, readSync, closeSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { WARCParser, type WARCRecord } from 'warcio';
import yauzl from 'yauzl';
import { ensureBuilt } from '../support/built-package.js';
import { FaultServer } from '../support/fault-server.js';
import { jpegBytes, mp4Bytes, sha256, tempDir } from '../support/fixtures.js';
import { useRealSockets } from '../support/nock-helpers.js';
import { waitUntil } from '../support/wait-until.js';
import { runCli } from '../support/run-cli.js';

/** A record as read back by warcio (an independent reader), with its payload. */
interface ReadRecord {
  type: string;
  id: string;
  uri: string;
  headers: Map<string, string>;
  status: number | undefined;
  payload: Buffer;
}

/** Every record of a WARC file, in order, as warcio reads it. */
async function readWarc(file: string): Promise<ReadRecord[]> {
  const out: ReadRecord[] = [];
  for await (const record of WARCParser.iterRecords(createReadStream(file))) out.push(await describeRecord(record));
  return out;
}

async function describeRecord(record: WARCRecord): Promise<ReadRecord> {
  const headers = new Map<string, string>();
  for (const [name, value] of record.warcHeaders.headers) headers.set(name.toLowerCase(), value);
  const payload = Buffer.from(await record.readFully(true));
  return {
    type: record.warcType,
    id: record.warcHeader('WARC-Record-ID') ?? '',
    uri: record.warcTargetURI ?? '',
    headers,
    status: record.httpHeaders ? Number(record.httpHeaders.statusCode) : undefined,
    payload,
  };
}

/** The bytes `[offset, offset + length)` of a file. */
function slice(file: string, offset: number, length: number): Buffer {
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, offset);
    return buffer;
  } finally {
    closeSync(fd);
  }
}

describe('tumblr-dl fetch --warc (built CLI, real server, read back with warcio)', function () {
  this.timeout(90_000);
  useRealSockets();
  let server: FaultServer;
  let base: string;
  let work: { dir: string; cleanup: () => void };
  const photo = jpegBytes(20_000, 1);
  const video = mp4Bytes(2 * 1024 * 1024, 5);

  before(() => ensureBuilt());

  beforeEach(async () => {
    server = new FaultServer();
    base = await server.start();
    work = tempDir('mdl-warc-');
    server.script('/a.jpg', { body: photo });
    // The same bytes under another URL: a revisit, not a second copy.
    server.script('/b.jpg', { body: photo });
    // Cut after 1 MiB on the first request: the retry continues with Range and If-Range.
    server.script('/big.mp4', { body: video, contentType: 'video/mp4', cutAfter: { bytes: 1024 * 1024 } });
  });

  afterEach(async () => {
    await server.stop();
    work.cleanup();
  });

  const out = (): string => path.join(work.dir, 'out');
  const warcDir = (): string => path.join(out(), 'warc');
  /** The closed WARCs of the run, checking that nothing was left open. */
  const closedWarcs = (): string[] => {
    const names = readdirSync(warcDir()).sort();
    expect(
      names.filter((n) => n.endsWith('.open')),
      'nothing left open',
    ).to.deep.equal([]);
    return names.filter((n) => n.endsWith('.warc.gz'));
  };
  const list = (paths: string[], name = 'list.txt'): string => {
    const file = path.join(work.dir, name);
    writeFileSync(file, `${paths.map((p) => `${base}${p}`).join('\n')}\n`);
    return file;
  };

  it('should record a response, a revisit, a 404 and a resumed file as one resource, with a CDXJ whose offsets point at them', async () => {
    const run = await runCli(['fetch', list(['/a.jpg', '/b.jpg', '/gone.jpg', '/big.mp4']), '-o', out(), '--warc', '-q']);
    expect(run.code, run.stderr).to.equal(0);
    const warcs = closedWarcs();
    expect(warcs).to.have.length(1);
    const warc = path.join(warcDir(), warcs[0]!);
    const records = await readWarc(warc);

    expect(records[0]!.type).to.equal('warcinfo');
    const byUri = (type: string, p: string): ReadRecord[] => records.filter((r) => r.type === type && r.uri === `${base}${p}`);

    // One exchange: request and response, linked both ways; the payload digest is the ledger's SHA-256.
    const responses = [...byUri('response', '/a.jpg'), ...byUri('response', '/b.jpg')];
    const revisits = [...byUri('revisit', '/a.jpg'), ...byUri('revisit', '/b.jpg')];
    expect(responses, 'one full copy of the photo').to.have.length(1);
    expect(revisits, 'and one revisit').to.have.length(1);
    const [first] = responses;
    expect(first!.payload.equals(photo)).to.equal(true);
    expect(first!.headers.get('warc-payload-digest')).to.equal(`sha256:${sha256(photo)}`);
    expect(first!.status).to.equal(200);
    const request = records.find((r) => r.type === 'request' && r.headers.get('warc-concurrent-to') === first!.id)!;
    expect(request.uri).to.equal(first!.uri);
    expect(first!.headers.get('warc-concurrent-to')).to.equal(request.id);

    // The revisit: identical-payload-digest profile, pointing at the first record, no payload of its own.
    const [revisit] = revisits;
    expect(revisit!.headers.get('warc-profile')).to.equal('http://netpreserve.org/warc/1.1/revisit/identical-payload-digest');
    expect(revisit!.headers.get('warc-refers-to')).to.equal(first!.id);
    expect(revisit!.headers.get('warc-refers-to-target-uri')).to.equal(first!.uri);
    expect(revisit!.headers.get('warc-refers-to-date')).to.be.a('string');
    expect(revisit!.headers.get('warc-payload-digest')).to.equal(`sha256:${sha256(photo)}`);
    expect(revisit!.headers.get('warc-truncated')).to.equal('length');
    expect(revisit!.payload.length).to.equal(0);

    // The 404: its response, with the page that said so.
    const [gone] = byUri('response', '/gone.jpg');
    expect(gone!.status).to.equal(404);
    expect(gone!.payload.toString()).to.equal('not found');

    // The resumed video: never a 200 that did not happen. One resource of the whole file, and what made it.
    expect(byUri('response', '/big.mp4')).to.deep.equal([]);
    const [resource] = byUri('resource', '/big.mp4');
    expect(resource!.payload.equals(video)).to.equal(true);
    expect(resource!.headers.get('warc-payload-digest')).to.equal(`sha256:${sha256(video)}`);
    const [note] = records.filter((r) => r.type === 'metadata' && r.headers.get('warc-refers-to') === resource!.id);
    const exchanges = note!.payload
      .toString()
      .split('\r\n')
      .filter((l) => l.startsWith('exchange: '));
    expect(exchanges).to.have.length(2);
    expect(exchanges[0]).to.match(/ 200/);
    // Continued from what reached the disk before the cut (at most the 1 MiB sent; less on a loaded machine).
    const from = Number(/ 206 \| Content-Range: bytes (\d+)-/.exec(exchanges[1]!)?.[1]);
    expect(from)
      .to.be.greaterThan(0)
      .and.at.most(1024 * 1024);

    // Every CDXJ line points at a gzip member that is the record it names.
    const cdxj = readFileSync(warc.replace(/\.warc\.gz$/, '.cdxj'), 'utf8')
      .trim()
      .split('\n');
    expect([...cdxj].sort(), 'sorted').to.deep.equal(cdxj);
    expect(cdxj).to.have.length(4);
    for (const line of cdxj) {
      // pywb's CDXJ writes offset and length as strings.
      const fields = JSON.parse(line.slice(line.indexOf('{'))) as { url: string; offset: string; length: string; filename: string; digest: string };
      expect(fields.filename).to.equal(warcs[0]);
      const member = gunzipSync(slice(warc, Number(fields.offset), Number(fields.length)));
      const [record] = await readWarcBuffer(member);
      expect(record!.uri, line).to.equal(fields.url);
      expect(record!.headers.get('warc-payload-digest')).to.equal(fields.digest);
    }

    // Packed: the WARC stored as it is, one page per saved media URL (the revisit's too), none for the 404.
    const wacz = path.join(work.dir, 'out.wacz');
    const packed = await runCli(['wacz', out(), '-o', wacz]);
    expect(packed.code, packed.stderr).to.equal(0);
    const entries = await unzip(wacz);
    expect(entries.get(`archive/${warcs[0]}`)!.equals(readFileSync(warc))).to.equal(true);
    const pages = entries
      .get('pages/pages.jsonl')!
      .toString()
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => (JSON.parse(l) as { url: string }).url)
      .sort();
    expect(pages).to.deep.equal(['/a.jpg', '/b.jpg', '/big.mp4'].map((p) => `${base}${p}`));
    const datapackage = JSON.parse(entries.get('datapackage.json')!.toString()) as { resources: Array<{ path: string; hash: string; bytes: number }> };
    for (const resource of datapackage.resources) {
      expect(resource.hash, resource.path).to.equal(`sha256:${sha256(entries.get(resource.path)!)}`);
      expect(resource.bytes).to.equal(entries.get(resource.path)!.length);
    }
  });

  it('should write a revisit in a later run for bytes an earlier run recorded, and nothing for what the ledger skips', async () => {
    expect((await runCli(['fetch', list(['/a.jpg']), '-o', out(), '--warc', '-q'])).code).to.equal(0);
    const again = await runCli(['fetch', list(['/a.jpg', '/b.jpg'], 'again.txt'), '-o', out(), '--warc', '-q']);
    expect(again.code, again.stderr).to.equal(0);
    const warcs = readdirSync(warcDir())
      .filter((n) => n.endsWith('.warc.gz'))
      .sort();
    expect(warcs).to.have.length(2);
    const [firstRun, secondRun] = await Promise.all(warcs.map((w) => readWarc(path.join(warcDir(), w))));
    const original = firstRun!.find((r) => r.type === 'response')!;
    // a.jpg was skipped by the ledger: no request, no record. b.jpg's bytes are a.jpg's: a revisit.
    expect(secondRun!.map((r) => r.type)).to.deep.equal(['warcinfo', 'request', 'revisit']);
    expect(secondRun![2]!.headers.get('warc-refers-to')).to.equal(original.id);
    expect(secondRun![2]!.headers.get('warc-refers-to-date'), 'the very WARC-Date it refers to').to.equal(original.headers.get('warc-date'));
    expect(secondRun![2]!.uri).to.equal(`${base}/b.jpg`);
  });

  it('should leave only whole records after a SIGKILL, and record the file the next run finishes as one resource', async () => {
    // The video's body stops after 1 MiB until the run has been killed.
    server.script('/big.mp4', { body: video, contentType: 'video/mp4', hold: { afterBytes: 1024 * 1024 } });
    const input = list(['/a.jpg', '/big.mp4']);
    const killed = await runCli(['fetch', input, '-o', out(), '--warc', '-q', '-c', '1'], (child) => {
      void waitUntil(
        () => {
          const names = existsSync(warcDir()) ? readdirSync(warcDir()) : [];
          const open = names.find((n) => n.endsWith('.warc.gz.open'));
          // The photo's response record (its payload stored, not deflated) is down once the file outgrows it.
          const recorded = open !== undefined && statSync(path.join(warcDir(), open)).size > photo.length;
          const partial = existsSync(out()) && readdirSync(out()).some((n) => n.endsWith('.mp4.part'));
          return recorded && partial && server.held > 0;
        },
        { timeoutMs: 30_000, what: 'a.jpg recorded and big.mp4 half downloaded' },
      ).then(
        () => child.kill('SIGKILL'),
        () => child.kill('SIGKILL'),
      );
    });
    expect(killed.code).to.equal(null);
    expect(
      readdirSync(warcDir()).some((n) => n.endsWith('.open')),
      'the killed run left its file open',
    ).to.equal(true);
    server.release();
    const again = await runCli(['fetch', input, '-o', out(), '--warc', '-q']);
    expect(again.code, again.stderr).to.equal(0);
    const warcs = closedWarcs();
    expect(warcs).to.have.length(2);
    // Told apart by what they hold, not by name: two runs in the same second may name their files in either order.
    const files = await Promise.all(warcs.map((w) => readWarc(path.join(warcDir(), w))));
    const recoveredAt = files.findIndex((records) => records.some((r) => r.type === 'response'));
    const [recovered, resumed] = [files[recoveredAt], files[1 - recoveredAt]];
    // The killed run's file: closed at its last whole record, which includes a.jpg's exchange.
    expect(recovered!.map((r) => r.type)).to.deep.equal(['warcinfo', 'request', 'response']);
    expect(recovered![2]!.payload.equals(photo)).to.equal(true);
    // The next run continued the video from its .part: one resource of the whole verified file, and its story.
    const resource = resumed!.find((r) => r.type === 'resource')!;
    expect(resource.uri).to.equal(`${base}/big.mp4`);
    expect(resource.payload.equals(video)).to.equal(true);
    const note = resumed!.find((r) => r.type === 'metadata' && r.headers.get('warc-refers-to') === resource.id)!;
    expect(note.payload.toString()).to.match(/earlier-bytes: bytes 0-\d+ came from an earlier run/);
    expect(note.payload.toString()).to.match(/exchange: .* 206 \| Content-Range: bytes \d+-/);
    // Its index line was not written before the kill (lines go down in batches): recovery indexed the record.
    expect(readFileSync(path.join(warcDir(), warcs[recoveredAt]!.replace(/\.warc\.gz$/, '.cdxj')), 'utf8')).to.include('/a.jpg');
  });

  it('should keep no WARC folder without --warc', async () => {
    expect((await runCli(['fetch', list(['/a.jpg']), '-o', out(), '-q'])).code).to.equal(0);
    expect(existsSync(warcDir())).to.equal(false);
  });
});

/** Every entry of a zip, by name. */
async function unzip(file: string): Promise<Map<string, Buffer>> {
  const zip = await yauzl.openPromise(file, { lazyEntries: true });
  const entries = new Map<string, Buffer>();
  try {
    for await (const entry of zip.eachEntry()) {
      const chunks: Buffer[] = [];
      for await (const chunk of await zip.openReadStreamPromise(entry)) chunks.push(chunk as Buffer);
      entries.set(entry.fileName, Buffer.concat(chunks));
    }
  } finally {
    zip.close();
  }
  return entries;
}

/** The records of WARC bytes in memory. */
async function readWarcBuffer(bytes: Buffer): Promise<ReadRecord[]> {
  const out: ReadRecord[] = [];
  for await (const record of WARCParser.iterRecords([bytes])) out.push(await describeRecord(record));
  return out;
}
