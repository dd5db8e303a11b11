#!/usr/bin/env node
/**
 * npm run pack-check: the package as a user gets it. Packs the tarball, installs it into a fresh project,
 * type-checks a host written as docs/host-integration.md says (skipLibCheck off, under NodeNext and under
 * bundler resolution), runs it against a loopback origin, and runs the installed `tumblr-dl` bin.
 * CI runs it after the tests. Exits non-zero with what failed.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const work = mkdtempSync(path.join(os.tmpdir(), 'tumblr-dl-pack-'));
const app = path.join(work, 'app');

function run(command, args, cwd) {
  process.stdout.write(`$ ${command} ${args.join(' ')}\n`);
  return execFileSync(command, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
}

/** A host written the way docs/host-integration.md shows, downloading from a local origin. */
const HOST = `import 'reflect-metadata';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createArchiverHost, FilenameGenerator, MediaDownloader, type DownloadResult } from 'tumblr-media-downloader';

const jpeg = Buffer.alloc(4096, 7);
jpeg.set([0xff, 0xd8, 0xff, 0xe0]);
jpeg.set([0xff, 0xd9], jpeg.length - 2);
const origin = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': jpeg.length }).end(jpeg));
await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
const base = \`http://127.0.0.1:\${(origin.address() as AddressInfo).port}\`;

const host = createArchiverHost();
const seen: string[] = [];
host.events.on('plugin-event', (event) => {
  seen.push(event.name);
  if (event.name === 'failed') console.error('failed', event.payload.error.code);
});
await host.loadPlugin(import.meta.resolve('tumblr-media-downloader/plugin.manifest.json'), { outputDir: process.argv[2]!, maxConcurrent: 2 }, {
  configure: (container) => {
    container.rebind(FilenameGenerator).toConstantValue({ generateFilename: (_url, postId, _type, index = 0) => \`\${postId}-\${index}.jpg\` });
  },
});
const downloader = host.container.get(MediaDownloader);
const result: DownloadResult = await downloader.downloadImage(\`\${base}/tumblr_x_1280.jpg\`, '123');
await downloader.close();
origin.close();
if (result.status !== 'success' || !result.filename.endsWith('123-0.jpg')) throw new Error(\`unexpected result \${JSON.stringify(result)}\`);
console.log(\`ok: \${result.filename} \${result.byteSize} B; events \${seen.join(' ')}\`);
`;

function tsconfig(resolution) {
  return JSON.stringify({
    compilerOptions: {
      strict: true,
      skipLibCheck: false,
      target: 'ES2022',
      lib: ['ES2023', 'ESNext.Disposable', 'DOM'],
      module: resolution === 'bundler' ? 'ESNext' : 'NodeNext',
      moduleResolution: resolution,
      experimentalDecorators: true,
      types: ['node'],
      typeRoots: [path.join(ROOT, 'node_modules', '@types')],
      outDir: 'out',
      noEmit: resolution === 'bundler',
    },
    include: ['host.ts'],
  });
}

try {
  run('npm', ['pack', '--pack-destination', work, '--silent'], ROOT);
  const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
  run('mkdir', ['-p', app]);
  writeFileSync(
    path.join(app, 'package.json'),
    JSON.stringify({ name: 'pack-check-app', private: true, type: 'module', allowScripts: { 'better-sqlite3': true } }, null, 2),
  );
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', path.join(work, tarball)], app);
  writeFileSync(path.join(app, 'host.ts'), HOST);
  for (const resolution of ['bundler', 'NodeNext']) {
    writeFileSync(path.join(app, 'tsconfig.json'), tsconfig(resolution));
    run(process.execPath, [TSC, '-p', '.'], app);
    process.stdout.write(`types check under ${resolution} with skipLibCheck off\n`);
  }
  process.stdout.write(run(process.execPath, ['out/host.js', path.join(app, 'archive')], app));
  process.stdout.write(run(path.join(app, 'node_modules', '.bin', 'tumblr-dl'), ['--version'], app));
  // The scale-out subpath resolves from an installed package, with BullMQ and ioredis among its dependencies.
  const scaleOut = "const m = await import('tumblr-media-downloader/scale-out'); if (typeof m.RedisRateLimiter !== 'function') throw new Error('no RedisRateLimiter'); console.log('scale-out subpath: ok');";
  process.stdout.write(run(process.execPath, ['--input-type=module', '-e', scaleOut], app));
  process.stdout.write('pack-check: ok\n');
} catch (error) {
  process.stderr.write(`pack-check failed: ${error.message}\n${error.stdout ?? ''}`);
  process.exitCode = 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
