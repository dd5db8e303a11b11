import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { resolveDownloaderConfig, type DownloaderConfig, type StoreConfig } from '../config/downloader-config.js';
import { DownloadError } from '../errors/download-error.js';
import { describeCheck, RecordedFileChecker, type FileCheck, type RecordedFile } from '../ledger/check-recorded-file.js';
import type { SavedFile } from '../ledger/download-ledger.js';
import { BucketStore } from '../store/s3/bucket-store.js';
import { LocalTwinRegistry } from '../store/twin-registry.js';
import { isS3Url, parseS3Url } from '../store/s3/s3-location.js';
import { endpointFromEnvironment } from '../store/s3/s3-connection.js';
import { isInside, SqliteDownloadLedger } from '../ledger/sqlite-download-ledger.js';
import { EXIT } from './exit-codes.js';
import { parseCommandArgs, UsageError } from './command-args.js';
import { defaultLedgerPath, defaultStateFolder } from './fetch-options.js';

/** The `verify` usage text. */
export const VERIFY_USAGE = `Usage: tumblr-dl verify <dir> [--ledger <file>] [--quick]
       tumblr-dl verify s3://bucket/prefix [--state <dir>] [--deep]

Re-hashes every file the ledger records as saved under <dir> (every name,
--force copies included) and compares it with the SHA-256 recorded when it was
verified. Prints one line per damaged or missing file, then a summary. A
symbolic link at a recorded name is damage. Downloads started and never
finished are listed too. The ledger's paths are relative to <dir>: a moved or
copied archive verifies the same.

A bucket's objects are checked against the ledger of their state folder: by
size and the SHA-256 each object carries (stored on upload, checked by the
server on arrival), or with --deep by reading and hashing every object.

Options:
      --ledger <file>   the ledger (default <dir>/.tumblr-dl/ledger.sqlite)
      --quick           compare sizes only, without reading the files
      --state <dir>     a bucket's state folder (default: as fetch chose it)
      --s3-endpoint <url>
                        S3-compatible server, http(s)://host:port
      --s3-region <name>
                        region to sign for (default: AWS_REGION)
      --deep            read every object and hash its bytes
  -h, --help            this text

Exit codes: 0 every file intact, 1 some damaged, missing or outside <dir>,
2 bad usage or no ledger.`;

/** What `tumblr-dl verify` was asked to do. */
export interface VerifyOptions {
  /** The folder, or a bucket's state folder. */
  dir: string;
  ledgerPath: string;
  quick: boolean;
  /** The bucket checked, when the objects live in one. */
  bucket?: Pick<StoreConfig, 'url' | 'endpoint' | 'region'>;
  /** Read and hash every object of a bucket (a folder's files are always read unless `quick`). */
  deep: boolean;
}

