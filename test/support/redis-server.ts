import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

/** A real `redis-server` started for a suite: loopback only, a random port, no persistence. */
export interface RedisUnderTest {
  url: string;
  port: number;
  stop(): Promise<void>;
  /** Kill the server (SIGKILL) and start it again on the same port and folder; with `persistent`, the data survives. */
  restart(downMs?: number): Promise<void>;
}

/** How the server is started. */
export interface RedisOptions {
  /** Append-only file on, fsync every write: what survives a kill is what a deployment keeps. @default false */
  persistent?: boolean;
}

/** A port the kernel just gave out, free at the moment it is returned. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * Start Debian's `redis-server` in a temporary folder. No mock of Redis anywhere: a missing binary fails
 * the suite (CI installs it), and a port taken between the probe and the start is tried again.
 */
export async function startRedis(options: RedisOptions = {}): Promise<RedisUnderTest> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const dir = mkdtempSync(path.join(tmpdir(), 'tdl-redis-'));
    const args = [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--dir',
      dir,
      '--maxmemory-policy',
      'noeviction',
      ...(options.persistent ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']),
    ];
    let child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const ready = await untilReady(child);
    if (ready === true) {
      return {
        url: `redis://127.0.0.1:${port}`,
        port,
        stop: () => stopChild(child).then(() => rmSync(dir, { recursive: true, force: true })),
        restart: async (downMs = 0) => {
          await stopChild(child);
          await new Promise((resolve) => setTimeout(resolve, downMs));
          child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
          const back = await untilReady(child);
          if (back !== true) throw new Error(`redis-server did not start again: ${back}`);
        },
      };
    }
    rmSync(dir, { recursive: true, force: true });
    if (attempt >= 3 || !/Address already in use/.test(ready)) throw new Error(`redis-server did not start: ${ready}`);
  }
}

/** `true` once the server accepts connections, or what it said before it exited. */
function untilReady(child: ChildProcess): Promise<true | string> {
  return new Promise((resolve) => {
    let said = '';
    const onData = (chunk: Buffer): void => {
      said += chunk.toString();
      if (said.includes('Ready to accept connections')) resolve(true);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('error', (error) => resolve(`${error.message} (is the redis-server package installed?)`));
    child.once('exit', () => resolve(said.trim().split('\n').slice(-3).join(' ')));
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}
