// Decoding of tar header blocks (ustar, GNU, PAX), shared by the streaming reader and the
// random-access file index. Stateful across blocks: PAX and GNU long-name records apply to
// the entry that follows them.
import { OciError } from "../errors.js";
import { BLOCK, type TarEntryType, type TarHeader } from "./header.js";

const TYPES: Record<string, TarEntryType | undefined> = {
  "0": "file", "\0": "file", "7": "file", "1": "hardlink", "2": "symlink",
  "3": "char", "4": "block", "5": "dir", "6": "fifo",
};
const MAX_META = 1 << 20; // PAX and GNU long-name records larger than 1 MiB are refused

function cstring(b: Buffer, off: number, len: number): Buffer {
  const field = b.subarray(off, off + len);
  const nul = field.indexOf(0);
  return nul < 0 ? field : field.subarray(0, nul);
}

function parseNumber(b: Buffer, off: number, len: number, what: string, entry: string): number {
  const field = b.subarray(off, off + len);
  if (field[0]! & 0x80) {
    // GNU base-256: big-endian two's complement with the top bit as marker.
    if (field[0] === 0xff) throw new OciError("INVALID_TAR", `tar entry ${JSON.stringify(entry)}: negative ${what} is not supported.`);
    let v = field[0]! & 0x7f;
    for (let i = 1; i < field.length; i++) v = v * 256 + field[i]!;
    if (!Number.isSafeInteger(v)) throw new OciError("INVALID_TAR", `tar entry ${JSON.stringify(entry)}: ${what} is too large.`);
    return v;
  }
  const s = field.toString("latin1").replace(/\0.*$/s, "").trim();
  if (s === "") return 0;
  if (!/^[0-7]+$/.test(s)) throw new OciError("INVALID_TAR", `tar entry ${JSON.stringify(entry)}: ${what} field ${JSON.stringify(s)} is not an octal number.`);
  return parseInt(s, 8);
}

function checksumOk(b: Buffer): boolean {
  const stored = parseInt(b.toString("latin1", 148, 156).replace(/\0.*$/s, "").trim(), 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const v = i >= 148 && i < 156 ? 0x20 : b[i]!;
    unsigned += v;
    signed += v > 127 ? v - 256 : v;
  }
  return stored === unsigned || stored === signed;
}

/** Parses PAX records; values stay raw bytes so binary xattrs survive. */
function parsePax(buf: Buffer, entry: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let pos = 0;
  while (pos < buf.length) {
    if (buf[pos] === 0) break; // NUL padding after the last record
    const space = buf.indexOf(0x20, pos);
    const len = space < 0 ? NaN : parseInt(buf.toString("latin1", pos, space), 10);
    if (!(len > 0) || pos + len > buf.length || buf[pos + len - 1] !== 0x0a) {
      throw new OciError("INVALID_TAR", `tar entry ${JSON.stringify(entry)}: malformed PAX extended header.`);
    }
    const rec = buf.subarray(space + 1, pos + len - 1);
    const eq = rec.indexOf(0x3d);
    if (eq < 0) throw new OciError("INVALID_TAR", `tar entry ${JSON.stringify(entry)}: malformed PAX record.`);
    out.set(rec.toString("utf8", 0, eq), rec.subarray(eq + 1));
    pos += len;
  }
  return out;
}

function applyPax(h: TarHeader, pax: Map<string, Buffer>): void {
  for (const [key, value] of pax) {
    const text = (): string => value.toString("utf8");
    const num = (): number => {
      const n = Number(text());
      if (!Number.isFinite(n) || n < 0) throw new OciError("INVALID_TAR", `tar entry ${JSON.stringify(h.name)}: PAX ${key}=${JSON.stringify(text())} is not a valid number.`);
      return n;
    };
    if (key === "path") h.name = text();
    else if (key === "linkpath") h.linkname = text();
    else if (key === "size") h.size = Math.floor(num());
    else if (key === "uid") h.uid = Math.floor(num());
    else if (key === "gid") h.gid = Math.floor(num());
    else if (key === "mtime") h.mtime = num();
    else if (key === "uname") h.uname = text();
    else if (key === "gname") h.gname = text();
    else if (key.startsWith("SCHILY.xattr.")) (h.xattrs ??= new Map()).set(key.slice(13), Buffer.from(value));
    else if (key.startsWith("GNU.sparse.")) {
      throw new OciError("UNSUPPORTED", `tar entry ${JSON.stringify(h.name)} is a GNU sparse file, which image layers do not support.`);
    }
  }
}

