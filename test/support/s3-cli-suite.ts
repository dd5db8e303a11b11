import { ensureBuilt } from './built-package.js';
import { FaultServer } from './fault-server.js';
import { tempDir } from './fixtures.js';
import type { S3ServerKind, S3UnderTest } from './s3-servers.js';

/** What a CLI suite against one S3 server works with: the server, and for each test a bucket, an origin and a folder of its own. */
export interface S3CliSuite {
  s3: S3UnderTest;
  origin: FaultServer;
  /** The origin's base URL. */
  base: string;
  work: { dir: string; cleanup: () => void };
  bucket: string;
}

/**
 * Register the hooks of such a suite (call it inside `describe`): the server starts once (the suite is skipped
 * where it cannot run: moto_server is a Python tool, used where installed), the CLI is built; each test gets a
 * new bucket (`<bucketPrefix>N`: what one test leaves, an unfinished upload, is never another's to find), a
 * new origin and a temporary folder. The returned object's fields are set once the hooks have run.
 */
export function s3CliSuite(kind: S3ServerKind, bucketPrefix: string): S3CliSuite {
  const suite = {} as S3CliSuite;
  let bucketNumber = 0;
  before(async function () {
    if (!kind.available) this.skip();
    ensureBuilt();
    suite.s3 = await kind.start();
  });
  after(async () => suite.s3?.stop());
  beforeEach(async () => {
    suite.bucket = `${bucketPrefix}${++bucketNumber}`;
    await suite.s3.createBucket(suite.bucket);
    suite.origin = new FaultServer();
    suite.base = await suite.origin.start();
    suite.work = tempDir();
  });
  afterEach(async () => {
    await suite.origin.stop();
    suite.work.cleanup();
  });
  return suite;
}
