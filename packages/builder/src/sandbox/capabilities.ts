// Privileges of a RUN: Docker's default capability set (moby's oci/caps/defaults.go), so
// the command can chown, setuid, bind low ports, chroot … but cannot mount, change the
// hostname, load modules or reach the host through CAP_SYS_ADMIN and friends. As in
// Docker, no_new_privs is not set, so setuid binaries (su, ping) keep working.
import { readFileSync } from "node:fs";

/** Docker's default capabilities, OCI spelling. */
export const DOCKER_DEFAULT_CAPS: readonly string[] = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_FSETID",
  "CAP_FOWNER",
  "CAP_MKNOD",
  "CAP_NET_RAW",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETFCAP",
  "CAP_SETPCAP",
  "CAP_NET_BIND_SERVICE",
  "CAP_SYS_CHROOT",
  "CAP_KILL",
  "CAP_AUDIT_WRITE",
];

/** Linux capability numbers (linux/capability.h). */
const CAP_NUMBERS: readonly string[] = [
  "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "SETPCAP",
  "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER",
  "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE",
  "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP",
  "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF",
  "CHECKPOINT_RESTORE",
];

/**
 * A privileged step's set: every capability this process holds (as Docker's privileged
 * mode gives what the daemon has; a capability outside our own bounding set cannot be granted).
 */
export function heldCaps(): string[] {
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync("/proc/self/status", "utf8"));
  const mask = m ? BigInt(`0x${m[1]}`) : 0n;
  return CAP_NUMBERS.map((c, i) => ((mask >> BigInt(i)) & 1n ? `CAP_${c}` : "")).filter(Boolean);
}

/** The capability set as a bit mask (bit N = capability number N). */
export function capMask(caps: readonly string[] = DOCKER_DEFAULT_CAPS): bigint {
  let mask = 0n;
  for (const c of caps) {
    const n = CAP_NUMBERS.indexOf(c.replace(/^CAP_/, ""));
    if (n < 0) throw new Error(`unknown capability ${c}`);
    mask |= 1n << BigInt(n);
  }
  return mask;
}
