import * as path from 'node:path';

/** A name held for one download until {@link release}. */
export interface Reservation {
  /** Absolute path reserved. */
  readonly path: string;
  /** The path that was asked for; {@link path} is it or a suffixed variant. */
  readonly requested: string;
  /** Which variant {@link path} is: 0 for the name itself, N for `name_N.ext`. */
  readonly variant: number;
  /** Give the name back (after finalizing, or on failure). */
  release(): void;
}

/**
 * Hands out file names so that two downloads in this process never share one:
 * `name.ext`, then `name_1.ext`, `name_2.ext`… It asks nothing of the disk: a name
 * a file already holds is found when the `.part` is linked under it
 * (`linkNoClobber` gets EEXIST and takes the next variant), so a fresh
 * download costs no existence check (a thread-pool round trip and an ENOENT
 * exception per file, which showed in small-file profiles).
 */
export class PathReservations {
  private readonly held = new Set<string>();

  /** Reserve the first variant of `target` from `fromVariant` on that no download of this process holds. */
  reserve(target: string, fromVariant = 0): Reservation {
    for (let n = fromVariant; ; n++) {
      const candidate = n === 0 ? target : withSuffix(target, n);
      if (this.held.has(candidate)) continue;
      this.held.add(candidate);
      return this.handle(candidate, target, n);
    }
  }

  /** Whether a path is currently held. */
  isHeld(target: string): boolean {
    return this.held.has(target);
  }

  private handle(candidate: string, requested: string, variant: number): Reservation {
    let released = false;
    return {
      path: candidate,
      requested,
      variant,
      release: () => {
        if (!released) this.held.delete(candidate);
        released = true;
      },
    };
  }
}

/** `dir/name.ext` → `dir/name_N.ext`. */
export function withSuffix(target: string, n: number): string {
  const ext = path.extname(target);
  return `${target.slice(0, target.length - ext.length)}_${n}${ext}`;
}
