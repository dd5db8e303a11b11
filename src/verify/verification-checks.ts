import { IntegrityError } from '../errors/integrity-error.js';
import { canonicalExtension, classifyNonMedia, contentTypeInFamily, detectFormat, FORMAT_INFO, isNonMediaType } from './media-formats.js';
import type { MediaType } from '../model/media-type.js';
import type { ContentFacts, HeadFacts, ResponseFacts } from './verification-facts.js';

/**
 * One verification rule. A rule may look at the headers, at the first bytes (to
 * refuse a body before the rest is stored), at the stored content, or at several;
 * it throws {@link IntegrityError}. A content rule may instead return a warning:
 * the bytes are kept and the result says what is odd about them.
 */
export interface VerificationCheck {
  /** Short name for logs and docs. */
  readonly name: string;
  /** Runs when headers arrive. */
  checkResponse?(facts: ResponseFacts): void;
  /** Runs when the first bytes of a fresh body arrive. */
  checkHead?(facts: HeadFacts): void;
  /** Runs when the body is complete; a string returned is a warning kept with the result. */
  checkContent?(facts: ContentFacts): void | string | Promise<void | string>;
}

/** Warnings a kept file may carry in its result. */
export const WARNINGS = {
  /** The body ends before its own structure does, and the origin serves it so (twice the same, or as long as promised). */
  truncatedAtOrigin: 'truncated-at-origin',
  /** Bytes of no known format, kept because their Content-Type names the requested family. */
  formatUnverified: 'format-unverified',
  /** The caller's file name says one format, the bytes are another. */
  extensionMismatch: 'extension-mismatch',
} as const;

/** Smallest valid GIF is 43 bytes (a 1×1 pixel); nothing real is smaller. */
export const ABSOLUTE_MIN_BYTES = 43;

/** Size floors per media type: anything smaller is an error page or a stub, not media. */
export const MIN_BYTES: Readonly<Record<MediaType, number>> = {
  image: 100,
  gif: ABSOLUTE_MIN_BYTES,
  video: 1024,
  // The shortest real MP3 (a second of silence at 8 kbit/s) is about a kilobyte; less is an error stub.
  audio: 1024,
  file: 1,
};

/** Why bytes that are no media format are refused, from what they look like and what the server called them. */
function refuseNonMedia(facts: { url: string; mediaType: MediaType; contentType: string | undefined; head: Uint8Array }): never {
  const looks = classifyNonMedia(facts.head);
  if (looks === 'markup') {
    throw new IntegrityError(
      'HTML_INSTEAD_OF_MEDIA',
      `A page (HTML, XML or SVG, as ${facts.contentType ?? 'no type'}), not ${facts.mediaType === 'image' ? 'an' : 'a'} ${facts.mediaType}: ${facts.url}`,
      {
        url: facts.url,
      },
    );
  }
  if (looks !== 'binary' || isNonMediaType(facts.contentType)) {
    throw new IntegrityError('MAGIC_MISMATCH', `Content is ${looks === 'binary' ? facts.contentType : looks}, not a media format: ${facts.url}`, { url: facts.url });
  }
  throw new IntegrityError('CONTENT_TYPE_MISMATCH', `Content is no known media format and its type ${facts.contentType ?? '(none)'} is not ${facts.mediaType}: ${facts.url}`, {
    url: facts.url,
  });
}

/**
 * Media is what its bytes say, whatever the URL or the headers claim: a WebP under `.jpg`, a PNG
 * as `application/octet-stream`, an MP4 asked for as an image are all kept. HTML, XML, SVG, JSON
 * and text are refused, whatever they are called, as soon as their first bytes arrive. Bytes of no
 * known format are kept only when the Content-Type names the requested family (with a warning).
 */
export const mediaSignature: VerificationCheck = {
  name: 'media-signature',
  checkHead(facts) {
    if (facts.mediaType === 'file' || detectFormat(facts.head) !== undefined) return;
    if (classifyNonMedia(facts.head) !== 'binary') refuseNonMedia(facts);
  },
  checkContent(facts) {
    if (facts.mediaType === 'file' || facts.detectedFormat !== undefined) return;
    const looks = classifyNonMedia(facts.head);
    const familyOk = !facts.verifyContentType || contentTypeInFamily(facts.mediaType, facts.contentType);
    if (looks === 'binary' && familyOk && !isNonMediaType(facts.contentType)) return WARNINGS.formatUnverified;
    refuseNonMedia(facts);
  },
};

