// BuildKit 0.8 (dockerd 20.10's) probes every emulator binfmt_misc offers on each build: one
// `qemu-check` process per architecture. With the qemu handlers this machine registers for the
// multi-platform work (scripts/setup-emulation.sh) that is ~1.2 s on every docker build here,
// even a FROM scratch one (0.13 s with the handlers off; the peers' RESULTS.md was measured
// before they were registered). The workloads the harness compares are single-platform, so
// the handlers are switched off while they are measured and on again afterwards.

import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

const BINFMT = "/proc/sys/fs/binfmt_misc";

/** Disables the enabled qemu-* handlers; returns what turns them on again (also run at exit). */
export function pauseEmulators(): { paused: string[]; restore: () => void } {
  let names: string[];
  try {
    names = readdirSync(BINFMT).filter((n) => n.startsWith("qemu-"));
  } catch {
    return { paused: [], restore: () => {} };
  }
  const paused = names.filter((n) => {
    try {
      return readFileSync(path.join(BINFMT, n), "utf8").startsWith("enabled");
    } catch {
      return false;
    }
  });
  const set = (value: "0" | "1") => {
    for (const n of paused) {
      try {
        writeFileSync(path.join(BINFMT, n), value);
      } catch {
        // not root: leave it
      }
    }
  };
  set("0");
  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    set("1");
  };
  process.once("exit", restore);
  return { paused, restore };
}
