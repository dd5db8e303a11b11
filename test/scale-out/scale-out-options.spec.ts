import { expect } from 'chai';
import { UsageError } from '../../src/cli/command-args.js';
import { parseEnqueueOptions, parseStatusOptions, parseWorkerOptions } from '../../src/cli/scale-out-options.js';
import { resolveScaleOutConfig } from '../../src/config/downloader-config.js';
import { DownloadError } from '../../src/errors/download-error.js';
import { checkJobData } from '../../src/scale-out/check-job-data.js';
import { jobIdFor } from '../../src/scale-out/media-job.js';

describe('scale-out options and jobs', () => {
  it('should give the same item the same job id, and any difference of url, postId or index another', () => {
    const item = { url: 'https://64.media.tumblr.com/a/tumblr_x_1280.jpg', postId: '42', index: 0 };
    expect(jobIdFor(item))
      .to.equal(jobIdFor({ ...item }))
      .and.match(/^[0-9a-f]{32}$/);
    expect(jobIdFor({ ...item, index: 1 })).to.not.equal(jobIdFor(item));
    expect(jobIdFor({ ...item, postId: '43' })).to.not.equal(jobIdFor(item));
    // The separator keeps fields apart: ("a", "1b") is not ("a1", "b").
    expect(jobIdFor({ url: 'u', postId: '1', index: 0 })).to.not.equal(jobIdFor({ url: 'u1', postId: '', index: 0 }));
  });

  it('should check job data as it checks an input line', () => {
    expect(checkJobData({ url: 'http://h/a.jpg', postId: 'p', mediaType: 'gif', index: 2, line: 7 })).to.deep.equal({
      url: 'http://h/a.jpg',
      postId: 'p',
      mediaType: 'gif',
      index: 2,
      line: 7,
    });
    expect(checkJobData(null)).to.equal('job data is not an object');
    expect(checkJobData({ url: 5 })).to.equal('job data has no "url"');
    expect(checkJobData({ url: 'u', postId: 'p', mediaType: 'pdf', index: 0 })).to.match(/unknown mediaType "pdf"/);
    expect(checkJobData({ url: 'u', postId: 'p', mediaType: 'image', index: -1 })).to.match(/"index" must be a whole number/);
  });

  it('should read --redis from the environment when not given, and refuse neither', () => {
    const saved = process.env.TUMBLR_DL_REDIS_URL;
    try {
      delete process.env.TUMBLR_DL_REDIS_URL;
      expect(() => parseStatusOptions([])).to.throw(UsageError, 'missing --redis <url> (or set TUMBLR_DL_REDIS_URL)');
      process.env.TUMBLR_DL_REDIS_URL = 'redis://10.0.0.5:6379';
      expect(parseStatusOptions([]).scaleOut.redisUrl).to.equal('redis://10.0.0.5:6379');
      expect(parseStatusOptions(['--redis', 'redis://h:1']).scaleOut.redisUrl).to.equal('redis://h:1');
    } finally {
      if (saved === undefined) delete process.env.TUMBLR_DL_REDIS_URL;
      else process.env.TUMBLR_DL_REDIS_URL = saved;
    }
  });

  it('should take every fetch download flag in worker mode, plus the queue flags', () => {
    const options = parseWorkerOptions([
      '-o',
      'out',
      '--redis',
      'redis://h:1',
      '--queue',
      'blogs',
      '-c',
      '8',
      '-r',
      '2',
      '--retries',
      '5',
      '--lock-duration',
      '5000',
      '--stalled-interval',
      '2000',
      '--exit-when-drained',
      '--name',
      'box-1',
    ]);
    expect(options.config).to.include({ outputDir: 'out', maxConcurrent: 8 });
    expect(options.config.rateLimit).to.deep.equal({ requestsPerSecond: 2 });
    expect(options.config.retry).to.deep.equal({ maxRetries: 5 });
    expect(options.config.scaleOut).to.deep.equal({ redisUrl: 'redis://h:1', queueName: 'blogs', lockDurationMs: 5000, stalledIntervalMs: 2000 });
    expect(options).to.include({ name: 'box-1', exitWhenDrained: true });
    expect(() => parseWorkerOptions(['--redis', 'redis://h:1'])).to.throw(UsageError, 'missing -o <dir>');
    expect(() => parseWorkerOptions(['-o', 'out', '--redis', 'redis://h:1', 'extra'])).to.throw(UsageError, 'unexpected arguments: extra');
    expect(() => parseEnqueueOptions(['list.txt', '--redis', 'redis://h:1', '--attempts', 'x'])).to.throw(UsageError, '--attempts takes a whole number');
  });

  it('should refuse a bad scale-out config by its key', () => {
    expect(resolveScaleOutConfig({})).to.deep.equal({ redisUrl: '', queueName: 'tumblr-dl', lockDurationMs: 30_000, stalledIntervalMs: 30_000, maxStalledCount: 2, attempts: 3 });
    const refused = (input: object): string => {
      try {
        resolveScaleOutConfig(input);
      } catch (error) {
        expect(error).to.be.instanceOf(DownloadError).with.property('code', 'INVALID_CONFIG');
        return (error as Error).message;
      }
      return expect.fail('accepted');
    };
    expect(refused({ redisUrl: 'http://h:6379' })).to.match(/scaleOut\.redisUrl must be a redis:\/\/ or rediss:\/\/ URL/);
    expect(refused({ queueName: 'a:b' })).to.match(/scaleOut\.queueName must be 1 to 100 letters/);
    expect(refused({ lockDurationMs: 10 })).to.match(/scaleOut\.lockDurationMs must be a number from 1000/);
  });
});
