import { parseArgs, type ParseArgsConfig } from 'node:util';
import { closest } from '../config/closest-name.js';

/** Wrong flags or arguments: exit code 2 with the command's usage text (an empty message: `--help`, exit 0). */
export class UsageError extends Error {}

/** The flags a subcommand declares, in `node:util` `parseArgs` form. */
export type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

/** The parsed flags of {@link parseCommandArgs}, typed from their declaration. */
export type ParsedFlags<O extends OptionsConfig> = ReturnType<typeof parseArgs<{ args: string[]; allowPositionals: true; options: O }>>['values'];

/**
 * A subcommand's arguments: its flags plus `-h, --help`, and exactly one
 * positional argument, named `positionalName` in the error when it is missing
 * (`null`: none is taken, and `positional` is `''`).
 * @throws UsageError on an unknown flag, a missing value, a wrong number of positionals, or `--help`
 */
export function parseCommandArgs<const O extends OptionsConfig>(args: string[], options: O, positionalName: string | null): { values: ParsedFlags<O>; positional: string } {
  let parsed;
  const all = { ...options, help: { type: 'boolean', short: 'h' } } as O;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: all });
  } catch (error) {
    throw new UsageError(ownWords(error as NodeJS.ErrnoException, all));
  }
  if ((parsed.values as { help?: boolean }).help) throw new UsageError('');
  const { values, positionals } = parsed;
  if (positionalName === null) {
    if (positionals.length > 0) throw new UsageError(`unexpected arguments: ${positionals.join(' ')}`);
    return { values, positional: '' };
  }
  if (positionals.length !== 1) {
    throw new UsageError(positionals.length === 0 ? `missing <${positionalName}>` : `unexpected arguments: ${positionals.slice(1).join(' ')}`);
  }
  return { values, positional: positionals[0]! };
}

/**
 * What `node:util` parseArgs complained about, in our words: the flag as typed, a did-you-mean for a
 * misspelt one, and none of its advice about `--` and positionals.
 */
function ownWords(error: NodeJS.ErrnoException, options: OptionsConfig): string {
  const flag = /'(-{1,2}[^', ]+)/.exec(error.message)?.[1] ?? '';
  if (error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const guess = closest(flag.replace(/^-+/, ''), Object.keys(options));
    return `unknown option ${flag}${guess ? ` (did you mean --${guess}?)` : ''}`;
  }
  if (error.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    if (/argument missing/.test(error.message)) return `option ${flag} needs a value`;
    // `-r -1`: the value looks like a flag.
    const long = /'--([a-z-]+)=-XYZ'/.exec(error.message)?.[1];
    if (/ambiguous/.test(error.message)) return `option ${flag} needs a value; a value starting with "-" goes as --${long ?? flag.replace(/^-+/, '')}=<value>`;
    return `option ${flag} takes no value`;
  }
  return error.message;
}
