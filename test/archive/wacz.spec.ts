import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { getSurt, WARCParser, WARCRecord, WARCSerializer } from 'warcio';
import yauzl from 'yauzl';
import { packWacz, WaczError, type WaczResource } from '../../src/archive/wacz.js';
import { tempDir } from '../support/fixtures.js';

/** One record of a fixture WARC, as the WARC writer would index it. */
interface FixtureRecord {
  type: 'response' | 'resource' | 'revisit';
  url: string;
  /** ISO date. */
  date: string;
  /** HTTP status (response and revisit records). */
  status?: number;
  mime: string;
  body: string;
}

const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

/**
 * `<dir>/<name>` as the WARC writer leaves it: a warcinfo record then `records`, each its own gzip
 * member, and beside it `<base>.cdxj` with one line per record in write order (not sorted), built
 * from the offsets and lengths of the members as written.
 */
async function writeWarc(dir: string, name: string, records: FixtureRecord[], options: { suffix?: string; numbersAsStrings?: boolean } = {}): Promise<void> {
  const suffix = options.suffix ?? '';
  // This project's writer, like pywb and cdxj-indexer, writes status, length and offset as strings.
  const value = (n: number): number | string => (options.numbersAsStrings ? String(n) : n);
  const members: Buffer[] = [];
  const lines: string[] = [];
  let offset = 0;
  const info = WARCRecord.createWARCInfo({ filename: name, warcVersion: 'WARC/1.1' }, { software: 'wacz.spec' });
  const add = async (record: WARCRecord): Promise<number> => {
    const member = Buffer.from(await WARCSerializer.serialize(record, { gzip: true }));
    members.push(member);
    offset += member.length;
    return member.length;
  };
  await add(info);
  for (const r of records) {
    const start = offset;
    const headers: Record<string, string> = r.type === 'resource' ? { 'Content-Type': r.mime } : {};
    const record = WARCRecord.create(
      {
        url: r.url,
        date: r.date,
        type: r.type,
        warcVersion: 'WARC/1.1',
        warcHeaders: headers,
        httpHeaders: r.type === 'resource' ? undefined : { 'Content-Type': r.mime },
        statusline: `HTTP/1.1 ${r.status ?? 200} X`,
        refersToUrl: r.type === 'revisit' ? r.url : undefined,
      },
      [Buffer.from(r.body)],
    );
    const length = await add(record);
    const fields = {
      url: r.url,
      mime: r.type === 'revisit' ? 'warc/revisit' : r.mime,
      ...(r.status === undefined ? {} : { status: value(r.status) }),
      digest: `sha256:${sha256(r.body)}`,
      length: value(length),
      offset: value(start),
      filename: name,
      recordId: record.warcHeader('WARC-Record-ID'),
    };
    lines.push(`${getSurt(r.url)} ${r.date.replace(/[-:TZ]/g, '').slice(0, 14)} ${JSON.stringify(fields)}`);
  }
  writeFileSync(path.join(dir, `${name}${suffix}`), Buffer.concat(members));
  writeFileSync(path.join(dir, `${name.replace(/\.warc\.gz$/, '.cdxj')}${suffix}`), lines.map((l) => `${l}\n`).join(''));
}

