import { expect } from 'chai';
import { Ajv2020 } from './support/ajv.js';
import { readFileSync } from 'node:fs';
import * as index from '../src/index.js';
import { DOWNLOADER_DEFAULTS, resolveDownloaderConfig, type DownloaderConfigInput } from '../src/config/downloader-config.js';
import { DOWNLOAD_EVENT_NAMES } from '../src/events/download-event-map.js';

const manifest = JSON.parse(readFileSync(new URL('../plugin.manifest.json', import.meta.url), 'utf8')) as {
  version: string;
  module: string;
  services: Array<{ token: string; interface: string }>;
  events: Array<{ name: string; payload: object }>;
  configSchema: { properties: Record<string, unknown> };
};
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

describe('plugin.manifest.json', () => {
  it('should carry the package version', () => {
    expect(manifest.version).to.equal(pkg.version);
  });

  it('should name tokens the package really exports', () => {
    expect(index).to.have.property(manifest.module).that.is.a('function');
    for (const service of manifest.services) {
      const exported = (index as Record<string, unknown>)[service.interface];
      expect(exported, service.interface).to.equal(Symbol.for(service.token));
    }
  });

  it('should describe exactly the options the config resolver knows', () => {
    const resolved = resolveDownloaderConfig({ outputDir: '/tmp/x' });
    expect(Object.keys(manifest.configSchema.properties).sort()).to.deep.equal(Object.keys(resolved).sort());
  });

  it('should state every default exactly as DOWNLOADER_DEFAULTS does, and no other', () => {
    /** Path → default, for every schema property that states one. */
    const schemaDefaults = (properties: Record<string, unknown>, prefix = ''): Record<string, unknown> =>
      Object.assign(
        {},
        ...Object.entries(properties).map(([key, value]) => {
          const property = value as { default?: unknown; properties?: Record<string, unknown> };
          if (property.properties) return schemaDefaults(property.properties, `${prefix}${key}.`);
          return 'default' in property ? { [`${prefix}${key}`]: property.default } : {};
        }),
      ) as Record<string, unknown>;
    const flatten = (value: Record<string, unknown>, prefix = ''): Record<string, unknown> =>
      Object.assign(
        {},
        ...Object.entries(value).map(([key, inner]) =>
          inner !== null && typeof inner === 'object' && !Array.isArray(inner) ? flatten(inner as Record<string, unknown>, `${prefix}${key}.`) : { [`${prefix}${key}`]: inner },
        ),
      ) as Record<string, unknown>;
    expect(schemaDefaults(manifest.configSchema.properties)).to.deep.equal(flatten(DOWNLOADER_DEFAULTS as unknown as Record<string, unknown>));
    expect(Object.isFrozen(DOWNLOADER_DEFAULTS.retry) && Object.isFrozen(DOWNLOADER_DEFAULTS.tumblrHosts)).to.equal(true);
  });

  it('should list every event of the event map', () => {
    expect(manifest.events.map((e) => e.name)).to.deep.equal([...DOWNLOAD_EVENT_NAMES]);
  });

  it('should accept and refuse the same configs as resolveDownloaderConfig (one schema, two checkers)', () => {
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    const validate = ajv.compile(manifest.configSchema);
    const cases: Array<Record<string, unknown>> = [
      { outputDir: 'out' },
      { outputDir: 'out', maxConcurrent: 8, rateLimit: { requestsPerSecond: 2.5, burst: 4, scope: 'global' }, ledger: { dedupe: 'copy' } },
      { outputDir: 'out', maxConcurrent: 0 },
      { outputDir: 'out', maxConcurent: 3 },
      { outputDir: 'out', retry: { maxRetries: -1 } },
      { outputDir: 'out', rateLimit: { scope: 'planet' } },
      { outputDir: 'out', ledger: { dedupe: 'symlink' } },
      { outputDir: 'out', stall: { windowMs: 1.5 } },
      { outputDir: 'out', onExisting: 'overwrite' },
      { outputDir: '' },
    ];
    for (const config of cases) {
      let resolverAccepts = true;
      try {
        resolveDownloaderConfig(config as unknown as DownloaderConfigInput);
      } catch {
        resolverAccepts = false;
      }
      expect(validate(config), JSON.stringify(config)).to.equal(resolverAccepts);
    }
  });
});
