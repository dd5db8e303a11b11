import { expect } from 'chai';

/** Whether `promise` has settled yet, asked later without awaiting it. */
export function settledYet(promise: Promise<unknown>): () => boolean {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  return () => settled;
}

/** Abort a waiter that must not have been granted, and check that it ends rejected with the signal's reason, not granted. */
export async function abortWaiter(waiter: Promise<unknown>, stop: AbortController): Promise<void> {
  stop.abort(new Error('stopped'));
  await waiter.then(
    () => expect.fail('a waiter that should still wait was granted'),
    (error: Error) => expect(error.message).to.equal('stopped'),
  );
}
