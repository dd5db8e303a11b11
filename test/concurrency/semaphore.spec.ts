import { expect } from 'chai';
import { Semaphore } from '../../src/concurrency/semaphore.js';
import { flushMicrotasks } from '../support/manual-clock.js';

describe(Semaphore.name, () => {
  describe('.acquire', () => {
    it('should admit at most capacity holders and hand slots over in FIFO order', async () => {
      const semaphore = new Semaphore(2);
      const order: number[] = [];
      const releases = await Promise.all([semaphore.acquire(), semaphore.acquire()]);
      const waiting = [3, 4, 5].map((n) => semaphore.acquire().then((release) => (order.push(n), release)));
      await flushMicrotasks();
      expect(semaphore.inUse).to.equal(2);
      expect(semaphore.queued).to.equal(3);
      releases[0]!();
      releases[0]!(); // idempotent: a double release must not free two slots
      await flushMicrotasks();
      expect(order).to.deep.equal([3]);
      expect(semaphore.inUse).to.equal(2);
      releases[1]!();
      (await waiting[0]!)();
      await Promise.all(waiting.slice(1).map(async (p) => (await p)()));
      expect(order).to.deep.equal([3, 4, 5]);
      expect(semaphore.inUse).to.equal(0);
    });

    it('should serve waiters by priority, higher first, and in arrival order within a priority', async () => {
      const semaphore = new Semaphore(1);
      const release = await semaphore.acquire();
      const order: string[] = [];
      const waiters: [string, number][] = [
        ['low', -1],
        ['a0', 0],
        ['high', 5],
        ['b0', 0],
        ['top', 9],
        ['c5', 5],
      ];
      // Each waiter, once served, notes its name and gives the slot to the best one left.
      const served = waiters.map(([name, priority]) => semaphore.acquire(undefined, priority).then((next) => (order.push(name), next())));
      release();
      await Promise.all(served);
      expect(order).to.deep.equal(['top', 'high', 'c5', 'a0', 'b0', 'low']);
    });

    it('should reject a waiter whose signal aborts, and drop it from the queue', async () => {
      const semaphore = new Semaphore(1);
      const release = await semaphore.acquire();
      const controller = new AbortController();
      const waiting = semaphore.acquire(controller.signal);
      controller.abort(new Error('stop'));
      await expectRejection(waiting, 'stop');
      expect(semaphore.queued).to.equal(0);
      release();
      expect(semaphore.inUse).to.equal(0);
    });
  });

  it('should refuse a capacity below 1', () => {
    expect(() => new Semaphore(0)).to.throw(RangeError);
  });
});

async function expectRejection(promise: Promise<unknown>, message: string): Promise<void> {
  try {
    await promise;
  } catch (error) {
    expect((error as Error).message).to.equal(message);
    return;
  }
  expect.fail('expected a rejection');
}
