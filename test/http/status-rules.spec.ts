import { expect } from 'chai';
import { errorForStatus } from '../../src/errors/error-for-status.js';
import { HttpStatusError } from '../../src/errors/http-status-error.js';
import { MediaNotFoundError } from '../../src/errors/media-not-found-error.js';
import { judgeStatus } from '../../src/http/status-rules.js';

const NOW = Date.UTC(2026, 10, 26, 12, 0, 0);

describe('judgeStatus', () => {
  it('should say whole for 200, partial for 206 and range-refused for 416', () => {
    expect(judgeStatus(200, {}, NOW)).to.deep.equal({ kind: 'whole' });
    expect(judgeStatus(206, {}, NOW)).to.deep.equal({ kind: 'partial' });
    expect(judgeStatus(416, {}, NOW)).to.deep.equal({ kind: 'range-refused' });
  });

  it('should say missing for 403, 404 and 410, whatever Retry-After says', () => {
    for (const status of [403, 404, 410]) expect(judgeStatus(status, { 'retry-after': '5' }, NOW), String(status)).to.deep.equal({ kind: 'missing' });
  });

  it('should say retryable for 408, 425, 429, 5xx and the 52x of CDNs, not for other 4xx or 501', () => {
    for (const status of [408, 425, 429, 500, 502, 503, 504, 520, 524, 530]) {
      expect(judgeStatus(status, {}, NOW), String(status)).to.include({ kind: 'failed', retryable: true });
    }
    for (const status of [400, 401, 405, 451, 501, 304]) {
      expect(judgeStatus(status, {}, NOW), String(status)).to.include({ kind: 'failed', retryable: false });
    }
  });

  it('should read Retry-After in seconds or as an HTTP date against the given clock time', () => {
    expect(judgeStatus(429, { 'retry-after': '7' }, NOW)).to.deep.equal({ kind: 'failed', retryable: true, retryAfterMs: 7000 });
    const date = new Date(NOW + 30_000).toUTCString();
    expect(judgeStatus(503, { 'retry-after': date }, NOW)).to.deep.equal({ kind: 'failed', retryable: true, retryAfterMs: 30_000 });
    expect(judgeStatus(503, { 'retry-after': 'soon' }, NOW)).to.deep.equal({ kind: 'failed', retryable: true, retryAfterMs: undefined });
  });
});

describe('errorForStatus', () => {
  it('should give a typed error for each unusable status', () => {
    const url = 'https://x.test/a.jpg';
    expect(errorForStatus(url, 404, { kind: 'missing' })).to.be.instanceOf(MediaNotFoundError);
    expect(errorForStatus(url, 416, { kind: 'range-refused' })).to.include({ code: 'RANGE_MISMATCH', retryable: true });
    const limited = errorForStatus(url, 429, { kind: 'failed', retryable: true, retryAfterMs: 2000 });
    expect(limited).to.be.instanceOf(HttpStatusError).and.include({ code: 'RATE_LIMITED', statusCode: 429, retryAfterMs: 2000, retryable: true });
  });
});
