import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { cdxjTimestampToIso, parseCdxjLine } from './warc-files.js';

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
  const entry = parseCdxjLine(line);
  if (!entry) return undefined;
  const { digest, recordId, url, status, mime } = entry.fields;
  if (typeof digest !== 'string' || typeof recordId !== 'string' || typeof url !== 'string') return undefined;
  // A 404 page or a revisit is not a payload to refer to.
  if (status !== undefined && status !== 200 && status !== '200') return undefined;
  if (mime === 'warc/revisit') return undefined;
  return { digest, payload: { recordId, uri: url, date: new Date(cdxjTimestampToIso(entry.timestamp)) } };
}
