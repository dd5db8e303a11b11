/**
 * The contract between what decides which WARC records an archive gets (the recorder) and what writes
 * them (the writer): one record, described; its block streamed from a buffer or a file on disk.
 */

/** WARC 1.1 record types this archive writes. */
export type WarcRecordType = 'warcinfo' | 'response' | 'request' | 'resource' | 'metadata' | 'revisit';

/** A file's bytes (or a range of them), streamed into a record without a copy in memory. */
export interface FilePayload {
  file: string;
  /** First byte. @default 0 */
  offset?: number;
  length: number;
}

/** One record to write. The writer adds `WARC-Type`, `WARC-Record-ID` (unless given), `WARC-Date`, `Content-Length`. */
export interface WarcRecordSpec {
  type: WarcRecordType;
  /** `WARC-Target-URI`. */
  targetUri?: string;
  /** `WARC-Date`: when the exchange began (or the content was gathered). */
  date: Date;
  /** `WARC-Record-ID`, as `<urn:uuid:…>`; generated when absent. */
  recordId?: string;
  /** `Content-Type` of the block: `application/http; msgtype=response`, `image/jpeg`, `application/warc-fields`… */
  contentType?: string;
  /** Further WARC headers, in order (`WARC-Concurrent-To`, `WARC-Refers-To`, `WARC-Payload-Digest`, `WARC-Profile`…). */
  headers?: ReadonlyArray<readonly [string, string]>;
  /** Bytes of the block before the payload (an HTTP message's head); the block is `head` then `payload`. */
  head?: Buffer;
  /** The rest of the block: bytes in memory, or a file's bytes streamed. */
  payload?: Buffer | FilePayload;
}

/** The index line a record gets in its WARC's CDXJ (response, resource and revisit records get one). */
export interface CdxjFields {
  /** The URL looked up (the record's target URI). */
  url: string;
  /** Media type of the payload (`image/jpeg`), or `warc/revisit` for a revisit record. */
  mime: string;
  /** HTTP status, for response and revisit records. */
  status?: number;
  /** Payload digest as written in the record (`sha256:<hex>` or `sha1:<BASE32>`). */
  digest: string;
}

/** Where a record went. */
export interface WrittenRecord {
  recordId: string;
  /** The WARC file's name (final name, without `.open`), relative to the WARC folder. */
  filename: string;
  /** Byte offset of the record's gzip member in that file. */
  offset: number;
  /** Length of the gzip member. */
  length: number;
}
