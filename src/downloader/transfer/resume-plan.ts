import type { Response } from 'got';
import { DownloadError } from '../../errors/download-error.js';
import { errorForStatus } from '../../errors/error-for-status.js';
import { contentEncoding, contentLength, header, type BodyEncoding } from '../../http/response-headers.js';
import { judgeStatus } from '../../http/status-rules.js';
import { parseContentRange } from '../../http/content-range.js';
import type { PartIndex } from '../disk/part-index.js';
import { discardPart, findResumable, ifRangeValidator, partPaths, type ResumeCandidate } from '../disk/part-file.js';

/**
 * Responses announced smaller than this get no sidecar: fetching them again costs less than the
 * bookkeeping (a sidecar write, rename and delete per file), which dominated small-file archives.
 */
export const RESUMABLE_MIN_BYTES = 1024 * 1024;

/** What to ask the server for: the whole file, or the bytes after a `.part` that can be continued. */
export interface RangePlan {
  /** The `.part` to continue, when one validates. */
  candidate: ResumeCandidate | undefined;
  /** `Range` and `If-Range` when continuing; empty otherwise. */
  headers: Record<string, string>;
}

/** Where the body goes and how big the file will be, decided from the response's status and headers. */
export interface WritePlan {
  /** Bytes of the `.part` that are kept. */
  offset: number;
  /** Size of the whole file, if known. */
  declaredSize: number | undefined;
  /** Content-Encoding to undo, if the server compressed despite `identity`. */
  encoding: BodyEncoding | undefined;
  /**
   * The kept `.part` is already the whole file (a run killed after its last byte, or while a bucket upload
   * was under way): the server refused the range past its end (416) and named the same size. No body follows.
   */
  complete?: boolean;
}

/**
 * Decide what to ask for. With resume on, a `.part` whose sidecar names this URL and a validator is
 * continued with `Range` + `If-Range` (a changed resource then answers 200, and starts again);
 * with resume off, any leftover `.part` is removed first. `parts` says where no `.part` can be.
 */
export async function planRange(partBase: string, url: string, resume: boolean, parts: PartIndex): Promise<RangePlan> {
  // A fresh download (the common case) asks the disk nothing.
  if (!(await parts.mayExist(partPaths(partBase).part))) return { candidate: undefined, headers: {} };
  if (!resume) {
    await discardPart(partBase);
    return { candidate: undefined, headers: {} };
  }
  const candidate = await findResumable(partBase, url);
  if (!candidate) return { candidate, headers: {} };
  return { candidate, headers: { range: `bytes=${candidate.offset}-`, 'if-range': candidate.validator } };
}

/**
 * Decide from the status and headers where the body goes. Only a 206 whose Content-Range starts
 * exactly at the kept offset (and names the same total) is appended; a 200 starts from zero.
 * @throws DownloadError for every status that brings no usable body
 */
export function planWrite(response: Response, candidate: ResumeCandidate | undefined, url: string, nowMs: number): WritePlan {
  const encoding = contentEncoding(response.headers);
  const length = encoding === undefined ? contentLength(response.headers) : undefined;
  const verdict = judgeStatus(response.statusCode, response.headers, nowMs);
  if (verdict.kind === 'whole') return { offset: 0, declaredSize: length, encoding };
  if (verdict.kind === 'range-refused' && candidate && isAlreadyWhole(response, candidate))
    return { offset: candidate.offset, declaredSize: candidate.offset, encoding: undefined, complete: true };
  if (verdict.kind !== 'partial') throw errorForStatus(url, response.statusCode, verdict);
  const requested = candidate?.offset ?? 0;
  const knownTotal = candidate?.state.contentLength;
  const range = parseContentRange(header(response.headers, 'content-range'));
  if (!range || range.start !== requested || (knownTotal !== undefined && range.total !== undefined && range.total !== knownTotal)) {
    throw new DownloadError('RANGE_MISMATCH', `Asked for bytes from ${requested}, server sent range ${header(response.headers, 'content-range') ?? '(none)'}: ${url}`, {
      url,
      retryable: true,
    });
  }
  return { offset: requested, declaredSize: range.total ?? knownTotal, encoding };
}

/**
 * A 416 to `Range: bytes=N-` says the file has N bytes (`Content-Range: bytes *\/N`, what curl and wget read as
 * "already fully retrieved"), where N is the `.part`'s size and the size the first response announced, and
 * the response's validator, when it sends one, is still the kept one. Then the `.part` is the whole file.
 */
function isAlreadyWhole(response: Response, candidate: ResumeCandidate): boolean {
  const match = /^\s*bytes\s+\*\/(\d+)\s*$/i.exec(header(response.headers, 'content-range') ?? '');
  if (!match || Number(match[1]) !== candidate.offset || candidate.state.contentLength !== candidate.offset) return false;
  const etag = header(response.headers, 'etag');
  if (etag !== undefined && candidate.state.etag !== undefined && etag !== candidate.state.etag) return false;
  const lastModified = header(response.headers, 'last-modified');
  return lastModified === undefined || candidate.state.lastModified === undefined || lastModified === candidate.state.lastModified;
}

/**
 * Whether a fresh `.part` is worth keeping for a later resume: resume is on, the server gave a
 * validator for If-Range, the body is not re-encoded, and it is not so small that fetching it
 * again costs less than the sidecar (`anySize`: keep it whatever its size, as for a bucket, where a
 * verified file waits in its `.part` for its upload).
 */
export function worthKeeping(response: Response, plan: WritePlan, resume: boolean, anySize = false): boolean {
  const validator = ifRangeValidator(header(response.headers, 'etag'), header(response.headers, 'last-modified'));
  const largeEnough = anySize || plan.declaredSize === undefined || plan.declaredSize >= RESUMABLE_MIN_BYTES;
  return resume && validator !== undefined && plan.encoding === undefined && largeEnough;
}
