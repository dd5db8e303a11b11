import { expect } from 'chai';
import { existsSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { DownloadError } from '../../src/errors/download-error.js';
import { surt } from '../../src/archive/surt.js';
import { WarcWriter, type WarcWriterOptions } from '../../src/archive/warc-writer.js';
import { filler, jpegBytes, sha256, tempDir } from '../support/fixtures.js';
import { gunzipRange, listDir, readCdxj, readRecords, readWarc, response, warcioIndex } from './warc-support.js';

describe(WarcWriter.name, () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir('warc-writer-')));
  afterEach(() => cleanup());

  const opened = new Date('2025-01-02T03:04:05.006Z');
  const options = (extra: Partial<WarcWriterOptions> = {}): WarcWriterOptions => ({
    dir: path.join(dir, 'warc'),
    prefix: 'tumblr-dl',
    worker: 'w1',
    warcinfo: { software: 'tumblr-dl/0.1.0', isPartOf: 'test' },
    now: () => opened,
    ...extra,
  });
  const at = (i: number): Date => new Date(Date.UTC(2024, 4, 6, 7, 8, i, 123));
  const warcDir = (): string => path.join(dir, 'warc');

  describe('.write', () => {
    it('should write warcinfo first, then the records in order, readable by warcio when closed', async () => {
      const writer = new WarcWriter(options());
      const source = path.join(dir, 'video.mp4');
      const video = filler(3 * 1024 * 1024 + 5, 11);
      await writeFile(source, video);
      const [jpeg, jpegIndex] = response('https://64.media.tumblr.com/b/tumblr_z_1280.jpg', jpegBytes(4000), at(1));
      const first = await writer.write(jpeg, jpegIndex);
      await writer.write(
        { type: 'resource', targetUri: 'https://va.media.tumblr.com/tumblr_v.mp4', date: at(2), contentType: 'video/mp4', payload: { file: source, length: video.length } },
        { url: 'https://va.media.tumblr.com/tumblr_v.mp4', mime: 'video/mp4', digest: `sha256:${sha256(video)}` },
      );
      await writer.write({ type: 'metadata', targetUri: jpegIndex.url, date: at(3), contentType: 'application/warc-fields', payload: Buffer.from('via: test\r\n') });
      await writer.close();

      const name = 'tumblr-dl-20250102030405006-00000-w1';
      expect(listDir(warcDir())).to.deep.equal([`${name}.cdxj`, `${name}.warc.gz`]);
      expect(first).to.include({ filename: `${name}.warc.gz` });
      const records = await readWarc(path.join(warcDir(), `${name}.warc.gz`));
      expect(records.map((r) => r.type)).to.deep.equal(['warcinfo', 'response', 'resource', 'metadata']);
      expect(records.every((r) => r.version === 'WARC/1.1')).to.equal(true);
      const [info, jpegRecord, videoRecord] = records;
      expect(info?.headers.get('warc-filename')).to.equal(`${name}.warc.gz`);
      expect(info?.headers.get('content-type')).to.equal('application/warc-fields');
      expect(info?.block.toString()).to.equal(
        'format: WARC File Format 1.1\r\nconformsTo: http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/\r\nsoftware: tumblr-dl/0.1.0\r\nisPartOf: test\r\n',
      );
      expect(jpegRecord?.headers.get('warc-record-id')).to.equal(first.recordId);
      expect(jpegRecord?.headers.get('warc-block-digest')).to.equal(`sha256:${sha256(jpegRecord!.block)}`);
      expect(jpegRecord?.headers.get('content-length')).to.equal(String(jpegRecord?.block.length));
      expect(videoRecord?.block.equals(video)).to.equal(true);
      expect(videoRecord?.headers.get('content-length')).to.equal(String(video.length));
    });

    it('should index each response and resource with a line that points at its own gzip member', async () => {
      const writer = new WarcWriter(options());
      const urls = ['https://www.tumblr.com/z/1', 'https://64.media.tumblr.com/a.jpg?b=2&a=1', 'http://127.0.0.1:8080/x', 'https://64.media.tumblr.com/a.jpg'];
      const written = [];
      for (const [i, url] of urls.entries()) {
        const [spec, index] = response(url, jpegBytes(500 + i, i + 1), at(10 - i), 200 + i, 'image/jpeg');
        written.push(await writer.write(spec, index));
      }
      await writer.close();
      const name = 'tumblr-dl-20250102030405006-00000-w1';
      const warc = path.join(warcDir(), `${name}.warc.gz`);
      const { lines, entries } = readCdxj(path.join(warcDir(), `${name}.cdxj`));
      expect(lines).to.have.length(4);
      expect([...lines].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))).to.deep.equal(lines);
      for (const entry of entries) {
        expect(entry.urlkey).to.equal(surt(entry.json['url']!));
        expect(Object.keys(entry.json)).to.deep.equal(['url', 'mime', 'status', 'digest', 'length', 'offset', 'filename', 'recordId']);
        expect(entry.json['filename']).to.equal(`${name}.warc.gz`);
        const [record, ...more] = await readRecords([gunzipRange(warc, Number(entry.json['offset']), Number(entry.json['length']))]);
        expect(more).to.deep.equal([]);
        expect(record?.headers.get('warc-record-id')).to.equal(entry.json['recordId']);
        expect(record?.headers.get('warc-target-uri')).to.equal(entry.json['url']);
        expect(entry.timestamp).to.equal(record?.headers.get('warc-date')?.replace(/[-:T]/g, '').slice(0, 14));
        expect(written.find((w) => w.recordId === entry.json['recordId'])).to.include({ offset: Number(entry.json['offset']), length: Number(entry.json['length']) });
      }
    });

    it("should give the same key, timestamp, offset, length, mime and status as warcio's own indexer", async () => {
      const writer = new WarcWriter(options());
      const [a, aIndex] = response('https://www.Example.com:8080/a/B?b=2&a=1', jpegBytes(700), at(1), 200, 'image/jpeg');
      const [b, bIndex] = response('https://64.media.tumblr.com/x.gif', jpegBytes(800, 3), at(2), 404, 'text/html');
      await writer.write(a, aIndex);
      await writer.write(b, bIndex);
      await writer.write(
        {
          type: 'revisit',
          targetUri: aIndex.url,
          date: at(3),
          headers: [
            ['WARC-Payload-Digest', aIndex.digest],
            ['WARC-Profile', 'http://netpreserve.org/warc/1.1/revisit/identical-payload-digest'],
          ],
          contentType: 'application/http; msgtype=response',
          head: a.head,
        },
        { url: aIndex.url, mime: 'warc/revisit', status: 200, digest: aIndex.digest },
      );
      await writer.close();
      const name = 'tumblr-dl-20250102030405006-00000-w1';
      const ours = readCdxj(path.join(warcDir(), `${name}.cdxj`)).entries;
      const theirs = await warcioIndex(path.join(warcDir(), `${name}.warc.gz`));
      expect(theirs).to.have.length(3);
      const simplify = (e: Record<string, unknown>): Record<string, string> => ({
        urlkey: String(e['urlkey']),
        timestamp: String(e['timestamp']),
        url: String(e['url']),
        mime: String(e['mime']),
        status: String(e['status']),
        offset: String(e['offset']),
        length: String(e['length']),
        filename: String(e['filename']),
        // warcio keeps the digest without its algorithm prefix.
        digest: String(e['digest']).replace(/^sha256:/, ''),
      });
      const sortKey = (e: Record<string, string>): string => `${e['urlkey']} ${e['timestamp']} ${e['offset']}`;
      expect(ours.map((e) => simplify({ urlkey: e.urlkey, timestamp: e.timestamp, ...e.json })).sort((x, y) => sortKey(x).localeCompare(sortKey(y)))).to.deep.equal(
        theirs.map(simplify).sort((x, y) => sortKey(x).localeCompare(sortKey(y))),
      );
    });

    it('should write 20 whole records in call order when 20 writes are made at once', async () => {
      const writer = new WarcWriter(options());
      const calls = Array.from({ length: 20 }, (_, i) => {
        const [spec, index] = response(`https://x.test/${i}`, filler(1000 + i * 37, i + 1), at(i));
        return writer.write(spec, index);
      });
      const written = await Promise.all(calls);
      await writer.close();
      const offsets = written.map((w) => w.offset);
      expect(offsets).to.deep.equal([...offsets].sort((x, y) => x - y));
      for (let i = 1; i < written.length; i++) expect(written[i]!.offset).to.equal(written[i - 1]!.offset + written[i - 1]!.length);
      const records = await readWarc(path.join(warcDir(), written[0]!.filename));
      expect(records.slice(1).map((r) => r.headers.get('warc-target-uri'))).to.deep.equal(Array.from({ length: 20 }, (_, i) => `https://x.test/${i}`));
      expect(records.slice(1).map((r) => r.headers.get('warc-record-id'))).to.deep.equal(written.map((w) => w.recordId));
    });

    it('should roll over to a new serial, each file starting with warcinfo, when a file reaches maxSize', async () => {
      const writer = new WarcWriter(options({ maxSize: 3000 }));
      const written = [];
      for (let i = 0; i < 7; i++) {
        const [spec, index] = response(`https://x.test/${i}`, filler(1500, i + 1), at(i));
        written.push(await writer.write(spec, index));
      }
      await writer.close();
      const files = listDir(warcDir()).filter((n) => n.endsWith('.warc.gz'));
      expect(files.length).to.be.greaterThan(2);
      expect(files.map((n) => n.split('-')[3])).to.deep.equal(files.map((_, i) => String(i).padStart(5, '0')));
      let total = 0;
      for (const file of files) {
        const records = await readWarc(path.join(warcDir(), file));
        expect(records[0]?.type).to.equal('warcinfo');
        expect(records[0]?.headers.get('warc-filename')).to.equal(file);
        expect(records.slice(1).every((r) => r.type === 'response')).to.equal(true);
        // A file over the threshold took no record after the one that crossed it.
        const size = statSync(path.join(warcDir(), file)).size;
        const last = written.filter((w) => w.filename === file).at(-1)!;
        expect(last.offset).to.be.lessThan(3000);
        expect(size).to.equal(last.offset + last.length);
        const { entries } = readCdxj(path.join(warcDir(), file.replace('.warc.gz', '.cdxj')));
        expect(entries.every((e) => e.json['filename'] === file)).to.equal(true);
        total += entries.length;
      }
      expect(total).to.equal(7);
    });

    it('should refuse a record with a header injection and create no file', async () => {
      const writer = new WarcWriter(options());
      const [spec, index] = response('https://x.test/a', jpegBytes(100), at(1));
      const hostile = { ...spec, targetUri: 'https://x.test/a\r\nWARC-Type: revisit' };
      const error = await writer.write(hostile, index).catch((e: unknown) => e);
      expect(DownloadError.isDownloadError(error) && error.code).to.equal('BAD_INPUT');
      expect(existsSync(warcDir())).to.equal(false);
      await writer.close();
    });

    it('should refuse an index URL whose key would hold a space', async () => {
      const writer = new WarcWriter(options());
      const [spec] = response('https://x.test/a', jpegBytes(100), at(1));
      const error = await writer.write(spec, { url: 'https://bad host/', mime: 'image/jpeg', digest: 'sha256:0' }).catch((e: unknown) => e);
      expect(DownloadError.isDownloadError(error) && error.code).to.equal('BAD_INPUT');
      await writer.close();
    });

    it('should leave the file as before and keep writing when one write fails', async () => {
      const writer = new WarcWriter(options());
      const [a, aIndex] = response('https://x.test/a', jpegBytes(1000), at(1));
      const [b, bIndex] = response('https://x.test/b', jpegBytes(1000, 2), at(2));
      const before = await writer.write(a, aIndex);
      const missing = { type: 'resource' as const, targetUri: 'https://x.test/m', date: at(3), payload: { file: path.join(dir, 'missing.bin'), length: 10 } };
      const failed = await writer.write(missing, { url: 'https://x.test/m', mime: 'image/jpeg', digest: 'sha256:0' }).catch((e: unknown) => e);
      expect(DownloadError.isDownloadError(failed) && failed.code).to.equal('FILESYSTEM');
      const after = await writer.write(b, bIndex);
      expect(after.offset).to.equal(before.offset + before.length);
      await writer.close();
      const records = await readWarc(path.join(warcDir(), after.filename));
      expect(records.map((r) => r.headers.get('warc-target-uri') ?? null)).to.deep.equal([null, 'https://x.test/a', 'https://x.test/b']);
      expect(readCdxj(path.join(warcDir(), after.filename.replace('.warc.gz', '.cdxj'))).entries.map((e) => e.json['url'])).to.deep.equal(['https://x.test/a', 'https://x.test/b']);
    });

    it('should reject with CLOSED when called after close', async () => {
      const writer = new WarcWriter(options());
      await writer.close();
      const [spec] = response('https://x.test/a', jpegBytes(100), at(1));
      const error = await writer.write(spec).catch((e: unknown) => e);
      expect(DownloadError.isDownloadError(error) && error.code).to.equal('CLOSED');
    });
  });

  describe('.close', () => {
    it('should be idempotent and leave no .open file when called twice', async () => {
      const writer = new WarcWriter(options());
      const [spec, index] = response('https://x.test/a', jpegBytes(100), at(1));
      const pending = writer.write(spec, index);
      await Promise.all([writer.close(), writer.close()]);
      await writer.close();
      await pending;
      expect(listDir(warcDir()).some((n) => n.includes('.open') || n.includes('.tmp'))).to.equal(false);
      expect(listDir(warcDir())).to.have.length(2);
    });

    it('should create no file when nothing was written', async () => {
      const writer = new WarcWriter(options());
      await writer.close();
      expect(existsSync(warcDir())).to.equal(false);
    });

    it('should write an empty .cdxj when no record was indexed', async () => {
      const writer = new WarcWriter(options({ worker: 'a/b c' }));
      const written = await writer.write({ type: 'metadata', date: at(1), payload: Buffer.from('x: y\r\n') });
      await writer.close();
      expect(written.filename).to.equal('tumblr-dl-20250102030405006-00000-a_b_c.warc.gz');
      expect(statSync(path.join(warcDir(), 'tumblr-dl-20250102030405006-00000-a_b_c.cdxj')).size).to.equal(0);
    });
  });
});
