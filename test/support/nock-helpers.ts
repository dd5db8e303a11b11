import nock from 'nock';

/** Origin used by the nock suites: a Tumblr media host. */
export const TUMBLR = 'https://64.media.tumblr.com';

/** Headers of a well-behaved media response. */
export function mediaHeaders(body: Buffer, contentType = 'image/jpeg', etag = '"v1"'): Record<string, string> {
  return { 'content-type': contentType, 'content-length': String(body.length), etag, 'accept-ranges': 'bytes' };
}

/** Fail the test if an interceptor was never used, then reset nock for the next test. */
export function assertNockDoneAndClean(): void {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  if (pending.length > 0) throw new Error(`Unused nock interceptors: ${pending.join(', ')}`);
}

/**
 * For suites that talk to real loopback servers: nock is switched off for the
 * suite (with nock active, large real-server transfers can fail spuriously).
 */
export function useRealSockets(): void {
  before(() => nock.restore());
  after(() => nock.activate());
}
