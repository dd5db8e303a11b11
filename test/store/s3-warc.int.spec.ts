import { expect } from 'chai';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { DeleteBucketCommand, GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { WARCParser } from 'warcio';
import type { FaultServer } from '../support/fault-server.js';
import { filler, jpegBytes, sha256 } from '../support/fixtures.js';
import { useRealSockets } from '../support/nock-helpers.js';
import { runCli, type Run } from '../support/run-cli.js';
import { S3_SERVERS, type S3UnderTest } from '../support/s3-servers.js';
import { s3CliSuite } from '../support/s3-cli-suite.js';

/** A response record as warcio (an independent reader) reads it: its target, status and payload. */
interface ReadResponse {
  uri: string;
  status: number | undefined;
  payload: Buffer;
}

/** The response records of WARC bytes, read with warcio; fails on anything it cannot parse. */
async function responsesOf(warc: Buffer): Promise<ReadResponse[]> {
  const responses: ReadResponse[] = [];
  for await (const record of WARCParser.iterRecords([warc])) {
    const payload = Buffer.from(await record.readFully(true));
    if (record.warcType !== 'response') continue;
    responses.push({ uri: record.warcTargetURI ?? '', status: record.httpHeaders ? Number(record.httpHeaders.statusCode) : undefined, payload });
  }
  return responses;
}

/** The filenames a CDXJ index names, one per line. */
function indexedFiles(cdxj: Buffer): string[] {
  return cdxj
    .toString('utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => (JSON.parse(line.slice(line.indexOf('{'))) as { filename: string }).filename);
}

/** Files (not folders) directly in `dir`; none when it does not exist. */
function filesIn(dir: string): string[] {
  return existsSync(dir)
    ? readdirSync(dir, { withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => e.name)
    : [];
}

for (const kind of S3_SERVERS) {
  describe(`CLI: fetch --warc -o s3:// into a real ${kind.name}`, function () {
    this.timeout(90_000);
    useRealSockets();
    const suite = s3CliSuite(kind, 'warc');
    let s3: S3UnderTest;
    let origin: FaultServer;
    let base: string;
    let work: { dir: string; cleanup: () => void };
    let bucket: string;
    beforeEach(() => ({ s3, origin, base, work, bucket } = suite));

    const state = (): string => path.join(work.dir, 'state');
    const stateWarc = (): string => path.join(state(), 'warc');
    const fetch = (list: string, ...extra: string[]): Promise<Run> =>
      runCli(['fetch', list, '-o', `s3://${bucket}/run1`, '--s3-endpoint', s3.endpoint, '--state', state(), '-q', '--warc', ...extra], undefined, s3.env);

    async function keys(): Promise<string[]> {
      const listed = await s3.client.send(new ListObjectsV2Command({ Bucket: bucket }));
      return (listed.Contents ?? []).map((o) => o.Key!).sort();
    }

    async function bytesOf(key: string): Promise<Buffer> {
      const got = await s3.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return Buffer.from(await got.Body!.transformToByteArray());
    }

    /** The WARC files and indexes under `run1/warc/`, by name. */
    async function warcKeys(): Promise<{ warcs: string[]; indexes: string[] }> {
      const all = (await keys()).filter((k) => k.startsWith('run1/warc/')).map((k) => k.slice('run1/warc/'.length));
      return { warcs: all.filter((k) => k.endsWith('.warc.gz')), indexes: all.filter((k) => k.endsWith('.cdxj')) };
    }

    function writeList(paths: string[], name = 'list.txt'): string {
      const list = path.join(work.dir, name);
      writeFileSync(list, `${paths.map((p) => `${base}${p}`).join('\n')}\n`);
      return list;
    }

    it("should publish every finished WARC file and its index under <prefix>warc/, the origin's bytes in its responses, none left in the state folder", async () => {
      // Three payloads of 600 kB at the minimum --warc-max-size: two fill the first file past 1 MB, the third starts a second.
      const bodies = new Map([1, 2, 3].map((seed) => [`/p${seed}.jpg`, jpegBytes(600_000, seed)]));
      for (const [p, body] of bodies) origin.script(p, { body });

      const run = await fetch(writeList([...bodies.keys()]), '--warc-max-size', '1000000');
      expect(run.stderr).to.equal('');
      expect(run.code, run.stdout).to.equal(0);

      const { warcs, indexes } = await warcKeys();
      expect(warcs).to.have.length(2);
      expect(indexes).to.deep.equal(warcs.map((w) => w.replace(/\.warc\.gz$/, '.cdxj')));
      expect(filesIn(stateWarc()), 'nothing left in the state folder').to.deep.equal([]);

      const payloads = new Map<string, string>();
      for (const warc of warcs) {
        const responses = await responsesOf(await bytesOf(`run1/warc/${warc}`));
        expect(responses, `${warc} holds responses`).to.have.length.above(0);
        for (const response of responses) {
          expect(response.status).to.equal(200);
          payloads.set(response.uri, sha256(response.payload));
        }
        // Its index came along, naming it.
        const named = indexedFiles(await bytesOf(`run1/warc/${warc.replace(/\.warc\.gz$/, '.cdxj')}`));
        expect(named).to.deep.equal(responses.map(() => warc));
      }
      expect(payloads).to.deep.equal(new Map([...bodies].map(([p, body]) => [`${base}${p}`, sha256(body)])));
    });

    it('should publish both files of a rollover when what is recorded is 404 pages (nothing staged to read back)', async () => {
      // Twenty 404 pages of 60 kB (kept whole: under the 64 KiB a page keeps) fill one file past 1 MB and start another.
      const pages = new Map(Array.from({ length: 20 }, (_, i) => [`/gone${i}.jpg`, filler(60_000, 100 + i)]));
      for (const [p, page] of pages) origin.script(p, { body: page, statusFor: () => ({ status: 404, body: page }) });

      const run = await fetch(writeList([...pages.keys()]), '--warc-max-size', '1000000');
      expect(run.stderr).to.equal('');

      const { warcs, indexes } = await warcKeys();
      expect(warcs).to.have.length(2);
      expect(indexes).to.deep.equal(warcs.map((w) => w.replace(/\.warc\.gz$/, '.cdxj')));
      expect(filesIn(stateWarc())).to.deep.equal([]);
      const payloads = new Map<string, string>();
      for (const warc of warcs) {
        const responses = await responsesOf(await bytesOf(`run1/warc/${warc}`));
        expect(responses).to.have.length.above(0);
        for (const response of responses) {
          expect(response.status).to.equal(404);
          payloads.set(response.uri, sha256(response.payload));
        }
        expect(indexedFiles(await bytesOf(`run1/warc/${warc.replace(/\.warc\.gz$/, '.cdxj')}`))).to.deep.equal(responses.map(() => warc));
      }
      expect(payloads).to.deep.equal(new Map([...pages].map(([p, page]) => [`${base}${p}`, sha256(page)])));
    });

    it('should publish what a killed run left: a finished WARC whose index had gone, and an open WARC, once recovered', async () => {
      // Two finished files from a folder run stand for a killed bucket run's state folder.
      const folder = path.join(work.dir, 'folder');
      for (const seed of [4, 5, 6]) origin.script(`/q${seed}.jpg`, { body: jpegBytes(600_000, seed) });
      const made = await runCli(['fetch', writeList(['/q4.jpg', '/q5.jpg', '/q6.jpg'], 'made.txt'), '-o', folder, '-q', '--warc', '--warc-max-size', '1000000']);
      expect(made.code, made.stderr).to.equal(0);
      const [published, open] = filesIn(path.join(folder, 'warc'))
        .filter((n) => n.endsWith('.warc.gz'))
        .sort();
      const from = (name: string): string => path.join(folder, 'warc', name);
      mkdirSync(stateWarc(), { recursive: true });
      // Killed between publishing an index and its WARC: the WARC is there, its index already in the bucket.
      copyFileSync(from(published!), path.join(stateWarc(), published!));
      // Killed while writing: an open WARC without its index lines, which recovery rebuilds from the records.
      copyFileSync(from(open!), path.join(stateWarc(), `${open!}.open`));

      // A run that records nothing (an HTML page is refused) still hands them on.
      origin.script('/page.jpg', { body: Buffer.from('<!doctype html><html><body>no</body></html>'), contentType: 'text/html' });
      const run = await fetch(writeList(['/page.jpg']));
      expect(run.stderr).to.equal('');
      expect(run.code, run.stdout).to.equal(1);

      const { warcs, indexes } = await warcKeys();
      expect(warcs).to.deep.equal([published!, open!]);
      expect(indexes).to.deep.equal([open!.replace(/\.warc\.gz$/, '.cdxj')]);
      expect(filesIn(stateWarc())).to.deep.equal([]);
      expect(sha256(await bytesOf(`run1/warc/${published!}`))).to.equal(sha256(readFileSync(from(published!))));
      // Recovery kept every record of the open file: it is the file as it was written.
      const recovered = await bytesOf(`run1/warc/${open!}`);
      expect(sha256(recovered)).to.equal(sha256(readFileSync(from(open!))));
      const responses = await responsesOf(recovered);
      expect(indexedFiles(await bytesOf(`run1/warc/${indexes[0]!}`))).to.deep.equal(responses.map(() => open!));
    });

    it('should say once at the end that a finished WARC could not be published, keep it, and publish it on the next run', async () => {
      // The bucket goes while the run is under way: its check at the start passed, the WARC's upload at the end fails.
      origin.script('/gone.jpg', { body: Buffer.from('x'), hold: true, statusFor: () => ({ status: 404, body: 'not found' }) });
      const list = writeList(['/gone.jpg']);
      const running = fetch(list);
      await origin.arrived(1);
      await s3.client.send(new DeleteBucketCommand({ Bucket: bucket }));
      origin.release();
      const run = await running;
      expect(run.code).to.equal(1);
      const problems = run.stderr.split('\n').filter((line) => line.includes('could not be published'));
      expect(problems, run.stderr).to.have.length(1);
      expect(problems[0]).to.contain(`1 finished WARC file could not be published to s3://${bucket}/run1/`);
      const kept = filesIn(stateWarc()).sort();
      expect(kept.filter((n) => n.endsWith('.warc.gz'))).to.have.length(1);
      expect(kept.filter((n) => n.endsWith('.cdxj'))).to.have.length(1);
      const left = kept.find((n) => n.endsWith('.warc.gz'))!;
      const leftBytes = readFileSync(path.join(stateWarc(), left));

      await s3.createBucket(bucket);
      origin.script('/gone.jpg', { body: Buffer.from('x'), statusFor: () => ({ status: 404, body: 'not found' }) });
      const again = await fetch(list);
      expect(again.stderr).to.equal('');
      const { warcs, indexes } = await warcKeys();
      expect(warcs, 'the kept file and this run’s').to.have.length(2);
      expect(warcs).to.include(left);
      expect(indexes).to.deep.equal(warcs.map((w) => w.replace(/\.warc\.gz$/, '.cdxj')));
      expect(filesIn(stateWarc())).to.deep.equal([]);
      expect(sha256(await bytesOf(`run1/warc/${left}`))).to.equal(sha256(leftBytes));
      for (const warc of warcs) {
        const responses = await responsesOf(await bytesOf(`run1/warc/${warc}`));
        expect(responses.map((r) => [r.status, r.payload.toString()])).to.deep.equal([[404, 'not found']]);
      }
    });
  });
}
