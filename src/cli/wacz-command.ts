import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { packWacz, WaczError } from '../archive/wacz.js';
import { parseCommandArgs, UsageError } from './command-args.js';
import { EXIT } from './exit-codes.js';
import { explain } from './explain-fs-error.js';

/** The `wacz` usage text. */
export const WACZ_USAGE = `Usage: tumblr-dl wacz <dir> -o <file.wacz> [--title <text>]

Packs the WARCs that fetch --warc wrote to <dir>/warc/ into one WACZ 1.1.1
file, which ReplayWeb.page opens: the WARCs stored as they are, their CDXJ
indexes merged into one, a page per saved media URL, and a datapackage.json
with the SHA-256 of every file. WARCs a run is still writing (.open) are
left out. The file is written to <file.wacz>.tmp, then renamed.

Options:
  -o, --output <file.wacz>    the WACZ to write (required)
      --title <text>          the collection's title
                              (default: the file's name without .wacz)
  -h, --help                  this text

Exit codes: 0 packed, 1 the disk failed, 2 bad usage or no closed WARC.`;

/** What `tumblr-dl wacz` was asked to do. */
export interface WaczOptions {
  /** The output folder of a `fetch --warc` run, as typed (messages name it so). */
  dir: string;
  /** The `.wacz` file to write. */
  output: string;
  /** The collection's title; the packer names it after the file when absent. */
  title: string | undefined;
}

/**
 * Parse `wacz` arguments (after the subcommand).
 * @throws UsageError without `-o`, or when it does not end in `.wacz` (the WACZ spec's required extension)
 */
export function parseWaczOptions(args: string[]): WaczOptions {
  const { values, positional: dir } = parseCommandArgs(args, { output: { type: 'string', short: 'o' }, title: { type: 'string' } }, 'dir');
  if (values.output === undefined) throw new UsageError('missing -o <file.wacz>');
  if (!/\.wacz$/i.test(values.output)) throw new UsageError(`-o ${values.output}: a WACZ file's name must end in .wacz`);
  return { dir, output: values.output, title: values.title };
}

/** `1 WARC`, `2 WARCs`. */
function count(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * `tumblr-dl wacz <dir> -o <file.wacz>`: pack the closed WARCs of `<dir>/warc` into a WACZ, and say so in
 * one line. Bad input (no WARC, a damaged index) exits 2, a disk failure 1, each as one line on `err`.
 */
export async function waczCommand(options: WaczOptions, out: NodeJS.WritableStream, err: NodeJS.WritableStream = out): Promise<number> {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  try {
    const summary = await packWacz({ warcDir: path.join(options.dir, 'warc'), output: options.output, title: options.title, software: `tumblr-dl ${pkg.version}` });
    const mib = (summary.bytes / 1024 / 1024).toFixed(1);
    const open = summary.skippedOpen > 0 ? `; ${count(summary.skippedOpen, 'WARC')} still being written left out` : '';
    out.write(`Packed ${count(summary.warcs, 'WARC')} (${count(summary.records, 'record')}, ${count(summary.pages, 'page')}, ${mib} MiB) into ${options.output}${open}\n`);
    return EXIT.ok;
  } catch (error) {
    if (!(error instanceof WaczError)) throw error;
    err.write(`tumblr-dl wacz: ${inWords(error)}\n`);
    return error.code === 'BAD_INPUT' ? EXIT.usage : EXIT.someFailed;
  }
}

/** The packer's message, with an fs error (`ENOSPC: no space left on device, write`) in a person's words. */
function inWords(error: WaczError): string {
  const cause = error.cause as NodeJS.ErrnoException | undefined;
  if (error.code !== 'FILESYSTEM' || typeof cause?.code !== 'string') return error.message;
  return `cannot ${error.failure === 'WRITE_FAILED' ? 'write' : 'read'} ${error.file}: ${explain(cause)}`;
}
