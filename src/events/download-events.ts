import { EventEmitter } from 'node:events';
import { injectable } from 'inversify';
import type * as TE from 'typed-emitter';
import type { DownloadEventMap, DownloadEventName, DownloadEventPayload } from './download-event-map.js';
import { serviceToken, type ServiceToken } from '../service-token.js';

/** Token of the {@link DownloadEvents} emitter. */
export const DownloadEvents: ServiceToken<DownloadEvents> = serviceToken('DownloadEvents');

/** Typed emitter of download lifecycle events; hosts call `on`/`once`/`off`. */
export type DownloadEvents = TE.default<DownloadEventMap> & {
  /**
   * Deliver an event to every listener. A listener that throws (or whose promise
   * rejects) is reported as a process warning and never reaches the download.
   */
  publish<E extends DownloadEventName>(name: E, payload: DownloadEventPayload<E>): void;
  /** Whether anyone listens to `name`; lets producers skip building payloads. */
  hasListeners(name: DownloadEventName): boolean;
};

const TypedEmitter = EventEmitter as unknown as new () => TE.default<DownloadEventMap>;

/** Default {@link DownloadEvents}: a Node EventEmitter whose listeners cannot break a download. */
@injectable()
export class DownloadEventEmitter extends TypedEmitter implements DownloadEvents {
  constructor() {
    super();
    // Hosts may attach a listener per progress bar, logger, ledger…: no leak warning at 11.
    (this as unknown as EventEmitter).setMaxListeners(0);
  }

  publish<E extends DownloadEventName>(name: E, payload: DownloadEventPayload<E>): void {
    // rawListeners, not listeners: calling a `once` wrapper is what removes it.
    for (const listener of this.rawListeners(name) as Array<(event: DownloadEventPayload<E>) => unknown>) {
      try {
        const returned = listener.call(this, payload);
        if (returned instanceof Promise) returned.catch((error: unknown) => reportListenerError(name, error));
      } catch (error) {
        reportListenerError(name, error);
      }
    }
  }

  hasListeners(name: DownloadEventName): boolean {
    return this.listenerCount(name) > 0;
  }
}

function reportListenerError(name: string, error: unknown): void {
  process.emitWarning(`A "${name}" listener threw: ${error instanceof Error ? error.message : String(error)}`, {
    code: 'DOWNLOAD_EVENT_LISTENER_ERROR',
  });
}
