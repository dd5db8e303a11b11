import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';
import { DownloadError } from '../errors/download-error.js';

/** The SQLite module could not be loaded: its native part was never built (`--ignore-scripts`, no compiler). */
export class NativeModuleMissingError extends DownloadError {
  constructor(cause: unknown) {
    super(
      'LEDGER',
      'The SQLite ledger needs the native module of better-sqlite3, and it did not load ' +
        `(${(cause as Error).message.split('\n')[0]!.replace(/\s*Tried:\s*$/, '')}). Build it with \`npm rebuild better-sqlite3\` ` +
        '(python3, make and a C++ compiler needed), or install without --ignore-scripts',
      { cause },
    );
  }
}

/** Messages of a native module that is missing or built for another Node. */
const NATIVE_LOAD_FAILURE = /bindings file|NODE_MODULE_VERSION|invalid ELF|wrong ELF|cannot open shared object|Cannot find module 'better-sqlite3'|\.node\b/i;

/**
 * Open a better-sqlite3 database, loading the module on first use (so hosts that rebind the ledger never
 * load a native module). A native part that cannot load becomes {@link NativeModuleMissingError}.
 */
export function openSqlite(file: string, options?: BetterSqlite3.Options): BetterSqlite3.Database {
  try {
    const Database = createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;
    return new Database(file, options);
  } catch (error) {
    if (NATIVE_LOAD_FAILURE.test((error as Error).message)) throw new NativeModuleMissingError(error);
    throw error;
  }
}
