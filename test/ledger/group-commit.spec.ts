import { expect } from 'chai';
import { GroupCommit } from '../../src/ledger/group-commit.js';

/** A GroupCommit that records the size of every group it commits; `failing` items reject. */
function recorder(failing = new Set<number>(), timing = { quietMs: 1_000, maxWaitMs: 5_000 }): { groups: number[][]; commit: GroupCommit<number> } {
  const groups: number[][] = [];
  const commit = new GroupCommit<number>(
    (group) => {
      groups.push(group.map((w) => w.item));
      for (const waiter of group) {
        if (failing.has(waiter.item)) waiter.reject(new Error(`item ${waiter.item} refused`));
        else waiter.resolve();
      }
    },
    // By default a long quiet time: a test that gathered where it should not would wait for it, and fail on time.
    timing,
  );
  return { groups, commit };
}

describe('GroupCommit', () => {
  it('should commit a caller that waits for each result on the next turn, one at a time', async () => {
    const { groups, commit } = recorder();
    const started = performance.now();
    for (let i = 0; i < 20; i++) await commit.add(i);
    expect(groups).to.deep.equal(Array.from({ length: 20 }, (_, i) => [i]));
    expect(performance.now() - started, 'no gathering wait').to.be.below(900);
  });

  it('should commit what comes together in one group, and gather the next group after it', async () => {
    // Items 5 ms apart (more under load) stay within the quiet time.
    const { groups, commit } = recorder(undefined, { quietMs: 300, maxWaitMs: 10_000 });
    await Promise.all([1, 2, 3].map((i) => commit.add(i)));
    // Arriving a few milliseconds apart, within the quiet time: one group.
    const gathered = [commit.add(4)];
    await new Promise((resolve) => setTimeout(resolve, 5));
    gathered.push(commit.add(5));
    await new Promise((resolve) => setTimeout(resolve, 5));
    gathered.push(commit.add(6));
    await Promise.all(gathered);
    expect(groups).to.deep.equal([
      [1, 2, 3],
      [4, 5, 6],
    ]);
  });

  it('should commit a gathered group after maxWaitMs even while items keep coming', async () => {
    // Items come every 5 ms, never a quiet 1000: only maxWaitMs can end the group (and the feeding).
    const { groups, commit } = recorder(undefined, { quietMs: 1_000, maxWaitMs: 30 });
    await Promise.all([1, 2].map((i) => commit.add(i)));
    const started = performance.now();
    const first = commit.add(3);
    let n = 4;
    const feeding = setInterval(() => void commit.add(n++), 5);
    await first;
    clearInterval(feeding);
    commit.flush();
    expect(performance.now() - started).to.be.below(900);
    expect(groups[1]!.length).to.be.greaterThan(1);
  });

  it('should gather after a group of several until items stop coming, then go back to committing at once', async () => {
    const { groups, commit } = recorder(undefined, { quietMs: 5, maxWaitMs: 10_000 });
    await Promise.all([1, 2].map((i) => commit.add(i)));
    // One alone after a group of two: committed once nothing more came for quietMs.
    await commit.add(3);
    await commit.add(4);
    expect(groups).to.deep.equal([[1, 2], [3], [4]]);
  });

  it('should settle each item by its own outcome', async () => {
    const { commit } = recorder(new Set([2]));
    const outcomes = await Promise.allSettled([1, 2, 3].map((i) => commit.add(i)));
    expect(outcomes.map((o) => o.status)).to.deep.equal(['fulfilled', 'rejected', 'fulfilled']);
  });

  it('should commit what waits at flush, without waiting', async () => {
    const { groups, commit } = recorder();
    await Promise.all([1, 2].map((i) => commit.add(i)));
    const waiting = commit.add(3);
    commit.flush();
    await waiting;
    expect(groups).to.deep.equal([[1, 2], [3]]);
  });
});
