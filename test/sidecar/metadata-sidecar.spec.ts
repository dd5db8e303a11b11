import { expect } from 'chai';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { metadataSidecarPath, writeMetadataSidecar } from '../../src/sidecar/metadata-sidecar.js';
import type { DownloadResult } from '../../src/model/download-result.js';
import { tempDir } from '../support/fixtures.js';

/** A saved result for `file`. */
function saved(file: string, extra: Partial<DownloadResult> = {}): DownloadResult {
  return {
    filename: file,
    byteSize: 2048,
    checksum: 'ab'.repeat(32),
    duration: 12,
    source: 'tumblr',
    status: 'success',
    mediaMissingOnTumblr: false,
    url: 'https://64.media.tumblr.com/a/s2048x3072/b.jpg',
    attempts: 1,
    resumedFromByte: 0,
    detectedFormat: 'jpeg',
    contentType: 'image/jpeg',
    postId: '7431599279',
    ...extra,
  };
}

const item = { index: 0, mediaType: 'image', metadata: { blog: 'staff', postId: '7431599279', tags: ['art'] }, post: { blog_name: 'staff', id_string: '7431599279' } };

describe(writeMetadataSidecar.name, () => {
  let work: ReturnType<typeof tempDir>;
  beforeEach(() => (work = tempDir()));
  afterEach(() => work.cleanup());

  it("should write <file>.json with the file's facts, the item's metadata and the post, and leave no temporary file", async () => {
    const file = path.join(work.dir, 'staff', '7431599279_0.jpg');
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, 'x');
    expect(await writeMetadataSidecar(saved(file, { servedUrl: 'https://64.media.tumblr.com/a/s1280x1920/b.jpg' }), item)).to.equal('written');
    const written = JSON.parse(readFileSync(metadataSidecarPath(file), 'utf8')) as Record<string, unknown>;
    expect(written).to.deep.equal({
      version: 1,
      file: '7431599279_0.jpg',
      url: 'https://64.media.tumblr.com/a/s2048x3072/b.jpg',
      servedUrl: 'https://64.media.tumblr.com/a/s1280x1920/b.jpg',
      sha256: 'ab'.repeat(32),
      byteSize: 2048,
      detectedFormat: 'jpeg',
      source: 'tumblr',
      mediaMissingOnTumblr: false,
      postId: '7431599279',
      index: 0,
      mediaType: 'image',
      metadata: item.metadata,
      post: item.post,
    });
    expect(readdirSync(path.dirname(file)).sort()).to.deep.equal(['7431599279_0.jpg', '7431599279_0.jpg.json']);
  });

  it('should give the same bytes when written again, so a re-run is idempotent', async () => {
    const file = path.join(work.dir, 'a.jpg');
    await writeMetadataSidecar(saved(file, { duration: 5, attempts: 3 }), item);
    const first = readFileSync(metadataSidecarPath(file));
    await writeMetadataSidecar(saved(file, { duration: 900, attempts: 1 }), item);
    expect(readFileSync(metadataSidecarPath(file)).equals(first)).to.equal(true);
  });

  it('should write a post id above 2^53 with all its digits, as the post file had it', async () => {
    const file = path.join(work.dir, 'a.jpg');
    const post = JSON.parse('{"blog_name": "staff", "id": 746333771829182464, "id_string": "746333771829182464"}') as Record<string, unknown>;
    await writeMetadataSidecar(saved(file), { ...item, post });
    const text = readFileSync(metadataSidecarPath(file), 'utf8');
    expect(text).to.include('"id": 746333771829182464,');
    expect((JSON.parse(text) as { post: { id_string: string } }).post.id_string).to.equal('746333771829182464');
  });

  it('should leave an existing file alone when the ledger skipped the item, and write a missing one', async () => {
    const file = path.join(work.dir, 'a.jpg');
    writeFileSync(metadataSidecarPath(file), 'edited by hand');
    expect(await writeMetadataSidecar(saved(file, { skipped: true }), item)).to.equal('kept');
    expect(readFileSync(metadataSidecarPath(file), 'utf8')).to.equal('edited by hand');
    const other = path.join(work.dir, 'b.jpg');
    expect(await writeMetadataSidecar(saved(other, { skipped: true }), item)).to.equal('written');
  });

  it('should write nothing for a failed item', async () => {
    const earlier = path.join(work.dir, 'earlier.jpg');
    expect(await writeMetadataSidecar(saved(earlier, { status: 'error', errorCode: 'HTTP_ERROR' }), item)).to.equal('none');
    expect(readdirSync(work.dir)).to.deep.equal([]);
  });

  it("should keep the first item's metadata file of a file two items share (dedupe reference, or the same bytes found at the name)", async () => {
    const shared = path.join(work.dir, 'shared.jpg');
    expect(await writeMetadataSidecar(saved(shared), item)).to.equal('written');
    const first = readFileSync(metadataSidecarPath(shared));
    const other = { ...item, index: 3, metadata: { blog: 'other' } };
    expect(await writeMetadataSidecar(saved(shared, { deduplicatedFrom: shared }), other)).to.equal('kept');
    expect(readFileSync(metadataSidecarPath(shared)).equals(first)).to.equal(true);
  });
});
