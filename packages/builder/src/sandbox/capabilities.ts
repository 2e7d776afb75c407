// Privileges of a RUN: Docker's default capability set (moby's oci/caps/defaults.go), so
// the command can chown, setuid, bind low ports, chroot … but cannot mount, change the
// hostname, load modules or reach the host through CAP_SYS_ADMIN and friends. As in
// Docker, no_new_privs is not set, so setuid binaries (su, ping) keep working.

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

/** Every capability this table knows: a privileged step's set. */
export const ALL_CAPS: readonly string[] = CAP_NUMBERS.map((c) => `CAP_${c}`);

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
