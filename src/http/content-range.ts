/** A parsed `Content-Range: bytes start-end/total` header. */
export interface ContentRange {
  start: number;
  end: number;
  /** Size of the whole resource; `undefined` when the server sent `*`. */
  total: number | undefined;
}

/** Parse a byte Content-Range; `undefined` when absent or malformed. */
export function parseContentRange(header: string | undefined): ContentRange | undefined {
  const match = /^\s*bytes\s+(\d+)-(\d+)\/(\d+|\*)\s*$/i.exec(header ?? '');
  if (!match) return undefined;
  const start = Number(match[1]);
  const end = Number(match[2]);
  const total = match[3] === '*' ? undefined : Number(match[3]);
  if (end < start || (total !== undefined && end >= total)) return undefined;
  return { start, end, total };
}
