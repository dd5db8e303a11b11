import { DownloadError } from '../../errors/download-error.js';

/** A bucket and a key prefix: where an S3 store keeps its objects. */
export interface S3Location {
  bucket: string;
  /** Key prefix with no leading slash and, when not empty, one trailing slash: `run1/`. */
  prefix: string;
}

/** Bucket names S3 accepts (3–63 of lower-case letters, digits, `.` and `-`); MinIO and Ceph share the rule. */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Whether a `-o` value names a bucket rather than a folder. */
export function isS3Url(value: string): boolean {
  return /^s3:\/\//i.test(value);
}

/**
 * Read `s3://bucket/prefix`: the bucket must be a valid name, and every segment of the prefix a plain
 * name (no `.`, `..` or empty segment, no control character), so no key can be written outside the prefix.
 * @throws DownloadError `INVALID_CONFIG` with what is wrong
 */
export function parseS3Url(value: string): S3Location {
  const match = /^s3:\/\/([^/]*)(?:\/(.*))?$/i.exec(value);
  if (!match) throw invalid(value, 'it must look like s3://bucket/prefix');
  const bucket = match[1]!;
  if (!BUCKET_NAME.test(bucket) || bucket.includes('..')) throw invalid(value, `"${bucket}" is not a bucket name (3 to 63 lower-case letters, digits, "." and "-")`);
  const segments = (match[2] ?? '').split('/').filter((segment, index, all) => !(segment === '' && index === all.length - 1));
  if (segments.length === 1 && segments[0] === '') segments.pop();
  for (const segment of segments) {
    if (segment === '' || segment === '.' || segment === '..') throw invalid(value, 'its prefix has an empty, "." or ".." segment');
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f\\]/.test(segment)) throw invalid(value, 'its prefix has a control character or a backslash');
  }
  if (segments.join('/').length > 512) throw invalid(value, 'its prefix is longer than 512 characters');
  return { bucket, prefix: segments.length === 0 ? '' : `${segments.join('/')}/` };
}

/** `s3://bucket/prefix/`: how messages name the whole store, and what the workers' twin registry is keyed by. */
export function prefixUrl(location: S3Location): string {
  return `s3://${location.bucket}/${location.prefix}`;
}

/** `s3://bucket/prefix/key`: how messages and results name an object. */
export function objectUrl(location: S3Location, key: string): string {
  return `s3://${location.bucket}/${key}`;
}

function invalid(value: string, problem: string): DownloadError {
  return new DownloadError('INVALID_CONFIG', `Invalid S3 location ${JSON.stringify(value)}: ${problem}`);
}
