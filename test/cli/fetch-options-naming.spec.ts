import { expect } from 'chai';
import { UsageError } from '../../src/cli/command-args.js';
import { FETCH_USAGE, flagForConfigError, parseFetchOptions } from '../../src/cli/fetch-options.js';
import { parseWorkerOptions } from '../../src/cli/scale-out-options.js';
import { resolveDownloaderConfig } from '../../src/config/downloader-config.js';
import { collisionWarning, parseFilenameTemplate } from '../../src/naming/filename-template.js';

/** What the config resolver says of a parsed config, in the words of the flags. */
const refusalOf = (args: string[]): string => {
  try {
    resolveDownloaderConfig(parseFetchOptions(args).config);
    return 'accepted';
  } catch (error) {
    return flagForConfigError((error as Error).message);
  }
};

describe('parseFetchOptions (--name, --write-metadata)', () => {
  it('should leave the template to the default without --name, skipping files already there by name', () => {
    const { config } = parseFetchOptions(['in.txt', '-o', 'a']);
    expect(config).not.to.have.property('filenameTemplate');
    expect(config.onExisting).to.equal('skip');
  });

  it('should take --name <template> (or --name-template) as config.filenameTemplate', () => {
    for (const flag of ['--name', '--name-template']) {
      const { config } = parseFetchOptions(['in.txt', '-o', 'a', flag, '{blog}/{postId}_{index}.{ext}']);
      expect(config.filenameTemplate, flag).to.equal('{blog}/{postId}_{index}.{ext}');
      expect(resolveDownloaderConfig(config).filenameTemplate, flag).to.equal('{blog}/{postId}_{index}.{ext}');
    }
    expect(() => parseFetchOptions(['in.txt', '-o', 'a', '--name', '{postId}.{ext}', '--name-template', '{blog}.{ext}']))
      .to.throw(UsageError)
      .with.property('message', 'give --name or --name-template, not both');
  });

  it('should not take a file under a name for the item unless the name has {postId}, {index} and {hash8} (only the ledger skips then)', () => {
    expect(parseFetchOptions(['in.txt', '-o', 'a', '--name', '{blog}/{postId}_{index}.{ext}']).config.onExisting).to.equal('rename');
    expect(parseFetchOptions(['in.txt', '-o', 'a', '--name', '{blog}/{postId}.{ext}']).config.onExisting).to.equal('rename');
    expect(parseFetchOptions(['in.txt', '-o', 'a', '--name', '{blog}/{postId}_{hash8}.{ext}']).config.onExisting).to.equal('rename');
    expect(parseFetchOptions(['in.txt', '-o', 'a', '--name', '{blog}/{hash8}.{ext}']).config.onExisting).to.equal('rename');
    expect(parseFetchOptions(['in.txt', '-o', 'a', '--name', '{blog}/{postId}_{index}_{hash8}.{ext}']).config.onExisting).to.equal('skip');
    expect(parseFetchOptions(['in.txt', '-o', 'a', '--name', '{blog}/{postId}.{ext}']).config.ledger?.skipCompleted).to.equal(true);
    expect(refusalOf(['in.txt', '-o', 'a', '--name', '{blog}/{postId}.{ext}'])).to.equal('accepted');
  });

  it('should refuse a bad template in the words of --name, with the nearest field', () => {
    expect(refusalOf(['in.txt', '-o', 'a', '--name', '{blgo}/{postId}.{ext}'])).to.match(
      /^--name "\{blgo\}\/\{postId\}\.\{ext\}" has an unknown field \{blgo\} \(did you mean \{blog\}\?\); the fields are \{blog\}, /,
    );
    expect(refusalOf(['in.txt', '-o', 'a', '--name', '{blog}/{postId}'])).to.match(/^--name "\{blog\}\/\{postId\}" must end in \.\{ext\}: the extension comes from the bytes/);
    expect(refusalOf(['in.txt', '-o', 'a', '--name='])).to.match(/^--name "" is empty/);
  });

  it('should give the line to warn with when the template can give two media one name', () => {
    const { config } = parseFetchOptions(['in.txt', '-o', 'a', '--name', '{blog}/{postId}.{ext}']);
    expect(collisionWarning(parseFilenameTemplate(resolveDownloaderConfig(config).filenameTemplate))).to.equal(
      "tumblr-dl: --name '{blog}/{postId}.{ext}' can give two media one name; later ones get a numbered suffix (name_1.ext)",
    );
  });

  it('should take --write-metadata, off by default', () => {
    expect(parseFetchOptions(['in.txt', '-o', 'a']).writeMetadata).to.equal(false);
    expect(parseFetchOptions(['in.txt', '-o', 'a', '--write-metadata']).writeMetadata).to.equal(true);
    expect(() => parseFetchOptions(['in.txt', '-o', 'a', '--write-metadata=yes'])).to.throw(UsageError, 'option --write-metadata takes no value');
  });

  it('should give the worker --name-template, its --name still naming the worker', () => {
    const options = parseWorkerOptions(['-o', 'a', '--redis', 'redis://127.0.0.1:6379', '--name', 'w1', '--name-template', '{blog}/{postId}_{index}.{ext}']);
    expect(options.name).to.equal('w1');
    expect(options.config.filenameTemplate).to.equal('{blog}/{postId}_{index}.{ext}');
    expect(options.config.onExisting).to.equal('rename');
  });
});

describe('FETCH_USAGE', () => {
  it('should document --name, its fields, an example and the default, and --write-metadata', () => {
    expect(FETCH_USAGE).to.include('--name <template>');
    for (const field of ['{blog}', '{postId}', '{index}', '{mediaType}', '{date}', '{hash8}', '{ext}']) expect(FETCH_USAGE, field).to.include(field);
    expect(FETCH_USAGE).to.include("--name '{blog}/{postId}_{index}.{ext}'");
    expect(FETCH_USAGE).to.include('(default {postId}_{index}_{hash8}.{ext})');
    expect(FETCH_USAGE).to.include('--write-metadata        write <file>.json beside each saved file');
    expect(FETCH_USAGE).to.include('a tumblr-utils json/ folder');
  });

  it('should fit in 80 columns without tabs', () => {
    expect(FETCH_USAGE.split('\n').filter((line) => [...line].length > 80)).to.deep.equal([]);
    expect(FETCH_USAGE).not.to.include('\t');
  });
});
