import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { WorkerResult } from '../../src/scale-out/media-job.js';
import { ensureBuilt } from '../support/built-package.js';
import { FaultServer } from '../support/fault-server.js';
import { jpegBytes, sha256, tempDir } from '../support/fixtures.js';
import { useRealSockets } from '../support/nock-helpers.js';
import { startRedis, type RedisUnderTest } from '../support/redis-server.js';
import { runCli } from '../support/run-cli.js';
import { S3_SERVERS, type S3UnderTest } from '../support/s3-servers.js';

const DISTINCT = 24;
const TWINS = 6;
/** The workers' shared --limit-rate, bytes per second. */
const CAP = 600 * 1024;

for (const kind of S3_SERVERS) {
  describe(`scale-out: 3 workers into one ${kind.name} bucket, one bandwidth cap`, function () {
    this.timeout(120_000);
    useRealSockets();
    let s3: S3UnderTest;
    let redis: RedisUnderTest;
    let client: Redis;
    let origin: FaultServer;
    const temp = tempDir('tdl-s3-workers-');

    before(async function () {
      if (!kind.available) this.skip();
      ensureBuilt();
      [s3, redis] = await Promise.all([kind.start(), startRedis()]);
      client = new Redis(redis.url, { maxRetriesPerRequest: null });
      origin = new FaultServer();
    });
    after(async () => {
      await client?.quit();
      await Promise.all([s3?.stop(), redis?.stop(), origin?.stop()]);
      temp.cleanup();
    });

    it('should save every item exactly once, identical bytes as one object, all workers together within the cap', async () => {
      const base = await origin.start();
      await s3.createBucket('shared');
      const bodies = Array.from({ length: DISTINCT }, (_, i) => jpegBytes(60_000 + i * 100, i + 1));
      const lines: string[] = [];
      for (let i = 0; i < DISTINCT; i++) {
        origin.script(`/m/${i}.jpg`, { body: bodies[i]! });
        lines.push(JSON.stringify({ url: `${base}/m/${i}.jpg`, postId: `p${i}`, index: 0 }));
      }
      // The same bytes under other URLs, spread through the list so different workers meet them.
      for (let j = 0; j < TWINS; j++) {
        origin.script(`/twin/${j}.jpg`, { body: bodies[j * 4]! });
        lines.splice(j * 5 + 3, 0, JSON.stringify({ url: `${base}/twin/${j}.jpg`, postId: `t${j}`, index: 0 }));
      }
      const list = path.join(temp.dir, 'list.jsonl');
      writeFileSync(list, `${lines.join('\n')}\n`);
      const queueName = `s3-${kind.name}`;
      const enqueued = await runCli(['enqueue', list, '--redis', redis.url, '--queue', queueName]);
      expect(enqueued.code, enqueued.stderr).to.equal(0);

      const worker = (name: string): Promise<{ code: number | null; stderr: string }> =>
        runCli(
          [
            'worker',
            '-o',
            's3://shared/archive',
            '--s3-endpoint',
            s3.endpoint,
            '--state',
            path.join(temp.dir, name),
            '--redis',
            redis.url,
            '--queue',
            queueName,
            '--name',
            name,
            '-c',
            '3',
            '-r',
            '0',
            '--limit-rate',
            String(CAP),
            '-q',
            '--exit-when-drained',
          ],
          undefined,
          s3.env,
        );
      const runs = await Promise.all(['w1', 'w2', 'w3'].map(worker));
      for (const run of runs) expect(run.code, run.stderr).to.equal(0);

      // Every URL asked for exactly once, over the three workers.
      const perPath = new Map<string, number>();
      for (const request of origin.requests) perPath.set(request.path, (perPath.get(request.path) ?? 0) + 1);
      expect(perPath.size).to.equal(DISTINCT + TWINS);
      expect([...perPath.values()].every((n) => n === 1)).to.equal(true);

      // One object per distinct SHA-256, holding the origin's bytes.
      const listed = await s3.client.send(new ListObjectsV2Command({ Bucket: 'shared', Prefix: 'archive/' }));
      const objects = (listed.Contents ?? []).map((o) => o.Key!);
      expect(objects).to.have.length(DISTINCT);
      const stored = new Set<string>();
      for (const key of objects) {
        const got = await s3.client.send(new GetObjectCommand({ Bucket: 'shared', Key: key }));
        stored.add(sha256(Buffer.from(await got.Body!.transformToByteArray())));
      }
      expect(stored).to.deep.equal(new Set(bodies.map(sha256)));

      const queue = new Queue<unknown, WorkerResult>(queueName, { connection: client });
      const jobs = await queue.getJobs(['completed']);
      expect(jobs).to.have.length(DISTINCT + TWINS);
      const byUrl = new Map(jobs.map((job) => [job.returnvalue.url, job.returnvalue]));
      for (let j = 0; j < TWINS; j++) {
        const twin = byUrl.get(`${base}/twin/${j}.jpg`)!;
        expect(twin.status).to.equal('success');
        expect(twin.objectUrl, 'a twin names the one object of its bytes').to.equal(byUrl.get(`${base}/m/${j * 4}.jpg`)!.objectUrl);
      }
      expect(new Set(jobs.map((job) => job.returnvalue.worker)).size, 'every worker took part').to.equal(3);

      // The cap holds for the three together: their bodies, all read under it, took at least as long as the cap
      // allows for their bytes, less what may run ahead of it (0.2 s of the cap, a lease of 0.1 s per worker, and
      // leftovers of at most 0.5 s). Alone, each worker at the cap would have taken a third of that.
      const bytes = jobs.reduce((sum, job) => sum + job.returnvalue.byteSize, 0);
      const started = Math.min(...jobs.map((job) => job.processedOn!));
      const finished = Math.max(...jobs.map((job) => job.finishedOn!));
      const seconds = (finished - started) / 1000;
      const ahead = CAP * (0.2 + 3 * 0.1 + 0.5);
      expect(seconds, `${bytes} bytes in ${seconds} s`).to.be.at.least((bytes - ahead) / CAP);
      process.stdout.write(`      (${bytes} bytes in ${seconds.toFixed(2)} s by 3 workers: ${(bytes / seconds / CAP).toFixed(2)}× the shared cap)\n`);
      await queue.close();
    });
  });
}
