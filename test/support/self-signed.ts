import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

/** A key and a self-signed certificate for 127.0.0.1 and localhost. */
export interface SelfSigned {
  key: Buffer;
  cert: Buffer;
  keyFile: string;
  certFile: string;
}

/** Make one with openssl (Debian's package) in `dir`: no certificate is committed, none outlives the suite or the bench. */
export function selfSigned(dir: string): SelfSigned {
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { stdio: 'ignore' },
  );
  return { key: readFileSync(keyFile), cert: readFileSync(certFile), keyFile, certFile };
}
