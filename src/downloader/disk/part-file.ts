import { promises as fs } from 'node:fs';

/** What the sidecar `<name>.part.json` remembers about a partial transfer. */
export interface PartState {
  /** URL the bytes came from. */
  url: string;
  /** Strong ETag of the response that produced the bytes, if any. */
  etag?: string;
  /** Last-Modified of that response, if any. */
  lastModified?: string;
  /** Size of the whole resource as the server announced it. */
  contentLength?: number;
  /** Content-Type of that response, if any: a file found whole on a later run (a 416) keeps it. */
  contentType?: string;
  /** Bytes on disk when the sidecar was written (the `.part` file's size is the truth). */
  bytes: number;
}

/** A partial transfer found on disk that may be continued. */
export interface ResumeCandidate {
  /** Bytes already on disk. */
  offset: number;
  /** Value for If-Range: the strong ETag, else Last-Modified. */
  validator: string;
  /** The sidecar it came from. */
  state: PartState;
}

/** Paths of the partial file and its sidecar, named after `partBase` (the path reserved for the file). */
export function partPaths(partBase: string): { part: string; sidecar: string; sidecarTemp: string } {
  return { part: `${partBase}.part`, sidecar: `${partBase}.part.json`, sidecarTemp: `${partBase}.part.json.tmp` };
}

/**
 * The value to send in If-Range, or `undefined` when the response cannot be
 * validated. Weak ETags are not allowed in If-Range (RFC 9110 §13.1.5).
 */
export function ifRangeValidator(etag: string | undefined, lastModified: string | undefined): string | undefined {
  if (etag && !etag.startsWith('W/')) return etag;
  return lastModified || undefined;
}

/**
 * Look for a `.part` that can be continued: it must exist, be non-empty, and
 * have a sidecar naming the same URL with a validator. A `.part` that fails
 * these is removed (with its sidecar) so a fresh transfer starts clean.
 */
export async function findResumable(partBase: string, url: string): Promise<ResumeCandidate | undefined> {
  const { part } = partPaths(partBase);
  // The common case, a fresh download, costs one failed stat. A stale sidecar left without its part is
  // harmless: whatever part later pairs with it is only appended to when If-Range still matches.
  const size = await fileSize(part);
  if (size === undefined) return undefined;
  const state = await readPartState(partBase);
  const validator = state ? ifRangeValidator(state.etag, state.lastModified) : undefined;
  const tooLong = state?.contentLength !== undefined && size > state.contentLength;
  if (size === 0 || !state || state.url !== url || !validator || tooLong) {
    await discardPart(partBase);
    return undefined;
  }
  return { offset: size, validator, state };
}

/** Write the sidecar atomically (temp file + rename) so a crash never leaves half a JSON. */
export async function writeSidecar(partBase: string, state: PartState): Promise<void> {
  // A fixed temp name, not one per process: a process killed between write and rename leaves a temp
  // file that the next run overwrites or discardPart removes, instead of one nobody knows to delete.
  const { sidecar, sidecarTemp: temp } = partPaths(partBase);
  try {
    await fs.writeFile(temp, JSON.stringify(state));
    await fs.rename(temp, sidecar);
  } catch (error) {
    // A full disk can fail the write half-way: leave no stray temp file behind.
    await fs.rm(temp, { force: true });
    throw error;
  }
}

/** Delete the `.part`, its sidecar and a half-written sidecar; missing files are fine. */
export async function discardPart(partBase: string): Promise<void> {
  const { part, sidecar, sidecarTemp } = partPaths(partBase);
  await Promise.all([fs.rm(part, { force: true }), fs.rm(sidecar, { force: true }), fs.rm(sidecarTemp, { force: true })]);
}

async function fileSize(file: string): Promise<number | undefined> {
  try {
    return (await fs.stat(file)).size;
  } catch {
    return undefined;
  }
}

/** The sidecar of `partBase`'s `.part`, or `undefined` when missing or unreadable. */
export async function readPartState(partBase: string): Promise<PartState | undefined> {
  try {
    const parsed = JSON.parse(await fs.readFile(partPaths(partBase).sidecar, 'utf8')) as Partial<PartState>;
    return typeof parsed.url === 'string' && typeof parsed.bytes === 'number' ? (parsed as PartState) : undefined;
  } catch {
    return undefined;
  }
}
