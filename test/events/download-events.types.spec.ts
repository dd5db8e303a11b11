import { expect } from 'chai';
import { DownloadEventEmitter } from '../../src/events/download-events.js';

/**
 * Compile-time contract of the event map. `npm test` type-checks this file
 * first: if any `@ts-expect-error` line stopped being an error (the map got
 * looser), the type-check fails and so does the suite.
 */
describe('DownloadEventMap types', () => {
  it('should reject wrong payloads and unknown events at compile time', () => {
    const events = new DownloadEventEmitter();
    const check = (): void => {
      // @ts-expect-error a progress payload needs bytes and total
      events.publish('progress', { id: 'x', url: 'u', mediaType: 'image', attempt: 1 });
      // @ts-expect-error rate-limited needs host and untilMs, not a string delay
      events.publish('rate-limited', { id: 'x', url: 'u', mediaType: 'image', attempt: 1, host: 'h', untilMs: 'soon' });
      // @ts-expect-error there is no such event
      events.on('finished', () => {});
      // @ts-expect-error mediaType is a closed set
      events.publish('started', { id: 'x', url: 'u', mediaType: 'podcast', attempt: 1 });
      events.on('resumed', (e) => {
        const fromByte: number = e.fromByte;
        // @ts-expect-error resumed payloads carry no sha256
        void e.sha256;
        void fromByte;
      });
    };
    expect(check).to.be.a('function');
  });
});
