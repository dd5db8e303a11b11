#!/usr/bin/env node
/**
 * The second step of `npm run build`: bundles tsc's CLI output, dist/cli/tumblr-dl.js, into
 * dist/cli/tumblr-dl.bundle.js, the package's `tumblr-dl` bin (issue #22).
 *
 * Why a bundle: run from tsc's output, the CLI resolved and loaded hundreds of files (inversify alone is some
 * 250) with thousands of file-system calls before it did anything; a bundle is one file per command to read.
 *
 * Why tsc's output and not src/: esbuild cannot emit decorator metadata, which inversify's constructor
 * injection reads; tsc has already written it.
 *
 * Code splitting keeps what the CLI loads with `await import()` lazy: each command's modules (got, inversify,
 * BullMQ) are chunks in dist/cli-chunks/ that only that command loads, so `--version` and `--help` read a
 * few KiB. The chunks are two folders below the package root, as every module of dist/ is, because modules
 * read package.json and plugin.manifest.json at `new URL('../../…', import.meta.url)`: dist/cli/chunks/
 * would send them to dist/.
 *
 * External, loaded from node_modules at run time: better-sqlite3 (a native addon its `bindings` finds
 * beside its own files), bullmq (it reads its Lua scripts from its own folder) and ioredis (the copy bullmq
 * uses too: our connections are handed to it).
 *
 * The banner gives bundled CommonJS modules (yazl, http2-wrapper, keyv, …) a `require` for Node's built-ins:
 * esbuild's ESM output has none. The source maps chain to src/ through tsc's maps; Node reads them only
 * under --enable-source-maps, so they cost start-up nothing.
 *
 * dist/cli/tumblr-dl.js and the other modules of dist/ stay as tsc wrote them: hosts, tests and the bench
 * import them.
 */
import { rmSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = path.join(ROOT, 'dist');

// Chunk names carry a content hash: without this, every build would leave the previous build's chunks in the package.
rmSync(path.join(DIST, 'cli-chunks'), { recursive: true, force: true });

const result = await esbuild.build({
  absWorkingDir: ROOT,
  entryPoints: { 'cli/tumblr-dl.bundle': 'dist/cli/tumblr-dl.js' },
  outdir: DIST,
  chunkNames: 'cli-chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['better-sqlite3', 'bullmq', 'ioredis', '@aws-sdk/client-s3'],
  // The entry's `#!/usr/bin/env node` stays the first line; esbuild puts the banner after it.
  banner: { js: "import { createRequire as __tumblrDlCreateRequire } from 'node:module';\nconst require = __tumblrDlCreateRequire(import.meta.url);" },
  sourcemap: 'linked',
  metafile: true,
  logLevel: 'warning',
});

const outputs = Object.entries(result.metafile.outputs).filter(([file]) => file.endsWith('.js'));
const kib = (bytes) => `${(bytes / 1024).toFixed(0)} KiB`;
const entry = outputs.find(([file]) => file.endsWith('tumblr-dl.bundle.js'));
process.stdout.write(
  `bundle-cli: ${entry[0]} ${kib(entry[1].bytes)}, ${outputs.length - 1} chunks in dist/cli-chunks/ ${kib(outputs.reduce((sum, [, o]) => sum + o.bytes, 0) - entry[1].bytes)}\n`,
);
