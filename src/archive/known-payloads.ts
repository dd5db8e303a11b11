import { promises as fs } from 'node:fs';
import * as path from 'node:path';

/** A payload already in the archive: the record a revisit refers to. */
export interface KnownPayload {
  recordId: string;
  uri: string;
  date: Date;
}

/**
 * The payloads the closed WARCs of `folder` hold in full (response records of a 200, resource records),
 * by digest, from their CDXJ indexes: a later run writes a `revisit` for the same bytes instead of a
 * second copy. Lines without a record id (indexes written by other tools) are passed over.
 */
export async function knownPayloads(folder: string): Promise<Map<string, KnownPayload>> {
  const known = new Map<string, KnownPayload>();
  const names = (await fs.readdir(folder).catch(() => [] as string[])).filter((name) => name.endsWith('.cdxj')).sort();
  for (const name of names) {
    const text = await fs.readFile(path.join(folder, name), 'utf8');
    for (const line of text.split('\n')) {
      const entry = parseLine(line);
      if (entry && !known.has(entry.digest)) known.set(entry.digest, entry.payload);
    }
  }
  return known;
}

/** A CDXJ line of a full payload, or `undefined`. */
function parseLine(line: string): { digest: string; payload: KnownPayload } | undefined {
  const json = line.indexOf('{');
  if (json === -1) return undefined;
  let fields: Record<string, unknown>;
  try {
    fields = JSON.parse(line.slice(json)) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const { digest, recordId, url, status } = fields;
  const timestamp = line.slice(0, json).trim().split(' ').at(-1) ?? '';
  if (typeof digest !== 'string' || typeof recordId !== 'string' || typeof url !== 'string') return undefined;
  // A 404 page or a revisit is not a payload to refer to.
  if (status !== undefined && status !== 200 && status !== '200') return undefined;
  if (fields.mime === 'warc/revisit') return undefined;
  const date = fromTimestamp(timestamp);
  return date ? { digest, payload: { recordId, uri: url, date } } : undefined;
}

/** `20240405184118` → that instant (UTC). */
function fromTimestamp(stamp: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})/.exec(stamp);
  return m ? new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!)) : undefined;
}
