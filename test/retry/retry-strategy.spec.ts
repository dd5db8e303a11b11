import { expect } from 'chai';
import { DownloadError } from '../../src/errors/download-error.js';
import { HttpStatusError } from '../../src/errors/http-status-error.js';
import { IntegrityError } from '../../src/errors/integrity-error.js';
import { MediaNotFoundError } from '../../src/errors/media-not-found-error.js';
import { isRetryable } from '../../src/retry/is-retryable.js';
import { parseRetryAfter } from '../../src/retry/retry-after.js';
import { ExponentialBackoffRetryStrategy } from '../../src/retry/retry-strategy.js';
import { ManualClock } from '../support/manual-clock.js';

const transient = new DownloadError('NETWORK_ERROR', 'reset', { retryable: true });

describe(ExponentialBackoffRetryStrategy.name, () => {
  it('should refuse negative, infinite or non-numeric options with a coded INVALID_CONFIG error', () => {
    for (const options of [{ maxRetries: -1 }, { baseBackoff: Infinity }, { maxBackoff: Number.NaN }, { maxRetryAfter: '5' as unknown as number }]) {
      expect(() => new ExponentialBackoffRetryStrategy(options), JSON.stringify(options))
        .to.throw(DownloadError, 'Invalid retry options')
        .with.property('code', 'INVALID_CONFIG');
    }
  });

  describe('.computeDelay', () => {
    it('should double from baseBackoff up to maxBackoff, with half of it jittered', () => {
      const low = new ExponentialBackoffRetryStrategy({ baseBackoff: 1000, maxBackoff: 5000, maxRetries: 10, random: () => 0 });
      const high = new ExponentialBackoffRetryStrategy({ baseBackoff: 1000, maxBackoff: 5000, maxRetries: 10, random: () => 0.999999 });
      const delays = (s: ExponentialBackoffRetryStrategy): number[] =>
        [1, 2, 3, 4].map((attempt) => {
          const d = s.computeDelay({ attempt, error: transient });
          return d.retry ? d.delayMs : -1;
        });
      expect(delays(low)).to.deep.equal([500, 1000, 2000, 2500]);
      expect(delays(high)).to.deep.equal([1000, 2000, 4000, 5000]);
    });

    it('should obey Retry-After exactly when the server sends it', () => {
      const strategy = new ExponentialBackoffRetryStrategy({ baseBackoff: 10 });
      expect(strategy.computeDelay({ attempt: 1, error: new HttpStatusError('u', 429, 7000), retryAfterMs: 7000 })).to.deep.equal({
        retry: true,
        delayMs: 7000,
      });
    });

    it('should give up when Retry-After exceeds maxRetryAfter rather than hammer early', () => {
      const strategy = new ExponentialBackoffRetryStrategy({ maxRetryAfter: 60_000 });
      const decision = strategy.computeDelay({ attempt: 1, error: new HttpStatusError('u', 429), retryAfterMs: 3_600_000 });
      expect(decision.retry).to.equal(false);
    });

    it('should give up after maxRetries and on errors that are not retryable', () => {
      const strategy = new ExponentialBackoffRetryStrategy({ maxRetries: 2 });
      expect(strategy.computeDelay({ attempt: 2, error: transient }).retry).to.equal(true);
      expect(strategy.computeDelay({ attempt: 3, error: transient }).retry).to.equal(false);
      expect(strategy.computeDelay({ attempt: 1, error: new MediaNotFoundError('u', 404) }).retry).to.equal(false);
    });
  });

  describe('.run', () => {
    it('should retry until success, reporting each retry before sleeping', async () => {
      const clock = new ManualClock(0, true);
      const strategy = new ExponentialBackoffRetryStrategy({ baseBackoff: 100, maxBackoff: 1000, maxRetries: 5, random: () => 0 }, clock);
      const log: string[] = [];
      const result = await strategy.run(
        async (attempt) => {
          log.push(`attempt ${attempt} at ${clock.now()}`);
          if (attempt < 3) throw transient;
          return 'ok';
        },
        { onRetry: (n) => log.push(`retry after ${n.attempt} in ${n.delayMs}`) },
      );
      expect(result).to.equal('ok');
      expect(log).to.deep.equal(['attempt 1 at 0', 'retry after 1 in 50', 'attempt 2 at 50', 'retry after 2 in 100', 'attempt 3 at 150']);
    });

    it('should throw the last error once it gives up, after maxRetries + 1 attempts', async () => {
      const strategy = new ExponentialBackoffRetryStrategy({ maxRetries: 2 }, new ManualClock(0, true));
      let attempts = 0;
      let error: unknown;
      await strategy
        .run(async () => {
          attempts++;
          throw transient;
        })
        .catch((e: unknown) => (error = e));
      expect(attempts).to.equal(3);
      expect(error).to.equal(transient);
    });

    it('should stop sleeping and rethrow when the signal aborts', async () => {
      const clock = new ManualClock(0);
      const strategy = new ExponentialBackoffRetryStrategy({ baseBackoff: 10_000, maxBackoff: 10_000 }, clock);
      const controller = new AbortController();
      let attempts = 0;
      const running = strategy.run(
        async () => {
          attempts++;
          throw transient;
        },
        { signal: controller.signal },
      );
      await clock.advance(1);
      controller.abort(new Error('stop'));
      let error: unknown;
      await running.catch((e: unknown) => (error = e));
      expect((error as Error).message).to.equal('stop');
      expect(attempts).to.equal(1);
    });

    it('should not let a throwing onRetry observer change the outcome', async () => {
      const strategy = new ExponentialBackoffRetryStrategy({ maxRetries: 1 }, new ManualClock(0, true));
      const result = await strategy.run(
        async (attempt) => {
          if (attempt === 1) throw transient;
          return 42;
        },
        {
          onRetry: () => {
            throw new Error('observer bug');
          },
        },
      );
      expect(result).to.equal(42);
    });
  });

  describe('.execute', () => {
    it('should pass the arguments through, seed style', async () => {
      const strategy = new ExponentialBackoffRetryStrategy({ maxRetries: 1 }, new ManualClock(0, true));
      let calls = 0;
      const sum = await strategy.execute(
        async (a: number, b: number) => {
          if (calls++ === 0) throw Object.assign(new Error('reset'), { code: 'ECONNRESET' });
          return a + b;
        },
        2,
        3,
      );
      expect(sum).to.equal(5);
      expect(calls).to.equal(2);
    });
  });
});

