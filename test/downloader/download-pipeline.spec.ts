import { expect } from 'chai';
import { DownloadPipeline, type PipelineStages } from '../../src/downloader/download-pipeline.js';
import type { FetchSucceeded } from '../../src/downloader/fetch-outcome.js';
import type { OpenPart } from '../../src/downloader/disk/open-part.js';
import { SlotScheduler } from '../../src/downloader/scheduler.js';
import type { DownloadResult } from '../../src/model/download-result.js';
import { flushMicrotasks } from '../support/manual-clock.js';
import { requestFor } from '../support/requests.js';

/** A seal the test finishes by hand. */
interface HeldSeal {
  started: boolean;
  finish: () => void;
}

describe(DownloadPipeline.name, () => {
  describe('.run', () => {
    it('should give the network slot back before the fsync, and let at most sealConcurrency files wait for theirs', async () => {
      const seals: HeldSeal[] = [];
      const fetchedFor = (): FetchSucceeded => {
        const held: HeldSeal = { started: false, finish: () => {} };
        seals.push(held);
        const part = {
          seal: () => {
            held.started = true;
            return new Promise<number>((resolve) => (held.finish = () => resolve(1)));
          },
        } as unknown as OpenPart;
        return { ok: true, attempts: 1, resumedFrom: 0, outcome: { part, sha256: 'a'.repeat(64), byteSize: 1, contentType: undefined } } as unknown as FetchSucceeded;
      };
      const fetchesStarted: string[] = [];
      const stages = {
        scheduler: new SlotScheduler(1, 1),
        skipPolicy: { decide: async () => ({ kind: 'absent' }), saved: () => {} },
        fallbacks: { fetch: async (request: { url: string }) => (fetchesStarted.push(request.url), fetchedFor()) },
        placement: {
          reserve: async (request: { intendedPath: string }) => ({ path: request.intendedPath, requested: request.intendedPath, variant: 0, release: () => {} }),
          place: async (_r: unknown, _s: unknown, _x: unknown, record: (placed: { filename: string }) => Promise<DownloadResult>) => record({ filename: 'f' }),
        },
        reporter: {
          queued: () => {},
          started: () => {},
          verified: () => {},
          completed: async () => ({ status: 'success' }) as DownloadResult,
          failed: async () => ({ status: 'error' }) as DownloadResult,
        },
        sealConcurrency: 1,
      } as unknown as PipelineStages;
      const pipeline = new DownloadPipeline(stages);
      const signal = new AbortController().signal;
      const runs = ['a', 'b', 'c'].map((name) => pipeline.run(requestFor('/d', `https://x.test/${name}.jpg`, `${name}.jpg`), signal));
      await flushMicrotasks();

      // One network slot: a's seal has begun, and b fetched in the slot a gave back, while a's fsync runs.
      expect(seals[0]!.started).to.equal(true);
      expect(fetchesStarted).to.deep.equal(['https://x.test/a.jpg', 'https://x.test/b.jpg']);
      // One seal at a time: b waits for a's seal holding its network slot, so c cannot start fetching.
      expect(seals[1]!.started).to.equal(false);
      seals[0]!.finish();
      await flushMicrotasks();
      expect(seals[1]!.started).to.equal(true);
      expect(fetchesStarted).to.have.length(3);
      seals[1]!.finish();
      await flushMicrotasks();
      seals[2]!.finish();
      expect((await Promise.all(runs)).map((r) => r.status)).to.deep.equal(['success', 'success', 'success']);
    });
  });
});
