import { promises as fs } from 'node:fs';

/**
 * `text` at `target` through `<target>.tmp`, flushed, then renamed: a crash leaves the old file or the new
 * one. The temporary name is fixed, so one a crash left is overwritten by the next write, not left to pile up.
 */
export async function writeAtomically(target: string, text: string): Promise<void> {
  const temp = `${target}.tmp`;
  const handle = await fs.open(temp, 'w');
  try {
    await handle.writeFile(text);
    await handle.sync();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await fs.rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await fs.rename(temp, target);
  } catch (error) {
    await fs.rm(temp, { force: true });
    throw error;
  }
}
