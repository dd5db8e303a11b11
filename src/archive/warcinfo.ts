import { readFileSync } from 'node:fs';
import type { DownloaderConfig } from '../config/downloader-config.js';

/** The package's own version, read once. */
const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/**
 * The `warcinfo` fields that open each WARC file: what wrote it, and the options of the run that bear on
 * what was recorded (the rest of the configuration is the run's business).
 */
export function warcinfoFields(config: DownloaderConfig): Record<string, string> {
  return {
    software: `tumblr-media-downloader/${VERSION}`,
    format: 'WARC File Format 1.1',
    conformsTo: 'http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/',
    'http-header-user-agent': config.userAgent,
    'payload-digest': config.archive.digest,
    description: `media downloads, verified before they were kept; resume=${config.resume}, dedupe=${config.ledger.dedupe}, wayback=${config.wayback.enabled}`,
  };
}
