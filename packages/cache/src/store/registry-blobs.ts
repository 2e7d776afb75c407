// Where registries hold blobs, as this store's pulls and pushes saw it: one JSON file per
// registry listing, for each blob, the repositories it was pulled from or pushed to (most
// recent first). A push reads it the way `docker push` reads its distribution metadata:
// mount a blob from another repository that holds it, ask (HEAD) only where a record says
// the blob may be there already, and upload at once a blob no record places on the registry.
// The records are hints, never the truth: a stale one costs a failed mount or a HEAD, a
// lost one (two pushes writing at once) an upload the registry did not need.
import { promises as fsp } from "node:fs";
import path from "node:path";
import type { Digest } from "@tbuild/oci";
import { readJsonFile, writeFileAtomic } from "../util/fs-util.js";
import type { Layout } from "./layout.js";

interface RegistryBlobsFile {
  v: 1;
  registry: string;
  /** Blob digest → repositories, most recent first; insertion order = age (oldest first). */
  blobs: Record<string, string[]>;
}

/** At most this many blobs per registry (the oldest records go first) and repositories per blob. */
const MAX_BLOBS = 20_000;
const MAX_REPOSITORIES = 5;

/** The repositories of `registry` known to hold each blob (empty when nothing is known). */
export async function readRegistryBlobs(layout: Layout, registry: string): Promise<Map<Digest, string[]>> {
  const f = await readJsonFile<RegistryBlobsFile>(layout.registryBlobs(registry)).catch(() => undefined);
  if (!f || f.v !== 1 || f.registry !== registry || typeof f.blobs !== "object" || f.blobs === null) return new Map();
  return new Map(Object.entries(f.blobs).filter((e): e is [Digest, string[]] => Array.isArray(e[1])));
}

/** Records that `repository` of `registry` holds `digests` (after a pull from it or a push to it). */
export async function recordRegistryBlobs(layout: Layout, registry: string, repository: string, digests: Iterable<Digest>): Promise<void> {
  const known = await readRegistryBlobs(layout, registry);
  for (const d of new Set(digests)) {
    const repos = known.get(d) ?? [];
    known.delete(d); // re-inserted last: the newest record
    known.set(d, [repository, ...repos.filter((r) => r !== repository)].slice(0, MAX_REPOSITORIES));
  }
  const kept = [...known].slice(-MAX_BLOBS);
  const file = layout.registryBlobs(registry);
  await fsp.mkdir(path.dirname(file), { recursive: true });
  const body: RegistryBlobsFile = { v: 1, registry, blobs: Object.fromEntries(kept) };
  await writeFileAtomic(file, JSON.stringify(body), { tmpDir: layout.tmpDir });
}
