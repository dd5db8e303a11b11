import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Clock, SystemClock } from '../../src/time/clock.js';
import { useRealSockets } from '../support/nock-helpers.js';
import { FaultServer } from '../support/fault-server.js';
import { sha256 } from '../support/fixtures.js';
import { createTestRig, type TestRig } from '../support/test-container.js';

const MiB = 1024 * 1024;
const CHILD = fileURLToPath(new URL('../support/crash-child.ts', import.meta.url));

describe('Reliability: SIGKILL mid-body, then start again', function () {
  this.timeout(60_000);
  const size = 16 * MiB;
  const body = randomBytes(size);
  body.set([0xff, 0xd8, 0xff, 0xe0]);
  const bodySha = sha256(body);
  let server: FaultServer;
  let base: string;
  let rig: TestRig;

  useRealSockets();

  beforeEach(async () => {
    server = new FaultServer();
    base = await server.start();
    rig = createTestRig({}, (c) => c.rebind(Clock).to(SystemClock));
  });

  afterEach(async () => {
    await rig.cleanup();
    await server.stop();
  });

  /** Run the child until its .part holds at least `minBytes`, then SIGKILL it; returns the bytes kept. */
  async function killMidBody(minBytes: number): Promise<number> {
    // 256 KiB every 10 ms: about 1.6 s for the whole file, time enough to kill it part-way.
    server.script('/big.jpg', { body, etag: '"v1"', trickle: { bytes: 256 * 1024, everyMs: 10 } });
    const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', CHILD, `${base}/big.jpg`, rig.dir, 'big.jpg'], { stdio: 'ignore' });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const part = path.join(rig.dir, 'big.jpg.part');
    for (let i = 0; i < 1500; i++) {
      if (existsSync(part) && statSync(part).size >= minBytes) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    child.kill('SIGKILL');
    await exited;
    const kept = statSync(part).size;
    expect(kept, 'bytes on disk when killed').to.be.at.least(minBytes).and.below(size);
    expect(existsSync(path.join(rig.dir, 'big.jpg')), 'no final file after a crash').to.equal(false);
    return kept;
  }

  it('should resume from the .part and transfer only the remaining bytes', async () => {
    const kept = await killMidBody(4 * MiB);
    const servedBeforeRestart = server.bytesServed;
    server.script('/big.jpg', { body, etag: '"v1"' });
    const result = await rig.downloader.downloadWithResume(`${base}/big.jpg`, 'big.jpg');
    expect(result).to.include({ status: 'success', checksum: bodySha, resumedFromByte: kept });
    expect(server.requests.at(-1)).to.include({ status: 206, range: `bytes=${kept}-`, ifRange: '"v1"' });
    expect(server.bytesServed - servedBeforeRestart, 'bytes served after the restart').to.equal(size - kept);
    expect(sha256(readFileSync(path.join(rig.dir, 'big.jpg')))).to.equal(bodySha);
    expect(readdirSync(rig.dir)).to.deep.equal(['big.jpg']);
  });

  it('should restart from zero when the origin changed while the process was dead', async () => {
    await killMidBody(4 * MiB);
    const changed = Buffer.from(body);
    changed[size - 1] = changed[size - 1]! ^ 0xff;
    server.script('/big.jpg', { body: changed, etag: '"v2"' });
    const result = await rig.downloader.downloadWithResume(`${base}/big.jpg`, 'big.jpg');
    expect(result).to.include({ status: 'success', checksum: sha256(changed), resumedFromByte: 0 });
    expect(server.requests.at(-1)).to.include({ status: 200, ifRange: '"v1"' });
  });
});
