import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { DownloaderConfigInput } from '../../src/config/downloader-config.js';
import { DownloadEvents } from '../../src/events/download-events.js';
import type { DownloadResult } from '../../src/model/download-result.js';
import { PIXEL_GIFS_BASE64 } from '../../src/verify/known-placeholders.js';
import type { EventRecorder } from '../support/event-recorder.js';
import { useRealSockets } from '../support/nock-helpers.js';
import { FaultServer, type FaultScript } from '../support/fault-server.js';
import { jpegBytes, sha256, listOutput } from '../support/fixtures.js';
import { createTestRig, type TestRig } from '../support/test-container.js';

// Above RESUMABLE_MIN_BYTES, so interrupted transfers keep their .part.
const BODY = jpegBytes(2 * 1024 * 1024, 11);

/** One fault scenario: how the origin misbehaves, and what the downloader must make of it. */
interface Scenario {
  name: string;
  script: FaultScript;
  config?: Partial<DownloaderConfigInput>;
  /** Media type to ask for. @default 'image' */
  kind?: 'image' | 'gif';
  expect: {
    status: DownloadResult['status'];
    errorCode?: string;
    attempts?: number;
    /** A `.part` must remain (resumable) after the failure. */
    keepsPart?: boolean;
  };
  /** Extra checks on events and what the server saw. */
  check?: (facts: { result: DownloadResult; recorder: EventRecorder; server: FaultServer; rig: TestRig }) => void;
}

