// Whether overlayfs works with its upper dir on a given filesystem, checked by doing it:
// a private mount namespace mounts a small overlay in a temp dir there, deletes a lower
// file (the upper must take a whiteout device) and replaces a lower directory (opaque
// trusted.* xattr). tmpfs and ext4 pass; overlayfs itself, NFS or filesystems without
// trusted xattrs fail, and the copy snapshotter is used instead.
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, statSync, statfsSync, writeFileSync } from "node:fs";
import { release } from "node:os";
import { lstat, rm, stat } from "node:fs/promises";
import { inUserNamespace } from "@tbuild/oci";
import { findTool } from "../sandbox/host-tools.js";
import { sweepDead } from "../sandbox/leftovers.js";
import { overlayNamespaceOptions, overlayUpperOptions } from "./overlay-options.js";

const cache = new Map<string, Promise<string | undefined>>();

async function probe(dir: string): Promise<string | undefined> {
  const unshare = findTool("unshare");
  const mount = findTool("mount");
  if (!unshare || !mount) return "util-linux's unshare and mount are not installed";
  await sweepDead(dir, ".tbuild-overlay-probe-");
  const t = mkdtempSync(`${dir}/.tbuild-overlay-probe-${process.pid}-`);
  try {
    for (const d of ["lower/gone-dir", "upper", "work", "merged"]) mkdirSync(`${t}/${d}`, { recursive: true });
    writeFileSync(`${t}/lower/gone-file`, "x");
    writeFileSync(`${t}/lower/gone-dir/f`, "x");
    const opts = [`lowerdir=${t}/lower`, `upperdir=${t}/upper`, `workdir=${t}/work`, ...overlayUpperOptions(), ...overlayNamespaceOptions()].join(",");
    const script = `${mount} -t overlay overlay -o "$1" "$2/merged" && rm "$2/merged/gone-file" && rm -r "$2/merged/gone-dir" && mkdir "$2/merged/gone-dir" && : > "$2/merged/new"`;
    const err = await new Promise<string | undefined>((resolve) => {
      execFile(unshare, ["--mount", "--propagation", "private", "sh", "-c", script, "sh", opts, t], { timeout: 20_000 }, (e, _o, stderr) => {
        resolve(e ? String(stderr).trim() || e.message : undefined);
      });
    });
    if (err !== undefined) return err;
    const wh = await lstat(`${t}/upper/gone-file`);
    if (!wh.isCharacterDevice() || wh.rdev !== 0) return "overlayfs did not leave a whiteout in the upper dir";
    await stat(`${t}/upper/new`);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  } finally {
    await rm(t, { recursive: true, force: true }).catch(() => {});
  }
}

/**
 * Resolves with undefined if overlayfs can use a directory on `dir`'s filesystem as upper,
 * else with the reason. A success is remembered in `dir` (see rememberedOk), so later
 * processes skip the probe's six short-lived processes.
 */
export async function overlayUpperProblem(dir: string): Promise<string | undefined> {
  const st = await stat(dir);
  const key = String(st.dev);
  let hit = cache.get(key);
  if (!hit) {
    hit = rememberedOk(dir)
      ? Promise.resolve(undefined)
      : probe(dir).then((problem) => {
          if (problem === undefined) rememberOk(dir);
          return problem;
        });
    cache.set(key, hit);
  }
  return hit;
}

const MARKER = ".tbuild-overlay-ok";

/**
 * What decides the probe's answer: the kernel, and the filesystem `dir` is on (its device and
 * type). A marker that names the same three was written after a successful probe here.
 */
function markerText(dir: string): string {
  return JSON.stringify({ kernel: release(), dev: statSync(dir).dev, fsType: statfsSync(dir).type, ...(inUserNamespace() ? { userns: true } : {}) });
}

/** True if a successful probe of this kernel and filesystem is recorded in `dir`. */
export function rememberedOk(dir: string): boolean {
  try {
    return readFileSync(`${dir}/${MARKER}`, "utf8") === markerText(dir);
  } catch {
    return false;
  }
}

function rememberOk(dir: string): void {
  try {
    writeFileSync(`${dir}/${MARKER}`, markerText(dir));
  } catch {
    // only an optimisation: the next process probes again
  }
}
