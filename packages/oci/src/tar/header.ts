// The tar header format (POSIX ustar + PAX extended headers), written by hand with Buffers.
// We write headers ourselves rather than through tar-stream because (a) per-entry stream
// machinery costs more than the entry for 20k small files and (b) we need exact control of
// every byte for deterministic digests: numeric owners, empty uname/gname, sorted PAX
// records, no atime/ctime, whole-second mtimes.

export type TarEntryType = "file" | "hardlink" | "symlink" | "char" | "block" | "dir" | "fifo";

/** One tar entry's metadata, as written by us and as returned by the reader. */
export interface TarHeader {
  /** Path inside the archive, no leading "./" or "/", no trailing "/" (even for dirs). */
  name: string;
  type: TarEntryType;
  /** Permission bits plus setuid/setgid/sticky (mask 0o7777). */
  mode: number;
  uid: number;
  gid: number;
  /** Content length; non-zero only for "file". */
  size: number;
  /** Modification time in seconds since the epoch (may be fractional when read from PAX). */
  mtime: number;
  /** Target of a symlink, or the archive path a hardlink points to. */
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** Extended attributes (PAX `SCHILY.xattr.<name>`), values as raw bytes. */
  xattrs?: Map<string, Buffer>;
  /** Only set by the reader, informational (we never write names). */
  uname?: string;
  gname?: string;
}

export const BLOCK = 512;
const TYPE_FLAGS: Record<TarEntryType, number> = {
  file: 0x30, hardlink: 0x31, symlink: 0x32, char: 0x33, block: 0x34, dir: 0x35, fifo: 0x36,
};
const MAX_OCTAL_8 = 0o7777777; // 7 digits + NUL
const MAX_OCTAL_12 = 0o77777777777; // 11 digits + NUL (8 GiB - 1 for sizes)
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** Bytes of zero padding needed after `size` bytes of content. */
export function padding(size: number): number {
  const rem = size % BLOCK;
  return rem === 0 ? 0 : BLOCK - rem;
}

export const ZERO_BLOCK: Buffer = Buffer.alloc(BLOCK);
/** The end-of-archive marker: two zero blocks. */
export const END_OF_ARCHIVE: Buffer = Buffer.alloc(2 * BLOCK);

function writeOctal(buf: Buffer, off: number, width: number, value: number): void {
  const s = Math.trunc(value).toString(8).padStart(width - 1, "0");
  buf.write(s, off, width - 1, "ascii");
  buf[off + width - 1] = 0;
}

function writeChecksum(buf: Buffer): void {
  buf.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += buf[i]!;
  buf.write(sum.toString(8).padStart(6, "0"), 148, 6, "ascii");
  buf[154] = 0;
  buf[155] = 0x20;
}

/** One PAX record: "<len> <key>=<value>\n", where len counts the whole record. */
function paxRecord(key: string, value: Buffer): Buffer {
  const body = 3 + Buffer.byteLength(key) + value.length; // " " "=" "\n"
  let len = body + String(body).length;
  if (String(len).length !== String(body).length) len = body + String(len).length;
  return Buffer.concat([Buffer.from(`${len} ${key}=`), value, Buffer.from("\n")]);
}

function ustarBlock(
  name: string, mode: number, uid: number, gid: number, size: number, mtime: number,
  typeflag: number, linkname: string, devmajor: number | undefined, devminor: number | undefined,
): Buffer {
  // allocUnsafe slices Node's shared pool; a fresh ArrayBuffer per header (Buffer.alloc) made
  // header encoding the most expensive part of writing a 20k-file layer.
  const b = Buffer.allocUnsafe(BLOCK).fill(0);
  b.write(name, 0, 100, "utf8");
  writeOctal(b, 100, 8, mode);
  writeOctal(b, 108, 8, uid);
  writeOctal(b, 116, 8, gid);
  writeOctal(b, 124, 12, size);
  writeOctal(b, 136, 12, mtime);
  b[156] = typeflag;
  b.write(linkname, 157, 100, "utf8");
  b.write("ustar\x0000", 257, 8, "ascii");
  if (devmajor !== undefined) writeOctal(b, 329, 8, devmajor);
  if (devminor !== undefined) writeOctal(b, 337, 8, devminor);
  writeChecksum(b);
  return b;
}

/** A field fits the ustar header if short enough and plain ASCII (PAX otherwise, as Go does). */
function fitsUstar(s: string, max: number): boolean {
  return s.length <= max && PRINTABLE_ASCII.test(s);
}

/**
 * Encodes one entry's header: a PAX extended header first when a field does not fit ustar
 * (long or non-ASCII names, sizes ≥ 8 GiB, large ids, xattrs), then the ustar block.
 * Identical input gives identical bytes.
 */
export function encodeHeader(h: TarHeader): Buffer {
  const name = h.type === "dir" ? `${h.name}/` : h.name;
  const linkname = h.linkname ?? "";
  const mtime = Math.max(0, Math.floor(h.mtime));
  const size = h.type === "file" ? h.size : 0;
  const pax: Array<[string, Buffer]> = [];

  let ustarName = name;
  if (!fitsUstar(name, 100)) {
    pax.push(["path", Buffer.from(name)]);
    ustarName = asciiPrefix(name, 100);
  }
  let ustarLink = linkname;
  if (!fitsUstar(linkname, 100)) {
    pax.push(["linkpath", Buffer.from(linkname)]);
    ustarLink = asciiPrefix(linkname, 100);
  }
  const field = (key: string, v: number, max: number): number => {
    if (v <= max) return v;
    pax.push([key, Buffer.from(String(v))]);
    return 0;
  };
  const ustarSize = field("size", size, MAX_OCTAL_12);
  const uid = field("uid", h.uid, MAX_OCTAL_8);
  const gid = field("gid", h.gid, MAX_OCTAL_8);
  const ustarMtime = field("mtime", mtime, MAX_OCTAL_12);
  if (h.xattrs && h.xattrs.size > 0) {
    for (const k of [...h.xattrs.keys()].sort()) pax.push([`SCHILY.xattr.${k}`, h.xattrs.get(k)!]);
  }
  const isDev = h.type === "char" || h.type === "block";
  const main = ustarBlock(
    ustarName, h.mode & 0o7777, uid, gid, ustarSize, ustarMtime, TYPE_FLAGS[h.type], ustarLink,
    isDev ? (h.devmajor ?? 0) : undefined, isDev ? (h.devminor ?? 0) : undefined,
  );
  if (pax.length === 0) return main;

  pax.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const body = Buffer.concat(pax.map(([k, v]) => paxRecord(k, v)));
  const paxName = asciiPrefix(paxHeaderName(h.name), 100);
  const paxBlock = ustarBlock(paxName, 0o644, 0, 0, body.length, 0, 0x78 /* x */, "", undefined, undefined);
  return Buffer.concat([paxBlock, body, Buffer.alloc(padding(body.length)), main]);
}

/** Name of the PAX header pseudo-entry, following Go's "dir/PaxHeaders.0/base" convention. */
function paxHeaderName(name: string): string {
  const slash = name.lastIndexOf("/");
  return slash < 0 ? `PaxHeaders.0/${name}` : `${name.slice(0, slash)}/PaxHeaders.0/${name.slice(slash + 1)}`;
}

/** A printable-ASCII rendition of `s`, cut to at most `max` bytes (the PAX record holds the truth). */
function asciiPrefix(s: string, max: number): string {
  return s.replace(/[^\x20-\x7e]/g, "_").slice(0, max);
}