/** Two closed WARCs (records out of SURT order, a revisit, a 404, a resource record) and one still open. */
async function archiveFixture(warcDir: string): Promise<void> {
  mkdirSync(warcDir, { recursive: true });
  await writeWarc(warcDir, 'rec-20240301-00000.warc.gz', [
    { type: 'response', url: 'https://64.media.tumblr.com/b/2.jpg', date: '2024-03-01T10:00:00Z', status: 200, mime: 'image/jpeg', body: 'jpeg two' },
    { type: 'response', url: 'https://64.media.tumblr.com/a/1.jpg', date: '2024-03-01T10:00:01Z', status: 200, mime: 'image/jpeg', body: 'jpeg one' },
    { type: 'response', url: 'https://64.media.tumblr.com/gone.jpg', date: '2024-03-01T10:00:02Z', status: 404, mime: 'text/html', body: '<h1>gone</h1>' },
  ]);
  await writeWarc(
    warcDir,
    'rec-20240301-00001-MyMac.warc.gz',
    [
      { type: 'revisit', url: 'https://64.media.tumblr.com/a/1.jpg', date: '2024-03-01T11:00:00Z', status: 200, mime: 'image/jpeg', body: '' },
      { type: 'resource', url: 'https://va.media.tumblr.com/tumblr_c.mp4', date: '2024-03-01T11:00:01Z', mime: 'video/mp4', body: 'mp4 bytes' },
      { type: 'response', url: 'https://64.media.tumblr.com/a/1.jpg', date: '2024-03-01T11:00:02Z', status: 200, mime: 'image/jpeg', body: 'jpeg one' },
    ],
    { numbersAsStrings: true },
  );
  await writeWarc(
    warcDir,
    'rec-20240301-00002.warc.gz',
    [{ type: 'response', url: 'https://open.example/x.jpg', date: '2024-03-01T12:00:00Z', status: 200, mime: 'image/jpeg', body: 'x' }],
    { suffix: '.open' },
  );
}

/** A packed WACZ, read back: each entry's bytes, its compression method, and where its data starts in the file. */
interface Unpacked {
  names: string[];
  files: Map<string, { bytes: Buffer; method: number; dataStart: number }>;
}

async function unpack(file: string): Promise<Unpacked> {
  const zip = await yauzl.openPromise(file, { lazyEntries: true });
  const files: Unpacked['files'] = new Map();
  const names: string[] = [];
  try {
    for await (const entry of zip.eachEntry()) {
      names.push(entry.fileName);
      const chunks: Buffer[] = [];
      for await (const chunk of await zip.openReadStreamPromise(entry)) chunks.push(chunk as Buffer);
      const { fileDataStart } = await zip.readLocalFileHeaderPromise(entry, { minimal: true });
      files.set(entry.fileName, { bytes: Buffer.concat(chunks), method: entry.compressionMethod, dataStart: fileDataStart });
    }
  } finally {
    zip.close();
  }
  return { names, files };
}

const text = (unpacked: Unpacked, name: string): string => unpacked.files.get(name)!.bytes.toString('utf8');
const cdxjFields = (line: string): Record<string, unknown> => JSON.parse(line.slice(line.indexOf(' ', line.indexOf(' ') + 1) + 1)) as Record<string, unknown>;
const NOW = new Date('2024-04-01T00:00:00.000Z');

