// Test helper: builds small but real images in a store (manifest → config → layers,
// compressed variants, snapshots by chain ID).
import { writeFileSync } from "node:fs";
import path from "node:path";
import type { Digest } from "@tbuild/oci";
import { chainIDs, sha256Digest } from "../util/digest.js";
import type { Store } from "../store/store.js";

export interface FakeImage {
  manifest: Digest;
  config: Digest;
  diffIDs: Digest[];
  gzip: Digest[];
  chainIDs: Digest[];
}

/** Stores an image whose layers are `layerTexts` (uncompressed "tars" are just the texts). */
export async function makeImage(store: Store, layerTexts: string[], opts: { snapshots?: boolean; uncompressed?: boolean } = {}): Promise<FakeImage> {
  const diffIDs = layerTexts.map((t) => sha256Digest(t));
  const gzip: Digest[] = [];
  for (let i = 0; i < layerTexts.length; i++) {
    const gz = await store.putBlob(`gz(${layerTexts[i]})`);
    gzip.push(gz.digest);
    await store.putLayer(diffIDs[i]!, layerTexts[i]!.length);
    await store.putLayerVariant(diffIDs[i]!, "gzip", gz);
    if (opts.uncompressed) await store.putBlob(layerTexts[i]!);
  }
  const ids = chainIDs(diffIDs);
  if (opts.snapshots !== false) {
    for (let i = 0; i < ids.length; i++) {
      const d = await store.prepareSnapshot();
      writeFileSync(path.join(d.path, `file${i}`), layerTexts[i]!);
      await store.commitSnapshot(d, ids[i]!, { diffID: diffIDs[i]!, ...(i > 0 ? { parent: ids[i - 1]! } : {}) });
    }
  }
  const config = await store.putBlob(JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: diffIDs } }));
  const manifest = await store.putBlob(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: config.digest, size: config.size },
      layers: gzip.map((d) => ({ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: d, size: 1 })),
    }),
  );
  return { manifest: manifest.digest, config: config.digest, diffIDs, gzip, chainIDs: ids };
}

/** A pid that no running process has. */
export function deadPid(): number {
  for (let pid = 4_000_000; pid > 300_000; pid -= 7919) {
    try {
      process.kill(pid, 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ESRCH") return pid;
    }
  }
  throw new Error("no free pid found");
}
