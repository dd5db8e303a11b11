import { readdir, stat } from 'node:fs/promises';
import type { DownloaderConfig } from '../config/downloader-config.js';
import { EXIT } from './exit-codes.js';
import { explain } from './explain-fs-error.js';
import { NativeModuleMissingError, openSqlite } from '../ledger/open-sqlite.js';
import { flagForConfigError } from './fetch-options.js';
import { folderProblem } from './output-folder.js';
import type { MediaStore } from '../store/media-store.js';
import { BucketStore } from '../store/s3/bucket-store.js';

/**
 * A command's way to give up: one line on `stderr`, `tumblr-dl: <message>`, and the exit code to return
 * (2, bad usage, unless told). Never a stack trace.
 */
export function failer(stderr: { write(text: string): unknown }): (message: string, code?: number) => number {
  return (message, code = EXIT.usage) => {
    stderr.write(`tumblr-dl: ${message}\n`);
    return code;
  };
}

/**
 * What `resolve` returns, or what is wrong with the configuration in the words of the flags that set it
 * (`-c/--concurrency must be …`): every command checks its configuration this way before it starts.
 * @param flags the command's own flag for a config key, where it is not fetch's (see {@link flagForConfigError})
 */
export function configOrProblem<T>(resolve: () => T, flags?: Readonly<Record<string, string>>): T | string {
  try {
    return resolve();
  } catch (error) {
    return flagForConfigError((error as Error).message, flags);
  }
}

/**
 * Why a command that downloads (`fetch`, `worker`) cannot run with `config`, in one line, or `undefined`:
 * a ledger file asked for but SQLite's native module missing (the library would keep the ledger in memory;
 * an archive run must not forget its work silently), or an output folder that cannot be made or written.
 * @param typedOutputDir the folder as the user typed it, for the message
 */
export function downloadRunProblem(config: DownloaderConfig, typedOutputDir: string): string | undefined {
  if (config.ledger.path !== ':memory:') {
    try {
      openSqlite(':memory:').close();
    } catch (error) {
      if (error instanceof NativeModuleMissingError) return `${error.message}; or run with --no-ledger`;
      throw error;
    }
  }
  const unusable = folderProblem(config.outputDir);
  if (!unusable) return undefined;
  // With a bucket, the local folder is the state folder (--state, or the default one).
  if (config.store.url !== '') return `cannot use ${typedOutputDir} as the state folder of ${config.store.url}: ${unusable}; choose another with --state <dir>`;
  return `cannot use -o ${typedOutputDir} as the output folder: ${unusable}`;
}

/**
 * Why the input cannot be read, in one line, or `undefined` (stdin, `-`, is always taken): a file, or a
 * folder of JSON posts that can be listed.
 */
export async function inputProblem(input: string): Promise<string | undefined> {
  if (input === '-') return undefined;
  const found = await stat(input).catch((error: unknown) => error as Error);
  if (found instanceof Error) return `cannot read ${input}: ${explain(found)}`;
  if (found.isDirectory()) {
    const listed = await readdir(input).catch((error: unknown) => error as Error);
    return listed instanceof Error ? `cannot read ${input}: ${explain(listed)}` : undefined;
  }
  // A pipe (`fetch <(grep … urls.txt)`) is read line by line as a file is.
  return found.isFile() || found.isFIFO() ? undefined : `cannot read ${input}: it is neither a file nor a folder`;
}

/**
 * With a bucket store, say where the run saves and keeps its state, then ask the bucket once (HeadBucket) whether
 * it can be written to: why not in one line, or `undefined`. A folder store is not asked anything.
 */
export async function bucketProblem(store: MediaStore, stateFolder: string, out: { write(text: string): unknown } | undefined): Promise<string | undefined> {
  if (!(store instanceof BucketStore)) return undefined;
  // Where the ledger and the downloads under way are: the user needs it for verify, or to run again elsewhere.
  out?.write(`Saving to ${store.location} (state in ${stateFolder})\n`);
  return store.checkAccess().then(
    () => undefined,
    (error: unknown) => `cannot write to ${store.location}: ${(error as Error).message}`,
  );
}
