import { expect } from 'chai';
import { open, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { gunzipSync, inflateRawSync } from 'node:zlib';
import { DownloadError } from '../../src/errors/download-error.js';
import type { WarcRecordSpec } from '../../src/archive/warc-record.js';
import { serializeWarcRecord, warcFields, warcHeaderBlock } from '../../src/archive/warc-serializer.js';
import { filler, jpegBytes, sha256, tempDir } from '../support/fixtures.js';
import { readRecords, readWarc } from './warc-support.js';

describe(serializeWarcRecord.name, () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir('warc-serializer-')));
  afterEach(() => cleanup());

  const date = new Date('2024-05-06T07:08:09.123Z');
  const head = Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\n\r\n', 'latin1');

  /** Serialize `spec` into a fresh file; the file's path and the returned length. */
  async function serialize(spec: WarcRecordSpec, name = 'one.warc.gz'): Promise<{ file: string; length: number }> {
    const file = path.join(dir, name);
    const handle = await open(file, 'w');
    try {
      return { file, length: await serializeWarcRecord(handle, 0, spec) };
    } finally {
      await handle.close();
    }
  }

  it('should write the WARC 1.1 headers in order with the block digest when the block is in memory', async () => {
    const body = jpegBytes(3000);
    const spec: WarcRecordSpec = {
      type: 'response',
      targetUri: 'https://64.media.tumblr.com/a/b.jpg',
      date,
      recordId: '<urn:uuid:11111111-2222-4333-8444-555555555555>',
      contentType: 'application/http; msgtype=response',
      headers: [['WARC-Payload-Digest', `sha256:${sha256(body)}`]],
      head,
      payload: body,
    };
    const { file } = await serialize(spec);
    const text = gunzipSync(await readFile(file)).toString('latin1');
    const headerBlock = text.slice(0, text.indexOf('\r\n\r\n'));
    expect(headerBlock.split('\r\n').map((line) => line.split(':', 1)[0])).to.deep.equal([
      'WARC/1.1',
      'WARC-Type',
      'WARC-Record-ID',
      'WARC-Date',
      'WARC-Target-URI',
      'WARC-Payload-Digest',
      'WARC-Block-Digest',
      'Content-Type',
      'Content-Length',
    ]);
    const [record] = await readWarc(file);
    expect(record?.version).to.equal('WARC/1.1');
    expect(record?.headers.get('warc-date')).to.equal('2024-05-06T07:08:09.123Z');
    expect(record?.headers.get('warc-record-id')).to.equal(spec.recordId);
    expect(record?.headers.get('content-length')).to.equal(String(head.length + body.length));
    expect(record?.block.equals(Buffer.concat([head, body]))).to.equal(true);
    expect(record?.headers.get('warc-block-digest')).to.equal(`sha256:${sha256(Buffer.concat([head, body]))}`);
    expect(text.endsWith('\r\n\r\n')).to.equal(true);
  });

  it('should return the length of one gzip member when it writes a record', async () => {
    const { file, length } = await serialize({ type: 'resource', targetUri: 'https://x.test/', date, payload: filler(5000) });
    const bytes = await readFile(file);
    expect(length).to.equal(bytes.length);
    expect(bytes.subarray(0, 2).equals(Buffer.from([0x1f, 0x8b]))).to.equal(true);
    // The deflate stream after the 10-byte header ends 8 bytes (CRC-32, size) before the file does: one member.
    const { engine } = inflateRawSync(bytes.subarray(10), { info: true }) as unknown as { engine: { bytesWritten: number } };
    expect(10 + engine.bytesWritten + 8).to.equal(bytes.length);
    expect(await readRecords([bytes])).to.have.length(1);
  });

  it('should stream the file range byte for byte and leave out the block digest when the payload is a file', async () => {
    const source = path.join(dir, 'media.bin');
    const content = filler(3 * 1024 * 1024 + 17, 9);
    await writeFile(source, content);
    const payload = { file: source, offset: 1000, length: content.length - 2000 };
    const { file } = await serialize({ type: 'resource', targetUri: 'https://x.test/v.mp4', date, contentType: 'video/mp4', payload });
    const [record] = await readWarc(file);
    expect(record?.block.equals(content.subarray(1000, content.length - 1000))).to.equal(true);
    expect(record?.headers.get('content-length')).to.equal(String(payload.length));
    expect(record?.headers.has('warc-block-digest')).to.equal(false);
  });

  it('should generate a urn:uuid record ID when none is given', async () => {
    const { file } = await serialize({ type: 'metadata', date, payload: Buffer.from('a: b\r\n') });
    const [record] = await readWarc(file);
    expect(record?.headers.get('warc-record-id')).to.match(/^<urn:uuid:[0-9a-f-]{36}>$/);
    expect(record?.headers.has('warc-target-uri')).to.equal(false);
  });

  it('should fail when the file holds fewer bytes than the payload states', async () => {
    const source = path.join(dir, 'short.bin');
    await writeFile(source, filler(100));
    const error = await serialize({ type: 'resource', date, payload: { file: source, length: 200 } }).catch((e: unknown) => e);
    expect(DownloadError.isDownloadError(error) && error.code).to.equal('FILESYSTEM');
  });

  describe('header injection', () => {
    const hostile: Array<[string, WarcRecordSpec]> = [
      ['a CRLF in the target URI', { type: 'resource', date, targetUri: 'https://x.test/a\r\nWARC-Type: revisit' }],
      ['a bare LF in a header value', { type: 'resource', date, headers: [['WARC-Refers-To', 'x\nWARC-Type: revisit']] }],
      ['a CR in the content type', { type: 'resource', date, contentType: 'text/html\rX: y' }],
      ['a colon in a header name', { type: 'resource', date, headers: [['X-A: b\r\nWARC-Type', 'c']] }],
      ['a second Content-Length', { type: 'resource', date, headers: [['Content-Length', '0']] }],
      ['a record ID that is not <uri>', { type: 'resource', date, recordId: 'urn:uuid:1' }],
    ];
    for (const [what, spec] of hostile) {
      it(`should refuse the record and write nothing when given ${what}`, async () => {
        const error = await serialize(spec).catch((e: unknown) => e);
        expect(DownloadError.isDownloadError(error) && error.code).to.equal('BAD_INPUT');
        expect((await readFile(path.join(dir, 'one.warc.gz'))).length).to.equal(0);
      });
    }
  });
});

describe(warcHeaderBlock.name, () => {
  it('should count head and payload in Content-Length when both are given', () => {
    const block = warcHeaderBlock({ type: 'request', date: new Date(0), head: Buffer.from('abc'), payload: Buffer.from('de') }, '<urn:x>');
    expect(block.toString()).to.contain('Content-Length: 5\r\n\r\n');
    expect(block.toString()).to.contain('WARC-Date: 1970-01-01T00:00:00.000Z\r\n');
  });
});

describe(warcFields.name, () => {
  it('should write one CRLF-terminated line per field', () => {
    expect(warcFields({ software: 'tumblr-dl', format: 'WARC File Format 1.1' }).toString()).to.equal('software: tumblr-dl\r\nformat: WARC File Format 1.1\r\n');
  });

  it('should refuse a value with a line break', () => {
    expect(() => warcFields({ software: 'x\r\nisPartOf: y' })).to.throw(DownloadError, /control character/);
  });
});
