import { expect } from 'chai';
import * as path from 'node:path';
import { UsageError } from '../../src/cli/command-args.js';
import { parseFetchOptions } from '../../src/cli/fetch-options.js';
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
    });
    expect(parseVerifyOptions(['arch', '--ledger', 'x.sqlite', '--quick'])).to.include({ ledgerPath: path.resolve('x.sqlite'), quick: true });
  });

  it('should refuse a missing or extra directory, and treat --help as usage', () => {
    expect(() => parseVerifyOptions([])).to.throw(UsageError, 'missing <dir>');
    expect(() => parseVerifyOptions(['a', 'b'])).to.throw(UsageError, 'unexpected arguments: b');
    expect(() => parseVerifyOptions(['--help'])).to.throw(UsageError).with.property('message', '');
  });
});
