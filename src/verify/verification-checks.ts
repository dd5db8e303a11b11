import { IntegrityError } from '../errors/integrity-error.js';
import { contentTypeMatches, detectFormat, formatsForExtension, isMarkup, type MediaType } from './media-type.js';
import type { ContentFacts, ResponseFacts } from './verification-facts.js';

/**
 * One verification rule. A rule may look at the headers (to refuse a body before
 * it is stored), at the stored content, or both; it throws {@link IntegrityError}.
 */
export interface VerificationCheck {
  /** Short name for logs and docs. */
  readonly name: string;
  /** Runs when headers arrive. */
  checkResponse?(facts: ResponseFacts): void;
  /** Runs when the body is complete. */
  checkContent?(facts: ContentFacts): void | Promise<void>;
}

/** Smallest valid GIF is 43 bytes (a 1×1 pixel); nothing real is smaller. */
export const ABSOLUTE_MIN_BYTES = 43;

/** Size floors per media type: anything smaller is an error page or a stub, not media. */
export const MIN_BYTES: Readonly<Record<MediaType, number>> = {
  image: 100,
  gif: ABSOLUTE_MIN_BYTES,
  video: 1024,
  file: 1,
};

/** An HTML page where media was asked for is a login, error or "removed" page. */
export const rejectMarkup: VerificationCheck = {
  name: 'markup',
  checkResponse(facts) {
    if (facts.mediaType !== 'file' && isMarkup(facts.contentType)) {
      throw new IntegrityError('HTML_INSTEAD_OF_MEDIA', `Server sent ${facts.contentType} instead of ${facts.mediaType}: ${facts.url}`, {
        url: facts.url,
      });
    }
  },
};

/** Content-Type family must match what was asked for (image/*, video/*, …). */
export const contentTypeFamily: VerificationCheck = {
  name: 'content-type',
  checkResponse(facts) {
    if (facts.verifyContentType && !contentTypeMatches(facts.mediaType, facts.contentType)) {
      throw new IntegrityError('CONTENT_TYPE_MISMATCH', `Expected ${facts.mediaType}, server sent ${facts.contentType}: ${facts.url}`, {
        url: facts.url,
      });
    }
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

/** The first bytes must be a format the file's extension allows. */
export const magicBytes: VerificationCheck = {
  name: 'magic-bytes',
  checkContent(facts) {
    const allowed = formatsForExtension(facts.extension);
    if (!allowed) return;
    const detected = detectFormat(facts.head);
    if (detected === undefined || !allowed.includes(detected)) {
      throw new IntegrityError(
        'MAGIC_MISMATCH',
        `Content is ${detected ?? 'not a known media format'}, not .${facts.extension}: ${facts.url}`,
        { url: facts.url },
      );
    }
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
