import { createHash } from 'node:crypto';
import { closest } from '../config/closest-name.js';
import { DownloadError } from '../errors/download-error.js';
import { serviceToken, type ServiceToken } from '../service-token.js';
import { sanitizeSegment } from './sanitize.js';

/** The template today's names follow: `12345_0_1a2b3c4d.jpg`. */
export const DEFAULT_FILENAME_TEMPLATE = '{postId}_{index}_{hash8}.{ext}';

/** Every field a template may name, in the order messages list them. */
export const FILENAME_TEMPLATE_FIELDS = ['blog', 'postId', 'index', 'mediaType', 'date', 'hash8', 'ext'] as const;

/** A field of a file name template, written `{blog}`, `{postId}`… */
export type FilenameTemplateField = (typeof FILENAME_TEMPLATE_FIELDS)[number];

/**
 * What a field gives when the item has no usable value for it (nothing left once sanitized): a URL-list
 * item has no blog and no date. `{index}`, `{hash8}` and `{ext}` always have a value.
 */
export const FILENAME_TEMPLATE_FALLBACKS = Object.freeze({
  blog: 'unknown-blog',
  postId: 'post',
  mediaType: 'media',
  date: 'undated',
  ext: 'bin',
});

/** Folders a template may nest its files in, below the output folder. */
export const MAX_TEMPLATE_FOLDERS = 8;

/** Longest file or folder name a template may make (values at their usual widths): {@link resolveInside}'s limit. */
const MAX_SEGMENT_BYTES = 240;

/**
 * Widths counted for each field when checking a template against {@link MAX_SEGMENT_BYTES}: at most 64 for
 * sanitized text, the digits of the largest safe integer for `{index}`, and the usual extension and media type
 * widths (a longer one from a custom hook is still refused per item by `resolveInside`).
 */
const FIELD_WIDTH: Readonly<Record<FilenameTemplateField, number>> = { blog: 64, postId: 64, index: 16, mediaType: 5, date: 10, hash8: 8, ext: 5 };

/** Windows device names, also with an extension (`CON.jpg`): such a file cannot be opened there. */
const WINDOWS_DEVICE = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\.|$)/i;

/** The item fields a name is rendered from: a {@link FilenameContext} is one. */
export interface FilenameTemplateItem {
  /** Media URL (credentials already redacted): `{hash8}` is the first 8 hex digits of its MD5. */
  url: string;
  /** `{postId}`. */
  postId: string;
  /** `{mediaType}`. */
  mediaType: string;
  /** `{index}`: a whole number ≥ 0. */
  index: number;
  /** `{blog}` is `metadata.blog`; `{date}` is `metadata.timestamp` (seconds), else the start of `metadata.date`. */
  metadata?: Record<string, unknown>;
}

/** Token of the parsed {@link FilenameTemplate} the default {@link FilenameGenerator} names files with (bound from the config). */
export const FilenameTemplate: ServiceToken<FilenameTemplate> = serviceToken('FilenameTemplate');

/**
 * A file name template, parsed and checked once ({@link parseFilenameTemplate}). Literal text is the user's
 * and kept; each field becomes one sanitized segment of `[A-Za-z0-9_-]`, so no value can add a folder, climb
 * out of the output folder (`..`), hide a file, or name the state folder `.tumblr-dl/`.
 */
export interface FilenameTemplate {
  /** The template as written. */
  readonly source: string;
  /** The fields it uses. */
  readonly fields: ReadonlySet<FilenameTemplateField>;
  /**
   * Whether two media can get one name: the template has no `{hash8}`, and lacks `{postId}` or `{index}`.
   * The downloader still never overwrites (a later one is saved as `name_1.ext`), but the name alone no
   * longer tells which URL a file holds.
   */
  readonly mayCollide: boolean;
  /**
   * Whether a name says which media it holds: the template has `{postId}`, `{index}` and `{hash8}` (as the
   * default has). Only then may a file found at an item's name be taken for the item without a request
   * (`onExisting: 'skip'`): `{hash8}` alone is 32 bits, and at 100k media two URLs share one.
   */
  readonly identifiesMedia: boolean;
  /**
   * The name of an item, relative to the output folder, with `extension` (the bytes' format) as `{ext}`.
   * @throws DownloadError `UNSAFE_PATH` when `index` is not a whole number ≥ 0
   */
  render(item: FilenameTemplateItem, extension: string): string;
}

