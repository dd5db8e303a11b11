#!/usr/bin/env node
/**
 * `tumblr-dl`: the plugin's command line.
 *   tumblr-dl fetch <input> -o <dir> [options]   download a list of media
 *   tumblr-dl verify <dir>                       re-hash saved files against the ledger
 *   tumblr-dl demo [-o <dir>]                    run fetch offline against a local sample origin
 */
import { writeFileSync, mkdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { EXIT, fetchCommand, type CommandIo } from './fetch-command.js';
import { UsageError } from './command-args.js';
import { FETCH_USAGE, parseFetchOptions } from './fetch-options.js';
import { startSampleOrigin } from './sample-origin.js';
import { parseVerifyOptions, verifyCommand, VERIFY_USAGE } from './verify-command.js';

const USAGE = `Usage:
  tumblr-dl fetch <input> -o <dir> [options]   download every item of <input> (see: tumblr-dl fetch --help)
  tumblr-dl verify <dir>                       re-hash saved files against the ledger (see: tumblr-dl verify --help)
  tumblr-dl demo [-o <dir>]                    start a local sample origin and fetch from it (default dir: sample-output)
  tumblr-dl --version`;

/** Port the demo origin prefers. */
const DEMO_PORT = 47_391;

/** Resolves on the first Ctrl-C; a second one exits at once. */
function interruption(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => {
      resolve();
      process.once('SIGINT', () => process.exit(EXIT.interrupted));
    });
    process.once('SIGTERM', () => resolve());
  });
}

/** Run a subcommand; a UsageError prints its message and usage text (exit 2), or only the usage for `--help` (exit 0). */
async function withUsage(name: string, usage: string, run: () => Promise<number>): Promise<number> {
  try {
    return await run();
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${error.message ? `tumblr-dl ${name}: ${error.message}\n\n` : ''}${usage}\n`);
    return error.message ? EXIT.usage : EXIT.ok;
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
  if (command === 'fetch') return withUsage('fetch', FETCH_USAGE, () => fetchCommand(parseFetchOptions(rest), io));
  if (command === 'verify') return withUsage('verify', VERIFY_USAGE, () => verifyCommand(parseVerifyOptions(rest), process.stdout));
  if (command === 'demo') {
    const outIndex = rest.findIndex((a) => a === '-o' || a === '--output');
    const outputDir = path.resolve(outIndex >= 0 && rest[outIndex + 1] ? rest[outIndex + 1]! : 'sample-output');
    // A fixed port when free, so the URLs stay the same and a second demo shows the ledger skipping them.
    const origin = await startSampleOrigin(DEMO_PORT);
    try {
      mkdirSync(outputDir, { recursive: true });
      const input = path.join(outputDir, 'sample-input.jsonl');
      writeFileSync(input, origin.inputRows.map((r) => JSON.stringify(r)).join('\n') + '\n');
      process.stdout.write(`Sample origin at ${origin.base}; input ${input}\n$ tumblr-dl fetch ${input} -o ${outputDir}\n`);
      const code = await fetchCommand(parseFetchOptions([input, '-o', outputDir, '--retries', '3']), io);
      process.stdout.write(`\nResults: ${path.join(outputDir, 'results.jsonl')} (exit code would be ${code}: the sample stages failures on purpose)\n`);
      return EXIT.ok;
    } finally {
      await origin.close();
    }
  }
  process.stderr.write(`${command === undefined || command === '--help' || command === '-h' ? '' : `tumblr-dl: unknown command "${command}"\n\n`}${USAGE}\n`);
  return command === '--help' || command === '-h' ? EXIT.ok : EXIT.usage;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`tumblr-dl: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(EXIT.someFailed);
  },
);
