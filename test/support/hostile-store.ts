// Stores for the fault and concurrency tests: a fresh store with the busybox fixture
// imported, deterministic Dockerfiles whose image digests can be compared across stores,
// and a full consistency check of a store (what `kill -9`, ENOSPC or a racing prune must
// never break).
import { execFileSync } from "node:child_process";
import { promises as fsp, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { importRootfs } from "@tbuild/builder";
import { Store } from "@tbuild/cache";
import { repoRoot } from "./hostile-procs.js";

const IMPORT_CHANGES = ["ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 'CMD ["sh"]'];

/** Writes the busybox rootfs tarball (fixtures/base) to `file`. */
export function busyboxTar(file: string): string {
  execFileSync("bash", [path.join(repoRoot, "fixtures/base/busybox-rootfs.sh"), file], { stdio: "pipe" });
  return file;
}

/** Imports the busybox rootfs as busybox:latest into the store at `root`; returns its manifest digest. */
export async function seedStore(root: string, tar: string): Promise<string> {
  const r = await importRootfs({ tarPath: tar, ref: "busybox:latest", root, changes: IMPORT_CHANGES });
  return r.manifestDigest;
}

/**
 * A copy of a seeded store. An import stamps the time into the base image's config, so
 * stores that must give equal digests start as copies of one seeded store.
 */
export function cloneStore(template: string, root: string): string {
  execFileSync("cp", ["-a", "--", template, root]);
  return root;
}

/** SOURCE_DATE_EPOCH for every comparable build: same inputs, same digests. */
export const SDE = { SOURCE_DATE_EPOCH: "1700000000" };

/**
 * A deterministic Dockerfile and context, different for each `variant`: a few RUN layers
 * (one of `mb` megabytes), a COPY of many small context files, ENV/LABEL metadata.
 */
export function writeVariant(dir: string, variant: string, mb = 4): string {
  mkdirSync(path.join(dir, "files"), { recursive: true });
  for (let i = 0; i < 40; i++) writeFileSync(path.join(dir, "files", `f${i}.txt`), `${variant} file ${i}\n`.repeat(i + 1));
  writeFileSync(path.join(dir, "Dockerfile"), [
    "FROM busybox",
    `ENV VARIANT=${variant}`,
    `RUN mkdir -p /data && head -c ${mb * 1024 * 1024} /dev/zero | tr '\\0' '${variant.charCodeAt(0) % 26 === 0 ? "a" : "b"}' > /data/big-${variant} && echo ${variant} > /data/name`,
    "COPY files/ /app/files/",
    `RUN cd /app && for f in files/*; do sha256sum "$f"; done > /app/sums && echo ${variant} >> /app/sums`,
    `LABEL variant=${variant}`,
    "",
  ].join("\n"));
  return dir;
}

/**
 * Problems of the store at `root` (empty when consistent): it opens (crash recovery runs),
 * leaves no temp files of dead processes, every blob matches its digest, every snapshot has
 * its metadata, every tagged image's manifest, config and layers are present and whole.
 */
export async function storeProblems(root: string): Promise<string[]> {
  const problems: string[] = [];
  const store = await Store.open(root);
  try {
    const tmp = await fsp.readdir(store.layout.tmpDir);
    if (tmp.length > 0) problems.push(`tmp/ still holds ${tmp.join(", ")}`);
    for (const name of await fsp.readdir(store.layout.blobsDir)) {
      if (!(await store.verifyBlob(`sha256:${name}`))) problems.push(`blob ${name} does not match its digest`);
    }
    for (const id of await store.listSnapshots()) {
      if (!(await store.getSnapshot(id))) problems.push(`snapshot ${id} has no metadata`);
    }
    for (const img of await store.listImages()) {
      const need = [img.manifest];
      try {
        const m = JSON.parse((await store.readBlob(img.manifest)).toString("utf8"));
        if (m.config) need.push(m.config.digest);
        for (const l of m.layers ?? []) need.push(l.digest);
        if (m.manifests) for (const d of m.manifests) need.push(d.digest);
      } catch (e) {
        problems.push(`image ${img.name}: manifest unreadable: ${(e as Error).message}`);
        continue;
      }
      for (const d of need) {
        if (await store.hasBlob(d)) continue;
        // Built layers keep no tar: their snapshot (by diffID) stands in for the blob.
        if (!(await store.getLayer(d))) problems.push(`image ${img.name}: ${d} is missing`);
      }
    }
  } finally {
    await store.close();
  }
  return problems;
}
