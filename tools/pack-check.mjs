#!/usr/bin/env node
/**
 * npm run pack-check: the package as a user gets it. Packs the tarball, installs it into a fresh project
 * with the README's install line (the package beside the host's own inversify 8 and reflect-metadata, its
 * peer dependencies: one copy of inversify, not a nested one), type-checks a host written as
 * docs/host-integration.md says (skipLibCheck off, under NodeNext and under bundler resolution), runs it
 * against a loopback origin, and runs the installed `tumblr-dl` bin. A project on inversify 7 must be
 * refused at install time (ERESOLVE), not at run time. CI runs it after the tests. Exits non-zero with
 * what failed.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
import { extensionFor, FilenameGenerator, MediaDownloader, sanitizeSegment, type DownloadResult } from 'tumblr-media-downloader';
import { createArchiverHost } from 'tumblr-media-downloader/host';

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
    container.rebind(FilenameGenerator).toConstantValue({
      generateFilename: (context) => \`\${sanitizeSegment(context.postId, 'post')}-\${context.index}.\${extensionFor(context)}\`,
    });
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

/**
 * A host on inversify 7 must hear it at install time: npm refuses the peer dependency (ERESOLVE), instead of
 * nesting an inversify 8 whose ContainerModule the host's container cannot load (`rebind(...).to is not a function`).
 */
function refusedBesideInversify7(tarball) {
  const old = path.join(work, 'app-inversify7');
  mkdirSync(old);
  writeFileSync(path.join(old, 'package.json'), JSON.stringify({ name: 'old-host', private: true, type: 'module', dependencies: { inversify: '7.11.0' } }));
  process.stdout.write(`$ npm install --dry-run ${path.basename(tarball)} (beside inversify 7)\n`);
  const install = spawnSync('npm', ['install', '--dry-run', '--no-audit', '--no-fund', '--prefer-offline', tarball], { cwd: old, encoding: 'utf8' });
  if (install.status === 0 || !/ERESOLVE/.test(install.stderr) || !/inversify/.test(install.stderr)) {
    throw new Error(`installing beside inversify 7 was not refused with ERESOLVE (exit ${install.status}):\n${install.stderr}`);
  }
  process.stdout.write('beside inversify 7: refused at install (ERESOLVE), as it should be\n');
}

/**
 * The install above ran no scripts: compiling better-sqlite3 from source (no prebuilt binary can be fetched here)
 * took two of CI's minutes, and `npm ci` has just compiled the same version for this checkout. Its build is
 * copied when the versions match, and the module is built as npm would otherwise.
 */
function reuseCompiledSqlite(appDir) {
  const version = (dir) => JSON.parse(readFileSync(path.join(dir, 'node_modules', 'better-sqlite3', 'package.json'), 'utf8')).version;
  const built = path.join(ROOT, 'node_modules', 'better-sqlite3', 'build');
  if (version(ROOT) === version(appDir) && existsSync(path.join(built, 'Release', 'better_sqlite3.node'))) {
    cpSync(built, path.join(appDir, 'node_modules', 'better-sqlite3', 'build'), { recursive: true });
    process.stdout.write(`better-sqlite3 ${version(appDir)}: this checkout's build reused\n`);
  } else run('npm', ['rebuild', 'better-sqlite3'], appDir);
}

try {
  run('npm', ['pack', '--pack-destination', work, '--silent'], ROOT);
  const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
  run('mkdir', ['-p', app]);
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'pack-check-app', private: true, type: 'module', allowScripts: { 'better-sqlite3': true } }, null, 2));
  // The README's install line: the package and its peer dependencies, which the host shares. Without the optional
  // S3 SDK: a host that never writes to a bucket must install, load and type-check (skipLibCheck off) without it.
  run(
    'npm',
    ['install', '--no-audit', '--no-fund', '--prefer-offline', '--omit=optional', '--ignore-scripts', path.join(work, tarball), 'inversify@^8', 'reflect-metadata@^0.2'],
    app,
  );
  reuseCompiledSqlite(app);
  if (existsSync(path.join(app, 'node_modules', '@aws-sdk', 'client-s3'))) throw new Error('--omit=optional still installed @aws-sdk/client-s3');
  if (existsSync(path.join(app, 'node_modules', 'tumblr-media-downloader', 'node_modules', 'inversify'))) {
    throw new Error("the package brought a nested copy of inversify: its ContainerModule would not be the host's");
  }
  process.stdout.write("one inversify: the host's\n");
  refusedBesideInversify7(path.join(work, tarball));
  writeFileSync(path.join(app, 'host.ts'), HOST);
  for (const resolution of ['bundler', 'NodeNext']) {
    writeFileSync(path.join(app, 'tsconfig.json'), tsconfig(resolution));
    run(process.execPath, [TSC, '-p', '.'], app);
    process.stdout.write(`types check under ${resolution} with skipLibCheck off\n`);
  }
  process.stdout.write(run(process.execPath, ['out/host.js', path.join(app, 'archive')], app));
  process.stdout.write(run(path.join(app, 'node_modules', '.bin', 'tumblr-dl'), ['--version'], app));
  // The scale-out subpath resolves from an installed package, with BullMQ and ioredis among its dependencies.
  const scaleOut =
    "const m = await import('tumblr-media-downloader/scale-out'); if (typeof m.RedisRateLimiter !== 'function') throw new Error('no RedisRateLimiter'); console.log('scale-out subpath: ok');";
  process.stdout.write(run(process.execPath, ['--input-type=module', '-e', scaleOut], app));
  // Asked for a bucket without the optional SDK: one line that says what to install, exit 2, no stack trace.
  writeFileSync(path.join(app, 'list.txt'), 'http://127.0.0.1:9/x.jpg\n');
  const bucket = spawnSync(path.join(app, 'node_modules', '.bin', 'tumblr-dl'), ['fetch', 'list.txt', '-o', 's3://arch/run1', '--state', 'state', '-q'], {
    cwd: app,
    encoding: 'utf8',
  });
  if (
    bucket.status !== 2 ||
    !/^tumblr-dl: cannot write to s3:\/\/arch\/run1\/: Writing to S3 needs @aws-sdk\/client-s3@[\d.]+, which is not installed: npm install @aws-sdk\/client-s3@[\d.]+\n$/.test(
      bucket.stderr,
    )
  ) {
    throw new Error(`a bucket output without the SDK did not say what to install (exit ${bucket.status}):\n${bucket.stderr}`);
  }
  process.stdout.write(`without the SDK: ${bucket.stderr}`);
  process.stdout.write('pack-check: ok\n');
} catch (error) {
  process.stderr.write(`pack-check failed: ${error.message}\n${error.stdout ?? ''}`);
  process.exitCode = 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
