// Extended attributes in bulk, through the `attr` package's getfattr/setfattr (Debian
// package "attr"). The one implementation: the layer tar writer and unpacker use it, and
// the builder (layer snapshots, COPY, sandbox stubs) imports it from here.
//
// Node has no xattr API. We measured two options on a 20,000-file tree (tmpfs):
//   getfattr -R (one process, whole tree)              ~0.1 s wall, runs beside our own walk
//   fs-xattr 0.4 native addon, one call per file         ~0.12 s on the main thread
// fs-xattr also calls getxattr/setxattr, not the l* variants, so it follows symlinks: a
// symlink's attributes cannot be read, and a set during unpack could be steered outside the
// target directory. The batched tools use lgetxattr/lsetxattr (-h) and cost one process per
// tree or per batch; callers that need a tree's attributes twice pass the first answer along
// (LayerSource.xattrs) instead of asking again. Reading a whole tree, the most frequent call
// (every layer step's snapshot), is our own addon's (native/xattrs.c: the l* calls, one call
// per tree, no process: a spawn from Node cost ~15 ms per step); getfattr when it is not built.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { OciError } from "../errors.js";
import { loadNativeAddon } from "../util/native-addon.js";

/** Attribute name → raw value. */
export type Xattrs = Map<string, Buffer>;

/** path (relative to the walked root, "" for the root itself) → its attributes. */
export type XattrMap = Map<string, Xattrs>;

/** Names of the overlayfs bookkeeping attributes; they describe a layer, never a file. */
export function isOverlayXattr(name: string): boolean {
  return name.startsWith("trusted.overlay.") || name.startsWith("user.overlay.");
}

let userns: boolean | undefined;

/**
 * True when this process runs in a user namespace other than the host's (rootless mode):
 * its uid_map is anything but the identity map of all ids.
 */
export function inUserNamespace(): boolean {
  if (userns === undefined) {
    try {
      userns = readFileSync("/proc/self/uid_map", "utf8").trim().split(/\s+/).join(" ") !== "0 0 4294967295";
    } catch {
      userns = false;
    }
  }
  return userns;
}

/**
 * The attribute namespace overlayfs keeps its markers in for this process: trusted.overlay.
 * on the host, user.overlay. in a user namespace, where trusted.* cannot be written and
 * overlayfs is mounted with `userxattr`. Readers accept both.
 */
export function overlayXattrPrefix(): "trusted.overlay." | "user.overlay." {
  return inUserNamespace() ? "user.overlay." : "trusted.overlay.";
}

function toolMissing(tool: string, err: unknown): OciError {
  return new OciError("TOOL_FAILED", `${tool} is needed to read and write extended attributes but could not be started (${(err as Error).message}); install the Debian package "attr".`, { cause: err });
}

/** Undoes getfattr's quoting (`\ooo` octal escapes of single bytes) and decodes UTF-8. */
export function unquoteAttr(s: string): string {
  if (!s.includes("\\")) return s;
  const raw = Buffer.from(s, "utf8");
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i]!;
    if (b === 0x5c && i + 3 < raw.length && /^[0-7]{3}$/.test(raw.toString("latin1", i + 1, i + 4))) {
      bytes.push(parseInt(raw.toString("latin1", i + 1, i + 4), 8));
      i += 3;
    } else bytes.push(b);
  }
  return Buffer.from(bytes).toString("utf8");
}

/** Quotes a path or attribute name for setfattr --restore: every byte outside printable ASCII, `\` and `=` as `\ooo`. */
export function quoteAttr(s: string): string {
  if (/^[\x21-\x3c\x3e-\x5b\x5d-\x7e ]*$/.test(s) && !s.startsWith(" ") && !s.endsWith(" ")) return s;
  let out = "";
  for (const b of Buffer.from(s, "utf8")) {
    out += b <= 0x20 || b >= 0x7f || b === 0x5c || b === 0x3d ? `\\${b.toString(8).padStart(3, "0")}` : String.fromCharCode(b);
  }
  return out;
}

/** Parses `getfattr -d -e hex` output into path → attributes (paths as printed). */
export function parseGetfattrDump(text: string): XattrMap {
  const out: XattrMap = new Map();
  let current: Xattrs | undefined;
  for (const line of text.split("\n")) {
    if (line.startsWith("# file: ")) {
      current = new Map();
      out.set(unquoteAttr(line.slice(8)), current);
    } else if (line !== "" && current) {
      const eq = line.indexOf("=");
      if (eq < 0) continue;
      const value = line.slice(eq + 1);
      const buf = value.startsWith("0x")
        ? Buffer.from(value.slice(2), "hex")
        : value.startsWith("0s")
          ? Buffer.from(value.slice(2), "base64")
          : Buffer.from(value.replace(/^"(.*)"$/, "$1"));
      current.set(unquoteAttr(line.slice(0, eq)), buf);
    }
  }
  return out;
}

