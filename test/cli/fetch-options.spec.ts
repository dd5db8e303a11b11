import { expect } from 'chai';
import * as path from 'node:path';
import { UsageError } from '../../src/cli/command-args.js';
import { resolveDownloaderConfig } from '../../src/config/downloader-config.js';
import { flagForConfigError, parseFetchOptions } from '../../src/cli/fetch-options.js';
import { parseWorkerOptions } from '../../src/cli/scale-out-options.js';
import { parseVerifyOptions } from '../../src/cli/verify-command.js';

describe('parseFetchOptions', () => {
  it('should keep the ledger in <dir>/.tumblr-dl, skip recorded work and hard-link twins by default', () => {
    const { config } = parseFetchOptions(['in.txt', '-o', 'arch/']);
    expect(config.ledger).to.deep.equal({ path: path.join('arch', '.tumblr-dl', 'ledger.sqlite'), skipCompleted: true });
    expect(config.onExisting).to.equal('skip');
    expect(config.wayback).to.deep.equal({ enabled: false });
  });

  it('should map --force (and its old name --redownload) to no skipping and name_1 files', () => {
    for (const flag of ['--force', '-f', '--redownload']) {
      const { config } = parseFetchOptions(['in.txt', '-o', 'arch', flag]);
      expect(config.ledger?.skipCompleted, flag).to.equal(false);
      expect(config.onExisting, flag).to.equal('rename');
    }
  });

  it('should take --ledger, --no-ledger, --dedupe, --wayback and --wayback-endpoint', () => {
    expect(parseFetchOptions(['in.txt', '-o', 'a', '--ledger', 'l.sqlite']).config.ledger?.path).to.equal('l.sqlite');
    expect(parseFetchOptions(['in.txt', '-o', 'a', '--no-ledger', '--ledger', 'l.sqlite']).config.ledger?.path).to.equal(':memory:');
    expect(parseFetchOptions(['in.txt', '-o', 'a', '--dedupe', 'reference']).config.ledger?.dedupe).to.equal('reference');
    const { config } = parseFetchOptions(['in.txt', '-o', 'a', '--wayback', '--wayback-endpoint', 'http://127.0.0.1:9']);
    expect(config.wayback).to.deep.equal({ enabled: true, endpoint: 'http://127.0.0.1:9' });
  });

  it('should take --max-retry-after <ms> as retry.maxRetryAfter, and leave it to the default without it', () => {
    expect(parseFetchOptions(['in.txt', '-o', 'a', '--max-retry-after', '120000']).config.retry).to.deep.equal({ maxRetryAfter: 120_000 });
    expect(parseFetchOptions(['in.txt', '-o', 'a', '--max-retry-after=0', '--retries', '2']).config.retry).to.deep.equal({ maxRetries: 2, maxRetryAfter: 0 });
    expect(parseFetchOptions(['in.txt', '-o', 'a']).config.retry).to.deep.equal({});
    expect(resolveDownloaderConfig(parseFetchOptions(['in.txt', '-o', 'a']).config).retry.maxRetryAfter).to.equal(600_000);
  });

  it('should refuse a --max-retry-after that is not a whole number of ms, or too long, in the words of the flag', () => {
    for (const bad of ['10m', '-5', '1.5', '']) {
      expect(() => parseFetchOptions(['in.txt', '-o', 'a', `--max-retry-after=${bad}`]), bad)
        .to.throw(UsageError)
        .with.property('message', `--max-retry-after takes a whole number, got "${bad}"`);
    }
    const { config } = parseFetchOptions(['in.txt', '-o', 'a', '--max-retry-after', '86400001']);
    const refusal = (() => {
      try {
        resolveDownloaderConfig(config);
        return 'accepted';
      } catch (error) {
        return flagForConfigError((error as Error).message);
      }
    })();
    expect(refusal).to.match(/^--max-retry-after must be .*86400001/);
  });

  it('should give the worker --max-retry-after too', () => {
    const { config } = parseWorkerOptions(['-o', 'a', '--redis', 'redis://127.0.0.1:6379', '--max-retry-after', '5000']);
    expect(config.retry?.maxRetryAfter).to.equal(5000);
  });

  it('should refuse an unknown dedupe mode with the list of modes', () => {
    expect(() => parseFetchOptions(['in.txt', '-o', 'a', '--dedupe', 'symlink']))
      .to.throw(UsageError)
      .with.property('message', '--dedupe takes hardlink, copy, reference, off, got "symlink"');
  });
});

