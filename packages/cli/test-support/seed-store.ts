// Puts small, real images into a tbuild store without the builder, for tests of the
// store commands: a layer tarball made by GNU tar, a config and a manifest.

import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Store } from "@tbuild/cache";
import { type Digest, type ImageConfig, type Manifest, MediaType } from "@tbuild/oci";

export interface SeededImage {
  name: string;
  imageId: Digest;
  manifestDigest: Digest;
  layerSize: number;
}

/**
 * Stores an image named `name` (canonical form, e.g. docker.io/library/seed:1) with one
 * layer holding `files`, and two history entries (one empty).
 */
export async function seedImage(root: string, name: string, files: Record<string, string>, created = "2026-01-01T00:00:00Z"): Promise<SeededImage> {
  const work = mkdtempSync("/dev/shm/tbuild-seed-");
  try {
    const tree = join(work, "tree");
    mkdirSync(tree);
    for (const [p, text] of Object.entries(files)) {
      mkdirSync(join(tree, p, ".."), { recursive: true });
      writeFileSync(join(tree, p), text);
    }
    const tarFile = join(work, "layer.tar");
    execFileSync("tar", ["--sort=name", "--mtime=@0", "--owner=0", "--group=0", "--numeric-owner", "-C", tree, "-cf", tarFile, "."]);
    const store = await Store.open(root);
    try {
      const { readFileSync } = await import("node:fs");
      const layer = await store.putBlob(readFileSync(tarFile));
      await store.putLayer(layer.digest, layer.size);
      const config: ImageConfig = {
        created,
        architecture: "amd64",
        os: "linux",
        config: { Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["sh"] },
        rootfs: { type: "layers", diff_ids: [layer.digest] },
        history: [
          { created, created_by: "COPY files / # buildkit", comment: "buildkit.dockerfile.v0" },
          { created, created_by: 'CMD ["sh"]', comment: "buildkit.dockerfile.v0", empty_layer: true },
        ],
      };
      const cfg = await store.putBlob(JSON.stringify(config));
      const manifest: Manifest = {
        schemaVersion: 2,
        mediaType: MediaType.ociManifest,
        config: { mediaType: MediaType.ociConfig, digest: cfg.digest, size: cfg.size },
        layers: [{ mediaType: MediaType.ociLayer, digest: layer.digest, size: layer.size }],
      };
      const m = await store.putBlob(JSON.stringify(manifest));
      await store.putImage(name, { manifest: m.digest, mediaType: MediaType.ociManifest });
      return { name, imageId: cfg.digest, manifestDigest: m.digest, layerSize: layer.size };
    } finally {
      await store.close();
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
