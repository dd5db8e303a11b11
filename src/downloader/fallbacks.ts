import type { DownloaderConfig } from '../config/downloader-config.js';
import { IntegrityError } from '../errors/integrity-error.js';
import { MediaNotFoundError } from '../errors/media-not-found-error.js';
import type { HttpClient } from '../http/http-client.js';
import type { Candidate, DownloadRequest } from '../model/download-request.js';
import type { RetryStrategy } from '../retry/retry-strategy.js';
import type { Clock } from '../time/clock.js';
import type { AttemptRunner } from './attempt-runner.js';
import { toDownloadError } from '../errors/classify-error.js';
import type { DownloadTarget } from './download-target.js';
import type { Fetched, FetchFailed } from './fetch-outcome.js';
import { hostMatches } from '../http/media-url.js';
import { withoutCredentials } from '../http/redact.js';
import { findCaptures } from './wayback.js';

/**
 * The call's URLs in order: the first, then each fallback when the one before is missing (404/403/410)
 * or its bytes fail verification; any other failure (a timeout after its retries, a 5xx) ends there.
 * When every URL on a Tumblr host said the media is gone, the newest Wayback captures of each (raw
 * `id_` form), each attempted and verified like any download, so an archived HTML page or a placeholder
 * is refused. Without a usable capture the last "missing" stands, with what the Wayback Machine said
 * added to its message.
 */
export class Fallbacks {
  constructor(
    private readonly config: DownloaderConfig,
    private readonly http: HttpClient,
    private readonly retryStrategy: RetryStrategy,
    private readonly clock: Clock,
    private readonly runner: AttemptRunner,
  ) {}

  async fetch(request: DownloadRequest, target: DownloadTarget, signal: AbortSignal): Promise<Fetched> {
    const { candidates } = request;
    let attempts = 0;
    let last: FetchFailed | undefined;
    let tried = 0;
    for (const candidate of candidates) {
      tried++;
      const fetched = await this.runner.run(request, { url: candidate.requestUrl, host: candidate.host, attemptsBefore: attempts }, target, signal);
      if (fetched.ok) return { ...fetched, candidate };
      last = fetched;
      attempts = fetched.attempts;
      if (signal.aborted || !nextMayHelp(fetched)) break;
    }
    const failed = last!;
    const gone = candidates.filter((candidate) => hostMatches(candidate.host, this.config.tumblrHosts));
    if (signal.aborted || !this.config.wayback.enabled || !(failed.error instanceof MediaNotFoundError) || gone.length === 0) {
      // The URLs actually asked: a timeout on the first ends the item with the others untried.
      return candidates.length > 1 ? withNote(failed, `${tried} of ${candidates.length} URLs tried`) : failed;
    }
    return this.fromWayback(request, gone, target, signal, failed);
  }

  private async fromWayback(request: DownloadRequest, candidates: Candidate[], target: DownloadTarget, signal: AbortSignal, missing: FetchFailed): Promise<Fetched> {
    const notes: string[] = [];
    let attempts = missing.attempts;
    // The captures write to the same .part: what the last one that ran left there is what the failure reports.
    let partKept = missing.partKept;
    for (const candidate of candidates) {
      try {
        const lookup = (): ReturnType<typeof findCaptures> =>
          findCaptures(this.http, this.config.wayback, withoutCredentials(candidate.requestUrl), signal, () => this.clock.now());
        const captures = await this.retryStrategy.run(lookup, { signal });
        if (captures.length === 0) notes.push(candidates.length > 1 ? `no Wayback capture of ${withoutCredentials(candidate.requestUrl)}` : 'no Wayback capture');
        for (const capture of captures) {
          const fetched = await this.runner.run(request, { url: capture.rawUrl, host: capture.host, attemptsBefore: attempts }, target, signal);
          if (fetched.ok) return { ...fetched, captureTimestamp: capture.timestamp, candidate };
          partKept = fetched.partKept ?? partKept;
          if (signal.aborted) return { ...fetched, partKept };
          attempts = fetched.attempts;
          notes.push(`Wayback capture ${capture.timestamp} refused: ${toDownloadError(fetched.error, capture.rawUrl).message}`);
        }
      } catch (lookupError) {
        if (signal.aborted) return { ...missing, error: lookupError, attempts, partKept };
        notes.push(`Wayback lookup failed: ${(lookupError as Error).message}`);
      }
    }
    return withNote({ ...missing, attempts, partKept }, notes.join('; '));
  }
}

/** Whether another URL of the same media may do better: this one is gone, or served bytes that are not it. */
function nextMayHelp(failed: FetchFailed): boolean {
  return failed.error instanceof MediaNotFoundError || failed.error instanceof IntegrityError;
}

/** The failure with `note` added to its error's message (what the fallbacks found out). */
function withNote(failed: FetchFailed, note: string): FetchFailed {
  if (note !== '' && failed.error instanceof Error) failed.error.message = `${failed.error.message}; ${note}`;
  return failed;
}
