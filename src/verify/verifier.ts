import { inject, injectable } from 'inversify';
import { DownloaderConfig } from '../config/downloader-config.js';
import {
  contentTypeFamily,
  declaredSize,
  expectedChecksum,
  knownPlaceholders,
  magicBytes,
  rejectMarkup,
  sizeFloor,
  type VerificationCheck,
} from './verification-checks.js';
import type { ContentFacts, ResponseFacts } from './verification-facts.js';

/** Token of the {@link Verifier} service. */
export const Verifier = Symbol.for('tumblr-media-downloader/Verifier');

/**
 * Decides whether received bytes are the media that was asked for.
 * Both methods throw {@link IntegrityError}; the downloader then deletes the bytes.
 */
export interface Verifier {
  /** Judge the headers before the body is stored (reject HTML early, etc.). */
  checkResponse(facts: ResponseFacts): void;
  /** Judge the complete body before it gets its final name. */
  verify(facts: ContentFacts): Promise<void>;
}

/**
 * Runs a list of {@link VerificationCheck}s in order. Subclass and override
 * {@link checks} to add or drop rules, then rebind the {@link Verifier} token.
 */
@injectable()
export class DefaultVerifier implements Verifier {
  private readonly checkList: readonly VerificationCheck[];

  constructor(@inject(DownloaderConfig) protected readonly config: Pick<DownloaderConfig, 'placeholderSha256'>) {
    this.checkList = this.checks();
  }

  /**
   * The rules, cheapest and most telling first: size is judged before the
   * placeholder hash and the magic bytes, the caller's checksum last.
   */
  protected checks(): VerificationCheck[] {
    return [
      rejectMarkup,
      contentTypeFamily,
      declaredSize,
      sizeFloor,
      knownPlaceholders(this.config.placeholderSha256),
      magicBytes,
      expectedChecksum,
    ];
  }

  checkResponse(facts: ResponseFacts): void {
    for (const check of this.checkList) check.checkResponse?.(facts);
  }

  async verify(facts: ContentFacts): Promise<void> {
    for (const check of this.checkList) await check.checkContent?.(facts);
  }
}
