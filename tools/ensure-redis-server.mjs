#!/usr/bin/env node
// The scale-out tests start a real redis-server (Debian's package) on a random loopback port. When it is
// missing, install it on a Debian/Ubuntu machine where we may (root, apt-get present); otherwise say how,
// in one line, and fail: no suite is ever skipped for want of it.
import { execFileSync, spawnSync } from 'node:child_process';

const found = () => spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
if (found()) process.exit(0);
const canApt = process.getuid?.() === 0 && spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
if (!canApt) {
  process.stderr.write("redis-server is not installed; the scale-out tests need it: apt-get install redis-server (or your system's package)\n");
  process.exit(1);
}
process.stderr.write("redis-server is not installed: installing Debian's redis-server package for the scale-out tests\n");
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'redis-server'], { stdio: 'inherit', env });
if (!found()) {
  process.stderr.write('redis-server was installed but does not run\n');
  process.exit(1);
}
