import { DOWNLOAD_EVENT_NAMES, type DownloadEventMap, type DownloadEventName } from '../../src/events/download-event-map.js';
import type { DownloadEvents } from '../../src/events/download-events.js';

/** One recorded event. */
export interface Recorded {
  name: DownloadEventName;
  payload: Parameters<DownloadEventMap[DownloadEventName]>[0];
}

/** Records every event an emitter publishes, in order. */
export class EventRecorder {
  readonly events: Recorded[] = [];

  constructor(emitter: DownloadEvents) {
    for (const name of DOWNLOAD_EVENT_NAMES) {
      emitter.on(name, (payload: Recorded['payload']) => this.events.push({ name, payload }));
    }
  }

  /** Event names in order, optionally without progress noise. */
  names(options: { withProgress?: boolean } = {}): DownloadEventName[] {
    return this.events.map((e) => e.name).filter((n) => options.withProgress || n !== 'progress');
  }

  /** Payloads of one event type. */
  of<E extends DownloadEventName>(name: E): Array<Parameters<DownloadEventMap[E]>[0]> {
    return this.events.filter((e) => e.name === name).map((e) => e.payload as Parameters<DownloadEventMap[E]>[0]);
  }
}
