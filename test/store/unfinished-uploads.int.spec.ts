import { expect } from 'chai';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { CreateMultipartUploadCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { resolveDownloaderConfig } from '../../src/config/downloader-config.js';
import { BucketStore } from '../../src/store/s3/bucket-store.js';
import { CLEANUP_MIN_AGE_MS, UPLOAD_STATE_SUFFIX } from '../../src/store/s3/upload-state.js';
import { LocalTwinRegistry } from '../../src/store/twin-registry.js';
import { tempDir } from '../support/fixtures.js';
import { useRealSockets } from '../support/nock-helpers.js';
import { S3_SERVERS, type S3UnderTest } from '../support/s3-servers.js';

for (const kind of S3_SERVERS) {
  describe(`--s3-cleanup on a real ${kind.name}`, function () {
    this.timeout(60_000);
    useRealSockets();
    let s3: S3UnderTest;
    let saved: Record<string, string | undefined> | undefined;
    const work = tempDir('tdl-cleanup-');

    before(async function () {
      if (!kind.available) this.skip();
      s3 = await kind.start();
      // The store reads its credentials as a user's run does: from the AWS environment.
      saved = Object.fromEntries(Object.keys(s3.env).map((name) => [name, process.env[name]]));
      Object.assign(process.env, s3.env);
    });
    after(async () => {
      for (const [name, value] of Object.entries(saved ?? {})) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      await s3?.stop();
      work.cleanup();
    });

    it('should abort the old unfinished uploads under the prefix that the state folder does not continue, and only those', async () => {
      await s3.createBucket('tidy');
      const upload = async (key: string): Promise<string> => (await s3.client.send(new CreateMultipartUploadCommand({ Bucket: 'tidy', Key: key }))).UploadId!;
      const continued = await upload('run1/a.jpg');
      await upload('run1/b.jpg');
      await upload('other/c.jpg');
      const state = path.join(work.dir, 'state');
      mkdirSync(state, { recursive: true });
      // The state a killed run leaves for a.jpg: its staged bytes and the upload they go to.
      writeFileSync(path.join(state, 'a.jpg.part'), 'bytes');
      writeFileSync(path.join(state, `a.jpg${UPLOAD_STATE_SUFFIX}`), JSON.stringify({ uploadId: continued, key: 'run1/a.jpg', sha256: 'x', byteSize: 5, partSize: 8 }));
      const store = new BucketStore(resolveDownloaderConfig({ outputDir: state, store: { url: 's3://tidy/run1', endpoint: s3.endpoint } }), new LocalTwinRegistry());
      try {
        // Ages are the server's: moto dates every upload 2010-11-10, so "now" is reckoned from what it lists.
        const listed = await s3.client.send(new ListMultipartUploadsCommand({ Bucket: 'tidy' })).catch(() => undefined);
        const started = listed?.Uploads?.find((u) => u.Key === 'run1/b.jpg')?.Initiated?.getTime() ?? Date.now();
        // An hour old: another machine's worker may be uploading it right now.
        const now = await store.cleanUpUploads(state, started + 3_600_000);
        if (kind.name === 's3rver') {
          // s3rver cannot list unfinished uploads: the cleanup says so, and touches nothing.
          expect(now).to.deep.equal({ aborted: [], kept: 0, unsupported: true });
          return;
        }
        expect(now).to.include({ kept: 2, unsupported: false });
        expect(now.aborted).to.deep.equal([]);

        const later = await store.cleanUpUploads(state, started + CLEANUP_MIN_AGE_MS + 60_000);
        expect(later.aborted.map((u) => u.key)).to.deep.equal(['run1/b.jpg']);
        expect(later.kept).to.equal(1);
        const left = await s3.client.send(new ListMultipartUploadsCommand({ Bucket: 'tidy' }));
        expect((left.Uploads ?? []).map((u) => u.Key).sort()).to.deep.equal(['other/c.jpg', 'run1/a.jpg']);
      } finally {
        await store.close();
      }
    });
  });
}
