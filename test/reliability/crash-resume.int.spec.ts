import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Clock, SystemClock } from '../../src/time/clock.js';
import { useRealSockets } from '../support/nock-helpers.js';
import { FaultServer } from '../support/fault-server.js';
import { listOutput, sha256, tempDir } from '../support/fixtures.js';
import { createTestRig, type TestRig } from '../support/test-container.js';
import { waitUntil } from '../support/wait-until.js';

const MiB = 1024 * 1024;
const CHILD = fileURLToPath(new URL('../support/crash-child.ts', import.meta.url));

describe('Reliability: SIGKILL mid-body, then start again', function () {
  this.timeout(60_000);
  const size = 16 * MiB;
  const body = randomBytes(size);
  body.set([0xff, 0xd8, 0xff, 0xe0]);
  body.set([0xff, 0xd9], size - 2);
  const bodySha = sha256(body);
  let server: FaultServer;
  let base: string;
  let rig: TestRig;
  let work: { dir: string; cleanup: () => void };

  useRealSockets();

  beforeEach(async () => {
    server = new FaultServer();
    base = await server.start();
    work = tempDir();
  });

  afterEach(async () => {
    await rig?.cleanup();
    work.cleanup();
    await server.stop();
  });

  /** The next run on the folder, started once the killed one is gone (it held the folder's lock). */
  function restart(): TestRig {
    rig = createTestRig({ outputDir: work.dir }, (c) => c.rebind(Clock).to(SystemClock));
    return rig;
  }

  /** Run the child until its .part holds at least `minBytes`, then SIGKILL it; returns the bytes kept. */
  async function killMidBody(minBytes: number): Promise<number> {
    // 256 KiB every 10 ms while the kill comes, but never the whole file: the body is held after 8 MiB, so the
    // child is killed mid-body however late the kill lands.
    server.script('/big.jpg', { body, etag: '"v1"', trickle: { bytes: 256 * 1024, everyMs: 10 }, hold: { afterBytes: 8 * MiB } });
    const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', CHILD, `${base}/big.jpg`, work.dir, 'big.jpg'], { stdio: 'ignore' });
    let gone = false;
    const exited = new Promise((resolve) => child.once('exit', resolve)).then(() => (gone = true));
    const part = path.join(work.dir, 'big.jpg.part');
    await waitUntil(
      () => {
        if (gone) throw new Error('the child exited before it was killed');
        return existsSync(part) && statSync(part).size >= minBytes;
      },
      { timeoutMs: 30_000, what: `${minBytes} bytes in big.jpg.part` },
    ).catch((error: unknown) => {
      child.kill('SIGKILL');
      throw error;
    });
    child.kill('SIGKILL');
    await exited;
    const kept = statSync(part).size;
    expect(kept, 'bytes on disk when killed').to.be.at.least(minBytes).and.below(size);
    expect(existsSync(path.join(work.dir, 'big.jpg')), 'no final file after a crash').to.equal(false);
    return kept;
  }

  it('should resume from the .part and transfer only the remaining bytes', async () => {
    const kept = await killMidBody(4 * MiB);
    const servedBeforeRestart = server.bytesServed;
    server.script('/big.jpg', { body, etag: '"v1"' });
    const result = await restart().downloader.downloadWithResume(`${base}/big.jpg`, 'big.jpg');
    expect(result).to.include({ status: 'success', checksum: bodySha, resumedFromByte: kept });
    expect(server.requests.at(-1)).to.include({ status: 206, range: `bytes=${kept}-`, ifRange: '"v1"' });
    expect(server.bytesServed - servedBeforeRestart, 'bytes served after the restart').to.equal(size - kept);
    expect(sha256(readFileSync(path.join(work.dir, 'big.jpg')))).to.equal(bodySha);
    expect(listOutput(work.dir)).to.deep.equal(['big.jpg']);
  });

  it('should restart from zero when the origin changed while the process was dead', async () => {
    await killMidBody(4 * MiB);
    const changed = Buffer.from(body);
    changed[size - 3] = changed[size - 3]! ^ 0xff;
    server.script('/big.jpg', { body: changed, etag: '"v2"' });
    const result = await restart().downloader.downloadWithResume(`${base}/big.jpg`, 'big.jpg');
    expect(result).to.include({ status: 'success', checksum: sha256(changed), resumedFromByte: 0 });
    expect(server.requests.at(-1)).to.include({ status: 200, ifRange: '"v1"' });
  });
});
