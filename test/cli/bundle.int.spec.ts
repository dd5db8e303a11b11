import { expect } from 'chai';
import { readFileSync, statSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import * as path from 'node:path';
import { BUILT_CLI, ensureBuilt, ROOT } from '../support/built-package.js';
import { runCli } from '../support/run-cli.js';

const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string; bin: Record<string, string> };

/** The files a module imports statically (`import … from "x"`, `import "x"`), not `import("x")`. */
function staticImports(file: string): string[] {
  const code = readFileSync(file, 'utf8');
  return [...code.matchAll(/^(?:import|export)\s[^;]*?from\s*(["'])([^"']+)\1;|^import\s*(["'])([^"']+)\3;/gm)].map((m) => (m[2] ?? m[4])!);
}

describe('tumblr-dl bundle (the bin users get)', function () {
  this.timeout(60_000);

  before(() => ensureBuilt());

  it('should be the bin package.json names', () => {
    expect(path.resolve(ROOT, pkg.bin['tumblr-dl']!)).to.equal(BUILT_CLI);
  });

  it('should start with a node shebang', () => {
    expect(readFileSync(BUILT_CLI, 'utf8').split('\n', 1)[0]).to.equal('#!/usr/bin/env node');
  });

  it("should print package.json's version and exit 0 when run with --version", async () => {
    const run = await runCli(['--version']);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.equal(`${pkg.version}\n`);
    expect(run.stderr).to.equal('');
  });

  it('should print its usage on stdout and exit 0 when run with --help', async () => {
    const run = await runCli(['--help']);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.match(/^Usage: tumblr-dl <command>/);
    expect(run.stdout).to.include('fetch <input> -o <dir>');
    expect(run.stderr).to.equal('');
  });

  it('should load only node built-ins and a few KiB of its own chunks before it reads a command', () => {
    // What `--version` and `--help` load: the bundle and what it imports statically. A static import of a
    // command's module (got, inversify, BullMQ: hundreds of KiB) would show here as bytes or a package name.
    const seen = new Set<string>();
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const specifier of staticImports(file)) {
        if (isBuiltin(specifier)) continue;
        expect(specifier, `${path.relative(ROOT, file)} imports a package at start-up`).to.match(/^\.\.?\//);
        visit(path.resolve(path.dirname(file), specifier));
      }
    };
    visit(BUILT_CLI);
    const bytes = [...seen].reduce((sum, file) => sum + statSync(file).size, 0);
    expect(bytes, [...seen].map((f) => path.relative(ROOT, f)).join(', ')).to.be.below(64 * 1024);
  });
});
