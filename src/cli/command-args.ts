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
  const all = { ...options, help: { type: 'boolean', short: 'h' } } as O;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: all });
  } catch (error) {
    throw new UsageError(ownWords(error as NodeJS.ErrnoException, all));
  }
  if ((parsed.values as { help?: boolean }).help) throw new UsageError('');
  const { values, positionals } = parsed;
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
    return /argument missing/.test(error.message) ? `option ${flag} needs a value` : `option ${flag} takes no value`;
  }
  return error.message;
}

/** The known name nearest to `name` by edit distance, if it is near enough to be a typo. */
export function closest(name: string, known: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const distance = editDistance(name, candidate);
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length]!;
}
