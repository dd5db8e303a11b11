import { constants as fsConstants, promises as fs } from 'node:fs';
import * as path from 'node:path';

/** A name held for one download until {@link release}. */
export interface Reservation {
  /** Absolute path reserved. */
  readonly path: string;
  /** The path that was asked for; {@link path} is it or a suffixed variant. */
  readonly requested: string;
  /** Give the name back (after finalizing, or on failure). */
  release(): void;
}

/**
 * Hands out file names so that two downloads in this process never share one:
 * `name.ext`, then `name_1.ext`, `name_2.ext`… A name is free when no download
 * holds it and no file exists under it. Across processes, {@link linkNoClobber}
 * closes the remaining race at finalize time.
 */
export class PathReservations {
  private readonly held = new Set<string>();

  /** Reserve the first free variant of `target`. */
  async reserve(target: string): Promise<Reservation> {
    for (let n = 0; ; n++) {
      const candidate = n === 0 ? target : withSuffix(target, n);
      if (this.held.has(candidate)) continue;
      // Claim before the async check so a concurrent caller skips this candidate.
      this.held.add(candidate);
      if (!(await exists(candidate))) return this.handle(candidate, target);
      this.held.delete(candidate);
    }
  }

  /** Whether a path is currently held. */
  isHeld(target: string): boolean {
    return this.held.has(target);
  }

  private handle(candidate: string, requested: string): Reservation {
    let released = false;
    return {
      path: candidate,
      requested,
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

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file, fsConstants.F_OK);
    return true;
  } catch {
    return false;
  }
}
