/** How {@link GroupCommit} gathers items into one commit. */
export interface GroupCommitTiming {
  /** While gathering, commit once no item has arrived for this long (ms). */
  quietMs: number;
  /** While gathering, commit at the latest this long after a group's first item (ms). */
  maxWaitMs: number;
}

/** The timing the SQLite ledger uses: see {@link GroupCommit}. */
export const LEDGER_GROUP_TIMING: GroupCommitTiming = { quietMs: 5, maxWaitMs: 25 };

/** One item waiting for its commit, and the promise its caller holds: the commit settles it. */
export interface Waiter<T> {
  item: T;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Gathers items committed together, each caller's promise settled once its item's commit has run.
 *
 * A commit costs the same for one item as for forty (the ledger writes every page it touched to its
 * log), so under load items are gathered: but a caller that waits for each result before it starts the
 * next must never wait for company that cannot come. So the first group, and every group after one that
 * held a single item, is committed on the next turn of the event loop. After a group of several items
 * (concurrent callers), the next group is gathered until no item has come for `quietMs`, or for at most
 * `maxWaitMs`; when the callers stop coming together, the groups shrink back to one and the waiting stops.
 * (Committing as soon as as many items as last time had come made the groups shrink under a steady stream:
 * 6 results a commit where 40 came in 20 ms.)
 */
export class GroupCommit<T> {
  private waiting: Array<Waiter<T>> = [];
  /** Items of the last group: after several, the next is gathered. */
  private lastGroupSize = 0;
  private groupStartedAt = 0;
  private lastArrivalAt = 0;
  private cancelScheduled: (() => void) | undefined;

  /**
   * @param commit commits a group, and resolves or rejects each of its waiters
   * @param timing see {@link GroupCommitTiming}
   */
  constructor(
    private readonly commit: (group: Array<Waiter<T>>) => void,
    private readonly timing: GroupCommitTiming = LEDGER_GROUP_TIMING,
  ) {}

  /** Add an item to the next commit; resolves once that commit settled it. */
  add(item: T): Promise<void> {
    this.lastArrivalAt = performance.now();
    return new Promise((resolve, reject) => {
      if (this.waiting.push({ item, resolve, reject }) > 1) return;
      this.groupStartedAt = this.lastArrivalAt;
      if (this.lastGroupSize > 1) this.after(Math.min(this.timing.quietMs, this.timing.maxWaitMs));
      else this.nextTurn();
    });
  }

  /** Commit what waits now (at close), and cancel the scheduled commit. */
  flush(): void {
    this.cancelScheduled?.();
    this.cancelScheduled = undefined;
    this.commitWaiting();
  }

  /** While gathering: commit when items stopped coming, or the group has waited long enough. */
  private check(): void {
    const now = performance.now();
    const quietFor = now - this.lastArrivalAt;
    const waitedFor = now - this.groupStartedAt;
    if (quietFor >= this.timing.quietMs || waitedFor >= this.timing.maxWaitMs) this.commitWaiting();
    else this.after(Math.min(this.timing.quietMs - quietFor, this.timing.maxWaitMs - waitedFor));
  }

  private nextTurn(): void {
    const immediate = setImmediate(() => {
      this.cancelScheduled = undefined;
      this.commitWaiting();
    });
    this.cancelScheduled = () => clearImmediate(immediate);
  }

  private after(ms: number): void {
    const timer = setTimeout(() => {
      this.cancelScheduled = undefined;
      this.check();
    }, ms);
    this.cancelScheduled = () => clearTimeout(timer);
  }

  private commitWaiting(): void {
    const group = this.waiting;
    this.waiting = [];
    if (group.length === 0) return;
    this.lastGroupSize = group.length;
    this.commit(group);
  }
}
