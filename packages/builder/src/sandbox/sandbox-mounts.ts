// The mounts inside the sandbox that both executors describe the same way: the layer
// stacks of `layers` mounts (overlayfs with short link names), binds and tmpfs of RUN
// --mount, and the read-only etc files. Paths here are host paths of mount targets.
import { mkdirSync, writeFileSync } from "node:fs";
import { overlayMountOptions } from "../snapshot/overlay-options.js";
import type { PreparedRootfs } from "../snapshot/types.js";
import type { FstabEntry } from "./fstab.js";
import type { ResolvedMount } from "./prepare-run.js";

/** An empty directory in the step dir, made on first use (lower of empty/one-layer stacks). */
function emptyDir(stepDir: string): string {
  const p = `${stepDir}/empty`;
  mkdirSync(p, { recursive: true, mode: 0o755 });
  return p;
}

/** The mount of a step's rootfs at host path `target`; overlay link names are relative to `stepDir`. */
export function rootfsMount(rootfs: PreparedRootfs, target: string, stepDir: string): FstabEntry {
  if (rootfs.kind === "dir") return { source: rootfs.path, target, fstype: "none", options: ["bind"] };
  const lowers = rootfs.lowers.length > 0 ? rootfs.lowers : [emptyDir(stepDir)];
  const opts = overlayMountOptions({ lowers, upper: rootfs.upper, work: rootfs.work }, stepDir, "l");
  return { source: "overlay", target, fstype: "overlay", options: [opts] };
}

/**
 * The mount of a `layers` RUN --mount at host path `target`. Read-only stacks are
 * lower-only overlays (the kernel wants two lowers, so an empty dir pads a single one);
 * writable ones get an upper and work dir in the step dir, discarded with it.
 */
export function layersMount(lowersIn: string[], readonly: boolean, target: string, stepDir: string, index: number): FstabEntry {
  const lowers = lowersIn.length > 0 ? [...lowersIn] : [emptyDir(stepDir)];
  if (readonly) {
    if (lowersIn.length === 0) return { source: lowers[0]!, target, fstype: "none", options: ["bind", "ro"] };
    if (lowers.length === 1) lowers.push(emptyDir(stepDir));
    return { source: "overlay", target, fstype: "overlay", options: [overlayMountOptions({ lowers }, stepDir, `m${index}_`), "ro"] };
  }
  const upper = `${stepDir}/m${index}/upper`;
  const work = `${stepDir}/m${index}/work`;
  mkdirSync(upper, { recursive: true, mode: 0o755 });
  mkdirSync(work, { recursive: true, mode: 0o700 });
  return { source: "overlay", target, fstype: "overlay", options: [overlayMountOptions({ lowers, upper, work }, stepDir, `m${index}_`)] };
}

/** A bind or tmpfs RUN --mount at host path `target`. */
export function simpleMount(m: ResolvedMount, target: string): FstabEntry {
  const s = m.spec;
  if (s.type === "bind") return { source: s.source, target, fstype: "none", options: s.readonly ? ["rbind", "ro"] : ["rbind"] };
  if (s.type === "tmpfs") {
    const opts = ["nosuid", `mode=${(s.mode ?? 0o1777).toString(8).padStart(4, "0")}`];
    if (s.size !== undefined) opts.push(`size=${Math.max(4096, Math.floor(s.size))}`);
    return { source: "tmpfs", target, fstype: "tmpfs", options: opts };
  }
  throw new Error("layers mounts are made by layersMount");
}

/** Writes the etc files of the step into the step dir and returns their host paths. */
export function writeEtcFiles(stepDir: string, files: { hosts: string; resolvConf: string; hostname: string }): { hosts: string; resolvConf: string; hostname: string } {
  const out = { hosts: `${stepDir}/hosts`, resolvConf: `${stepDir}/resolv.conf`, hostname: `${stepDir}/hostname` };
  writeFileSync(out.hosts, files.hosts, { mode: 0o644 });
  writeFileSync(out.resolvConf, files.resolvConf, { mode: 0o644 });
  writeFileSync(out.hostname, files.hostname, { mode: 0o644 });
  return out;
}
