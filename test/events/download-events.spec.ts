import { expect } from 'chai';
import { DownloadEventEmitter } from '../../src/events/download-events.js';
import type { StartedEvent } from '../../src/events/download-event-map.js';

const started: StartedEvent = { id: 'dl-1', url: 'https://x.test/a.jpg', mediaType: 'image', attempt: 1 };

describe(DownloadEventEmitter.name, () => {
  describe('.publish', () => {
    it('should deliver the payload to every listener, once-listeners only once', () => {
      const events = new DownloadEventEmitter();
      const seen: string[] = [];
      events.on('started', (e) => seen.push(`on ${e.id}`));
      events.once('started', (e) => seen.push(`once ${e.id}`));
      events.publish('started', started);
      events.publish('started', started);
      expect(seen).to.deep.equal(['on dl-1', 'once dl-1', 'on dl-1']);
    });

    it('should contain a listener that throws or rejects and still reach the others', async () => {
      const events = new DownloadEventEmitter();
      const warnings: string[] = [];
      const onWarning = (w: Error): void => void warnings.push(w.message);
      process.on('warning', onWarning);
      let reached = false;
      events.on('started', () => {
        throw new Error('listener bug');
      });
      events.on('started', (async () => {
        throw new Error('async listener bug');
      }) as () => void);
      events.on('started', () => (reached = true));
      expect(() => events.publish('started', started)).to.not.throw();
      await new Promise((resolve) => setImmediate(resolve));
      process.off('warning', onWarning);
      expect(reached).to.equal(true);
      expect(warnings.some((w) => w.includes('listener bug'))).to.equal(true);
      expect(warnings.some((w) => w.includes('async listener bug'))).to.equal(true);
    });
  });

  it('.hasListeners should tell whether anyone listens', () => {
    const events = new DownloadEventEmitter();
    expect(events.hasListeners('progress')).to.equal(false);
    events.on('progress', () => {});
    expect(events.hasListeners('progress')).to.equal(true);
  });
});
