// Paths of /proc and /sys that a RUN must not read or write, as Docker masks them
// (moby's oci/defaults.go): masked paths get /dev/null (files) or an empty read-only
// tmpfs (directories) on top; read-only paths get a read-only bind of themselves.
import { statSync } from "node:fs";

export const MASKED_PATHS: readonly string[] = [
  "/proc/asound",
  "/proc/acpi",
  "/proc/interrupts",
  "/proc/kcore",
  "/proc/keys",
  "/proc/latency_stats",
  "/proc/timer_list",
  "/proc/timer_stats",
  "/proc/sched_debug",
  "/proc/scsi",
  "/sys/firmware",
  "/sys/devices/virtual/powercap",
];

export const READONLY_PATHS: readonly string[] = [
  "/proc/bus",
  "/proc/fs",
  "/proc/irq",
  "/proc/sys",
  "/proc/sysrq-trigger",
];

export interface HostMask {
  path: string;
  isDir: boolean;
}

let cached: { masked: HostMask[]; readonly: HostMask[] } | undefined;

/**
 * The masked and read-only paths that exist on this kernel, with their kind. A fresh
 * /proc or /sys in the sandbox shows the same entries as the host's, so the host's tell
 * which mounts to make (mounting onto a missing path would fail the whole setup).
 */
export function hostMasks(): { masked: HostMask[]; readonly: HostMask[] } {
  if (cached) return cached;
  const probe = (paths: readonly string[]): HostMask[] => {
    const out: HostMask[] = [];
    for (const path of paths) {
      try {
        out.push({ path, isDir: statSync(path).isDirectory() });
      } catch {
        // absent on this kernel
      }
    }
    return out;
  };
  cached = { masked: probe(MASKED_PATHS), readonly: probe(READONLY_PATHS) };
  return cached;
}
