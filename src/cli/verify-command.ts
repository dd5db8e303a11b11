import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { resolveDownloaderConfig } from '../config/downloader-config.js';
import { DownloadError } from '../errors/download-error.js';
import { describeCheck, RecordedFileChecker } from '../ledger/check-recorded-file.js';
import { isInside, SqliteDownloadLedger } from '../ledger/sqlite-download-ledger.js';
import { EXIT } from './exit-codes.js';
import { parseCommandArgs } from './command-args.js';
import { defaultLedgerPath } from './fetch-options.js';

/** The `verify` usage text. */
export const VERIFY_USAGE = `Usage: tumblr-dl verify <dir> [--ledger <file>] [--quick]

Re-hashes every file the ledger records as saved under <dir> (every name,
--force copies included) and compares it with the SHA-256 recorded when it was
verified. Prints one line per damaged or missing file, then a summary. A
symbolic link at a recorded name is damage. Downloads started and never
finished are listed too. The ledger's paths are relative to <dir>: a moved or
copied archive verifies the same.

Options:
      --ledger <file>   the ledger (default <dir>/.tumblr-dl/ledger.sqlite)
      --quick           compare sizes only, without reading the files
  -h, --help            this text

Exit codes: 0 every file intact, 1 some damaged, missing or outside <dir>,
2 bad usage or no ledger.`;

/** What `tumblr-dl verify` was asked to do. */
export interface VerifyOptions {
  dir: string;
  ledgerPath: string;
  quick: boolean;
}

/** Parse `verify` arguments (after the subcommand). */
export function parseVerifyOptions(args: string[]): VerifyOptions {
  const { values, positional: dir } = parseCommandArgs(args, { ledger: { type: 'string' }, quick: { type: 'boolean' } }, 'dir');
  return { dir: path.resolve(dir), ledgerPath: path.resolve(values.ledger ?? defaultLedgerPath(dir)), quick: values.quick ?? false };
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
  try {
    ledger = new SqliteDownloadLedger(resolveDownloaderConfig({ outputDir: options.dir, ledger: { path: options.ledgerPath } }));
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
  const tally = { intact: 0, damaged: 0, missing: 0, outside: 0 };
  const checker = new RecordedFileChecker({ blocking: true });
  const checkOptions = { hash: !options.quick };
  try {
    // Every name ever saved, not only each URL's latest: a --force run adds names, and each is checked.
    for await (const file of ledger.files()) {
      if (!isInside(options.dir, file.path)) {
        // A record this folder cannot vouch for: the ledger came from elsewhere, or the archive moved before its paths were relative.
        tally.outside++;
        continue;
      }
      const record = { filename: file.path, bytes: file.bytes, sha256: file.sha256 };
      const check = await checker.check(record, checkOptions);
      if (check.state === 'intact') tally.intact++;
      else if (check.state === 'missing') {
        tally.missing++;
        out.write(`MISSING  ${path.relative(options.dir, file.path)}  (${file.url})\n`);
      } else {
        tally.damaged++;
        out.write(`DAMAGED  ${path.relative(options.dir, file.path)}  ${describeCheck(check, record)}  (${file.url})\n`);
      }
    }
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
    // The ledger failed while being read: a damaged file is bad input (2), not damaged media (1).
    if (!DownloadError.isDownloadError(error) || error.code !== 'LEDGER') throw error;
    err.write(`tumblr-dl verify: ${error.message}\n`);
    return EXIT.usage;
  } finally {
    await ledger.close();
  }
  return tally.damaged + tally.missing + tally.outside > 0 ? EXIT.someFailed : EXIT.ok;
}
