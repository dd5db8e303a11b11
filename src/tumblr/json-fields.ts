/**
 * Readers for fields of parsed JSON that may hold anything: Tumblr posts come from an API, an archive or a
 * hand-edited file, so a field is used only when it has the type it should, and ignored otherwise.
 */

/** A JSON object (not `null`, not an array): the only kind of value whose fields are read. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A field that is a non-empty string, else `undefined`. */
export function stringField(record: Record<string, unknown>, key: string): string | undefined {
  const value = record[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** A field that is a finite number, else `undefined` (`"1280"` is not a width). */
export function numberField(record: Record<string, unknown>, key: string): number | undefined {
  const value = record[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** A field that is an object, else `undefined`. */
export function recordField(record: Record<string, unknown>, key: string): Record<string, unknown> | undefined {
  const value = record[key];
  return isRecord(value) ? value : undefined;
}

/** A field that is an array, else an empty one: a missing list and a malformed one give nothing alike. */
export function arrayField(record: Record<string, unknown>, key: string): unknown[] {
  const value = record[key];
  return Array.isArray(value) ? value : [];
}

/** A width or height: a field that is a number above 0, else `undefined` (a size of 0 or less is no size). */
export function dimensionField(record: Record<string, unknown>, key: string): number | undefined {
  const value = numberField(record, key);
  return value !== undefined && value > 0 ? value : undefined;
}
