import { expect } from 'chai';
import { ensureBuilt } from '../support/built-package.js';
import { runCli, type Run } from '../support/run-cli.js';

/** Every way to ask the built CLI for help: the program's own, and each command's. */
const HELP_CALLS = [['--help'], ['-h'], ...['fetch', 'verify', 'demo', 'enqueue', 'worker', 'status'].map((command) => [command, '--help'])];

describe('tumblr-dl --help (built CLI)', function () {
  this.timeout(60_000);
  const runs = new Map<string, Run>();

  before(async () => {
    ensureBuilt();
    // Each run is a process start: all at once, not one after another.
    await Promise.all(HELP_CALLS.map(async (args) => runs.set(args.join(' '), await runCli(args))));
  });

  for (const args of HELP_CALLS) {
    it(`should fit \`tumblr-dl ${args.join(' ')}\` in 80 columns, on stdout, and exit 0`, () => {
      const run = runs.get(args.join(' '))!;
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stderr).to.equal('');
      expect(run.stdout).to.match(/^Usage: tumblr-dl /);
      // Characters, not UTF-16 units: a "≥" takes one column.
      const wide = run.stdout.split('\n').filter((line) => [...line].length > 80);
      expect(wide, 'lines wider than 80 columns').to.deep.equal([]);
      expect(run.stdout, 'a tab makes the width depend on the terminal').not.to.include('\t');
    });
  }

  it('should document --max-retry-after where it applies: fetch and worker', () => {
    for (const command of ['fetch', 'worker']) expect(runs.get(`${command} --help`)!.stdout, command).to.include('--max-retry-after');
  });
});
