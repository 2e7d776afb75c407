// Where everything lives under a store root. One place, so that the gc, du and crash
// recovery walk exactly what the writers write.
//
//   <root>/tbuild-store.json            layout version
//   <root>/blobs/sha256/<hex>            content-addressed blobs (verified before rename)
//   <root>/layers/<diffhex>.json         layer record: { diffID, size }
//   <root>/layers/<diffhex>.<comp>.json  compressed variant: { digest, size } (gzip | zstd)
//   <root>/snapshots/<chainhex>/fs/      unpacked snapshot (overlayfs lower-dir format)
//   <root>/snapshots/<chainhex>/snapshot.json   { chainID, parent?, diffID?, size, created }
//   <root>/images/<sha256(name)>.json    { name, manifest, mediaType?, created }
//   <root>/index/<hh>/<sha256(key)>.json cache record; file mtime = last use
//   <root>/leases/<pid>.<start>.<rand>.json     live leases (valid while that process lives)
//   <root>/locks/gc.lock                 flock(1) lock held by gc/prune
//   <root>/locks/gc.running              marker: a gc is between reading leases and deleting
//   <root>/tmp/<pid>.<start>.<rand>.<kind>      in-progress writes (same filesystem)
//   <root>/quarantine/                   corrupt blobs moved out of the way
//   <root>/contexts/<sha256(dir)>.json   persistent stat caches of build contexts
//   <root>/contexts/<sha256(dir)>.digests.json   their digest memos (context/digest-memo.ts)
//   <root>/registry-blobs/<sha256(registry)>.json  which repositories hold which blobs (pushes, pulls)
import os from "node:os";
import path from "node:path";
import { digestHex, sha256Hex } from "../util/digest.js";

export const LAYOUT_VERSION = 1;

/**
 * The default store root: `$TBUILD_ROOT`, else `/var/lib/tbuild` for root, else
 * `$XDG_DATA_HOME/tbuild` or `~/.local/share/tbuild`.
 */
export function defaultStoreRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TBUILD_ROOT) return path.resolve(env.TBUILD_ROOT);
  if (typeof process.getuid === "function" && process.getuid() === 0) return "/var/lib/tbuild";
  const data = env.XDG_DATA_HOME ? env.XDG_DATA_HOME : path.join(os.homedir(), ".local", "share");
  return path.join(data, "tbuild");
}

/** Path helpers for one store root. */
export class Layout {
  constructor(readonly root: string) {}

  get versionFile(): string { return path.join(this.root, "tbuild-store.json"); }
  get blobsDir(): string { return path.join(this.root, "blobs", "sha256"); }
  get layersDir(): string { return path.join(this.root, "layers"); }
  get snapshotsDir(): string { return path.join(this.root, "snapshots"); }
  get imagesDir(): string { return path.join(this.root, "images"); }
  get indexDir(): string { return path.join(this.root, "index"); }
  get leasesDir(): string { return path.join(this.root, "leases"); }
  get locksDir(): string { return path.join(this.root, "locks"); }
  get tmpDir(): string { return path.join(this.root, "tmp"); }
  get quarantineDir(): string { return path.join(this.root, "quarantine"); }
  get contextsDir(): string { return path.join(this.root, "contexts"); }
  /** Key lists (key-lists.ts): which cache keys were recorded per step slot or parent. */
  get keyListsDir(): string { return path.join(this.root, "key-lists"); }
  /** Registry blob records (registry-blobs.ts): where pulls and pushes saw each blob. */
  get registryBlobsDir(): string { return path.join(this.root, "registry-blobs"); }
  get gcLock(): string { return path.join(this.locksDir, "gc.lock"); }
  get gcMarker(): string { return path.join(this.locksDir, "gc.running"); }

  /** Every directory the store needs. */
  get dirs(): string[] {
    return [this.blobsDir, this.layersDir, this.snapshotsDir, this.imagesDir, this.indexDir,
      this.leasesDir, this.locksDir, this.tmpDir, this.quarantineDir, this.contextsDir, this.keyListsDir];
  }

  blob(digest: string): string { return path.join(this.blobsDir, digestHex(digest)); }
  layer(diffID: string): string { return path.join(this.layersDir, `${digestHex(diffID)}.json`); }
  layerVariant(diffID: string, compression: string): string {
    return path.join(this.layersDir, `${digestHex(diffID)}.${compression}.json`);
  }
  snapshotDir(chainID: string): string { return path.join(this.snapshotsDir, digestHex(chainID)); }
  snapshotFs(chainID: string): string { return path.join(this.snapshotDir(chainID), "fs"); }
  snapshotMeta(chainID: string): string { return path.join(this.snapshotDir(chainID), "snapshot.json"); }
  image(name: string): string { return path.join(this.imagesDir, `${sha256Hex(name)}.json`); }
  /** Cache records are sharded by the first two hex digits to keep directories small. */
  record(key: string): string {
    const h = sha256Hex(key);
    return path.join(this.indexDir, h.slice(0, 2), `${h}.json`);
  }
  keyList(name: string): string {
    const h = sha256Hex(name);
    return path.join(this.keyListsDir, h.slice(0, 2), `${h}.json`);
  }
  registryBlobs(registry: string): string {
    return path.join(this.registryBlobsDir, `${sha256Hex(registry)}.json`);
  }
  contextStatCache(contextRoot: string): string {
    return path.join(this.contextsDir, `${sha256Hex(contextRoot)}.json`);
  }
}
