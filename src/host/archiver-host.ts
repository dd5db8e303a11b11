import { EventEmitter } from 'node:events';
import { Container } from 'inversify';
import type * as TE from 'typed-emitter';
import { instantiatePlugin, readManifest, validateConfig } from './manifest-loader.js';
import type { PluginManifest } from './plugin-manifest.js';
import type { DownloadEventMap, DownloadEventName } from '../events/download-event-map.js';

/**
 * An event a plugin emitted, as the host forwards it: typed by its name, so
 * `if (e.name === 'failed') e.payload.error.code` needs no cast.
 */
export type ForwardedEvent = {
  [K in DownloadEventName]: {
    /** Manifest id of the plugin. */
    pluginId: string;
    /** Event name, e.g. `completed`. */
    name: K;
    /** The plugin's payload, untouched. */
    payload: Parameters<DownloadEventMap[K]>[0];
  };
}[DownloadEventName];

/** Events of the host itself. */
export type ArchiverHostEvents = {
  /** A plugin was validated and loaded. */
  'plugin-loaded': (manifest: PluginManifest) => void;
  /** Any event of any loaded plugin. */
  'plugin-event': (event: ForwardedEvent) => void;
};

/** Options of {@link ArchiverHost.loadPlugin}. */
export interface LoadPluginOptions {
  /**
   * Runs after the plugin's bindings are loaded and before anything is resolved:
   * the place to `rebind` its services.
   */
  configure?: (container: Container) => void;
}

/**
 * The contract a host fulfils for this plugin: an inversify container the plugin
 * binds into, and a way to load plugins by manifest with a validated config.
 */
export interface ArchiverHost {
  /** The container every plugin is loaded into; services are resolved from it. */
  readonly container: Container;
  /** Events of the host, including every forwarded plugin event. */
  readonly events: TE.default<ArchiverHostEvents>;
  /**
   * Read the manifest (a path, relative to the working directory, or a `file:` URL, as a string or a
   * `URL`: `import.meta.resolve('tumblr-media-downloader/plugin.manifest.json')` works from anywhere),
   * refuse an unsupported API version, validate `config`
   * against the manifest's schema, import the entry, load its module, let the
   * caller rebind services, and start forwarding the plugin's events.
   */
  loadPlugin(manifest: string | URL, config: unknown, options?: LoadPluginOptions): Promise<PluginManifest>;
}

/** A minimal reference host: what an archiver needs to run plugins, and nothing else. */
export function createArchiverHost(container: Container = new Container()): ArchiverHost {
  const events = new EventEmitter() as unknown as TE.default<ArchiverHostEvents>;
  return {
    container,
    events,
    async loadPlugin(manifestFile, config, options = {}) {
      const loaded = await readManifest(manifestFile);
      validateConfig(loaded.manifest, config);
      container.load(await instantiatePlugin(loaded, config));
      options.configure?.(container);
      const pluginEvents = container.get<EventEmitter>(Symbol.for(loaded.manifest.eventsToken));
      for (const { name } of loaded.manifest.events) {
        pluginEvents.on(name, (payload: unknown) => events.emit('plugin-event', { pluginId: loaded.manifest.id, name, payload } as ForwardedEvent));
      }
      events.emit('plugin-loaded', loaded.manifest);
      return loaded.manifest;
    },
  };
}