/** Bytes stored must be the bytes promised; a short body is worth another try. */
export const declaredSize: VerificationCheck = {
  name: 'size',
  checkContent(facts) {
    if (facts.verifySize && facts.declaredSize !== undefined && facts.byteSize !== facts.declaredSize) {
      throw new IntegrityError('SIZE_MISMATCH', `Received ${facts.byteSize} of ${facts.declaredSize} bytes: ${facts.url}`, {
        url: facts.url,
        retryable: true,
      });
    }
  },
};

/** Empty and tiny bodies are never media. */
export const sizeFloor: VerificationCheck = {
  name: 'size-floor',
  checkContent(facts) {
    if (facts.byteSize === 0) {
      throw new IntegrityError('EMPTY', `Empty response: ${facts.url}`, { url: facts.url });
    }
    const floor = Math.max(facts.mediaType === 'file' ? 1 : ABSOLUTE_MIN_BYTES, MIN_BYTES[facts.mediaType]);
    if (facts.byteSize < floor) {
      throw new IntegrityError('TOO_SMALL', `Only ${facts.byteSize} bytes, below the ${floor}-byte floor for ${facts.mediaType}: ${facts.url}`, {
        url: facts.url,
      });
    }
  },
};

/**
 * A body that ends before its own structure does (no JPEG EOI, no PNG IEND, MP4 boxes longer than
 * the file) was cut. Without a Content-Length to compare, that is worth one more try; bytes that are
 * cut the same way twice, or that are exactly as long as the server promised, are the origin's own
 * damage: kept, with a warning, because nothing better can be had.
 */
export const structure: VerificationCheck = {
  name: 'structure',
  checkContent(facts) {
    if (facts.completeness !== 'truncated') return;
    const asPromised = facts.declaredSize !== undefined && facts.byteSize === facts.declaredSize;
    if (asPromised || facts.previousTruncatedSha256 === facts.sha256) return WARNINGS.truncatedAtOrigin;
    throw new IntegrityError('TRUNCATED', `The ${facts.detectedFormat ?? 'media'} body ends before its structure does (${facts.byteSize} bytes): ${facts.url}`, {
      url: facts.url,
      retryable: true,
    });
  },
};

/**
 * A file name whose extension is not that of the bytes' format (a PNG under `.jpg`, a JPEG under `.html`):
 * kept, and noted, whoever chose the name (a `downloadFile` caller, a host's {@link FilenameGenerator}, a
 * repaired file's old name). A name without an extension claims no format.
 */
export const extensionMatchesContent: VerificationCheck = {
  name: 'extension',
  checkContent(facts) {
    if (facts.detectedFormat === undefined || facts.extension === '') return;
    if (canonicalExtension(facts.extension.toLowerCase()) !== FORMAT_INFO[facts.detectedFormat].extension) return WARNINGS.extensionMismatch;
  },
};

/** The caller's expected SHA-256. A mismatch after a spliced resume may be the splice: retry from zero. */
export const expectedChecksum: VerificationCheck = {
  name: 'checksum',
  checkContent(facts) {
    if (facts.expectedChecksum !== undefined && facts.expectedChecksum.toLowerCase() !== facts.sha256) {
      throw new IntegrityError('CHECKSUM_MISMATCH', `SHA-256 ${facts.sha256} ≠ expected ${facts.expectedChecksum}: ${facts.url}`, {
        url: facts.url,
        retryable: facts.resumed,
      });
    }
  },
};

/** Build the check that rejects known placeholder images by hash. */
export function knownPlaceholders(sha256List: readonly string[]): VerificationCheck {
  const known = new Set(sha256List.map((h) => h.toLowerCase()));
  return {
    name: 'placeholder',
    checkContent(facts) {
      if (known.has(facts.sha256)) {
        throw new IntegrityError('PLACEHOLDER', `Content is a known placeholder image (${facts.sha256}): ${facts.url}`, { url: facts.url });
      }
    },
  };
}
