// Extended attributes in bulk through the `attr` package's getfattr/setfattr (Debian
// package "attr"). Node has no xattr API; one process per tree or per batch costs ~0.1 s
// for 20,000 files, where a process per file would cost minutes. Both tools are run with
// -h so symlinks are never followed (l*xattr system calls).
import { spawn } from "node:child_process";

/** Attribute name → raw value. */
export type Xattrs = Map<string, Buffer>;

/** Names of the overlayfs bookkeeping attributes; they describe a layer, never a file. */
export function isOverlayXattr(name: string): boolean {
  return name.startsWith("trusted.overlay.") || name.startsWith("user.overlay.");
}

export class XattrToolError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "XattrToolError";
  }
}

function toolMissing(tool: string, err: unknown): XattrToolError {
  return new XattrToolError(
    `${tool} is needed to read and write extended attributes but could not be started (${(err as Error).message}); install the Debian package "attr"`,
    { cause: err },
  );
}

/** Undoes getfattr's quoting (`\ooo` octal escapes of single bytes) and decodes UTF-8. */
export function unquoteAttr(s: string): string {
  if (!s.includes("\\")) return s;
  const raw = Buffer.from(s, "utf8");
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i]!;
    if (b === 0x5c && i + 3 < raw.length + 0 && /^[0-7]{3}$/.test(raw.toString("latin1", i + 1, i + 4))) {
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
export function parseGetfattrDump(text: string): Map<string, Xattrs> {
  const out = new Map<string, Xattrs>();
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

function run(tool: string, args: string[], cwd: string, tolerate: RegExp, input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool, args, { cwd, stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    let err = "";
    child.stdout!.on("data", (b: Buffer) => out.push(b));
    child.stderr!.on("data", (b: Buffer) => (err += b.toString()));
    child.on("error", (e) => reject(toolMissing(tool, e)));
    child.on("close", (code) => {
      const real = err.split("\n").filter((l) => l.trim() !== "" && !tolerate.test(l));
      if (code !== 0 && real.length > 0) {
        reject(new XattrToolError(`${tool} failed in ${cwd}: ${real.slice(0, 3).join("; ")}`));
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

/**
 * Reads every extended attribute of every entry under `dir` (symlinks not followed) with one
 * `getfattr -R` process. Keys are paths relative to `dir`, "" for `dir` itself.
 */
export async function readXattrTree(dir: string): Promise<Map<string, Xattrs>> {
  const dump = await run("getfattr", ["--absolute-names", "-hPR", "-d", "-m", "-", "-e", "hex", "."], dir, READ_TOLERATED);
  const out = new Map<string, Xattrs>();
  for (const [p, attrs] of parseGetfattrDump(dump)) {
    out.set(p === "." ? "" : p.startsWith("./") ? p.slice(2) : p, attrs);
  }
  return out;
}

/** Reads the attributes of the given absolute paths (symlinks not followed), in batches. */
export async function readXattrsOf(paths: readonly string[]): Promise<Map<string, Xattrs>> {
  const out = new Map<string, Xattrs>();
  const batch = 2000; // keeps the argument list far below ARG_MAX
  for (let i = 0; i < paths.length; i += batch) {
    const dump = await run("getfattr", ["--absolute-names", "-h", "-d", "-m", "-", "-e", "hex", "--", ...paths.slice(i, i + batch)], "/", READ_TOLERATED);
    for (const [p, attrs] of parseGetfattrDump(dump)) out.set(p, attrs);
  }
  return out;
}

/**
 * Sets attributes with one `setfattr -h --restore` process. Paths are relative to `root`;
 * the caller guarantees no parent component is a symlink (-h protects only the last one).
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
  await run("setfattr", ["-h", "--restore=-"], root, /^$/, dump);
}