/**
 * Parse and check a template: literal text and the fields {@link FILENAME_TEMPLATE_FIELDS} in braces, `/`
 * between folders, the file name ending in `.{ext}`.
 * @throws DownloadError `INVALID_CONFIG`, naming the problem and the known fields
 */
export function parseFilenameTemplate(text: string): FilenameTemplate {
  const parsed = analyse(text);
  if (typeof parsed === 'string') throw new DownloadError('INVALID_CONFIG', `File name template ${parsed}`);
  return parsed;
}

/**
 * What is wrong with a template, worded to follow its name (`"{foo}.{ext}" has an unknown field {foo}…`),
 * or `undefined` when it is usable.
 */
export function filenameTemplateProblem(text: unknown): string | undefined {
  const parsed = analyse(text);
  return typeof parsed === 'string' ? parsed : undefined;
}

/**
 * The line a command prints at start-up when a template can give two media one name, or `undefined`.
 * The suffix is the downloader's: `name.ext`, then `name_1.ext`, `name_2.ext`…
 */
export function collisionWarning(template: FilenameTemplate, flag = '--name'): string | undefined {
  if (!template.mayCollide) return undefined;
  return `tumblr-dl: ${flag} '${template.source}' can give two media one name; later ones get a numbered suffix (name_1.ext)`;
}

/** One piece of a segment: text as written, or a field. */
type Part = { literal: string } | { field: FilenameTemplateField };

const FIELD_SET: ReadonlySet<string> = new Set(FILENAME_TEMPLATE_FIELDS);
const FIELD_LIST = FILENAME_TEMPLATE_FIELDS.map((f) => `{${f}}`).join(', ');

