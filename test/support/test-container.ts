import { Container } from 'inversify';
import type { DownloaderConfigInput } from '../../src/config/downloader-config.js';
import { DownloadEvents } from '../../src/events/download-events.js';
import { MediaDownloader } from '../../src/downloader/media-downloader.js';
import { downloaderModule } from '../../src/module.js';
import { Clock } from '../../src/time/clock.js';
import { EventRecorder } from './event-recorder.js';
import { tempDir } from './fixtures.js';
import { ManualClock } from './manual-clock.js';

/** A container with the plugin loaded, a virtual clock and an event recorder. */
export interface TestRig {
  container: Container;
  downloader: MediaDownloader;
  clock: ManualClock;
  recorder: EventRecorder;
  dir: string;
  cleanup: () => Promise<void>;
}

/**
 * A fresh host container per test: the plugin's module, a temp output dir, and
 * an auto-advancing virtual clock so backoff and cooldowns cost no real time.
 * Tests that replace services pass `configure`, which runs before the first `get`;
 * tests that step time themselves pass a non-advancing `clock`.
 */
export function createTestRig(config: Partial<DownloaderConfigInput> = {}, configure?: (container: Container) => void, clock = new ManualClock(1_700_000_000_000, true)): TestRig {
  const { dir, cleanup } = tempDir();
  const container = new Container();
  container.load(
    downloaderModule({
      outputDir: dir,
      rateLimit: { requestsPerSecond: 0 },
      progressIntervalMs: 0,
      ...config,
    }),
  );
  container.rebind(Clock).toConstantValue(clock);
  configure?.(container);
  const recorder = new EventRecorder(container.get<DownloadEvents>(DownloadEvents));
  const downloader = container.get<MediaDownloader>(MediaDownloader);
  return {
    container,
    downloader,
    clock,
    recorder,
    dir,
    cleanup: async () => {
      await downloader.close({ abort: true });
      cleanup();
    },
  };
}
