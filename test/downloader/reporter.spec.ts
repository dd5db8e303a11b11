import { expect } from 'chai';
import { resolveDownloaderConfig } from '../../src/config/downloader-config.js';
import { describeCall } from '../../src/downloader/download-call.js';
import type { FetchSucceeded } from '../../src/downloader/fetch-outcome.js';
import type { OpenPart } from '../../src/downloader/disk/open-part.js';
import { Reporter } from '../../src/downloader/reporter.js';
import { TolerantLedger } from '../../src/ledger/tolerant-ledger.js';
import { DownloadError } from '../../src/errors/download-error.js';
import { DownloadEventEmitter } from '../../src/events/download-events.js';
import { MemoryDownloadLedger } from '../../src/ledger/memory-download-ledger.js';
import { EventRecorder } from '../support/event-recorder.js';
import { ManualClock } from '../support/manual-clock.js';
import { requestFor } from '../support/requests.js';

describe(Reporter.name, () => {
  const DIR = '/archive';
  const URL = 'https://64.media.tumblr.com/a/tumblr_a_1280.jpg';
  let ledger: MemoryDownloadLedger;
  let events: DownloadEventEmitter;
  let clock: ManualClock;
  let reporter: Reporter;

  beforeEach(() => {
    ledger = new MemoryDownloadLedger();
    events = new DownloadEventEmitter();
    clock = new ManualClock(1_700_000_000_000);
    reporter = new Reporter(resolveDownloaderConfig({ outputDir: DIR }), events, new TolerantLedger(ledger), clock);
  });

  const fetched: FetchSucceeded = {
    ok: true,
    attempts: 2,
    resumedFrom: 0,
    outcome: {
      part: undefined as unknown as OpenPart,
      sha256: 'ab'.repeat(32),
      byteSize: 5000,
      contentType: 'image/jpeg',
      declaredSize: 5000,
      resumedFrom: 0,
      finalUrl: URL,
      hasSidecar: false,
      etag: '"v1"',
      lastModified: undefined,
      detectedFormat: 'jpeg',
      warnings: [],
      nameByContent: undefined,
    },
  };

  describe('.completed', () => {
    it('should record the file (with its time and ETag) before saying progress and completed, and time the result on the clock', async () => {
      const recorder = new EventRecorder(events);
      const request = requestFor(DIR, URL, 'a.jpg');
      await clock.advance(250);
      const result = await reporter.completed(request, fetched, { filename: `${DIR}/a.jpg`, mtimeMs: 42 }, false);
      expect(recorder.names({ withProgress: true })).to.deep.equal(['progress', 'completed']);
      expect(result).to.include({ status: 'success', attempts: 2, duration: 250, detectedFormat: 'jpeg', source: 'tumblr' });
      expect(result).to.not.have.property('repaired');
      expect(await ledger.lookup(URL)).to.include({ status: 'success', etag: '"v1"', recordedAt: 1_700_000_000_250 });
      for await (const file of ledger.files()) expect(file).to.include({ path: `${DIR}/a.jpg`, mtimeMs: 42 });
    });
  });

  describe('.failed', () => {
    it('should record nothing for a refused call, and record a failed request with its kept .part', async () => {
      const call = describeCall('dl-9', 'not a url', 'image', '1', {}, { resume: true, nowMs: clock.now() });
      const refused = await reporter.failed(call, { error: new DownloadError('INVALID_URL', 'bad'), attempts: 0, resumedFrom: 0 });
      expect(refused).to.include({ status: 'error', errorCode: 'INVALID_URL', filename: '' });
      expect(await ledger.lookup('not a url')).to.equal(undefined);

      const request = requestFor(DIR, URL, 'a.jpg');
      await reporter.partKept(request, `${DIR}/a.jpg.part`);
      const error = new DownloadError('NETWORK_ERROR', 'reset', { retryable: true });
      await reporter.failed(request, { error, attempts: 4, resumedFrom: 1000, partKept: true });
      expect(await ledger.lookup(URL)).to.include({ status: 'error', errorCode: 'NETWORK_ERROR' });
      expect(await ledger.inProgress(), 'the .part stays, so does its mark').to.have.length(1);
      await reporter.failed(request, { error, attempts: 4, resumedFrom: 1000, partKept: false });
      expect(await ledger.inProgress()).to.have.length(0);
    });

    it('should take the credentials out of the error before anyone sees it', async () => {
      const request = requestFor(DIR, 'https://user:secret@x.test/a.jpg', 'a.jpg');
      const recorder = new EventRecorder(events);
      const error = new DownloadError('NETWORK_ERROR', 'reset at https://user:secret@x.test/a.jpg', { url: request.requestUrl, cause: new Error('has secret') });
      const result = await reporter.failed(request, { error, attempts: 1, resumedFrom: 0 });
      expect(JSON.stringify(result)).to.not.include('secret');
      const published = recorder.of('failed')[0]!.error;
      expect(`${published.message} ${published.url}`).to.not.include('secret');
      expect(published.cause).to.equal(undefined);
    });
  });

  it('should build no payload for an event nobody listens to', async () => {
    let published = 0;
    const publish = events.publish.bind(events);
    events.publish = ((...args: Parameters<typeof publish>) => (published++, publish(...args))) as typeof publish;
    const request = requestFor(DIR, URL, 'a.jpg');
    reporter.queued(request);
    reporter.started(request);
    reporter.progress(request, 1, 10, 100);
    expect(published).to.equal(0);
    events.on('started', () => undefined);
    reporter.started(request);
    expect(published).to.equal(1);
  });
});
