// A streaming tar reader (ustar, PAX, GNU long names, base-256 numbers).
//
// Why not tar-stream's extract: tar-stream 3 decodes PAX records as UTF-8 text, which
// corrupts binary `SCHILY.xattr.security.capability` values, and it ignores PAX uid/gid/mtime.
// Reading needs byte-exact PAX values, so the reader is ours too; tar-stream remains a
// dependency for tests, where an independent writer makes hostile archives.
import { OciError } from "../errors.js";
import { ByteReader } from "./byte-reader.js";
import { BLOCK, padding, type TarEntryType, type TarHeader } from "./header.js";

/** A tar entry: its header and its content. Consume `body` fully before asking for the next entry. */
export interface TarEntry {
  header: TarHeader;
  body: AsyncIterable<Buffer>;
}

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
function tidyName(name: string): string {
  let n = name;
  while (n.startsWith("./")) n = n.slice(2);
  while (n.length > 1 && n.endsWith("/")) n = n.slice(0, -1);
  return n === "." ? "" : n;
}

/**
 * Reads a tar stream entry by entry. Every byte of `source` is consumed, including padding
 * after the end-of-archive marker, so a hash computed over the source covers the whole blob.
 * Throws INVALID_TAR for malformed headers and TRUNCATED when the stream ends early
 * (including a missing end-of-archive marker).
 */
export async function* readTar(source: AsyncIterable<Uint8Array>): AsyncGenerator<TarEntry> {
  const r = new ByteReader(source);
  let globalPax = new Map<string, Buffer>();
  let pax: Map<string, Buffer> | undefined;
  let longName: string | undefined;
  let longLink: string | undefined;
  let last = "(start of archive)";

  for (;;) {
    const block = await r.read(BLOCK);
    if (block.length < BLOCK) {
      throw new OciError("TRUNCATED", `tar stream ended after ${r.offset} bytes without an end-of-archive marker (after entry ${JSON.stringify(last)}); the layer is truncated.`);
    }
    if (block.every((b) => b === 0)) {
      await r.read(BLOCK); // the second zero block; tolerated if missing (GNU tar does)
      await r.drain();
      return;
    }
    const rawName = cstring(block, 0, 100);
    const magic = block.toString("latin1", 257, 263);
    const prefix = magic === "ustar\0" ? cstring(block, 345, 155) : Buffer.alloc(0);
    const fullName = prefix.length > 0 ? `${prefix.toString("utf8")}/${rawName.toString("utf8")}` : rawName.toString("utf8");
    if (!checksumOk(block)) {
      throw new OciError("INVALID_TAR", `tar header at byte ${r.offset - BLOCK} (after entry ${JSON.stringify(last)}) has a bad checksum; the data is not a tar archive or is corrupt.`);
    }
    const flag = String.fromCharCode(block[156]!);
    const size = parseNumber(block, 124, 12, "size", fullName);

    if (flag === "x" || flag === "g" || flag === "L" || flag === "K") {
      if (size > MAX_META) throw new OciError("INVALID_TAR", `tar entry ${JSON.stringify(fullName)}: extended header of ${size} bytes is too large.`);
      const data = await r.read(size);
      if (data.length < size) throw new OciError("TRUNCATED", `tar stream ended inside an extended header (after entry ${JSON.stringify(last)}).`);
      await r.skip(padding(size));
      if (flag === "x") pax = new Map([...(pax ?? []), ...parsePax(data, fullName)]);
      else if (flag === "g") globalPax = new Map([...globalPax, ...parsePax(data, fullName)]);
      else if (flag === "L") longName = cstring(data, 0, data.length).toString("utf8");
      else longLink = cstring(data, 0, data.length).toString("utf8");
      continue;
    }

    const type = TYPES[flag];
    if (!type) {
      throw new OciError("UNSUPPORTED", `tar entry ${JSON.stringify(longName ?? fullName)} has unsupported type ${JSON.stringify(flag)}.`);
    }
    const header: TarHeader = {
      name: longName ?? fullName,
      type,
      mode: parseNumber(block, 100, 8, "mode", fullName) & 0o7777,
      uid: parseNumber(block, 108, 8, "uid", fullName),
      gid: parseNumber(block, 116, 8, "gid", fullName),
      size,
      mtime: parseNumber(block, 136, 12, "mtime", fullName),
      uname: cstring(block, 265, 32).toString("utf8"),
      gname: cstring(block, 297, 32).toString("utf8"),
    };
    const link = longLink ?? cstring(block, 157, 100).toString("utf8");
    if (link !== "") header.linkname = link;
    if (type === "char" || type === "block") {
      header.devmajor = parseNumber(block, 329, 8, "devmajor", fullName);
      header.devminor = parseNumber(block, 337, 8, "devminor", fullName);
    }
    if (globalPax.size > 0) applyPax(header, globalPax);
    if (pax) applyPax(header, pax);
    header.name = tidyName(header.name);
    // Only regular files carry content; the size field of others is ignored (as GNU tar does),
    // except that hardlinks may carry data in some writers, which we skip.
    const bodySize = header.size;
    if (type !== "file") header.size = 0;
    pax = undefined;
    longName = undefined;
    longLink = undefined;
    last = header.name;

    let consumed = 0;
    const entryName = header.name;
    const body = (async function* () {
      for await (const s of r.slices(bodySize - consumed)) {
        consumed += s.length;
        if (type === "file") yield s;
      }
    })();
    yield { header, body };
    // Skip whatever the consumer did not read, then the padding.
    for await (const s of r.slices(bodySize - consumed)) consumed += s.length;
    if (consumed < bodySize) {
      throw new OciError("TRUNCATED", `tar stream ended inside the content of ${JSON.stringify(entryName)} (${consumed} of ${bodySize} bytes); the layer is truncated.`);
    }
    const pad = padding(bodySize);
    if ((await r.skip(pad)) < pad) {
      throw new OciError("TRUNCATED", `tar stream ended in the padding after ${JSON.stringify(entryName)}; the layer is truncated.`);
    }
  }
}
