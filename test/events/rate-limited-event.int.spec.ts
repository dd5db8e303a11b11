import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import type { RateLimitedEvent } from '../../src/events/download-event-map.js';
import { Ajv2020 } from '../support/ajv.js';
import { FaultServer } from '../support/fault-server.js';
import { jpegBytes } from '../support/fixtures.js';
import { useRealSockets } from '../support/nock-helpers.js';
import { createTestRig, type TestRig } from '../support/test-container.js';

const manifest = JSON.parse(readFileSync(new URL('../../plugin.manifest.json', import.meta.url), 'utf8')) as {
  events: Array<{ name: string; payload: { required: string[]; properties: Record<string, unknown> } }>;
};
const schema = manifest.events.find((e) => e.name === 'rate-limited')!.payload;

describe("the 'rate-limited' event (real origin, virtual clock)", () => {
  useRealSockets();
  let server: FaultServer;
  let rig: TestRig;
  let base: string;

  beforeEach(async () => {
    rig = createTestRig({ retry: { maxRetries: 2, maxRetryAfter: 600_000 } });
    server = new FaultServer(() => rig.clock.now());
    base = await server.start();
  });

  afterEach(async () => {
    await rig.cleanup();
    await server.stop();
  });

  /** The one `rate-limited` payload of a download, checked against the manifest's schema as a host would. */
  function onlyPause(): RateLimitedEvent {
    const pauses = rig.recorder.of('rate-limited');
    expect(pauses).to.have.length(1);
    const payload = JSON.parse(JSON.stringify(pauses[0])) as Record<string, unknown>;
    const validate = new Ajv2020({ strict: false }).compile(schema);
    expect(validate(payload), JSON.stringify(validate.errors)).to.equal(true);
    expect(
      Object.keys(payload).filter((key) => !(key in schema.properties)),
      'keys the schema does not describe',
    ).to.deep.equal([]);
    return pauses[0]!;
  }

  it('should say the status, the Retry-After asked for and the pause applied, uncapped, when the host asks for less than maxRetryAfter', async () => {
    server.script('/a.jpg', { body: jpegBytes(4096), statusFor: (n) => (n === 1 ? { status: 429, headers: { 'retry-after': '120' } } : undefined) });
    const before = rig.clock.now();
    const result = await rig.downloader.downloadImage(`${base}/a.jpg`, '1');
    expect(result.status).to.equal('success');
    const pause = onlyPause();
    expect(pause).to.include({ host: '127.0.0.1', statusCode: 429, retryAfterMs: 120_000, pauseMs: 120_000, capped: false });
    expect(pause.untilMs - before).to.be.at.least(120_000);
  });

  it('should say the pause was capped at maxRetryAfter, and the download gave up, when the host asks for more', async () => {
    server.script('/b.jpg', { body: jpegBytes(4096), statusFor: () => ({ status: 503, headers: { 'retry-after': '3600' } }) });
    const before = rig.clock.now();
    const result = await rig.downloader.downloadImage(`${base}/b.jpg`, '1');
    expect(result).to.include({ status: 'error', attempts: 1 });
    const pause = onlyPause();
    expect(pause).to.include({ host: '127.0.0.1', statusCode: 503, retryAfterMs: 3_600_000, pauseMs: 600_000, capped: true });
    expect(pause.untilMs - before)
      .to.be.at.least(600_000)
      .and.below(3_600_000);
  });
});
