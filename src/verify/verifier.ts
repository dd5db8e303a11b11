import { inject, injectable } from 'inversify';
import { DownloaderConfig } from '../config/downloader-config.js';
import { declaredSize, expectedChecksum, extensionMatchesContent, knownPlaceholders, mediaSignature, sizeFloor, structure, type VerificationCheck } from './verification-checks.js';
import type { ContentFacts, HeadFacts, ResponseFacts } from './verification-facts.js';
import { serviceToken, type ServiceToken } from '../service-token.js';

/** Token of the {@link Verifier} service. */
export const Verifier: ServiceToken<Verifier> = serviceToken('Verifier');

/** What verification says of bytes it lets through. */
export interface ContentVerdict {
  /** What is odd about the kept bytes (e.g. `truncated-at-origin`); empty when nothing is. */
  warnings: string[];
}

/**
 * Decides whether received bytes are the media that was asked for.
 * Every method throws {@link IntegrityError}; the downloader then deletes the bytes.
 */
export interface Verifier {
  /** Judge the headers before the body is stored (a size over the limit, etc.). */
  checkResponse(facts: ResponseFacts): void;
  /** Judge the first bytes of a fresh body, so a page where media was asked for is not stored whole. */
  checkHead?(facts: HeadFacts): void;
  /** Judge the complete body before it gets its final name. */
  verify(facts: ContentFacts): Promise<ContentVerdict | void>;
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
   * The rules, cheapest and most telling first: what the bytes are, then size, the placeholder
   * hash and the structure, the caller's checksum last.
   */
  protected checks(): VerificationCheck[] {
    return [mediaSignature, declaredSize, sizeFloor, knownPlaceholders(this.config.placeholderSha256), structure, extensionMatchesContent, expectedChecksum];
  }

  checkResponse(facts: ResponseFacts): void {
    for (const check of this.checkList) check.checkResponse?.(facts);
  }

  checkHead(facts: HeadFacts): void {
    for (const check of this.checkList) check.checkHead?.(facts);
  }

  async verify(facts: ContentFacts): Promise<ContentVerdict | void> {
    const warnings: string[] = [];
    for (const check of this.checkList) {
      const warning = await check.checkContent?.(facts);
      if (typeof warning === 'string') warnings.push(warning);
    }
    return { warnings };
  }
}
