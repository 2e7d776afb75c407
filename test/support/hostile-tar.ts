// Hand-made hostile archives: raw ustar headers (so a header may claim a size its body does
// not have, or name what no honest writer would), and a hand-made OCI image layout around
// such layers. Deliberately independent of @tbuild/oci's writers, so their habits cannot
// hide a reader bug.
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";

export interface RawEntry {
  name: string;
  type?: "file" | "dir" | "symlink" | "hardlink" | "char" | "block" | "fifo";
  body?: string | Buffer;
  /** The size the header claims (default: the body's length). */
  claimedSize?: number;
  linkname?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  devmajor?: number;
  devminor?: number;
}

const TYPEFLAG: Record<NonNullable<RawEntry["type"]>, string> = {
  file: "0", hardlink: "1", symlink: "2", char: "3", block: "4", dir: "5", fifo: "6",
};

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, "0") + "\0";
}

/** Writes a string field; names over 100 bytes use the ustar prefix field. */
function put(buf: Buffer, off: number, len: number, s: string): void {
  buf.write(s, off, Math.min(len, Buffer.byteLength(s)), "utf8");
}

/** One 512-byte ustar header. Sizes over 8 GiB are written in base-256, as GNU tar does. */
export function tarHeader(e: RawEntry, size: number): Buffer {
  const h = Buffer.alloc(512);
  let name = e.name;
  let prefix = "";
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf("/", 155);
    prefix = name.slice(0, cut);
    name = name.slice(cut + 1);
  }
  put(h, 0, 100, name);
  put(h, 100, 8, octal(e.mode ?? (e.type === "dir" ? 0o755 : 0o644), 8));
  put(h, 108, 8, octal(e.uid ?? 0, 8));
  put(h, 116, 8, octal(e.gid ?? 0, 8));
  if (size < 8 ** 11) put(h, 124, 12, octal(size, 12));
  else {
    h[124] = 0x80;
    let v = BigInt(size);
    for (let i = 135; i > 124; i--) {
      h[i] = Number(v & 0xffn);
      v >>= 8n;
    }
  }
  put(h, 136, 12, octal(0, 12));
  h.fill(0x20, 148, 156);
  put(h, 156, 1, TYPEFLAG[e.type ?? "file"]);
  put(h, 157, 100, e.linkname ?? "");
  put(h, 257, 6, "ustar\0");
  put(h, 263, 2, "00");
  put(h, 329, 8, octal(e.devmajor ?? 0, 8));
  put(h, 337, 8, octal(e.devminor ?? 0, 8));
  put(h, 345, 155, prefix);
  let sum = 0;
  for (const b of h) sum += b;
  put(h, 148, 8, sum.toString(8).padStart(6, "0") + "\0 ");
  return h;
}

/**
 * A tar archive of `entries`. A body shorter than `claimedSize` is written as is and the
 * archive ends right after it (a truncated archive), as a hostile or broken writer would.
 */
export function rawTar(entries: RawEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const body = typeof e.body === "string" ? Buffer.from(e.body) : (e.body ?? Buffer.alloc(0));
    const hasBody = (e.type ?? "file") === "file";
    const size = e.claimedSize ?? (hasBody ? body.length : 0);
    parts.push(tarHeader(e, size));
    if (!hasBody) continue;
    parts.push(body);
    if (size > body.length) return Buffer.concat(parts);
    const pad = (512 - (body.length % 512)) % 512;
    parts.push(Buffer.alloc(pad));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

const sha = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

/**
 * Writes an OCI image layout at `dir` holding one image, tagged `tag`, whose layers are the
 * given tars (gzip-compressed as most registries serve them). Returns the manifest digest.
 */
export function writeOciLayout(dir: string, layers: Buffer[], tag = "latest"): string {
  const blobs = path.join(dir, "blobs/sha256");
  mkdirSync(blobs, { recursive: true });
  const put = (b: Buffer) => {
    const d = sha(b);
    writeFileSync(path.join(blobs, d.slice(7)), b);
    return { digest: d, size: b.length };
  };
  const layerDescs = layers.map((tar) => ({ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", ...put(gzipSync(tar)) }));
  const config = Buffer.from(JSON.stringify({
    architecture: process.arch === "x64" ? "amd64" : process.arch === "arm64" ? "arm64" : process.arch,
    os: "linux",
    config: { Env: ["PATH=/bin:/usr/bin"] },
    rootfs: { type: "layers", diff_ids: layers.map(sha) },
  }));
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", ...put(config) },
    layers: layerDescs,
  }));
  const m = put(manifest);
  writeFileSync(path.join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  writeFileSync(path.join(dir, "index.json"), JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.index.v1+json",
    manifests: [{ mediaType: "application/vnd.oci.image.manifest.v1+json", ...m, annotations: { "org.opencontainers.image.ref.name": tag } }],
  }));
  return m.digest;
}