const scenarios: Scenario[] = [
  {
    name: 'a well-behaved origin',
    script: { body: BODY },
    expect: { status: 'success', attempts: 1 },
  },
  {
    name: 'a socket closed mid-body: resume with Range + If-Range from the kept byte',
    script: { body: BODY, cutAfter: { bytes: 100_000 } },
    expect: { status: 'success', attempts: 2 },
    check: ({ result, recorder, server }) => {
      const [, second] = server.requests;
      expect(second).to.include({ status: 206, ifRange: '"v1"', range: `bytes=${result.resumedFromByte}-` });
      expect(result.resumedFromByte).to.be.greaterThan(0).and.at.most(100_000);
      expect(recorder.of('resumed').map((e) => e.fromByte)).to.deep.equal([result.resumedFromByte]);
      expect(server.bytesServed).to.be.at.most(BODY.length + 100_000);
    },
  },
  {
    name: 'Content-Length promised but fewer bytes sent',
    script: { body: BODY, shortBy: 1000 },
    expect: { status: 'success', attempts: 2 },
    check: ({ recorder }) => expect(recorder.of('retrying')[0]?.code).to.equal('NETWORK_ERROR'),
  },
  {
    name: 'a server without Range support answers 200 to a resume: restart, never append',
    script: { body: BODY, ranges: 'ignore', cutAfter: { bytes: 100_000 } },
    expect: { status: 'success', attempts: 2 },
    check: ({ result, recorder, server }) => {
      expect(server.requests[1]).to.include({ status: 200 });
      expect(result.resumedFromByte).to.equal(0);
      expect(recorder.of('resumed')).to.have.length(0);
    },
  },
  {
    name: 'a 206 whose Content-Range starts at the wrong offset',
    script: { body: BODY, ranges: 'wrong-offset', cutAfter: { bytes: 100_000 } },
    expect: { status: 'success', attempts: 3 },
    check: ({ recorder, server }) => {
      expect(recorder.of('retrying').map((r) => r.code)).to.deep.equal(['NETWORK_ERROR', 'RANGE_MISMATCH']);
      expect(server.requests[2]?.range).to.equal(undefined);
    },
  },
  {
    name: 'the file replaced on the origin between attempts (new ETag)',
    script: { body: BODY, etag: (n) => `"v${n}"`, cutAfter: { bytes: 100_000 } },
    expect: { status: 'success', attempts: 2 },
    check: ({ result, server }) => {
      expect(server.requests[1]).to.include({ ifRange: '"v1"', status: 200 });
      expect(result.resumedFromByte).to.equal(0);
    },
  },
  {
    name: 'only Last-Modified as validator: resume with If-Range: <date>',
    script: { body: BODY, etag: null, lastModified: 'Tue, 01 Sep 2026 10:00:00 GMT', cutAfter: { bytes: 100_000 } },
    expect: { status: 'success', attempts: 2 },
    check: ({ result, server }) => {
      expect(server.requests[1]).to.include({ status: 206, ifRange: 'Tue, 01 Sep 2026 10:00:00 GMT' });
      expect(result.resumedFromByte).to.be.greaterThan(0);
    },
  },
  {
    name: 'no validator at all: a cut transfer cannot be resumed, and no .part is kept',
    script: { body: BODY, etag: null, cutAfter: { bytes: 100_000, requests: 99 } },
    config: { retry: { maxRetries: 1 } },
    expect: { status: 'error', errorCode: 'NETWORK_ERROR', attempts: 2, keepsPart: false },
    check: ({ server }) => expect(server.requests.map((r) => r.range)).to.deep.equal([undefined, undefined]),
  },
  {
    name: 'a small file (under RESUMABLE_MIN_BYTES) cut mid-body: fetched again from zero, no sidecar bookkeeping',
    script: { body: jpegBytes(64 * 1024, 12), cutAfter: { bytes: 10_000 } },
    expect: { status: 'success', attempts: 2 },
    check: ({ server }) => expect(server.requests.map((r) => r.range)).to.deep.equal([undefined, undefined]),
  },
  {
    name: 'a stall after some bytes',
    script: { body: BODY, stallAfter: 50_000 },
    config: { stall: { minBytes: 1, windowMs: 100 }, retry: { maxRetries: 1 } },
    expect: { status: 'error', errorCode: 'STALLED', attempts: 2, keepsPart: true },
    check: ({ server }) => expect(server.requests[1]?.range).to.equal('bytes=50000-'),
  },
  {
    name: 'a trickle slower than the stall threshold',
    script: { body: BODY, trickle: { bytes: 10, everyMs: 250 } },
    config: { stall: { minBytes: 100, windowMs: 100 }, retry: { maxRetries: 0 } },
    expect: { status: 'error', errorCode: 'STALLED', attempts: 1, keepsPart: true },
  },
  {
    name: '429 with Retry-After in seconds',
    script: { body: BODY, statusFor: (n) => (n === 1 ? { status: 429, headers: { 'retry-after': '3' } } : undefined) },
    expect: { status: 'success', attempts: 2 },
    check: ({ recorder, server }) => {
      const limited = recorder.of('rate-limited')[0]!;
      expect(limited.untilMs - server.requests[0]!.at).to.equal(3000);
      expect(recorder.of('retrying')[0]?.delayMs).to.equal(3000);
      expect(server.requests[1]!.at).to.be.at.least(limited.untilMs);
    },
  },
  {
    name: '503 with Retry-After as an HTTP date',
    script: {
      body: BODY,
      // Dated on the test's virtual clock: the downloader reads Retry-After against its injected Clock.
      statusFor: (n, nowMs) => (n === 1 ? { status: 503, headers: { 'retry-after': new Date(nowMs + 5000).toUTCString() } } : undefined),
    },
    expect: { status: 'success', attempts: 2 },
    check: ({ recorder }) => {
      // HTTP dates have 1 s resolution: the wait is the date minus now, rounded down to the second.
      expect(recorder.of('retrying')[0]?.delayMs).to.be.within(3000, 5000);
      expect(recorder.of('rate-limited')).to.have.length(1);
    },
  },
  {
    name: '5xx for the first two attempts',
    script: { body: BODY, statusFor: (n) => (n <= 2 ? { status: n === 1 ? 500 : 502 } : undefined) },
    expect: { status: 'success', attempts: 3 },
  },
  {
    name: 'a 301 → 302 redirect chain',
    script: { body: BODY, statusFor: (n) => (n === 1 ? { status: 301, headers: { location: '/hop2' } } : undefined) },
    expect: { status: 'success', attempts: 1 },
    check: ({ server }) => expect(server.requests.map((r) => `${r.path} ${r.status}`)).to.deep.equal(['/media.jpg 301', '/hop2 302', '/final.jpg 200']),
  },
  {
    name: 'a redirect loop',
    script: { body: BODY, statusFor: () => ({ status: 302, headers: { location: '/media.jpg' } }) },
    config: { maxRedirects: 5 },
    expect: { status: 'error', errorCode: 'HTTP_ERROR', attempts: 1 },
    check: ({ server }) => expect(server.requests).to.have.length(6),
  },
  {
    name: 'a redirect to a file: URL',
    script: { body: BODY, statusFor: () => ({ status: 302, headers: { location: 'file:///etc/passwd' } }) },
    expect: { status: 'error', errorCode: 'INVALID_URL', attempts: 1 },
  },
  {
    name: 'a hostile Content-Disposition file name (ignored: names come from the post, never the server)',
    script: { body: BODY, headers: { 'content-disposition': 'attachment; filename="../../../evil.sh"' } },
    expect: { status: 'success', attempts: 1 },
    check: ({ result, rig }) => expect(path.dirname(result.filename)).to.equal(rig.dir),
  },
  {
    name: 'text/html with 200 for an image URL',
    script: { body: Buffer.from('<!doctype html><p>log in</p>'.padEnd(5000, ' ')), contentType: 'text/html; charset=utf-8' },
    expect: { status: 'error', errorCode: 'INTEGRITY', attempts: 1 },
    check: ({ recorder }) => expect(recorder.of('failed')[0]?.error).to.have.property('failure', 'HTML_INSTEAD_OF_MEDIA'),
  },
  {
    name: 'a known placeholder image',
    kind: 'gif',
    script: { body: Buffer.from(PIXEL_GIFS_BASE64[0], 'base64'), contentType: 'image/gif' },
    expect: { status: 'error', errorCode: 'INTEGRITY', attempts: 1 },
    check: ({ recorder }) => expect(recorder.of('failed')[0]?.error).to.have.property('failure', 'PLACEHOLDER'),
  },
  {
    name: 'gzip encoding sent although identity was asked',
    script: { body: BODY, gzip: true },
    expect: { status: 'success', attempts: 1 },
  },
  {
    name: 'headers slower than responseTimeout',
    // Held, not late: headers 300 ms late could still beat a timeout that a busy machine fires late.
    script: { body: BODY, hold: true },
    config: { responseTimeout: 100, retry: { maxRetries: 1 } },
    expect: { status: 'error', errorCode: 'TIMEOUT', attempts: 2 },
  },
];

