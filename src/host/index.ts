/**
 * The host side of the plugin contract: `import { createArchiverHost } from 'tumblr-media-downloader/host'`.
 * A minimal reference host (an inversify container, plugins loaded by manifest with a validated config,
 * their events forwarded) and the manifest loader it is built from. A subpath of its own, so a host that
 * loads the plugin its own way never loads the JSON Schema validator.
 * @packageDocumentation
 */
import 'reflect-metadata';

export { createArchiverHost, type ArchiverHost, type ArchiverHostEvents, type ForwardedEvent, type LoadPluginOptions } from './archiver-host.js';
export { readManifest, validateConfig, instantiatePlugin, type LoadedManifest } from './manifest-loader.js';
export { HOST_API_VERSION, type PluginManifest, type ManifestService, type ManifestEvent } from './plugin-manifest.js';
