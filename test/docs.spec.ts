import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { ensureBuilt, ROOT } from './support/built-package.js';

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

  it('docs/cli.md should document every flag of the usage texts', async () => {
    const { FETCH_USAGE } = await import('../src/cli/fetch-options.js');
    const { ENQUEUE_USAGE, WORKER_USAGE, STATUS_USAGE } = await import('../src/cli/scale-out-options.js');
    const usage = [FETCH_USAGE, ENQUEUE_USAGE, WORKER_USAGE, STATUS_USAGE].join('\n');
    const flags = [...usage.matchAll(/--([a-z-]+)/g)].map((m) => m[1]).filter((f) => f !== 'help');
    const cli = read('docs/cli.md');
    for (const flag of new Set(flags)) expect(cli, `--${flag}`).to.include(`--${flag}`);
  });

  it('every TypeScript snippet of README.md and docs/ should compile under strict, with its own imports', function () {
    this.timeout(60_000);
    ensureBuilt();
    // Inside the package, so `import … from 'tumblr-media-downloader'` resolves to the built package as a user's does.
    const dir = path.join(ROOT, '.tmp', 'doc-snippets');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const sources = ['README.md', ...readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
    const written: string[] = [];
    for (const source of sources) {
      [...read(source).matchAll(/^```ts\n([\s\S]*?)^```$/gm)].forEach((match, i) => {
        const name = `${source.replace(/[/.]/g, '_')}_${i + 1}.ts`;
        writeFileSync(path.join(dir, name), match[1]!);
        written.push(name);
      });
    }
    expect(written.length).to.be.at.least(13);
    writeFileSync(
      path.join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          target: 'ES2022',
          lib: ['ES2023', 'ESNext.Disposable', 'DOM'],
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          experimentalDecorators: true,
          emitDecoratorMetadata: true,
          types: ['node'],
          typeRoots: [path.join(ROOT, 'node_modules', '@types')],
          noEmit: true,
          skipLibCheck: true,
        },
        include: ['*.ts'],
      }),
    );
    const tsc = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { encoding: 'utf8' });
    expect(tsc.stdout + tsc.stderr, 'type errors in doc snippets').to.equal('');
    expect(tsc.status).to.equal(0);
  });
});