describe('packWacz', function () {
  // Serializing with gzip and unzipping take a few hundred ms on a loaded machine.
  this.timeout(20_000);
  let work: { dir: string; cleanup: () => void };
  let warcDir: string;
  let output: string;
  let unpacked: Unpacked;
  let summary: Awaited<ReturnType<typeof packWacz>>;

  before(async () => {
    work = tempDir('mdl-wacz-');
    warcDir = path.join(work.dir, 'out', 'warc');
    output = path.join(work.dir, 'packed', 'out.wacz');
    await archiveFixture(warcDir);
    summary = await packWacz({ warcDir, output, software: 'wacz.spec 1.0', now: () => NOW });
    unpacked = await unpack(output);
  });

  after(() => work.cleanup());

  it('should write the WACZ 1.1.1 layout: the closed WARCs, one index, the pages, the datapackage and its digest', () => {
    expect(unpacked.names).to.deep.equal([
      'archive/rec-20240301-00000.warc.gz',
      'archive/rec-20240301-00001-MyMac.warc.gz',
      'indexes/index.cdxj',
      'pages/pages.jsonl',
      'datapackage.json',
      'datapackage-digest.json',
    ]);
    expect(existsSync(`${output}.tmp`), 'no temp file left').to.equal(false);
  });

  it('should store each WARC uncompressed and byte for byte', () => {
    for (const name of ['rec-20240301-00000.warc.gz', 'rec-20240301-00001-MyMac.warc.gz']) {
      const entry = unpacked.files.get(`archive/${name}`)!;
      expect(entry.method, name).to.equal(0);
      expect(entry.bytes.equals(readFileSync(path.join(warcDir, name))), name).to.equal(true);
    }
  });

  it('should list every other file in datapackage.json with the SHA-256 and size of the bytes it holds', () => {
    const pkg = JSON.parse(text(unpacked, 'datapackage.json')) as Record<string, unknown> & { resources: WaczResource[] };
    expect(pkg).to.include({ profile: 'data-package', wacz_version: '1.1.1', title: 'out', created: NOW.toISOString(), software: 'wacz.spec 1.0' });
    expect(pkg.resources.map((r) => r.path)).to.deep.equal(unpacked.names.filter((n) => !n.startsWith('datapackage')));
    for (const resource of pkg.resources) {
      const bytes = unpacked.files.get(resource.path)!.bytes;
      expect(resource.name).to.match(/^[a-z0-9._-]+$/);
      expect(resource, resource.path).to.deep.equal({
        name: path.posix.basename(resource.path).toLowerCase(),
        path: resource.path,
        hash: `sha256:${sha256(bytes)}`,
        bytes: bytes.length,
      });
    }
  });

  it('should name the SHA-256 of datapackage.json in datapackage-digest.json', () => {
    const digest = JSON.parse(text(unpacked, 'datapackage-digest.json')) as unknown;
    expect(digest).to.deep.equal({ path: 'datapackage.json', hash: `sha256:${sha256(unpacked.files.get('datapackage.json')!.bytes)}` });
  });

  it('should merge the indexes into one sorted CDXJ whose lines name bare WARC files', () => {
    const lines = text(unpacked, 'indexes/index.cdxj').trimEnd().split('\n');
    expect(lines).to.have.length(6);
    expect(lines).to.deep.equal([...lines].sort());
    for (const line of lines) expect(cdxjFields(line).filename).to.match(/^rec-20240301-0000(0|1-MyMac)\.warc\.gz$/);
    expect(lines.join('\n')).not.to.include('open.example');
  });

  it('should index records that replay finds at their offsets, in the WARC and in the WACZ file itself', async () => {
    const wacz = readFileSync(output);
    for (const line of text(unpacked, 'indexes/index.cdxj').trimEnd().split('\n')) {
      const fields = cdxjFields(line) as { url: string; filename: string; offset: number | string; length: number | string };
      const [offset, length] = [Number(fields.offset), Number(fields.length)];
      const entry = unpacked.files.get(`archive/${fields.filename}`)!;
      // What ReplayWeb.page does: a byte range of the .wacz, at the entry's data plus the record's offset.
      const start = entry.dataStart + offset;
      const ranges = [entry.bytes.subarray(offset, offset + length), wacz.subarray(start, start + length)];
      for (const range of ranges) {
        const record = await WARCParser.parse(Readable.from([range]));
        expect(record?.warcTargetURI, line).to.equal(fields.url);
      }
    }
  });

  it('should list one page per saved URL, at its first capture, and no revisit, 404 or open WARC', () => {
    const [header, ...pages] = text(unpacked, 'pages/pages.jsonl')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, string>);
    expect(header).to.deep.equal({ format: 'json-pages-1.0', id: 'pages', title: 'All Pages' });
    expect(pages.map(({ url, ts, title }) => ({ url, ts, title }))).to.deep.equal([
      { url: 'https://64.media.tumblr.com/b/2.jpg', ts: '2024-03-01T10:00:00Z', title: 'https://64.media.tumblr.com/b/2.jpg' },
      { url: 'https://64.media.tumblr.com/a/1.jpg', ts: '2024-03-01T10:00:01Z', title: 'https://64.media.tumblr.com/a/1.jpg' },
      { url: 'https://va.media.tumblr.com/tumblr_c.mp4', ts: '2024-03-01T11:00:01Z', title: 'https://va.media.tumblr.com/tumblr_c.mp4' },
    ]);
    expect(new Set(pages.map((p) => p.id)).size).to.equal(3);
  });

  it('should count what it packed, and the WARC still being written', () => {
    expect(summary).to.deep.include({ output, warcs: 2, records: 6, pages: 3, skippedOpen: 1 });
    expect(summary.bytes).to.equal(readFileSync(output).length);
  });

  it('should pack the same archive to the same bytes', async () => {
    const again = path.join(work.dir, 'again.wacz');
    await packWacz({ warcDir, output: again, title: 'out', software: 'wacz.spec 1.0', now: () => NOW });
    expect(readFileSync(again).equals(readFileSync(output))).to.equal(true);
  });

  it('should refuse a folder with no closed WARC, saying so, and write nothing', async () => {
    const empty = path.join(work.dir, 'empty', 'warc');
    mkdirSync(empty, { recursive: true });
    await writeWarc(empty, 'rec-1.warc.gz', [{ type: 'response', url: 'https://a.example/1.jpg', date: '2024-03-01T12:00:00Z', status: 200, mime: 'image/jpeg', body: 'x' }], {
      suffix: '.open',
    });
    const target = path.join(work.dir, 'empty.wacz');
    for (const dir of [empty, path.join(work.dir, 'missing', 'warc')]) {
      const error = await packWacz({ warcDir: dir, output: target, software: 'x' }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(WaczError);
      expect(error).to.include({ code: 'BAD_INPUT', failure: 'NO_WARC' });
      expect((error as Error).message).to.match(/^no closed WARC in .*warc.*: run fetch --warc first$/);
    }
    expect(existsSync(target) || existsSync(`${target}.tmp`)).to.equal(false);
  });

  it('should leave out a closed WARC whose index is still open, and refuse one whose index is missing', async () => {
    const dir = path.join(work.dir, 'unindexed', 'warc');
    mkdirSync(dir, { recursive: true });
    const row = { type: 'response', url: 'https://a.example/1.jpg', date: '2024-03-01T12:00:00Z', status: 200, mime: 'image/jpeg', body: 'x' } as const;
    await writeWarc(dir, 'rec-1.warc.gz', [row]);
    await writeWarc(dir, 'rec-2.warc.gz', [row]);
    // The writer between its two renames: the WARC closed, its index not yet.
    renameSync(path.join(dir, 'rec-2.cdxj'), path.join(dir, 'rec-2.cdxj.open'));
    const target = path.join(work.dir, 'unindexed.wacz');
    expect(await packWacz({ warcDir: dir, output: target, software: 'x' })).to.deep.include({ warcs: 1, skippedOpen: 1 });
    rmSync(path.join(dir, 'rec-2.cdxj.open'));
    const error = await packWacz({ warcDir: dir, output: target, software: 'x' }).catch((e: unknown) => e);
    expect(error).to.include({ code: 'BAD_INPUT', failure: 'NO_INDEX' });
    expect((error as Error).message).to.include('rec-2.warc.gz has no rec-2.cdxj beside it');
  });

  it('should refuse a damaged index line, naming the file and line, and leave no output behind', async () => {
    const dir = path.join(work.dir, 'damaged', 'warc');
    mkdirSync(dir, { recursive: true });
    await writeWarc(dir, 'rec-1.warc.gz', [{ type: 'response', url: 'https://a.example/1.jpg', date: '2024-03-01T12:00:00Z', status: 200, mime: 'image/jpeg', body: 'x' }]);
    writeFileSync(path.join(dir, 'rec-1.cdxj'), `${readFileSync(path.join(dir, 'rec-1.cdxj'), 'utf8')}com,a)/2 2024 {broken\n`);
    const target = path.join(work.dir, 'damaged.wacz');
    const error = await packWacz({ warcDir: dir, output: target, software: 'x' }).catch((e: unknown) => e);
    expect(error).to.include({ failure: 'BAD_INDEX' });
    expect((error as Error).message).to.include('rec-1.cdxj line 2');
    expect(existsSync(target) || existsSync(`${target}.tmp`)).to.equal(false);
  });

  it('should leave no half file when the output cannot be written', async () => {
    const blocker = path.join(work.dir, 'a-file');
    writeFileSync(blocker, '');
    const target = path.join(blocker, 'x.wacz');
    const error = await packWacz({ warcDir, output: target, software: 'x' }).catch((e: unknown) => e);
    expect(error).to.include({ code: 'FILESYSTEM', failure: 'WRITE_FAILED', file: target });
    expect(existsSync(`${target}.tmp`)).to.equal(false);
  });
});
