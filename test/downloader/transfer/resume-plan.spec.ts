import { expect } from 'chai';
import type { Response } from 'got';
import { planWrite, worthKeeping, RESUMABLE_MIN_BYTES } from '../../../src/downloader/transfer/resume-plan.js';
import type { ResumeCandidate } from '../../../src/downloader/disk/part-file.js';

const URL = 'https://x.test/v.mp4';
const response = (statusCode: number, headers: Record<string, string> = {}): Response => ({ statusCode, headers }) as unknown as Response;
const kept: ResumeCandidate = { offset: 1000, validator: '"v1"', state: { url: URL, etag: '"v1"', contentLength: 5000, bytes: 1000 } };

describe('planWrite', () => {
  it('should start from zero on a 200, even when a range was asked', () => {
    expect(planWrite(response(200, { 'content-length': '5000' }), kept, URL, 0)).to.deep.equal({ offset: 0, declaredSize: 5000, encoding: undefined });
  });

  it('should append only a 206 that starts at the kept offset and names the same total', () => {
    expect(planWrite(response(206, { 'content-range': 'bytes 1000-4999/5000' }), kept, URL, 0)).to.deep.equal({ offset: 1000, declaredSize: 5000, encoding: undefined });
    for (const range of ['bytes 0-4999/5000', 'bytes 1000-5999/6000', '']) {
      expect(() => planWrite(response(206, { 'content-range': range }), kept, URL, 0), range)
        .to.throw()
        .with.property('code', 'RANGE_MISMATCH');
    }
  });

  it('should take a 416 naming the kept size as "already whole" only when the first response announced that size and the validator still holds', () => {
    const whole: ResumeCandidate = { offset: 5000, validator: '"v1"', state: { url: URL, etag: '"v1"', contentLength: 5000, bytes: 5000 } };
    expect(planWrite(response(416, { 'content-range': 'bytes */5000', etag: '"v1"' }), whole, URL, 0)).to.deep.equal({
      offset: 5000,
      declaredSize: 5000,
      encoding: undefined,
      complete: true,
    });
    expect(planWrite(response(416, { 'content-range': 'bytes */5000' }), whole, URL, 0)).to.have.property('complete', true);
    const refusals: Array<[string, Record<string, string>, ResumeCandidate]> = [
      ['another size', { 'content-range': 'bytes */6000' }, whole],
      ['no size', {}, whole],
      ['another entity', { 'content-range': 'bytes */5000', etag: '"v2"' }, whole],
      ['a .part short of the size', { 'content-range': 'bytes */5000' }, kept],
      ['no size announced at first', { 'content-range': 'bytes */5000' }, { ...whole, state: { url: URL, etag: '"v1"', bytes: 5000 } }],
    ];
    for (const [why, headers, candidate] of refusals) {
      expect(() => planWrite(response(416, headers), candidate, URL, 0), why)
        .to.throw()
        .with.property('code', 'RANGE_MISMATCH');
    }
  });

  it('should refuse every status that brings no usable body with its typed error', () => {
    expect(() => planWrite(response(404), undefined, URL, 0))
      .to.throw()
      .with.property('code', 'MEDIA_NOT_FOUND');
    expect(() => planWrite(response(416), kept, URL, 0))
      .to.throw()
      .with.property('code', 'RANGE_MISMATCH');
    expect(() => planWrite(response(503, { 'retry-after': '3' }), undefined, URL, 0))
      .to.throw()
      .with.property('retryAfterMs', 3000);
  });
});

describe('worthKeeping', () => {
  const big = { offset: 0, declaredSize: RESUMABLE_MIN_BYTES, encoding: undefined };
  it('should keep a .part only with resume on, a validator, no re-encoding, and a body large enough to be worth a sidecar', () => {
    expect(worthKeeping(response(200, { etag: '"v1"' }), big, true)).to.equal(true);
    expect(worthKeeping(response(200, { etag: '"v1"' }), big, false)).to.equal(false);
    expect(worthKeeping(response(200, { etag: 'W/"weak"' }), big, true)).to.equal(false);
    expect(worthKeeping(response(200, { 'last-modified': 'Wed, 21 Oct 2015 07:28:00 GMT' }), { ...big, encoding: 'gzip' }, true)).to.equal(false);
    expect(worthKeeping(response(200, { etag: '"v1"' }), { ...big, declaredSize: 1000 }, true)).to.equal(false);
  });
});
