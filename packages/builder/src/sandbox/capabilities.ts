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

/** The set in setpriv's --bounding-set syntax: drop all, then add each default one. */
export function setprivCapList(caps: readonly string[] = DOCKER_DEFAULT_CAPS): string {
  return ["-all", ...caps.map((c) => "+" + c.replace(/^CAP_/, "").toLowerCase())].join(",");
}
