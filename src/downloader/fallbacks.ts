import type { DownloaderConfig } from '../config/downloader-config.js';
import { MediaNotFoundError } from '../errors/media-not-found-error.js';
import type { HttpClient } from '../http/http-client.js';
import type { DownloadRequest } from '../model/download-request.js';
import type { RetryStrategy } from '../retry/retry-strategy.js';
import type { Clock } from '../time/clock.js';
import type { AttemptRunner } from './attempt-runner.js';
import { toDownloadError } from './classify-error.js';
import type { Fetched, FetchFailed } from './fetch-outcome.js';
import { hostMatches } from './media-url.js';
import { withoutCredentials } from './redact.js';
import { findCaptures } from './wayback.js';

/** Where the bytes of one download go while they are fetched. */
export interface FetchTarget {
  /** Path the `.part` is named after. */
  partBase: string;
  /** The damaged file a repair replaces, if this is one. */
  replace: string | undefined;
}

/**
 * The origin first; when a Tumblr host says the media is gone, the newest Wayback captures (raw
 * `id_` form), each attempted and verified like any download, so an archived HTML page or a
 * placeholder is refused. Without a usable capture the origin's "missing" stands, with what the
 * Wayback Machine said added to its message.
 */
export class Fallbacks {
  constructor(
    private readonly config: DownloaderConfig,
    private readonly http: HttpClient,
    private readonly retryStrategy: RetryStrategy,
    private readonly clock: Clock,
    private readonly runner: AttemptRunner,
  ) {}

  async fetch(request: DownloadRequest, target: FetchTarget, signal: AbortSignal): Promise<Fetched> {
    const origin = await this.runner.run(request, { url: request.requestUrl, ...target, attemptsBefore: 0 }, signal);
    if (origin.ok || !this.waybackMayHelp(request, origin)) return origin;
    return this.fromWayback(request, target, signal, origin);
  }

  private waybackMayHelp(request: DownloadRequest, failed: FetchFailed): boolean {
    return this.config.wayback.enabled && failed.error instanceof MediaNotFoundError && hostMatches(request.host, this.config.tumblrHosts);
  }

  private async fromWayback(request: DownloadRequest, target: FetchTarget, signal: AbortSignal, missing: FetchFailed): Promise<Fetched> {
    let note: string;
    let attempts = missing.attempts;
    try {
      const lookup = (): ReturnType<typeof findCaptures> =>
        findCaptures(this.http, this.config.wayback, withoutCredentials(request.requestUrl), signal, () => this.clock.now());
      const captures = await this.retryStrategy.run(lookup, { signal });
      note = 'no Wayback capture';
      for (const capture of captures) {
        const fetched = await this.runner.run(request, { url: capture.rawUrl, ...target, attemptsBefore: attempts }, signal);
        if (fetched.ok) return { ...fetched, captureTimestamp: capture.timestamp };
        if (signal.aborted) return fetched;
        attempts = fetched.attempts;
        note = `Wayback capture ${capture.timestamp} refused: ${toDownloadError(fetched.error, capture.rawUrl).message}`;
      }
    } catch (lookupError) {
      if (signal.aborted) return { ...missing, error: lookupError, attempts };
      note = `Wayback lookup failed: ${(lookupError as Error).message}`;
    }
    const error = missing.error as MediaNotFoundError;
    error.message = `${error.message}; ${note}`;
    return { ...missing, attempts };
  }
}
