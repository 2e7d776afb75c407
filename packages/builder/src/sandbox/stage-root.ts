// The unshare executor's staging root. The sandbox pivots into it (so that the host's
// root is no longer reachable from the mount namespace at all), and the command runs
// chrooted into <stage>/r below it. The stage holds nothing but read-only binds of the
// host's program directories, which the final helpers (setpriv, unshare) need after the
// pivot; a RUN that breaks out of its chroot with CAP_SYS_CHROOT finds only those.
// The directory is shared by all steps of the process: every step mounts on it inside
// its own mount namespace, so nothing on disk changes after it is made.
import { existsSync, lstatSync, mkdirSync, readlinkSync, renameSync, rmSync, symlinkSync } from "node:fs";
import type { FstabEntry } from "./fstab.js";
import { runtimeRoot } from "./runtime-dir.js";

/** Top-level host directories that hold programs and libraries. */
const PROGRAM_DIRS = ["usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32"];

export interface StageRoot {
  /** Absolute path of the stage directory. */
  path: string;
  /** Host directories to bind read-only into the stage (names under /). */
  binds: string[];
}

let cached: StageRoot | undefined;

/** Creates (once per process) the stage directory mirroring the host's program dirs layout. */
export function stageRoot(): StageRoot {
  if (cached && existsSync(cached.path)) return cached;
  const binds: string[] = [];
  const links: [string, string][] = [];
  for (const name of PROGRAM_DIRS) {
    let st;
    try {
      st = lstatSync(`/${name}`);
    } catch {
      continue;
    }
    if (st.isSymbolicLink()) links.push([name, readlinkSync(`/${name}`)]);
    else if (st.isDirectory()) binds.push(name);
  }
  // The layout is part of the name, so a changed host layout gets a new stage.
  const tag = [...binds, ...links.map(([n, t]) => `${n}>${t}`)].join(",");
  let hash = 0;
  for (const ch of tag) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  const path = `${runtimeRoot()}/stage-${hash.toString(36)}`;
  if (!existsSync(path)) {
    const tmp = `${path}.${process.pid}.tmp`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { mode: 0o755 });
    for (const d of ["r", "proc", ".old", ...binds]) mkdirSync(`${tmp}/${d}`, { mode: 0o755 });
    for (const [name, target] of links) symlinkSync(target, `${tmp}/${name}`);
    try {
      renameSync(tmp, path);
    } catch (e) {
      // Another process made it first (rename over a non-empty dir fails): use theirs.
      rmSync(tmp, { recursive: true, force: true });
      if (!existsSync(path)) throw e;
    }
  }
  cached = { path, binds };
  return cached;
}

/** Mounts that make the stage a read-only mount point with the program dirs and a /proc (umount needs it). */
export function stageMounts(stage: StageRoot): FstabEntry[] {
  return [
    { source: stage.path, target: stage.path, fstype: "none", options: ["bind", "ro"] },
    { source: "proc", target: `${stage.path}/proc`, fstype: "proc", options: ["nosuid", "nodev", "noexec"] },
    ...stage.binds.map((b): FstabEntry => ({ source: `/${b}`, target: `${stage.path}/${b}`, fstype: "none", options: ["bind", "ro"] })),
  ];
}
