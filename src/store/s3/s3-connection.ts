import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { DownloadError } from '../../errors/download-error.js';
import { redactCredentials } from '../../http/redact.js';

/** The SDK module, loaded on first use: a run that writes to a folder never loads it. */
export type S3Sdk = typeof import('@aws-sdk/client-s3');

/** How to reach the bucket; credentials are never here (the AWS environment and shared config give them). */
export interface S3Endpoint {
  /** `http(s)://host:port` of an S3-compatible server (MinIO, Ceph RGW, R2…); empty for AWS itself. */
  endpoint: string;
  /** Region to sign for; empty: `AWS_REGION` / shared config, else `us-east-1`. */
  region: string;
}

/** A client and the SDK it came from (its command classes). */
export interface S3Connection {
  sdk: S3Sdk;
  client: S3Client;
}

/** The pinned SDK version the package was tested with: said in the message when it is missing. */
const SDK_PACKAGE = '@aws-sdk/client-s3@3.1169.0';

/**
 * Load the SDK and make a client. A custom endpoint gets path-style addressing (`host/bucket/key`), which
 * every S3-compatible server speaks. The SDK's own default checksums are asked for only when the API
 * requires one: the store sends its SHA-256 itself, and older servers refuse the SDK's chunked trailers.
 * Region and credentials come from the standard chain: `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`,
 * `AWS_PROFILE` and `~/.aws/credentials`/`config`, SSO, web identity, instance roles.
 * @throws DownloadError `STORE` when the SDK is not installed
 */
export async function connectS3(where: S3Endpoint): Promise<S3Connection> {
  // The SDK warns on Node 20 that its releases after early January 2027 need Node 22: the package pins a
  // release that supports Node 20 (docs/object-storage.md), so the warning says nothing a user can act on.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  let sdk: S3Sdk;
  try {
    sdk = await import('@aws-sdk/client-s3');
  } catch (error) {
    throw new DownloadError('STORE', `Writing to S3 needs ${SDK_PACKAGE}, which is not installed: npm install ${SDK_PACKAGE}`, { cause: error });
  }
  const config: S3ClientConfig = {
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 5,
  };
  const endpoint = where.endpoint || endpointFromEnvironment() || '';
  if (endpoint !== '') {
    config.endpoint = endpoint;
    config.forcePathStyle = true;
  }
  const region = where.region || process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION;
  // The SDK reads the shared config's region itself; an S3-compatible server rarely cares, so sign for us-east-1.
  if (region) config.region = region;
  else if (endpoint !== '') config.region = 'us-east-1';
  return { sdk, client: new sdk.S3Client(config) };
}

/**
 * The server the AWS environment names for S3 (`AWS_ENDPOINT_URL_S3`, else `AWS_ENDPOINT_URL`), if any: it counts
 * as `--s3-endpoint` when that is not given, path-style addressing included (such servers want it).
 */
export function endpointFromEnvironment(): string | undefined {
  return process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL || undefined;
}

/** S3 error names that mean the thing asked about is not there. */
const ABSENT = new Set(['NotFound', 'NoSuchKey', 'NoSuchUpload']);

/** Whether an SDK error says the object (or upload) does not exist. */
export function isAbsent(error: unknown): boolean {
  const named = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return ABSENT.has(named.name ?? '') || named.$metadata?.httpStatusCode === 404;
}

/**
 * Whether an SDK error says the server does not implement the call: s3rver answers ListParts and
 * AbortMultipartUpload with 405 MethodNotAllowed, ListMultipartUploads with 501 NotImplemented.
 */
export function isNotImplemented(error: unknown): boolean {
  const named = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  const status = named.$metadata?.httpStatusCode;
  return named.name === 'NotImplemented' || named.name === 'MethodNotAllowed' || status === 501 || status === 405;
}

/**
 * An SDK failure as one coded error: what was being done, on which object, and the server's word for it,
 * with any credentials in the text removed. Throttling and server errors are retryable.
 */
export function storeError(action: string, target: string, error: unknown): DownloadError {
  const named = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = named.$metadata?.httpStatusCode;
  const reason =
    named.name && named.name !== 'Error' ? `${named.name}${named.message && named.message !== named.name ? `: ${named.message}` : ''}` : (named.message ?? String(error));
  const retryable = status === undefined || status >= 500 || status === 429 || named.name === 'SlowDown';
  return new DownloadError('STORE', redactCredentials(`${action} ${target} failed: ${reason}${status === undefined ? '' : ` (HTTP ${status})`}`), { cause: error, retryable });
}