// Filesystems without xattr support, and files vanishing under a walk, mean "no attributes".
const READ_TOLERATED = /Operation not supported|No such file or directory/;

function run(tool: string, args: string[], cwd: string, tolerate: RegExp | undefined, input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool, args, { cwd, stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    let err = "";
    child.stdout!.on("data", (b: Buffer) => out.push(b));
    child.stderr!.on("data", (b: Buffer) => (err += b.toString()));
    child.on("error", (e) => reject(toolMissing(tool, e)));
    child.on("close", (code) => {
      const real = err.split("\n").filter((l) => l.trim() !== "" && !tolerate?.test(l));
      if (code !== 0 && (real.length > 0 || tolerate === undefined)) {
        reject(new OciError("TOOL_FAILED", `${tool} failed in ${cwd}: ${real.slice(0, 3).join("; ") || `exit status ${code}`}`));
        return;
      }
      resolve(Buffer.concat(out).toString("utf8"));
    });
    if (input !== undefined) {
      child.stdin!.on("error", () => {}); // reported through the exit status
      child.stdin!.end(input);
    }
  });
}

interface XattrAddon {
  read(dir: string): Buffer;
}

const addon = loadNativeAddon<XattrAddon>("xattrs.node", import.meta.url);

/** Which reader readXattrs uses: for tests and benchmarks. */
export const xattrReader: "addon" | "getfattr" = addon ? "addon" : "getfattr";

/** Decodes native/xattrs.c's records. */
function decodeAddonRecords(buf: Buffer): XattrMap {
  const out: XattrMap = new Map();
  let p = 0;
  const u16 = () => buf.readUInt16LE((p += 2) - 2);
  const u32 = () => buf.readUInt32LE((p += 4) - 4);
  const bytes = (n: number) => buf.subarray(p, (p += n));
  while (p < buf.length) {
    const rel = bytes(u16()).toString("utf8");
    const attrs: Xattrs = new Map();
    for (let count = u16(); count > 0; count--) {
      const name = bytes(u16()).toString("utf8");
      attrs.set(name, Buffer.from(bytes(u32())));
    }
    out.set(rel, attrs);
  }
  return out;
}

/**
 * Reads every extended attribute of every entry under `dir` (symlinks not followed, the
 * symlinks' own attributes included): in this process with native/xattrs.node when it was
 * built, else with one `getfattr -R` process. Keys are paths relative to `dir`, "" for `dir`
 * itself; entries without attributes are left out.
 */
export async function readXattrs(dir: string): Promise<XattrMap> {
  if (addon) {
    try {
      return decodeAddonRecords(addon.read(dir));
    } catch (e) {
      throw new OciError("TOOL_FAILED", (e as Error).message, { cause: e });
    }
  }
  return readXattrsWithGetfattr(dir);
}

/** readXattrs through getfattr (the fallback, and the reference the addon is tested against). */
export async function readXattrsWithGetfattr(dir: string): Promise<XattrMap> {
  const dump = await run("getfattr", ["--absolute-names", "-hPR", "-d", "-m", "-", "-e", "hex", "."], dir, READ_TOLERATED);
  const out: XattrMap = new Map();
  for (const [p, attrs] of parseGetfattrDump(dump)) out.set(p === "." ? "" : p.startsWith("./") ? p.slice(2) : p, attrs);
  return out;
}

/** Reads the attributes of the given absolute paths (symlinks not followed), in batches. */
export async function readXattrsOf(paths: readonly string[]): Promise<XattrMap> {
  const out: XattrMap = new Map();
  const batch = 2000; // keeps the argument list far below ARG_MAX
  for (let i = 0; i < paths.length; i += batch) {
    const dump = await run("getfattr", ["--absolute-names", "-h", "-d", "-m", "-", "-e", "hex", "--", ...paths.slice(i, i + batch)], "/", READ_TOLERATED);
    for (const [p, attrs] of parseGetfattrDump(dump)) out.set(p, attrs);
  }
  return out;
}

/**
 * Sets attributes with one `setfattr -h --restore` process. Paths are relative to `root`;
 * the caller guarantees that no parent component of any path is a symlink (setfattr -h only
 * protects the last component).
 */
export async function writeXattrs(root: string, entries: Iterable<readonly [string, Xattrs]>): Promise<void> {
  let dump = "";
  for (const [path, attrs] of entries) {
    if (attrs.size === 0) continue;
    dump += `# file: ${path === "" ? "." : quoteAttr(path)}\n`;
    for (const [name, value] of attrs) dump += `${quoteAttr(name)}=0x${value.toString("hex")}\n`;
    dump += "\n";
  }
  if (dump === "") return;
  await run("setfattr", ["-h", "--restore=-"], root, undefined, dump);
}