/** Strips the trailing "/" of directory names and a leading "./"; the result is still untrusted. */
export function tidyName(name: string): string {
  let n = name;
  while (n.startsWith("./")) n = n.slice(2);
  while (n.length > 1 && n.endsWith("/")) n = n.slice(0, -1);
  return n === "." ? "" : n;
}

/** What one 512-byte block turned out to be. */
export type Decoded =
  | { kind: "end" }
  /** An extended header (PAX/GNU): pass its `size` bytes of data to `meta()`. */
  | { kind: "meta"; flag: string; size: number }
  | { kind: "entry"; header: TarHeader; bodySize: number };

export class HeaderDecoder {
  private globalPax = new Map<string, Buffer>();
  private pax: Map<string, Buffer> | undefined;
  private longName: string | undefined;
  private longLink: string | undefined;
  /** Name of the last entry decoded, for error messages. */
  last = "(start of archive)";

  /** Decodes one header block found at byte `offset`. */
  block(block: Buffer, offset: number): Decoded {
    if (block.every((b) => b === 0)) return { kind: "end" };
    const rawName = cstring(block, 0, 100);
    const magic = block.toString("latin1", 257, 263);
    const prefix = magic === "ustar\0" ? cstring(block, 345, 155) : Buffer.alloc(0);
    const fullName = prefix.length > 0 ? `${prefix.toString("utf8")}/${rawName.toString("utf8")}` : rawName.toString("utf8");
    if (!checksumOk(block)) {
      throw new OciError("INVALID_TAR", `tar header at byte ${offset} (after entry ${JSON.stringify(this.last)}) has a bad checksum; the data is not a tar archive or is corrupt.`);
    }
    const flag = String.fromCharCode(block[156]!);
    const size = parseNumber(block, 124, 12, "size", fullName);
    if (flag === "x" || flag === "g" || flag === "L" || flag === "K") {
      if (size > MAX_META) throw new OciError("INVALID_TAR", `tar entry ${JSON.stringify(fullName)}: extended header of ${size} bytes is too large.`);
      return { kind: "meta", flag, size };
    }
    const type = TYPES[flag];
    if (!type) {
      throw new OciError("UNSUPPORTED", `tar entry ${JSON.stringify(this.longName ?? fullName)} has unsupported type ${JSON.stringify(flag)}.`);
    }
    const header: TarHeader = {
      name: this.longName ?? fullName,
      type,
      mode: parseNumber(block, 100, 8, "mode", fullName) & 0o7777,
      uid: parseNumber(block, 108, 8, "uid", fullName),
      gid: parseNumber(block, 116, 8, "gid", fullName),
      size,
      mtime: parseNumber(block, 136, 12, "mtime", fullName),
      uname: cstring(block, 265, 32).toString("utf8"),
      gname: cstring(block, 297, 32).toString("utf8"),
    };
    const link = this.longLink ?? cstring(block, 157, 100).toString("utf8");
    if (link !== "") header.linkname = link;
    if (type === "char" || type === "block") {
      header.devmajor = parseNumber(block, 329, 8, "devmajor", fullName);
      header.devminor = parseNumber(block, 337, 8, "devminor", fullName);
    }
    if (this.globalPax.size > 0) applyPax(header, this.globalPax);
    if (this.pax) applyPax(header, this.pax);
    header.name = tidyName(header.name);
    // Only regular files carry content; other types' size is skipped over (as GNU tar does).
    const bodySize = header.size;
    if (type !== "file") header.size = 0;
    this.pax = undefined;
    this.longName = undefined;
    this.longLink = undefined;
    this.last = header.name;
    return { kind: "entry", header, bodySize };
  }

  /** Takes the data of an extended header announced by block(). */
  meta(flag: string, data: Buffer): void {
    if (flag === "x") this.pax = new Map([...(this.pax ?? []), ...parsePax(data, this.last)]);
    else if (flag === "g") this.globalPax = new Map([...this.globalPax, ...parsePax(data, this.last)]);
    else if (flag === "L") this.longName = cstring(data, 0, data.length).toString("utf8");
    else this.longLink = cstring(data, 0, data.length).toString("utf8");
  }
}
