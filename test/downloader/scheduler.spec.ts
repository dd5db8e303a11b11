import { expect } from 'chai';
import { SlotScheduler } from '../../src/downloader/scheduler.js';
import { flushMicrotasks } from '../support/manual-clock.js';

describe(SlotScheduler.name, () => {
  const never = new AbortController().signal;

  describe('.enter', () => {
    it('should hold at most perHost downloads of one host, and at most global in all', async () => {
      const scheduler = new SlotScheduler(3, 2);
      const entered: string[] = [];
      const enter = (host: string): Promise<() => void> => scheduler.enter(host, never).then((leave) => (entered.push(host), leave));
      const leaves = [enter('a'), enter('a'), enter('a'), enter('b'), enter('b')];
      await flushMicrotasks();
      expect(entered).to.deep.equal(['a', 'a', 'b']);
      (await leaves[0]!)();
      await flushMicrotasks();
      // b's second already held b's host slot and queued first for a global one: it goes next (FIFO).
      expect(entered).to.deep.equal(['a', 'a', 'b', 'b']);
      (await leaves[1]!)();
      await flushMicrotasks();
      expect(entered).to.deep.equal(['a', 'a', 'b', 'b', 'a']);
    });

    it('should not let a download waiting for a busy host hold a global slot another host could use', async () => {
      const scheduler = new SlotScheduler(2, 1);
      await scheduler.enter('busy', never);
      const waiting = scheduler.enter('busy', never);
      const other = await Promise.race([scheduler.enter('other', never).then(() => 'entered'), flushMicrotasks().then(() => 'blocked')]);
      expect(other).to.equal('entered');
      void waiting;
    });

    it('should give nothing to an aborted wait, and forget a host nobody uses any more', async () => {
      const scheduler = new SlotScheduler(1, 1);
      const leave = await scheduler.enter('a', never);
      const controller = new AbortController();
      const aborted = scheduler.enter('b', controller.signal);
      controller.abort(new Error('stop'));
      expect(
        await aborted.then(
          () => 'entered',
          (error: Error) => error.message,
        ),
      ).to.equal('stop');
      leave();
      expect(scheduler.trackedHosts).to.equal(0);
      const again = await scheduler.enter('b', never);
      again();
      expect(scheduler.trackedHosts).to.equal(0);
    });
  });
});
