// The setup script of the unshare executor, run by /bin/sh as pid 1 of the sandbox's new
// pid namespace (its mount, ipc, uts and optionally net namespaces are new too):
//   1. a watcher that kills the namespace when our lifeline socket closes;
//   2. hostname (through /proc/sys, a shell builtin write: no process), loopback up;
//   3. every mount in one `mount -a` (stage, rootfs, /proc, /dev, /sys, masks, etc, RUN mounts);
//   4. pivot_root into the stage and detach the host's root;
//   5. the command, as a child so that pid 1 stays a root shell whose parent-death signal
//      survives: setpriv sets groups, gid, Docker's capability bounding set and clears the
//      inheritable set; `unshare --root` chroots into the rootfs, enters the cwd, sets the
//      uid and execs the command with the environment it was given.
// Positional parameters: $1 step dir, $2 hostname, $3 "lo" to bring up loopback, $4 stage
// dir, then the command line of step 5.

export interface ScriptTools {
  mount: string;
  umount: string;
  pivotRoot: string;
  ip?: string;
}

function q(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export function unshareSetupScript(t: ScriptTools): string {
  return [
    `( read -r _; kill -KILL -1 ) <&4 >&- 2>&- 3>&- &`,
    `cd "$1" || exit 125`,
    `printf "%s\\n" "$2" > /proc/sys/kernel/hostname || exit 125`,
    t.ip ? `if [ "$3" = lo ]; then ${q(t.ip)} link set lo up || exit 125; fi` : `[ "$3" != lo ] || { echo "ip (iproute2) is needed for --network=none" >&2; exit 125; }`,
    `${q(t.mount)} -a -c -T fstab || exit 125`,
    `cd "$4" || exit 125`,
    `${q(t.pivotRoot)} . .old || exit 125`,
    `${q(t.umount)} -l -c -n /.old || exit 125`,
    `shift 4`,
    `unset PWD OLDPWD`,
    `echo started >&4`,
    `"$@" 2>&3 3>&- 4>&-`,
  ].join("\n");
}
