import { expect } from 'chai';
import { existsSync, statSync } from 'node:fs';
import { appendFile, open, readFile, rename, rm, truncate, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { WarcRecordSpec, WrittenRecord } from '../../src/archive/warc-record.js';
import { serializeWarcRecord } from '../../src/archive/warc-serializer.js';
import { WarcWriter } from '../../src/archive/warc-writer.js';
import { filler, jpegBytes, pngBytes, sha256, tempDir } from '../support/fixtures.js';
import { gunzipRange, listDir, readCdxj, readRecords, readWarc, response, warcioIndex } from './warc-support.js';

describe(`${WarcWriter.name}.recover`, () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir('warc-recover-')));
  afterEach(() => cleanup());

  const at = (i: number): Date => new Date(Date.UTC(2024, 4, 6, 7, 8, i, 500));
  const base = 'tumblr-dl-20250102030405006-00000-w1';
  const warcOpen = (): string => path.join(dir, `${base}.warc.gz.open`);
  const cdxjOpen = (): string => path.join(dir, `${base}.cdxj.open`);
  const finalWarc = (): string => path.join(dir, `${base}.warc.gz`);
  const finalCdxj = (): string => path.join(dir, `${base}.cdxj`);

  /**
   * The state a crash leaves after `count` indexed records: the writer's files, renamed back to `.open`
   * (the index in write order, as the writer appends it).
   */
  async function crashedAfter(count: number, worker = 'w1'): Promise<WrittenRecord[]> {
    const writer = new WarcWriter({ dir, prefix: 'tumblr-dl', worker, warcinfo: { software: 'test' }, now: () => new Date('2025-01-02T03:04:05.006Z') });
    const written = [];
    for (let i = 0; i < count; i++) {
      const [spec, index] = response(`https://64.media.tumblr.com/${i}.jpg`, jpegBytes(2000 + i * 100, i + 1), at(i));
      written.push(await writer.write(spec, index));
    }
    await writer.close();
    const name = written[0]!.filename.replace(/\.warc\.gz$/, '');
    const lines = readCdxj(path.join(dir, `${name}.cdxj`)).lines;
    const inWriteOrder = written.map((w) => lines.find((line) => line.includes(w.recordId))!);
    await writeFile(path.join(dir, `${name}.cdxj.open`), inWriteOrder.map((line) => `${line}\n`).join(''));
    await rm(path.join(dir, `${name}.cdxj`));
    await rename(path.join(dir, `${name}.warc.gz`), path.join(dir, `${name}.warc.gz.open`));
    return written;
  }

  /** One record as a gzip member, as the writer would have appended it. */
  async function member(spec: WarcRecordSpec): Promise<Buffer> {
    const scratch = path.join(dir, 'scratch.bin');
    const handle = await open(scratch, 'w');
    try {
      await serializeWarcRecord(handle, 0, spec);
    } finally {
      await handle.close();
    }
    return readFile(scratch);
  }

  /** Invert the bits of one byte. */
  const flip = (bytes: Buffer, at: number): void => {
    bytes.writeUInt8(bytes.readUInt8(at) ^ 0xff, at);
  };

  /** The record IDs a `.cdxj` lists, in file order. */
  const indexedIds = (): string[] => readCdxj(finalCdxj()).entries.map((e) => e.json['recordId']!);

  it('should cut a half-written record and keep the index when the crash came mid-record', async () => {
    const written = await crashedAfter(3);
    const [spec] = response('https://64.media.tumblr.com/cut.jpg', filler(50_000, 4), at(9));
    const fourth = await member(spec);
    await appendFile(warcOpen(), fourth.subarray(0, fourth.length >> 1));

    expect(await WarcWriter.recover(dir)).to.deep.equal([`${base}.warc.gz`]);
    expect(existsSync(warcOpen())).to.equal(false);
    expect(existsSync(cdxjOpen())).to.equal(false);
    const last = written.at(-1)!;
    expect(statSync(finalWarc()).size).to.equal(last.offset + last.length);
    const records = await readWarc(finalWarc());
    expect(records.map((r) => r.type)).to.deep.equal(['warcinfo', 'response', 'response', 'response']);
    expect(indexedIds().sort()).to.deep.equal(written.map((w) => w.recordId).sort());
  });

  it('should index whole records the index lacks when the crash came between a record and its line', async () => {
    const written = await crashedAfter(3);
    const sizeBefore = statSync(warcOpen()).size;
    const body = Buffer.from('<h1>gone</h1>');
    const [notFound] = response('https://www.tumblr.com/blog/x/1?b=2&a=1', body, at(10), 404, 'text/html; charset=utf-8');
    const png = pngBytes(3000);
    const appended = [
      await member(notFound),
      await member({
        type: 'resource',
        targetUri: 'https://64.media.tumblr.com/p.png',
        date: at(11),
        contentType: 'image/png',
        headers: [['WARC-Payload-Digest', `sha256:${sha256(png)}`]],
        payload: png,
      }),
      await member({ type: 'metadata', targetUri: 'https://64.media.tumblr.com/p.png', date: at(12), contentType: 'application/warc-fields', payload: Buffer.from('a: b\r\n') }),
      await member({
        type: 'revisit',
        targetUri: 'https://64.media.tumblr.com/0.jpg',
        date: at(13),
        contentType: 'application/http; msgtype=response',
        headers: [['WARC-Payload-Digest', 'sha256:abc']],
        head: Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\n\r\n'),
      }),
    ];
    await appendFile(warcOpen(), Buffer.concat(appended));

    await WarcWriter.recover(dir);
    expect(statSync(finalWarc()).size).to.equal(sizeBefore + appended.reduce((n, b) => n + b.length, 0));
    const records = await readWarc(finalWarc());
    expect(records.map((r) => r.type)).to.deep.equal(['warcinfo', 'response', 'response', 'response', 'response', 'resource', 'metadata', 'revisit']);
    const { entries, lines } = readCdxj(finalCdxj());
    expect(lines).to.deep.equal([...lines].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
    expect(entries).to.have.length(6);
    const byId = new Map(entries.map((e) => [e.json['recordId'], e]));
    for (const w of written) expect(byId.get(w.recordId)?.json).to.include({ offset: String(w.offset), length: String(w.length) });
    const notFoundEntry = entries.find((e) => e.json['url'] === 'https://www.tumblr.com/blog/x/1?b=2&a=1')!;
    expect(notFoundEntry.urlkey).to.equal('com,tumblr)/blog/x/1?a=1&b=2');
    expect(notFoundEntry.timestamp).to.equal('20240506070810');
    expect(notFoundEntry.json).to.deep.equal({
      url: 'https://www.tumblr.com/blog/x/1?b=2&a=1',
      mime: 'text/html',
      status: '404',
      digest: `sha256:${sha256(body)}`,
      length: String(appended[0]!.length),
      offset: String(sizeBefore),
      filename: `${base}.warc.gz`,
      recordId: records[4]!.headers.get('warc-record-id'),
    });
    expect(entries.find((e) => e.json['url'] === 'https://64.media.tumblr.com/p.png')?.json).to.include({ mime: 'image/png', digest: `sha256:${sha256(png)}` });
    expect(entries.find((e) => e.json['mime'] === 'warc/revisit')?.json).to.include({ status: '200', digest: 'sha256:abc' });
    // Every line addresses its own member, and warcio's indexer finds the same records at the same places.
    for (const entry of entries) {
      const [record] = await readRecords([gunzipRange(finalWarc(), Number(entry.json['offset']), Number(entry.json['length']))]);
      expect(record?.headers.get('warc-record-id')).to.equal(entry.json['recordId']);
    }
    const theirs = await warcioIndex(finalWarc());
    const places = (list: Array<Record<string, unknown>>): string[] => list.map((e) => `${String(e['offset'])}+${String(e['length'])}`).sort();
    expect(places(entries.map((e) => e.json))).to.deep.equal(places(theirs));
  });

  it('should keep a whole unindexed record and cut the half one after it', async () => {
    await crashedAfter(2);
    const whole = await member(response('https://x.test/whole', jpegBytes(900), at(5))[0]);
    const half = await member(response('https://x.test/half', filler(20_000), at(6))[0]);
    const sizeBefore = statSync(warcOpen()).size;
    await appendFile(warcOpen(), Buffer.concat([whole, half.subarray(0, half.length - 3)]));
    await WarcWriter.recover(dir);
    expect(statSync(finalWarc()).size).to.equal(sizeBefore + whole.length);
    expect(
      readCdxj(finalCdxj())
        .entries.map((e) => e.json['url'])
        .sort(),
    ).to.deep.equal(['https://64.media.tumblr.com/0.jpg', 'https://64.media.tumblr.com/1.jpg', 'https://x.test/whole']);
  });

  it('should cut at a member whose CRC does not match when the bytes were damaged', async () => {
    const written = await crashedAfter(2);
    const bad = await member(response('https://x.test/bad', jpegBytes(900), at(5))[0]);
    flip(bad, bad.length - 8);
    await appendFile(warcOpen(), bad);
    await WarcWriter.recover(dir);
    expect(statSync(finalWarc()).size).to.equal(written[1]!.offset + written[1]!.length);
    expect(indexedIds()).to.have.length(2);
  });

  it('should drop a cut index line and index its record again when the crash came mid-line', async () => {
    const written = await crashedAfter(3);
    const text = await readFile(cdxjOpen(), 'utf8');
    await writeFile(cdxjOpen(), text.slice(0, text.length - 20));
    await WarcWriter.recover(dir);
    expect(indexedIds().sort()).to.deep.equal(written.map((w) => w.recordId).sort());
    const third = readCdxj(finalCdxj()).entries.find((e) => e.json['recordId'] === written[2]!.recordId)!;
    expect(third.json).to.include({ offset: String(written[2]!.offset), length: String(written[2]!.length), status: '200', mime: 'image/jpeg' });
  });

  it('should cut a record and its index line when the line reached the disk but not all of the record', async () => {
    const written = await crashedAfter(3);
    // The index got to disk, the last record's bytes only in part (a power cut can order writes so).
    await truncate(warcOpen(), written[2]!.offset + 10);
    await WarcWriter.recover(dir);
    expect(statSync(finalWarc()).size).to.equal(written[2]!.offset);
    expect(indexedIds().sort()).to.deep.equal([written[0]!.recordId, written[1]!.recordId].sort());
    expect((await readWarc(finalWarc())).map((r) => r.type)).to.deep.equal(['warcinfo', 'response', 'response']);
  });

  it('should check the file from its start when the last indexed record is damaged', async () => {
    const written = await crashedAfter(3);
    const bytes = await readFile(warcOpen());
    // Damage inside the deflate data of the first and the last record: the last is no longer whole, so
    // nothing before it can be taken on trust either.
    for (const w of [written[0]!, written[2]!]) flip(bytes, w.offset + (w.length >> 1));
    await writeFile(warcOpen(), bytes);
    await WarcWriter.recover(dir);
    expect(statSync(finalWarc()).size).to.equal(written[0]!.offset);
    expect(indexedIds()).to.deep.equal([]);
    expect((await readWarc(finalWarc())).map((r) => r.type)).to.deep.equal(['warcinfo']);
  });

  it('should delete a file that holds less than a whole warcinfo', async () => {
    await crashedAfter(1);
    const bytes = await readFile(warcOpen());
    await writeFile(warcOpen(), bytes.subarray(0, 30));
    await writeFile(path.join(dir, 'other-20250101000000000-00000-w1.warc.gz.open'), '');
    expect(await WarcWriter.recover(dir)).to.deep.equal([]);
    expect(listDir(dir).filter((n) => n.includes('.open') || n.endsWith('.warc.gz') || n.endsWith('.cdxj'))).to.deep.equal([]);
  });

  it('should leave the files of other workers alone when given a worker', async () => {
    await crashedAfter(1, 'w1');
    const others = await crashedAfter(1, 'w2');
    const recovered = await WarcWriter.recover(dir, { worker: 'w1', prefix: 'tumblr-dl' });
    expect(recovered).to.deep.equal([`${base}.warc.gz`]);
    expect(existsSync(path.join(dir, `${others[0]!.filename}.open`))).to.equal(true);
  });

  it('should return nothing when the folder does not exist', async () => {
    expect(await WarcWriter.recover(path.join(dir, 'none'))).to.deep.equal([]);
  });
});
