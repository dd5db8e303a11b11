import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Wrong flags or arguments: exit code 2 with the command's usage text (an empty message: `--help`, exit 0). */
export class UsageError extends Error {}

/** The flags a subcommand declares, in `node:util` `parseArgs` form. */
export type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

/** The parsed flags of {@link parseCommandArgs}, typed from their declaration. */
export type ParsedFlags<O extends OptionsConfig> = ReturnType<typeof parseArgs<{ args: string[]; allowPositionals: true; options: O }>>['values'];

/**
 * A subcommand's arguments: its flags plus `-h, --help`, and exactly one
 * positional argument, named `positionalName` in the error when it is missing.
 * @throws UsageError on an unknown flag, a missing value, a wrong number of positionals, or `--help`
 */
export function parseCommandArgs<const O extends OptionsConfig>(
  args: string[],
  options: O,
  positionalName: string,
): { values: ParsedFlags<O>; positional: string } {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: { ...options, help: { type: 'boolean', short: 'h' } } as O });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if ((parsed.values as { help?: boolean }).help) throw new UsageError('');
  const { values, positionals } = parsed;
  if (positionals.length !== 1) {
    throw new UsageError(positionals.length === 0 ? `missing <${positionalName}>` : `unexpected arguments: ${positionals.slice(1).join(' ')}`);
  }
  return { values, positional: positionals[0]! };
}