/** Parse `verify` arguments (after the subcommand). */
export function parseVerifyOptions(args: string[]): VerifyOptions {
  const flags = {
    ledger: { type: 'string' },
    quick: { type: 'boolean' },
    deep: { type: 'boolean' },
    state: { type: 'string' },
    's3-endpoint': { type: 'string' },
    's3-region': { type: 'string' },
  } as const;
  const { values, positional: target } = parseCommandArgs(args, flags, 'dir');
  if (values.quick && values.deep) throw new UsageError('give --quick or --deep, not both');
  if (!isS3Url(target)) {
    const bucketFlag = (['state', 's3-endpoint', 's3-region', 'deep'] as const).find((flag) => values[flag] !== undefined);
    if (bucketFlag) throw new UsageError(`--${bucketFlag} is for a bucket (verify s3://bucket/prefix)`);
    return { dir: path.resolve(target), ledgerPath: path.resolve(values.ledger ?? defaultLedgerPath(target)), quick: values.quick ?? false, deep: false };
  }
  let location;
  try {
    location = parseS3Url(target);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const endpoint = values['s3-endpoint'] ?? endpointFromEnvironment() ?? '';
  const dir = path.resolve(values.state ?? defaultStateFolder(location, endpoint));
  return {
    dir,
    ledgerPath: path.resolve(values.ledger ?? defaultLedgerPath(dir)),
    quick: values.quick ?? false,
    deep: values.deep ?? false,
    bucket: { url: target, endpoint, region: values['s3-region'] ?? '' },
  };
}

/**
 * `tumblr-dl verify <dir>`: is every file the ledger says was saved still
 * byte for byte what was saved? Files are checked one at a time, in ledger order,
 * with blocking calls (see {@link RecordedFileChecker}): the sweep has nothing
 * else to do, and a thread-pool round trip per call cost more than the call
 * itself. A large file is still read a chunk ahead of its hash.
 */
export async function verifyCommand(options: VerifyOptions, out: NodeJS.WritableStream, err: NodeJS.WritableStream = out): Promise<number> {
  if (!existsSync(options.ledgerPath)) {
    err.write(`tumblr-dl verify: no ledger at ${options.ledgerPath} (fetch writes one; see --ledger)\n`);
    return EXIT.usage;
  }
  let ledger: SqliteDownloadLedger;
  let checker: Checker;
  try {
    const config = resolveDownloaderConfig({ outputDir: options.dir, ledger: { path: options.ledgerPath }, ...(options.bucket ? { store: options.bucket } : {}) });
    checker = checkerFor(config, options);
    ledger = new SqliteDownloadLedger(config);
    try {
      ledger.assertIntact();
    } catch (error) {
      await ledger.close();
      throw error;
    }
  } catch (error) {
    err.write(`tumblr-dl verify: ${(error as Error).message}\n`);
    return EXIT.usage;
  }
  try {
    await checker.ready();
  } catch (error) {
    await Promise.all([ledger.close(), checker.close()]);
    err.write(`tumblr-dl verify: cannot read ${options.bucket?.url ?? options.dir}: ${(error as Error).message}\n`);
    return EXIT.usage;
  }
  const tally = { intact: 0, damaged: 0, missing: 0, outside: 0 };
  const report = (file: SavedFile, check: FileCheck): void => {
    const record = { bytes: file.bytes, sha256: file.sha256 };
    if (check.state === 'intact') tally.intact++;
    else if (check.state === 'missing') {
      tally.missing++;
      out.write(`MISSING  ${path.relative(options.dir, file.path)}  (${file.url})\n`);
    } else {
      tally.damaged++;
      out.write(`DAMAGED  ${path.relative(options.dir, file.path)}  ${describeCheck(check, record)}  (${file.url})\n`);
    }
  };
  try {
    // A bucket answers over the network: several objects are asked about at once, and reported in ledger order.
    const window: Array<{ file: SavedFile; check: Promise<FileCheck> }> = [];
    // Every name ever saved, not only each URL's latest: a --force run adds names, and each is checked.
    for await (const file of ledger.files()) {
      if (!isInside(options.dir, file.path)) {
        // A record this folder cannot vouch for: the ledger came from elsewhere, or the archive moved before its paths were relative.
        tally.outside++;
        continue;
      }
      window.push({ file, check: checker.check({ filename: file.path, bytes: file.bytes, sha256: file.sha256 }) });
      // The window's checks run while the oldest is awaited; an early failure must not go unhandled meanwhile.
      window.at(-1)!.check.catch(() => undefined);
      if (window.length >= checker.concurrency) {
        const oldest = window.shift()!;
        report(oldest.file, await oldest.check);
      }
    }
    for (const { file, check } of window) report(file, await check);
    if (tally.outside > 0) {
      out.write(
        `OUTSIDE  ${tally.outside} recorded files are not under ${options.dir}: this ledger describes another folder ` +
          `(or one moved before tumblr-dl kept relative paths); run verify on that folder, or give the right one with --ledger\n`,
      );
    }
    // A mark whose .part is gone (deleted by hand, or finished by a run without this ledger) is no longer news.
    const interrupted = (await ledger.inProgress()).filter((part) => existsSync(part.partPath));
    for (const part of interrupted) out.write(`PARTIAL  ${path.relative(options.dir, part.partPath)}  (${part.url}): an interrupted download; fetch resumes it\n`);
    out.write(
      `${tally.intact + tally.damaged + tally.missing} files checked${options.quick ? ' (sizes only)' : ''}: ` +
        `${tally.intact} intact, ${tally.damaged} damaged, ${tally.missing} missing` +
        `${tally.outside > 0 ? `, ${tally.outside} outside the folder` : ''}; ${interrupted.length} interrupted downloads\n`,
    );
  } catch (error) {
    // The ledger failed while being read: a damaged file is bad input (2), not damaged media (1). A bucket
    // that refuses to answer (no such bucket, no permission) is said in one line too.
    if (!DownloadError.isDownloadError(error) || (error.code !== 'LEDGER' && error.code !== 'STORE')) throw error;
    err.write(`tumblr-dl verify: ${error.message}\n`);
    return EXIT.usage;
  } finally {
    await ledger.close();
    await checker.close();
  }
  return tally.damaged + tally.missing + tally.outside > 0 ? EXIT.someFailed : EXIT.ok;
}

/** How the recorded files are checked: one at a time on disk, or several at once in a bucket. */
interface Checker {
  /** Whether the files can be reached at all (a bucket that is not there is one problem, not N missing files). */
  ready(): Promise<void>;
  /** Checks in flight at once. */
  concurrency: number;
  check(record: RecordedFile): Promise<FileCheck>;
  close(): Promise<void>;
}

/**
 * A folder's files are read with blocking calls, one at a time (see {@link RecordedFileChecker}); a bucket's
 * objects are asked about 16 at a time: by size and stored SHA-256, or (`--deep`) by their bytes.
 */
function checkerFor(config: DownloaderConfig, options: VerifyOptions): Checker {
  if (config.store.url === '') {
    const files = new RecordedFileChecker({ blocking: true });
    const checkOptions = { hash: !options.quick };
    return { ready: async () => {}, concurrency: 1, check: (record) => files.check(record, checkOptions), close: async () => {} };
  }
  const bucket = new BucketStore(config, new LocalTwinRegistry());
  const checkOptions = { hash: !options.quick, trustMtime: !options.deep };
  return { ready: () => bucket.checkAccess(), concurrency: 16, check: (record) => bucket.check(record, checkOptions), close: () => bucket.close() };
}
