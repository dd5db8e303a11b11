import { expect } from 'chai';
import { readFileSync } from 'node:fs';

const read = (file: string): string => readFileSync(new URL(`../${file}`, import.meta.url), 'utf8');

describe('docs', () => {
  it('docs/configuration.md should list exactly the options of the manifest config schema', () => {
    const schema = (JSON.parse(read('plugin.manifest.json')) as { configSchema: { properties: Record<string, unknown> } }).configSchema;
    const documented = [...read('docs/configuration.md').matchAll(/^\| `([A-Za-z0-9]+)` \|/gm)].map((m) => m[1]);
    expect(documented.sort()).to.deep.equal(Object.keys(schema.properties).sort());
  });

  it('docs/events.md should document every event of the manifest', () => {
    const events = (JSON.parse(read('plugin.manifest.json')) as { events: Array<{ name: string }> }).events.map((e) => e.name);
    const documented = [...read('docs/events.md').matchAll(/^\| `([a-z-]+)` \| /gm)].map((m) => m[1]).filter((n) => events.includes(n!));
    expect(documented).to.deep.equal(events);
  });

  it('docs/cli.md should document every fetch flag of the usage text', async () => {
    const { FETCH_USAGE } = await import('../src/cli/fetch-options.js');
    const flags = [...FETCH_USAGE.matchAll(/--([a-z-]+)/g)].map((m) => m[1]).filter((f) => f !== 'help');
    const cli = read('docs/cli.md');
    for (const flag of new Set(flags)) expect(cli, `--${flag}`).to.include(`--${flag}`);
  });
});
