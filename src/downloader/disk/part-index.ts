import { promises as fs } from 'node:fs';
import * as path from 'node:path';

/**
 * Which `.part` files (and their `.part.json` sidecars) may be on disk, so a fresh download need not ask
 * (a failed `stat` per file: a thread-pool round trip and an ENOENT exception, visible in small-file
 * profiles). Each directory is listed once, on first use, keeping only those names; the `.part` files this
 * process keeps for resuming are added as they are kept. The folder lock means no other run adds one
 * meanwhile. A directory that cannot be listed answers "maybe" for every name, and the disk decides.
 */
export class PartIndex {
  private readonly directories = new Map<string, Promise<Set<string> | undefined>>();

  /** Whether a `.part` (or a sidecar) may stand at `part`: `false` only when it certainly does not. */
  async mayExist(part: string): Promise<boolean> {
    const names = await this.listing(path.dirname(part));
    return names === undefined || names.has(path.basename(part));
  }

  /** Note a `.part` this process keeps on disk for a later attempt or run. */
  async kept(part: string): Promise<void> {
    (await this.listing(path.dirname(part)))?.add(path.basename(part));
  }

  private listing(directory: string): Promise<Set<string> | undefined> {
    let names = this.directories.get(directory);
    if (!names) {
      names = partNamesIn(directory).catch(
        // Not there yet: nothing in it. Unreadable: no answer, ask the disk each time.
        (error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? new Set<string>() : undefined),
      );
      this.directories.set(directory, names);
    }
    return names;
  }
}

/**
 * The `.part` and `.part.json` names in a directory, read entry by entry: an archive folder of a
 * million files is never held in memory as one array of names, only its few partial files.
 */
async function partNamesIn(directory: string): Promise<Set<string>> {
  const names = new Set<string>();
  for await (const entry of await fs.opendir(directory, { bufferSize: 256 })) {
    if (entry.name.endsWith('.part') || entry.name.endsWith('.part.json')) names.add(entry.name);
  }
  return names;
}
