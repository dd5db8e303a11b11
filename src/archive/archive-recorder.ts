import { injectable } from 'inversify';
import { serviceToken, type ServiceToken } from '../service-token.js';

/** Token of the {@link ArchiveRecorder} service. */
export const ArchiveRecorder: ServiceToken<ArchiveRecorder> = serviceToken('ArchiveRecorder');

/** One HTTP request and the head of its response, as they went over the wire. */
export interface HttpExchange {
  /** When the request was sent. */
  date: Date;
  /** The request as the client sent it: method, URL, and its headers (`Host` first). */
  request: { method: string; url: string; headers: ReadonlyArray<readonly [string, string]> };
  /** The response's status line and headers, in the order and case they came in. */
  response: { status: number; statusText: string; httpVersion: string; headers: ReadonlyArray<readonly [string, string]> };
  /** Bytes of the file this response did not carry: kept from an earlier attempt (a `206` from `fromByte`). */
  fromByte: number;
  /** The `Content-Encoding` a server applied although identity was asked: the body was decoded before it was kept. */
  decodedFrom?: string;
  /** The first bytes of the body of a response that saved nothing (a 404 page), at most 64 KiB. */
  body?: Buffer;
  /** The body was longer than {@link body}. */
  bodyTruncated?: boolean;
}

/** A download whose verified bytes now stand under their final name. */
export interface SavedDownload {
  /** The download's id (`dl-7`), as its exchanges were given. */
  id: string;
  /** The item's URL (credentials as `***`). */
  url: string;
  /** The URL whose bytes were saved: a fallback size, a mirror, or a Wayback capture. */
  servedUrl: string;
  /** When `servedUrl` is a Wayback capture: the URL it stands for. */
  captureOf?: string;
  /** The file holding the bytes (for a deduplicated item, the earlier file with the same bytes). */
  file: string;
  /** Called once the recorder is done with {@link file} (written, or failed): a staged copy of a bucket's object can then go. */
  release?: () => Promise<void>;
  sha256: string;
  byteSize: number;
  contentType: string | undefined;
}

/** A download the origin says is gone (404/403/410). */
export interface MissingDownload {
  id: string;
  url: string;
}

/**
 * Keeps the evidence of where files came from: the HTTP exchanges of each download, and what came of them.
 * The transfer hands over each exchange as it happens; the reporter (the one publisher) then says how the
 * download ended, and only then is anything written. Bound by default to {@link NoArchiveRecorder};
 * `archive.warc` binds the `WarcRecorder`; a host may bind its own.
 */
export interface ArchiveRecorder {
  /** Whether exchanges are wanted at all: when not, the transfer does not describe them. */
  readonly recording: boolean;
  /** One exchange of download `id`; kept until the download ends. */
  exchanged(id: string, exchange: HttpExchange): void;
  /** Download `id` saved its bytes: record them. A failure to record is the recorder's to report, never the download's. */
  saved(download: SavedDownload): Promise<void>;
  /** Download `id` ended with the media gone at the origin: record the answer that said so. */
  missing(download: MissingDownload): Promise<void>;
  /** Download `id` ended any other way (refused bytes, network failure, abort): nothing of it is recorded. */
  dropped(id: string): void;
  /** Finish what is open (the downloader's close() calls it once its downloads have settled). */
  close(): Promise<void>;
}

/** Records nothing: the default. */
@injectable()
export class NoArchiveRecorder implements ArchiveRecorder {
  readonly recording = false;
  exchanged(): void {}
  async saved(): Promise<void> {}
  async missing(): Promise<void> {}
  dropped(): void {}
  async close(): Promise<void> {}
}
