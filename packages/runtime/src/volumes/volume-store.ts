// Volumes: a folder per volume under the store root (`_data` is what containers mount),
// with Docker's `local` driver semantics. A new volume is filled from the image's content
// at its mount point the first time a container mounts it (unless nocopy), as Docker does;
// anonymous volumes (an image's VOLUME, or `-v /path`) are named by a random id and go
// with `run --rm` / `rm -v`. A volume used by any container cannot be removed.
import { chown, chmod, copyFile, lchown, mkdir, readdir, readlink, rm, symlink, utimes } from "node:fs/promises";
import path from "node:path";
import type { LayeredView } from "@tbuild/builder";
import { RuntimeError } from "../errors.js";
import type { RuntimeLayout } from "../layout.js";
import { NAME_RE, newId } from "../util/ids.js";
import { readJson, writeJson } from "../util/json-file.js";
import { withRuntimeLock } from "../util/lock.js";

export interface VolumeRecord {
  Name: string;
  Driver: "local";
  Mountpoint: string;
  CreatedAt: string;
  Labels: Record<string, string>;
  Options: Record<string, string>;
  Scope: "local";
  /** Made for an image's VOLUME or `-v /path`: removed with the container by `run --rm` and `rm -v`. */
  Anonymous: boolean;
  /** A container has mounted it once (so it is never filled from an image again). */
  Used: boolean;
}

const recordFile = (layout: RuntimeLayout, name: string) => path.join(layout.volume(name), "volume.json");

export async function getVolume(layout: RuntimeLayout, name: string): Promise<VolumeRecord | undefined> {
  if (!NAME_RE.test(name)) return undefined;
  return readJson<VolumeRecord>(recordFile(layout, name));
}

/**
 * Creates a volume (an anonymous one when `name` is undefined). Creating a named volume that
 * exists returns it, as `docker volume create` does.
 */
export async function createVolume(layout: RuntimeLayout, name: string | undefined, opts: { labels?: Record<string, string>; driver?: string; options?: Record<string, string> } = {}): Promise<VolumeRecord> {
  if (opts.driver !== undefined && opts.driver !== "local") throw new RuntimeError(`volume driver "${opts.driver}" is not available: tbuild has only the "local" driver`);
  const o = opts.options ?? {};
  if (Object.keys(o).length > 0) throw new RuntimeError(`volume driver options (${Object.keys(o).join(", ")}) are not supported: tbuild's local volumes are plain directories`);
  if (name !== undefined && (!NAME_RE.test(name) || name.length < 2)) throw new RuntimeError(`invalid volume name "${name}": it must be at least 2 characters of [a-zA-Z0-9][a-zA-Z0-9_.-]`);
  const vname = name ?? newId();
  return withRuntimeLock(layout, async () => {
    const have = await getVolume(layout, vname);
    if (have) return have;
    const dir = layout.volume(vname);
    await mkdir(path.join(dir, "_data"), { recursive: true, mode: 0o755 });
    const rec: VolumeRecord = {
      Name: vname, Driver: "local", Mountpoint: path.join(dir, "_data"), CreatedAt: new Date().toISOString(),
      Labels: opts.labels ?? {}, Options: {}, Scope: "local", Anonymous: name === undefined, Used: false,
    };
    await writeJson(layout, recordFile(layout, vname), rec);
    return rec;
  });
}

export async function listVolumes(layout: RuntimeLayout): Promise<VolumeRecord[]> {
  const names = await readdir(layout.volumesDir).catch(() => [] as string[]);
  const out: VolumeRecord[] = [];
  for (const n of names.sort()) {
    const r = await getVolume(layout, n);
    if (r) out.push(r);
  }
  return out;
}

/** Removes a volume; `usedBy` names the containers that mount it (refused unless empty). */
export async function removeVolume(layout: RuntimeLayout, name: string, usedBy: string[]): Promise<void> {
  const rec = await getVolume(layout, name);
  if (!rec) throw new RuntimeError(`no such volume: ${name}`);
  if (usedBy.length > 0) throw new RuntimeError(`volume ${name} is in use by container${usedBy.length > 1 ? "s" : ""} ${usedBy.join(", ")}; remove ${usedBy.length > 1 ? "them" : "it"} first`);
  await withRuntimeLock(layout, () => rm(layout.volume(name), { recursive: true, force: true }));
}

/**
 * Docker's copy-up: on the first mount of an empty volume, the image's files under the
 * mount point (ownership, modes, times, symlinks) are copied into it. Marks the volume used.
 */
export async function fillVolumeOnFirstUse(layout: RuntimeLayout, rec: VolumeRecord, view: LayeredView, target: string, nocopy: boolean): Promise<void> {
  if (rec.Used) return;
  const empty = (await readdir(rec.Mountpoint)).length === 0;
  if (empty && !nocopy) {
    const top = await view.lstat(target).catch(() => undefined);
    if (top?.type === "dir") {
      for await (const e of view.walk(target)) {
        const rel = path.relative(target, e.path);
        if (rel === "") continue;
        const dest = path.join(rec.Mountpoint, rel);
        if (e.type === "dir") {
          await mkdir(dest, { recursive: true });
        } else if (e.type === "file") {
          await copyFile(e.hostPath, dest);
        } else if (e.type === "symlink") {
          await symlink(await readlink(e.hostPath), dest);
        } else continue; // devices, fifos and sockets are not copied
        if (e.type === "symlink") await lchown(dest, e.uid, e.gid);
        else {
          await chown(dest, e.uid, e.gid);
          await chmod(dest, e.mode);
        }
      }
      await chown(rec.Mountpoint, top.uid, top.gid);
      await chmod(rec.Mountpoint, top.mode);
      await utimes(rec.Mountpoint, Number(top.atimeNs / 1000000n) / 1000, Number(top.mtimeNs / 1000000n) / 1000);
    }
  }
  rec.Used = true;
  await writeJson(layout, recordFile(layout, rec.Name), rec);
}