describe('parseVerifyOptions', () => {
  it('should default the ledger to <dir>/.tumblr-dl/ledger.sqlite, resolved', () => {
    expect(parseVerifyOptions(['arch'])).to.deep.equal({
      dir: path.resolve('arch'),
      ledgerPath: path.resolve('arch', '.tumblr-dl', 'ledger.sqlite'),
      quick: false,
      deep: false,
    });
    expect(parseVerifyOptions(['arch', '--ledger', 'x.sqlite', '--quick'])).to.include({ ledgerPath: path.resolve('x.sqlite'), quick: true });
  });

  it('should refuse a missing or extra directory, and treat --help as usage', () => {
    expect(() => parseVerifyOptions([])).to.throw(UsageError, 'missing <dir>');
    expect(() => parseVerifyOptions(['a', 'b'])).to.throw(UsageError, 'unexpected arguments: b');
    expect(() => parseVerifyOptions(['--help']))
      .to.throw(UsageError)
      .with.property('message', '');
  });
});

describe('parseFetchOptions with a bucket output', () => {
  // Only the variables these tests set are put back: other suites set their own when their modules load.
  const touched = ['XDG_STATE_HOME', 'AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_S3'] as const;
  let saved: Array<string | undefined>;
  beforeEach(() => {
    saved = touched.map((name) => process.env[name]);
    process.env.XDG_STATE_HOME = '/state-home';
    delete process.env.AWS_ENDPOINT_URL;
    delete process.env.AWS_ENDPOINT_URL_S3;
  });
  afterEach(() => {
    touched.forEach((name, i) => (saved[i] === undefined ? delete process.env[name] : (process.env[name] = saved[i])));
  });

  it('should keep the ledger and the downloads under way in a state folder per server, bucket and prefix, unless --state names one', () => {
    const options = parseFetchOptions(['list.txt', '-o', 's3://arch/run1/', '--s3-endpoint', 'http://minio.lan:9000']);
    const state = path.join('/state-home', 'tumblr-dl', 's3', 'minio.lan_9000', 'arch', 'run1');
    expect(options.config.outputDir).to.equal(state);
    expect(options.config.ledger?.path).to.equal(path.join(state, '.tumblr-dl', 'ledger.sqlite'));
    expect(options.resultsFile).to.equal(`${state}/results.jsonl`);
    expect(options.config.store).to.deep.equal({ url: 's3://arch/run1/', endpoint: 'http://minio.lan:9000' });
    expect(parseFetchOptions(['list.txt', '-o', 's3://arch', '--state', 'here']).config.outputDir).to.equal('here');
    expect(parseFetchOptions(['list.txt', '-o', 's3://arch']).config.outputDir).to.equal(path.join('/state-home', 'tumblr-dl', 's3', 'aws', 'arch'));
  });

  it("should take the AWS environment's endpoint as --s3-endpoint, for the client and the state folder alike", () => {
    process.env.AWS_ENDPOINT_URL = 'http://127.0.0.1:9000';
    const options = parseFetchOptions(['list.txt', '-o', 's3://arch/run1']);
    expect(options.config.store?.endpoint).to.equal('http://127.0.0.1:9000');
    expect(options.config.outputDir).to.equal(path.join('/state-home', 'tumblr-dl', 's3', '127.0.0.1_9000', 'arch', 'run1'));
    expect(parseVerifyOptions(['s3://arch/run1']).dir).to.equal(options.config.outputDir);
  });

  it('should refuse bucket flags without a bucket, and a bucket URL that could leave its prefix, in one line', () => {
    const refused: Array<[string[], string]> = [
      [['-o', 'dir', '--state', 's'], '--state is for a bucket output (-o s3://bucket/prefix); -o dir is a folder'],
      [['-o', 'dir', '--s3-endpoint', 'http://h'], '--s3-endpoint is for a bucket output (-o s3://bucket/prefix); -o dir is a folder'],
      [['-o', 'dir', '--s3-cleanup'], '--s3-cleanup is for a bucket output (-o s3://bucket/prefix)'],
      [['-o', 's3://arch/a/../b'], '-o s3://arch/a/../b: its prefix has an empty, "." or ".." segment'],
      [['-o', 's3://Arch_1/x'], '-o s3://Arch_1/x: "Arch_1" is not a bucket name (3 to 63 lower-case letters, digits, "." and "-")'],
    ];
    for (const [args, message] of refused) {
      expect(() => parseFetchOptions(['list.txt', ...args]), args.join(' '))
        .to.throw(UsageError)
        .with.property('message', message);
    }
    expect(() => resolveDownloaderConfig(parseFetchOptions(['list.txt', '-o', 's3://arch/x', '--s3-part-size', '1M']).config)).to.throw(
      /store\.partSize must be a number from 5242880/,
    );
    expect(() => resolveDownloaderConfig(parseFetchOptions(['list.txt', '-o', 's3://arch/x', '--s3-endpoint', 'http://key:secret@h:9000']).config)).to.throw(
      /must not carry credentials/,
    );
  });
});
