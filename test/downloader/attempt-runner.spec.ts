import { expect } from 'chai';
import { existsSync, writeSync } from 'node:fs';
import * as path from 'node:path';
import { resolveDownloaderConfig } from '../../src/config/downloader-config.js';
import { AttemptRunner, type AttemptSource } from '../../src/downloader/attempt-runner.js';
import type { DownloadTarget } from '../../src/downloader/download-target.js';
import { OpenPart } from '../../src/downloader/disk/open-part.js';
import { Reporter } from '../../src/downloader/reporter.js';
import { TolerantLedger } from '../../src/ledger/tolerant-ledger.js';
import type { Transfer, TransferOutcome, TransferRequest } from '../../src/downloader/transfer/transfer.js';
import { DownloadError } from '../../src/errors/download-error.js';
import { HttpStatusError } from '../../src/errors/http-status-error.js';
import { DownloadEventEmitter } from '../../src/events/download-events.js';
import { MemoryDownloadLedger } from '../../src/ledger/memory-download-ledger.js';
import { TokenBucketRateLimiter } from '../../src/rate-limit/rate-limiter.js';
import { ExponentialBackoffRetryStrategy } from '../../src/retry/retry-strategy.js';
import { StructureProbe } from '../../src/verify/structure-probe.js';
import { DefaultVerifier } from '../../src/verify/verifier.js';
import { EventRecorder } from '../support/event-recorder.js';
import { jpegBytes, sha256, tempDir } from '../support/fixtures.js';
import { ManualClock } from '../support/manual-clock.js';
import { requestFor } from '../support/requests.js';

/** What the fake transfer does on each attempt: fail with this error, or deliver these bytes. */
type Step = Error | { body: Buffer; contentType: string };

describe(AttemptRunner.name, () => {
  const URL = 'https://64.media.tumblr.com/a/tumblr_a_1280.jpg';
  let dir: string;
  let cleanup: () => void;
  let clock: ManualClock;
  let limiter: TokenBucketRateLimiter;
  let recorder: EventRecorder;

  beforeEach(() => {
    ({ dir, cleanup } = tempDir());
    clock = new ManualClock(1_700_000_000_000, true);
    limiter = new TokenBucketRateLimiter({ requestsPerSecond: 0 }, clock);
  });
  afterEach(() => cleanup());

  /** A runner whose transfer plays `steps` in order, writing a `.part` as the real one does. */
  function runnerPlaying(steps: Step[]): AttemptRunner {
    const config = resolveDownloaderConfig({ outputDir: dir, retry: { maxRetries: 3, maxRetryAfter: 10_000 } });
    const events = new DownloadEventEmitter();
    recorder = new EventRecorder(events);
    const reporter = new Reporter(config, events, new TolerantLedger(new MemoryDownloadLedger()), clock);
    const transfer = {
      async run(request: TransferRequest): Promise<TransferOutcome> {
        const step = steps.shift()!;
        if (step instanceof Error) throw step;
        const part = await OpenPart.open(`${request.partBase}.part`, false);
        writeSync(part.fd, step.body);
        const probe = new StructureProbe();
        probe.update(step.body);
        return {
          part,
          sha256: sha256(step.body),
          byteSize: step.body.length,
          probe,
          contentType: step.contentType,
          declaredSize: step.body.length,
          resumedFrom: 0,
          finalUrl: request.url,
          hasSidecar: false,
          etag: undefined,
          lastModified: undefined,
        };
      },
    } as unknown as Transfer;
    const verifier = new DefaultVerifier(config);
    return new AttemptRunner(config, transfer, limiter, new ExponentialBackoffRetryStrategy(config.retry, clock), verifier, clock, reporter);
  }

  const source = (): AttemptSource => ({ url: URL, host: '64.media.tumblr.com', attemptsBefore: 0 });
  const target = (): DownloadTarget => ({ partBase: path.join(dir, 'a.jpg'), replaces: undefined });
  const reset = (): DownloadError => new DownloadError('NETWORK_ERROR', 'reset', { retryable: true });

  describe('.run', () => {
    it('should retry what is retryable, say so before each wait, and return the verified bytes with the attempts made', async () => {
      const body = jpegBytes(4096);
      const fetched = await runnerPlaying([reset(), reset(), { body, contentType: 'image/jpeg' }]).run(
        requestFor(dir, URL, 'a.jpg'),
        source(),
        target(),
        new AbortController().signal,
      );
      expect(fetched.ok && fetched.outcome.sha256).to.equal(sha256(body));
      if (fetched.ok) await fetched.outcome.part.seal();
      expect(fetched).to.include({ ok: true, attempts: 3 });
      expect(recorder.of('retrying').map((e) => e.attempt)).to.deep.equal([1, 2]);
    });

    it('should put the whole host in cooldown on a 429 with Retry-After, capped at maxRetryAfter', async () => {
      const limited = new HttpStatusError(URL, 429, 999_999_000);
      const fetched = await runnerPlaying([limited]).run(requestFor(dir, URL, 'a.jpg'), source(), target(), new AbortController().signal);
      expect(fetched).to.include({ ok: false, attempts: 1 });
      expect(limiter.cooldownUntil('64.media.tumblr.com')).to.equal(1_700_000_000_000 + 10_000);
      expect(recorder.of('rate-limited')[0]).to.include({ host: '64.media.tumblr.com', untilMs: 1_700_000_010_000 });
    });

    it('should return bytes that fail verification as a failure value, with their Content-Type, and keep no .part', async () => {
      const page = Buffer.from('<!doctype html><html><body>' + 'x'.repeat(500) + '</body></html>');
      const fetched = await runnerPlaying([{ body: page, contentType: 'image/jpeg' }]).run(requestFor(dir, URL, 'a.jpg'), source(), target(), new AbortController().signal);
      expect(fetched).to.include({ ok: false, attempts: 1, contentType: 'image/jpeg' });
      expect(!fetched.ok && (fetched.error as DownloadError).code).to.equal('INTEGRITY');
      expect(existsSync(path.join(dir, 'a.jpg.part'))).to.equal(false);
    });
  });
});
