import { Semaphore } from '../concurrency/semaphore.js';

/**
 * Slots for running downloads, as two bulkheads composed: one per host (`perHost` at once) inside one
 * for the whole downloader (`global` at once). A download takes its host's slot first, then a global
 * one, so a download waiting for a busy host never holds a slot another host could use.
 */
export class SlotScheduler {
  private readonly globalSlots: Semaphore;
  private readonly hostSlots = new Map<string, Semaphore>();

  constructor(
    global: number,
    private readonly perHost: number,
  ) {
    this.globalSlots = new Semaphore(global);
  }

  /**
   * Wait for a slot for `host`; resolves with the function that gives it back. Waits are served by
   * `priority` (higher first), then in order, and abort with `signal` (the slot is then never taken).
   */
  async enter(host: string, signal: AbortSignal, priority = 0): Promise<() => void> {
    const hostSlots = this.forHost(host);
    let releaseHost: (() => void) | undefined;
    try {
      releaseHost = await hostSlots.acquire(signal, priority);
      const releaseGlobal = await this.globalSlots.acquire(signal, priority);
      const leaveHost = releaseHost;
      return () => {
        releaseGlobal();
        leaveHost();
        this.forget(host, hostSlots);
      };
    } catch (error) {
      releaseHost?.();
      this.forget(host, hostSlots);
      throw error;
    }
  }

  /** Hosts with a semaphore right now (idle ones are forgotten). */
  get trackedHosts(): number {
    return this.hostSlots.size;
  }

  private forHost(host: string): Semaphore {
    let slots = this.hostSlots.get(host);
    if (!slots) {
      slots = new Semaphore(this.perHost);
      this.hostSlots.set(host, slots);
    }
    return slots;
  }

  /** Forget an idle host, so an archive touching 100k hosts does not keep 100k semaphores. */
  private forget(host: string, slots: Semaphore): void {
    if (slots.inUse === 0 && slots.queued === 0 && this.hostSlots.get(host) === slots) this.hostSlots.delete(host);
  }
}
