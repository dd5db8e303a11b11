/** The API version of the host contract this package implements and understands. */
export const HOST_API_VERSION = 1;

/** One service a plugin provides, as its manifest lists it. */
export interface ManifestService {
  /** Key of the `Symbol.for` token. */
  token: string;
  /** TypeScript interface (and exported token) name. */
  interface: string;
  /** Default implementation. */
  default: string;
}

/** One event a plugin emits, with the JSON Schema of its payload. */
export interface ManifestEvent {
  name: string;
  payload: Record<string, unknown>;
}

/** What `plugin.manifest.json` holds. */
export interface PluginManifest {
  id: string;
  name: string;
  version: string;
  /** Host API version the plugin was written against. */
  apiVersion: number;
  /** Module to import, relative to the manifest file. */
  entry: string;
  /** Export of the entry that takes the config and returns a ContainerModule. */
  module: string;
  services: ManifestService[];
  /** Token key of the plugin's typed event emitter. */
  eventsToken: string;
  events: ManifestEvent[];
  /** JSON Schema of the plugin's configuration. */
  configSchema: Record<string, unknown>;
}
