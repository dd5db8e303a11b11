import * as path from 'node:path';
import { acceptCall, describeCall } from '../../src/downloader/download-call.js';
import type { DownloadRequest } from '../../src/model/download-request.js';
import type { MediaType } from '../../src/model/media-type.js';

/** A pipeline request for `url`, saved as `name` under `dir`, as the façade would build it. */
export function requestFor(dir: string, url: string, name: string, overrides: { mediaType?: MediaType; id?: string; nowMs?: number } = {}): DownloadRequest {
  const call = describeCall(overrides.id ?? 'dl-1', url, overrides.mediaType ?? 'image', '1', {}, { resume: true, nowMs: overrides.nowMs ?? 1_700_000_000_000 });
  return acceptCall(call, () => ({ intendedPath: path.join(dir, name) }));
}
