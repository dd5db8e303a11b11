#!/usr/bin/env node
/**
 * `tumblr-dl`: the plugin's command line.
 *   tumblr-dl fetch <input> -o <dir> [options]   download a list of media
 *   tumblr-dl verify <dir>                       re-hash saved files against the ledger
 *   tumblr-dl wacz <dir> -o <file.wacz>          pack the archive's WARCs into a WACZ
 *   tumblr-dl demo [-o <dir>]                    run fetch offline against a local sample origin
 *   tumblr-dl enqueue <input> --redis <url>      queue a list's items for workers (BullMQ on Redis)
 *   tumblr-dl worker -o <dir> --redis <url>      download queued items
 *   tumblr-dl status --redis <url>               the queue's counts, throughput and results
 */
import { writeFileSync, mkdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { closest } from '../config/closest-name.js';
import { parseCommandArgs, UsageError } from './command-args.js';
import { EXIT } from './exit-codes.js';
import type { CommandIo } from './fetch-command.js';

// Every command loads its own modules, options and usage text included, so `--version` and `--help` load only
// this file and the three modules above; the bundle (tools/bundle-cli.mjs) makes each a chunk loaded on demand.
// fetch-command (got, inversify, the downloader) loads only once the options parse, so `fetch --help` and a
// usage error stay cheap; BullMQ and ioredis load only for the scale-out commands.
const fetchCommand: typeof import('./fetch-command.js').fetchCommand = async (...args) => (await import('./fetch-command.js')).fetchCommand(...args);
const enqueueCommand: typeof import('./enqueue-command.js').enqueueCommand = async (...args) => (await import('./enqueue-command.js')).enqueueCommand(...args);
const workerCommand: typeof import('./worker-command.js').workerCommand = async (...args) => (await import('./worker-command.js')).workerCommand(...args);
const statusCommand: typeof import('./status-command.js').statusCommand = async (...args) => (await import('./status-command.js')).statusCommand(...args);

/** The usage text of `tumblr-dl` itself. */
const USAGE = `Usage: tumblr-dl <command> [options]

Commands:
  fetch <input> -o <dir>          download every item of <input>
  verify <dir>                    re-hash saved files against the ledger
  wacz <dir> -o <file.wacz>       pack the WARCs of <dir> into a WACZ
  demo [-o <dir>]                 fetch from a local sample origin
  enqueue <input> --redis <url>   queue the items of <input> for workers
  worker -o <dir> --redis <url>   download queued items into <dir>
  status --redis <url>            queue counts, throughput and results

Each command explains itself: tumblr-dl <command> --help
tumblr-dl --version prints the version.`;

/** The `demo` usage text. */
const DEMO_USAGE = `Usage: tumblr-dl demo [-o <dir>]

Start a local sample origin on 127.0.0.1 (images, a video, a GIF, and trouble
staged on purpose: a placeholder pixel, a login page, a deleted file and a flaky
one), write its list to <dir>/sample-input.jsonl and fetch it into <dir>,
offline. Run it twice to see the ledger skip what is already saved.

Options:
  -o, --output <dir>          directory to write into (default ./sample-output)
  -h, --help                  this text`;

/** Port the demo origin prefers. */
const DEMO_PORT = 47_391;

/** Resolves with the first SIGINT (Ctrl-C) or SIGTERM; a second one exits at once. */
function interruption(): Promise<'SIGINT' | 'SIGTERM'> {
  return new Promise((resolve) => {
    const first = (signal: 'SIGINT' | 'SIGTERM'): void => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve(signal);
      process.once('SIGINT', () => process.exit(EXIT.interrupted));
      process.once('SIGTERM', () => process.exit(EXIT.terminated));
    };
    const onInt = (): void => first('SIGINT');
    const onTerm = (): void => first('SIGTERM');
    process.once('SIGINT', onInt);
    process.once('SIGTERM', onTerm);
  });
}

/**
 * Run a subcommand. `--help` prints its usage to stdout (exit 0); a usage error is one line on stderr
 * and a pointer to the help, as curl and wget do (exit 2).
 */