/** The parsed template, or its problem as a predicate of the quoted template. */
function analyse(text: unknown): FilenameTemplate | string {
  if (typeof text !== 'string') return `must be a string, got ${JSON.stringify(text)}`;
  const problem = (what: string): string => `${JSON.stringify(text)} ${what}; the fields are ${FIELD_LIST}`;
  if (text === '') return problem('is empty');
  if (text.includes('\\')) return problem('has a backslash: folders are separated by /');
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (/[\u0000-\u001f\u007f]/.test(text)) return problem('has a control character (NUL, a line break, a tab…)');
  if (text.startsWith('/')) return problem('starts with /: names are relative to the output folder');
  // An archive outlives the machine it was made on: a name Windows cannot hold (a drive colon, a wildcard) is refused everywhere.
  const unportable = /[<>:"|?*]/.exec(text);
  if (unportable) return problem(`has ${JSON.stringify(unportable[0])}, which Windows does not allow in a name`);
  const segments: Part[][] = [];
  const rawSegments = text.split('/');
  if (rawSegments.length - 1 > MAX_TEMPLATE_FOLDERS) return problem(`has ${rawSegments.length - 1} folder levels; at most ${MAX_TEMPLATE_FOLDERS} are allowed`);
  for (const raw of rawSegments) {
    if (raw === '') return problem('has an empty folder name (// or a / at the end)');
    const parts = parseSegment(raw);
    if (typeof parts === 'string') return problem(parts);
    const first = parts[0]!;
    if ('literal' in first && first.literal.startsWith('.')) {
      return problem(`has a name starting with "." (${JSON.stringify(raw)}): ".", ".." and hidden names are not allowed`);
    }
    const last = parts.at(-1)!;
    if ('literal' in last && /[ .]$/.test(last.literal) && raw !== rawSegments.at(-1)) {
      return problem(`has a folder name ending in a space or "." (${JSON.stringify(raw)}), which Windows drops`);
    }
    const width = parts.reduce((sum, part) => sum + ('literal' in part ? Buffer.byteLength(part.literal) : FIELD_WIDTH[part.field]), 0);
    if (width > MAX_SEGMENT_BYTES) return problem(`can make a name of ${width} bytes (${JSON.stringify(raw)}); at most ${MAX_SEGMENT_BYTES} fit`);
    segments.push(parts);
  }
  const [beforeExt, ext] = segments.at(-1)!.slice(-2);
  if (!(ext !== undefined && 'field' in ext && ext.field === 'ext' && beforeExt !== undefined && 'literal' in beforeExt && beforeExt.literal.endsWith('.'))) {
    return problem('must end in .{ext}: the extension comes from the bytes (a JPEG is saved as .jpg whatever its URL says)');
  }
  return new ParsedFilenameTemplate(text, segments);
}

/** The parts of one folder or file name, or the problem with it. */
function parseSegment(raw: string): Part[] | string {
  const parts: Part[] = [];
  let literal = '';
  for (let i = 0; i < raw.length; i++) {
    const char = raw[i]!;
    if (char === '}') return 'has a } with no {';
    if (char !== '{') {
      literal += char;
      continue;
    }
    const end = raw.indexOf('}', i + 1);
    const name = end === -1 ? undefined : raw.slice(i + 1, end);
    if (name === undefined || name.includes('{')) return 'has a { with no }';
    if (!FIELD_SET.has(name)) {
      const guess = closest(name, [...FILENAME_TEMPLATE_FIELDS]);
      return `has an unknown field {${name}}${guess === undefined ? '' : ` (did you mean {${guess}}?)`}`;
    }
    if (literal !== '') parts.push({ literal });
    literal = '';
    parts.push({ field: name as FilenameTemplateField });
    i = end;
  }
  if (literal !== '') parts.push({ literal });
  return parts;
}

class ParsedFilenameTemplate implements FilenameTemplate {
  readonly fields: ReadonlySet<FilenameTemplateField>;
  readonly mayCollide: boolean;
  readonly identifiesMedia: boolean;

  constructor(
    readonly source: string,
    private readonly segments: readonly (readonly Part[])[],
  ) {
    this.fields = new Set(segments.flatMap((parts) => parts.flatMap((part) => ('field' in part ? [part.field] : []))));
    this.mayCollide = !this.fields.has('hash8') && !(this.fields.has('postId') && this.fields.has('index'));
    this.identifiesMedia = this.fields.has('hash8') && this.fields.has('postId') && this.fields.has('index');
  }

  render(item: FilenameTemplateItem, extension: string): string {
    const { url, index } = item;
    if (!Number.isSafeInteger(index) || index < 0) {
      throw new DownloadError('UNSAFE_PATH', `Media index must be a whole number ≥ 0, got ${String(index)}`, { url });
    }
    const values = new Map<FilenameTemplateField, string>();
    const value = (field: FilenameTemplateField): string => {
      let known = values.get(field);
      if (known === undefined) values.set(field, (known = fieldValue(field, item, extension)));
      return known;
    };
    return this.segments
      .map((parts) => {
        const segment = parts.map((part) => ('literal' in part ? part.literal : value(part.field))).join('');
        // Literal text next to a value can spell a device name (`co{blog}` with blog `n`): one is never made.
        return WINDOWS_DEVICE.test(segment) ? `_${segment}` : segment;
      })
      .join('/');
  }
}

/** One field's value, sanitized as one segment. */
function fieldValue(field: FilenameTemplateField, item: FilenameTemplateItem, extension: string): string {
  const fallbacks = FILENAME_TEMPLATE_FALLBACKS;
  switch (field) {
    case 'blog': {
      const blog = metadataOf(item).blog;
      return sanitizeSegment(typeof blog === 'string' ? blog : '', fallbacks.blog);
    }
    case 'postId':
      return sanitizeSegment(String(item.postId), fallbacks.postId);
    case 'index':
      return String(item.index);
    case 'mediaType':
      return sanitizeSegment(String(item.mediaType), fallbacks.mediaType);
    case 'date':
      return sanitizeSegment(dateOf(metadataOf(item)) ?? '', fallbacks.date);
    case 'hash8':
      return createHash('md5').update(item.url).digest('hex').slice(0, 8);
    case 'ext':
      return sanitizeSegment(String(extension), fallbacks.ext);
  }
}

/** The item's metadata when it is an object (a JavaScript caller may pass anything). */
function metadataOf(item: FilenameTemplateItem): Record<string, unknown> {
  return typeof item.metadata === 'object' && item.metadata !== null ? item.metadata : {};
}

/** `YYYY-MM-DD` (UTC) of `metadata.timestamp` (seconds since the epoch), else of a `metadata.date` that starts with one. */
function dateOf(metadata: Record<string, unknown>): string | undefined {
  const { timestamp, date } = metadata;
  if (typeof timestamp === 'number' && Number.isFinite(timestamp)) {
    const time = new Date(timestamp * 1000);
    const year = time.getUTCFullYear();
    if (Number.isFinite(time.getTime()) && year >= 0 && year <= 9999) return time.toISOString().slice(0, 10);
  }
  if (typeof date === 'string') {
    const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(date);
    if (match) {
      const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
      const time = new Date(Date.UTC(year, month - 1, day));
      // `2013-02-30` is no day: Date would roll it over to March.
      if (time.getUTCFullYear() === year && time.getUTCMonth() === month - 1 && time.getUTCDate() === day) return match[0];
    }
  }
  return undefined;
}
