/**
 * The classic 1×1 pixel GIFs that CDNs and trackers serve in place of removed
 * media. Smaller ones are caught by the size floor; these are listed by hash so
 * that they are rejected even when a caller lowers the floors.
 */
export const PIXEL_GIFS_BASE64 = [
  'R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==',
  'R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7',
  'R0lGODlhAQABAAAAACH5BAEKAAEALAAAAAABAAEAAAICTAEAOw==',
  'R0lGODlhAQABAIAAAAAAAP///ywAAAAAAQABAAACAUwAOw==',
] as const;

// The hashes of PIXEL_GIFS_BASE64, in the same order (the public doc below names no internal table).
/**
 * SHA-256 (hex) of the classic 1×1 pixel GIFs that CDNs and trackers serve in place of removed media: the
 * default placeholder list.
 */
export const DEFAULT_PLACEHOLDER_SHA256: readonly string[] = [
  'b1442e85b03bdcaf66dc58c7abb98745dd2687d86350be9a298a1d9382ac849b',
  'ef1955ae757c8b966c83248350331bd3a30f658ced11f387f8ebf05ab3368629',
  'bb229a48bee31f5d54ca12dc9bd960c63a671f0d4be86a054c1d324a44499d96',
  '1e85ec81b9800b4c443d39caca0d0926089a3ac201120db1ceb45b93789480b8',
];
