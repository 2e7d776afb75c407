// Test support shared by @tbuild/oci's unit and end-to-end tests. Not part of the public API.
import { execFileSync } from "node:child_process";
import { createReadStream, existsSync, mkdirSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { digestHex, sha256 } from "../digest.js";
import { OciError } from "../errors.js";
import type { BlobSource } from "../layout/blob-source.js";
import type { Digest } from "../types.js";

/**
 * True if every tool is on PATH. Outside CI a missing tool makes the caller skip (with the
 * reason printed); in CI (CI=true) it is an error, since CI installs them all.
 */
export function haveTools(tools: string[]): boolean {
  const missing = tools.filter((t) => {
    try {
      execFileSync("sh", ["-c", `command -v ${t}`], { stdio: "ignore" });
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length === 0) return true;
  if (process.env.CI === "true") throw new Error(`required tools missing in CI: ${missing.join(", ")}`);
  console.warn(`skipping: ${missing.join(", ")} not installed`);
  return false;
}

/** A minimal content-addressed blob directory for tests, with a BlobSource over it. */
export function dirBlobStore(dir: string) {
  mkdirSync(dir, { recursive: true });
  const path = (d: Digest): string => join(dir, digestHex(d));
  const source: BlobSource = {
    async open(d) {
      if (!existsSync(path(d))) throw new OciError("NOT_FOUND", `no blob ${d}`);
      return createReadStream(path(d));
    },
    async size(d) {
      if (!existsSync(path(d))) throw new OciError("NOT_FOUND", `no blob ${d}`);
      return statSync(path(d)).size;
    },
  };
  return {
    source,
    path,
    /** Stores bytes; returns their digest and size. */
    put(bytes: Buffer): { digest: Digest; size: number } {
      const digest = sha256(bytes);
      writeFileSync(path(digest), bytes);
      return { digest, size: bytes.length };
    },
    /** Moves a finished file into the store under its (already known) digest. */
    adopt(file: string, digest: Digest): void {
      renameSync(file, path(digest));
    },
  };
}

/** A two-layer test image in a dirBlobStore: a small rootfs, then an overlay diff that deletes and adds. */
export async function makeTestImage(root: string, opts: { bigFile?: number } = {}) {
  const { createWriteStream, chmodSync, symlinkSync } = await import("node:fs");
  const { writeLayer } = await import("../layer/write-layer.js");
  const { unpackLayer } = await import("../layer/unpack.js");
  const { serializeDocument } = await import("../image/documents.js");
  const { MediaType } = await import("../types.js");
  const store = dirBlobStore(join(root, "store"));
  const base = join(root, "base");
  mkdirSync(join(base, "etc"), { recursive: true });
  mkdirSync(join(base, "usr", "bin"), { recursive: true });
  writeFileSync(join(base, "etc", "os-release"), "ID=tbuild\n");
  writeFileSync(join(base, "etc", "obsolete"), "old\n");
  writeFileSync(join(base, "usr", "bin", "tool"), "#!/bin/sh\necho tool\n");
  chmodSync(join(base, "usr", "bin", "tool"), 0o755);
  symlinkSync("usr/bin", join(base, "bin"));
  if (opts.bigFile) {
    const big = Buffer.alloc(opts.bigFile);
    for (let i = 0; i < big.length; i += 4) big.writeUInt32LE((i * 2654435761) >>> 0, i);
    writeFileSync(join(base, "usr", "big.bin"), big);
  }
  const upper = join(root, "upper");
  mkdirSync(join(upper, "etc"), { recursive: true });
  execFileSync("mknod", [join(upper, "etc", "obsolete"), "c", "0", "0"]);
  writeFileSync(join(upper, "etc", "added"), "new\n");
  const layers = [];
  const diffIDs: Digest[] = [];
  for (const [dir, kind] of [[base, "dir"], [upper, "overlay-upper"]] as const) {
    const tmpFile = join(root, "layer.tmp");
    const r = await writeLayer({ kind, dir }, createWriteStream(tmpFile), { compression: "gzip", sourceDateEpoch: 1_700_000_000 });
    store.adopt(tmpFile, r.digest!);
    layers.push({ mediaType: MediaType.ociLayerGzip, digest: r.digest!, size: r.compressedSize! });
    diffIDs.push(r.diffID);
  }
  const config = {
    created: "2024-01-01T00:00:00Z", architecture: "amd64", os: "linux",
    config: { Env: ["PATH=/usr/bin:/bin"], Cmd: ["/bin/tool"] },
    rootfs: { type: "layers" as const, diff_ids: diffIDs },
    history: [{ created: "2024-01-01T00:00:00Z", created_by: "base" }, { created: "2024-01-01T00:00:00Z", created_by: "upper" }],
  };
  const cfg = store.put(serializeDocument(config).bytes);
  const manifest = {
    schemaVersion: 2 as const, mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: cfg.digest, size: cfg.size }, layers,
  };
  const manifestBytes = serializeDocument(manifest).bytes;
  const expectedRootfs = join(root, "expected");
  for (const l of layers) await unpackLayer(await store.source.open(l.digest), expectedRootfs, { whiteouts: "apply" });
  return { store, manifest, manifestBytes, digest: sha256(manifestBytes), config, expectedRootfs };
}
