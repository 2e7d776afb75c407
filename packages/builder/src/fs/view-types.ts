// Shapes shared by the rootfs view and its users.

/** File types as they appear in a rootfs (whiteouts never do: they hide entries instead). */
export type EntryType = "file" | "dir" | "symlink" | "char" | "block" | "fifo" | "socket";

/** Metadata of one visible entry of a layered rootfs. */
export interface ViewStat {
  /** Clean container path of the entry. */
  path: string;
  type: EntryType;
  /** Permission, set-id and sticky bits (07777). */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtimeNs: bigint;
  atimeNs: bigint;
  linkTarget?: string;
  /** Device number of a char/block device. */
  rdev: number;
  /** The host file in the top-most layer that holds the entry. */
  hostPath: string;
  /** Index (0 = top-most) of that layer. */
  layer: number;
  /** Host inode identity and link count, for hardlink detection. */
  dev: number;
  ino: number;
  nlink: number;
}

/** An error with a POSIX-like code, naming the container path it is about. */
export class ViewError extends Error {
  constructor(
    readonly code: "ENOENT" | "ENOTDIR" | "EISDIR" | "ELOOP" | "EINVAL",
    readonly path: string,
    message: string,
  ) {
    super(message);
    this.name = "ViewError";
  }
}

/** Maps the type bits of a stat mode to an EntryType; undefined for unknown kinds. */
export function entryTypeOfMode(mode: number): EntryType | undefined {
  switch (mode & 0o170000) {
    case 0o100000: return "file";
    case 0o040000: return "dir";
    case 0o120000: return "symlink";
    case 0o020000: return "char";
    case 0o060000: return "block";
    case 0o010000: return "fifo";
    case 0o140000: return "socket";
    default: return undefined;
  }
}