describe('isRetryable', () => {
  it('should retry network errors, timeouts and 408/429/5xx but never 400/401/403/404/410 or integrity failures', () => {
    expect(isRetryable(Object.assign(new Error('x'), { code: 'ETIMEDOUT' }))).to.equal(true);
    for (const status of [408, 425, 429, 500, 502, 503, 504, 522]) expect(isRetryable(new HttpStatusError('u', status)), String(status)).to.equal(true);
    for (const status of [400, 401, 403, 404, 410]) expect(isRetryable(new HttpStatusError('u', status)), String(status)).to.equal(false);
    expect(isRetryable(new IntegrityError('HTML_INSTEAD_OF_MEDIA', 'html'))).to.equal(false);
    expect(isRetryable(new Error('plain'))).to.equal(false);
    expect(isRetryable(Object.assign(new Error('x'), { name: 'AbortError', code: 'ECONNRESET' }))).to.equal(false);
  });
});

describe('parseRetryAfter', () => {
  it('should read delta-seconds and HTTP dates, and ignore junk', () => {
    const now = Date.parse('Wed, 21 Oct 2026 07:28:00 GMT');
    expect(parseRetryAfter('120', now)).to.equal(120_000);
    expect(parseRetryAfter('Wed, 21 Oct 2026 07:28:30 GMT', now)).to.equal(30_000);
    expect(parseRetryAfter('Wed, 21 Oct 2026 07:00:00 GMT', now)).to.equal(0);
    expect(parseRetryAfter('soon', now)).to.equal(undefined);
    expect(parseRetryAfter('1.5', now)).to.equal(undefined);
    expect(parseRetryAfter(undefined, now)).to.equal(undefined);
  });
});