async function withUsage(name: string, usage: string, run: () => Promise<number>): Promise<number> {
  try {
    return await run();
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    if (!error.message) {
      process.stdout.write(`${usage}\n`);
      return EXIT.ok;
    }
    process.stderr.write(`tumblr-dl ${name}: ${error.message}\nTry 'tumblr-dl ${name} --help' for more information.\n`);
    return EXIT.usage;
  }
}

/** `tumblr-dl demo`: fetch from a local sample origin into `outputDir`. */
async function demo(outputDir: string, io: CommandIo): Promise<number> {
  // A fixed port when free, so the URLs stay the same and a second demo shows the ledger skipping them.
  const [{ startSampleOrigin }, { parseFetchOptions }] = await Promise.all([import('./sample-origin.js'), import('./fetch-options.js')]);
  const origin = await startSampleOrigin(DEMO_PORT);
  try {
    mkdirSync(outputDir, { recursive: true });
    const input = path.join(outputDir, 'sample-input.jsonl');
    writeFileSync(input, origin.inputRows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    process.stdout.write(`Sample origin at ${origin.base}; input ${input}\n$ tumblr-dl fetch ${input} -o ${outputDir}\n`);
    const code = await fetchCommand(parseFetchOptions([input, '-o', outputDir, '--retries', '3']), io);
    process.stdout.write(`(exit code ${code}: some items fail on purpose; run it again to see the ledger)\n`);
    return EXIT.ok;
  } finally {
    await origin.close();
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const io: CommandIo = { stdout: process.stdout, stderr: process.stderr, interrupted: interruption() };
  if (command === '--version' || command === '-v') {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    process.stdout.write(`${pkg.version}\n`);
    return EXIT.ok;
  }
  if (command === 'fetch') {
    const { FETCH_USAGE, parseFetchOptions } = await import('./fetch-options.js');
    return withUsage('fetch', FETCH_USAGE, () => fetchCommand(parseFetchOptions(rest), io));
  }
  if (command === 'verify') {
    const { parseVerifyOptions, verifyCommand, VERIFY_USAGE } = await import('./verify-command.js');
    return withUsage('verify', VERIFY_USAGE, () => verifyCommand(parseVerifyOptions(rest), process.stdout, process.stderr));
  }
  if (command === 'wacz') {
    const { parseWaczOptions, waczCommand, WACZ_USAGE } = await import('./wacz-command.js');
    return withUsage('wacz', WACZ_USAGE, () => waczCommand(parseWaczOptions(rest), process.stdout, process.stderr));
  }
  if (command === 'enqueue' || command === 'worker' || command === 'status') {
    const options = await import('./scale-out-options.js');
    if (command === 'enqueue') return withUsage('enqueue', options.ENQUEUE_USAGE, () => enqueueCommand(options.parseEnqueueOptions(rest), io));
    if (command === 'worker') return withUsage('worker', options.WORKER_USAGE, () => workerCommand(options.parseWorkerOptions(rest), io));
    return withUsage('status', options.STATUS_USAGE, () => statusCommand(options.parseStatusOptions(rest), process.stdout, process.stderr));
  }
  if (command === 'demo') {
    return withUsage('demo', DEMO_USAGE, () => {
      const { values } = parseCommandArgs(rest, { output: { type: 'string', short: 'o' } }, null);
      return demo(path.resolve(values.output ?? 'sample-output'), io);
    });
  }
  if (command === '--help' || command === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return EXIT.ok;
  }
  const guess = command === undefined ? undefined : closest(command, ['fetch', 'verify', 'wacz', 'demo', 'enqueue', 'worker', 'status']);
  process.stderr.write(
    `${command === undefined ? 'tumblr-dl: no command given' : `tumblr-dl: unknown command "${command}"${guess ? ` (did you mean "${guess}"?)` : ''}`}\n${USAGE}\n`,
  );
  return EXIT.usage;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    // Never a stack trace for the user: one line, and the trace only when asked for (TUMBLR_DL_DEBUG=1).
    process.stderr.write(`tumblr-dl: ${(error as Error).message ?? String(error)}\n`);
    if (process.env.TUMBLR_DL_DEBUG) process.stderr.write(`${(error as Error).stack ?? ''}\n`);
    process.exit(EXIT.someFailed);
  },
);