/**
 * The script as served: a connection cut on the first request is cut only once the client has read the bytes
 * sent before the cut (its progress events say so), by holding the cut until then. Closed a fixed time after
 * the write, a client the busy machine had not got round to would lose those bytes with the connection, and
 * the scenario would test the load, not the fault.
 */
function cutOnceRead(script: FaultScript, rig: TestRig, server: FaultServer): FaultScript {
  if (script.cutAfter && (script.cutAfter.requests ?? 1) > 1) return script; // every attempt cut: what they read does not matter
  const sent = script.cutAfter?.bytes ?? (script.shortBy === undefined ? undefined : script.body.length - script.shortBy);
  if (sent === undefined) return script;
  rig.container.get<DownloadEvents>(DownloadEvents).on('progress', (e) => e.attempt === 1 && e.bytes >= sent && server.release());
  return { ...script, hold: { afterBytes: sent } };
}

describe('Reliability: scripted origin faults through the real container', function () {
  this.timeout(20_000);
  let server: FaultServer;
  let base: string;
  let rig: TestRig;

  useRealSockets();

  afterEach(async () => {
    await rig.cleanup();
    await server.stop();
  });

  for (const scenario of scenarios) {
    it(`should end ${scenario.expect.status}${scenario.expect.errorCode ? ` ${scenario.expect.errorCode}` : ''} on ${scenario.name}`, async () => {
      rig = createTestRig({ stall: { minBytes: 1, windowMs: 2000 }, ...scenario.config });
      server = new FaultServer(() => rig.clock.now());
      base = await server.start();
      server.script('/media.jpg', cutOnceRead(scenario.script, rig, server));
      server.script('/hop2', { body: BODY, statusFor: () => ({ status: 302, headers: { location: '/final.jpg' } }) });
      server.script('/final.jpg', { body: BODY });
      const url = `${base}/media.jpg`;
      const result = scenario.kind === 'gif' ? await rig.downloader.downloadGif(url, '1') : await rig.downloader.downloadImage(url, '1');

      expect(result.status, result.errorMessage).to.equal(scenario.expect.status);
      if (scenario.expect.errorCode) expect(result.errorCode).to.equal(scenario.expect.errorCode);
      if (scenario.expect.attempts !== undefined) expect(result.attempts, 'attempts').to.equal(scenario.expect.attempts);
      const onDisk = listOutput(rig.dir);
      const finalName = path.basename(result.filename);
      if (result.status === 'success') {
        // The one invariant: a file under its final name has exactly the origin's bytes.
        expect(onDisk).to.deep.equal([finalName]);
        expect(sha256(readFileSync(result.filename)))
          .to.equal(sha256(scenario.script.body))
          .and.to.equal(result.checksum);
        expect(rig.recorder.names().at(-1)).to.equal('completed');
      } else {
        expect(onDisk, 'nothing under the final name').to.not.include(finalName);
        const partKept = onDisk.includes(`${finalName}.part`);
        expect(partKept, '.part kept').to.equal(scenario.expect.keepsPart ?? false);
        if (!partKept) expect(onDisk).to.deep.equal([]);
        expect(rig.recorder.names().at(-1)).to.equal(result.status === 'missing' ? 'missing' : 'failed');
      }
      scenario.check?.({ result, recorder: rig.recorder, server, rig });
    });
  }
});
