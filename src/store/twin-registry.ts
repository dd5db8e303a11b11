import { injectable } from 'inversify';
import { serviceToken, type ServiceToken } from '../service-token.js';

/** Token of the {@link TwinRegistry} service. */
export const TwinRegistry: ServiceToken<TwinRegistry> = serviceToken('TwinRegistry');

/**
 * Which object first holds each SHA-256, shared by every process writing into one bucket, so identical
 * bytes found by different workers become one object. The ledger answers within one run; a registry
 * answers across workers (the `worker` command binds the Redis one).
 */
export interface TwinRegistry {
  /** The key of the first complete object with these bytes, if one is registered. */
  find(sha256: string): Promise<string | undefined>;
  /**
   * Register `key` as holding these bytes, unless another object was registered first: resolves with the
   * key that holds them for everyone (`key` itself when this one won).
   */
  claim(sha256: string, key: string): Promise<string>;
  /** The object registered for these bytes is gone or damaged: forget it, so the next complete one wins. */
  forget(sha256: string, key: string): Promise<void>;
}

/** No registry: one process writes, and its ledger knows every twin. */
@injectable()
export class LocalTwinRegistry implements TwinRegistry {
  async find(): Promise<undefined> {
    return undefined;
  }

  async claim(_sha256: string, key: string): Promise<string> {
    return key;
  }

  async forget(): Promise<void> {
    // Nothing shared to forget.
  }
}
