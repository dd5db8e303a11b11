/**
 * Turns per key: work under one key runs one at a time, in call order; different keys run freely.
 * The downloader takes a turn per URL (the same URL listed twice is fetched once: the second turn
 * finds it saved) and per SHA-256 while placing (two identical files finishing together become one
 * file and a link, because the second sees the first recorded).
 */
export class KeyedTurns {
  private readonly tails = new Map<string, Promise<void>>();

  /** Wait for every earlier turn of `key`; resolves with the function that ends this one. */
  async take(key: string): Promise<() => void> {
    const before = this.tails.get(key);
    let end!: () => void;
    const mine = new Promise<void>((resolve) => (end = resolve));
    const tail = before ? before.then(() => mine) : mine;
    this.tails.set(key, tail);
    if (before) await before;
    return () => {
      end();
      // The last turn out forgets the key, so a 100k-item run keeps no map entry per finished item.
      if (this.tails.get(key) === tail) this.tails.delete(key);
    };
  }
}
