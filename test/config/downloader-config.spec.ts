import { expect } from 'chai';
import * as path from 'node:path';
import { resolveDownloaderConfig, type DownloaderConfigInput } from '../../src/config/downloader-config.js';
import { DownloadError } from '../../src/errors/download-error.js';

describe('resolveDownloaderConfig', () => {
  it('should fill the documented defaults', () => {
    const config = resolveDownloaderConfig({ outputDir: 'out' });
    expect(config.outputDir).to.equal(path.resolve('out'));
    expect(config.maxConcurrent).to.equal(5);
    expect(config.perHostConcurrency).to.equal(5);
    expect(config.timeout).to.equal(300_000);
    expect(config.retry).to.deep.equal({ maxRetries: 3, baseBackoff: 1000, maxBackoff: 60_000, maxRetryAfter: 600_000 });
    expect(config.resume).to.equal(true);
    expect(config.placeholderSha256).to.have.length.greaterThan(0);
    expect(config.ledger).to.deep.equal({ path: ':memory:', skipCompleted: true, dedupe: 'hardlink' });
    expect(config.wayback).to.deep.equal({ enabled: false, endpoint: 'https://web.archive.org', maxCaptures: 3 });
  });

  it('should resolve a relative ledger path and drop a trailing slash from the Wayback endpoint', () => {
    const config = resolveDownloaderConfig({ outputDir: 'out', ledger: { path: 'l.sqlite' }, wayback: { endpoint: 'http://127.0.0.1:9/' } });
    expect(config.ledger.path).to.equal(path.resolve('l.sqlite'));
    expect(config.wayback.endpoint).to.equal('http://127.0.0.1:9');
  });

  const bad: Array<[string, Partial<DownloaderConfigInput>]> = [
    ['maxConcurrent', { maxConcurrent: 0 }],
    ['maxConcurrent', { maxConcurrent: 2.5 }],
    ['rateLimit.requestsPerSecond', { rateLimit: { requestsPerSecond: -1 } }],
    ['rateLimit.scope', { rateLimit: { scope: 'planet' as 'host' } }],
    ['retry.maxBackoff', { retry: { baseBackoff: 5000, maxBackoff: 10 } }],
    ['timeout', { timeout: Number.NaN }],
    ['placeholderSha256', { placeholderSha256: ['not-a-hash'] }],
    ['outputDir', { outputDir: '' }],
    ['ledger.path', { ledger: { path: '' } }],
    ['ledger.dedupe', { ledger: { dedupe: 'symlink' as 'hardlink' } }],
    ['ledger.skipCompleted', { ledger: { skipCompleted: 'yes' as unknown as boolean } }],
    ['wayback.endpoint', { wayback: { endpoint: 'ftp://archive.example' } }],
    ['wayback.maxCaptures', { wayback: { maxCaptures: 0 } }],
  ];
  for (const [key, input] of bad) {
    it(`should name ${key} when it is invalid (${JSON.stringify(input)})`, () => {
      expect(() => resolveDownloaderConfig({ outputDir: 'out', ...input }))
        .to.throw(DownloadError, key)
        .with.property('code', 'INVALID_CONFIG');
    });
  }

  it('should refuse a misspelt option by name, with the nearest known one, at any depth', () => {
    const input = { outputDir: 'out', maxConcurent: 8, rateLimit: { requestPerSecond: 2 }, ledger: { path: ':memory:', skip: true } };
    expect(() => resolveDownloaderConfig(input as unknown as DownloaderConfigInput))
      .to.throw(
        DownloadError,
        'Invalid downloader config: unknown option "maxConcurent" (did you mean "maxConcurrent"?); ' +
          'unknown option "rateLimit.requestPerSecond" (did you mean "rateLimit.requestsPerSecond"?); unknown option "ledger.skip"',
      )
      .with.property('code', 'INVALID_CONFIG');
  });
});
