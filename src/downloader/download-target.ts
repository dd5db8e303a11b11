/**
 * Where one download's bytes go while they arrive, decided once, when its name is reserved, and handed as
 * one value to every stage that touches the disk (attempts, transfer, placement).
 */
export interface DownloadTarget {
  /** Path the `.part` file and its sidecar are named after: `<partBase>.part`, `<partBase>.part.json`. */
  readonly partBase: string;
  /** The damaged file this download repairs, if it is a repair: its name is kept, and the verified bytes replace it atomically. */
  readonly replaces: string | undefined;
}
