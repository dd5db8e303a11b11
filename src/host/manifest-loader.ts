import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Ajv2020Module from 'ajv/dist/2020.js';
import type { ErrorObject } from 'ajv';
import type { ContainerModule } from 'inversify';
import { DownloadError } from '../errors/download-error.js';
import { HOST_API_VERSION, type PluginManifest } from './plugin-manifest.js';

/**
 * ajv's JSON Schema 2020-12 validator class (ajv is CommonJS; under NodeNext the class may sit on `.default`).
 * Not exported: its type differs between module resolutions, and a public `.d.ts` must check under each.
 */
const Ajv2020 = ((Ajv2020Module as unknown as { default?: unknown }).default ?? Ajv2020Module) as typeof Ajv2020Module.default;

/** A manifest read from disk, with where it was found. */
export interface LoadedManifest {
  manifest: PluginManifest;
  /** Absolute path of the manifest file. */
  file: string;
}

/**
 * Read a plugin manifest (a path, or a `file:` URL as a string or `URL`) and refuse it, with a clear message, when it is not
 * for this host's API version or lacks what a host needs.
 * @throws DownloadError `INVALID_CONFIG`
 */
export async function readManifest(file: string | URL): Promise<LoadedManifest> {
  const absolute = file instanceof URL || file.startsWith('file:') ? fileURLToPath(file) : path.resolve(file);
  let manifest: PluginManifest;
  try {
    manifest = JSON.parse(await readFile(absolute, 'utf8')) as PluginManifest;
  } catch (cause) {
    throw new DownloadError('INVALID_CONFIG', `Cannot read plugin manifest ${absolute}: ${(cause as Error).message}`, { cause });
  }
  for (const key of ['id', 'version', 'entry', 'module', 'eventsToken'] as const) {
    if (typeof manifest[key] !== 'string' || manifest[key] === '') {
      throw new DownloadError('INVALID_CONFIG', `Plugin manifest ${absolute} has no "${key}"`);
    }
  }
  if (manifest.apiVersion !== HOST_API_VERSION) {
    throw new DownloadError('INVALID_CONFIG', `Plugin ${manifest.id} needs host API version ${String(manifest.apiVersion)}; this host supports version ${HOST_API_VERSION}`);
  }
  return { manifest, file: absolute };
}

/**
 * Check a configuration against the manifest's JSON Schema; every problem is
 * listed in one message (`rateLimit/burst must be >= 1; …`).
 * @throws DownloadError `INVALID_CONFIG`
 */
export function validateConfig(manifest: PluginManifest, config: unknown): void {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  const validate = ajv.compile(manifest.configSchema);
  if (validate(config)) return;
  const problems = (validate.errors ?? []).map((e: ErrorObject) => `${e.instancePath.slice(1) || '(config)'} ${e.message ?? 'is invalid'}`);
  throw new DownloadError('INVALID_CONFIG', `Invalid configuration for plugin ${manifest.id}: ${problems.join('; ')}`);
}

/** Import the plugin's entry and build its ContainerModule from the (validated) config. */
export async function instantiatePlugin(loaded: LoadedManifest, config: unknown): Promise<ContainerModule> {
  const entry = pathToFileURL(path.resolve(path.dirname(loaded.file), loaded.manifest.entry)).href;
  const exports = (await import(entry)) as Record<string, unknown>;
  const factory = exports[loaded.manifest.module];
  if (typeof factory !== 'function') {
    throw new DownloadError('INVALID_CONFIG', `Plugin ${loaded.manifest.id}: ${loaded.manifest.entry} exports no function "${loaded.manifest.module}"`);
  }
  return (factory as (config: unknown) => ContainerModule)(config);
}
