import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { DOWNLOADER_DEFAULTS, resolveDownloaderConfig, type DownloaderConfigInput } from '../../src/config/downloader-config.js';
import { DownloadError } from '../../src/errors/download-error.js';
import { Ajv2020 } from '../support/ajv.js';

describe('resolveDownloaderConfig (filenameTemplate)', () => {
  it("should default to today's names", () => {
    expect(resolveDownloaderConfig({ outputDir: 'out' }).filenameTemplate).to.equal('{postId}_{index}_{hash8}.{ext}');
    expect(DOWNLOADER_DEFAULTS.filenameTemplate).to.equal('{postId}_{index}_{hash8}.{ext}');
  });

  it('should keep a usable template as given', () => {
    expect(resolveDownloaderConfig({ outputDir: 'out', filenameTemplate: '{blog}/{postId}_{index}.{ext}' }).filenameTemplate).to.equal('{blog}/{postId}_{index}.{ext}');
  });

  const bad: Array<[unknown, string]> = [
    ['{foo}.{ext}', 'filenameTemplate "{foo}.{ext}" has an unknown field {foo}'],
    ['', 'filenameTemplate "" is empty'],
    ['../{postId}.{ext}', 'filenameTemplate "../{postId}.{ext}" has a name starting with "."'],
    ['{blog}/{postId}', 'filenameTemplate "{blog}/{postId}" must end in .{ext}'],
    [42, 'filenameTemplate must be a string, got 42'],
  ];
  for (const [filenameTemplate, message] of bad) {
    it(`should refuse ${JSON.stringify(filenameTemplate)} by its key`, () => {
      expect(() => resolveDownloaderConfig({ outputDir: 'out', filenameTemplate } as unknown as DownloaderConfigInput))
        .to.throw(DownloadError, `Invalid downloader config: ${message}`)
        .with.property('code', 'INVALID_CONFIG');
    });
  }

  it("should refuse onExisting 'skip' with a template whose names do not say which media they hold, and only then", () => {
    for (const filenameTemplate of ['{blog}/{postId}.{ext}', '{blog}/{postId}_{index}.{ext}', '{blog}/{hash8}.{ext}']) {
      expect(() => resolveDownloaderConfig({ outputDir: 'out', onExisting: 'skip', filenameTemplate }), filenameTemplate)
        .to.throw(DownloadError, `filenameTemplate ${JSON.stringify(filenameTemplate)} does not say which media a name holds, and onExisting 'skip'`)
        .with.property('code', 'INVALID_CONFIG');
      expect(resolveDownloaderConfig({ outputDir: 'out', onExisting: 'rename', filenameTemplate }).onExisting).to.equal('rename');
    }
    expect(resolveDownloaderConfig({ outputDir: 'out', onExisting: 'skip', filenameTemplate: '{blog}/{postId}_{index}_{hash8}.{ext}' }).onExisting).to.equal('skip');
  });

  it('should be refused by the manifest schema where the resolver refuses it for its form', () => {
    const manifest = JSON.parse(readFileSync(new URL('../../plugin.manifest.json', import.meta.url), 'utf8')) as { configSchema: object };
    const validate = new Ajv2020({ allErrors: true, strict: false }).compile(manifest.configSchema);
    const accepts = (filenameTemplate: string): boolean => {
      try {
        resolveDownloaderConfig({ outputDir: 'out', filenameTemplate });
        return true;
      } catch {
        return false;
      }
    };
    for (const filenameTemplate of [
      '{blog}/{postId}_{index}.{ext}',
      '{postId}_{index}_{hash8}.{ext}',
      '',
      '/x/{postId}.{ext}',
      'a\\b/{postId}.{ext}',
      '{postId}.jpg',
      '{postId}_{ext}',
    ]) {
      expect(validate({ outputDir: 'out', filenameTemplate }), filenameTemplate).to.equal(accepts(filenameTemplate));
    }
  });
});
