import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensureBuilt, ROOT } from './support/built-package.js';
import { resolveInside } from '../src/naming/safe-path.js';
import type { FilenameContext } from '../src/naming/filename-generator.js';

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
    const sources = [
      'README.md',
      ...readdirSync(path.join(ROOT, 'docs'))
        .filter((f) => f.endsWith('.md'))
        .map((f) => `docs/${f}`),
    ];
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

  it("the DI cookbook's per-blog FilenameGenerator should keep hostile blog names and post ids inside their folder", async function () {
    this.timeout(60_000);
    ensureBuilt();
    const recipe = /## FilenameGenerator[\s\S]*?^```ts\n([\s\S]*?)^```$/m.exec(read('docs/di-cookbook.md'))?.[1];
    expect(recipe, 'the recipe').to.be.a('string');
    const dir = path.join(ROOT, '.tmp', 'doc-recipes');
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'blog-folders.ts');
    writeFileSync(file, recipe!);
    const { BlogFolders } = (await import(pathToFileURL(file).href)) as { BlogFolders: new () => { generateFilename(context: FilenameContext): string } };
    const generator = new BlogFolders();
    const outputDir = path.join(ROOT, '.tmp', 'archive');
    const url = 'https://64.media.tumblr.com/abc/tumblr_x_1280.jpg';
    const hostile = [
      { blog: '.tumblr-dl', postId: '1' },
      { blog: '..', postId: '../art/1' },
      { blog: '/', postId: '/etc/passwd' },
      { blog: '', postId: '' },
      { blog: 'a/../../b', postId: '..\\..\\x' },
      { blog: '.TUMBLR-DL', postId: 'CON' },
      { blog: undefined, postId: '2' },
    ];
    for (const { blog, postId } of hostile) {
      const name = generator.generateFilename({ url, postId, mediaType: 'image', index: 0, detectedFormat: 'png', metadata: blog === undefined ? {} : { blog } });
      const what = `blog ${JSON.stringify(blog)}, post ${JSON.stringify(postId)} → ${name}`;
      const segments = name.split('/');
      expect(segments, what).to.have.length(3);
      // Every segment is a plain name: nothing empty, hidden, or a way up; the state folder cannot be named.
      for (const segment of segments) expect(segment, what).to.match(/^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/);
      expect(() => resolveInside(outputDir, name), what).not.to.throw();
      expect(name, what).to.match(/\.png$/);
    }
    expect(generator.generateFilename({ url, postId: '123456', mediaType: 'image', index: 0, metadata: { blog: 'staff' } })).to.match(/^staff\/123456\/123456_0_[0-9a-f]{8}\.jpg$/);
  });
});
