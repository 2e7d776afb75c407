// The syscall filter of a RUN step: the same decisions as Docker's default seccomp profile
// (moby profiles/seccomp/default.json, as of moby 25–27): everything not listed fails with
// EPERM; the calls that need a capability the step lacks stay refused (mount, unshare and
// namespace flags of clone, bpf, perf_event_open, keyctl, add_key, ptrace-like calls …);
// clone3 answers ENOSYS without CAP_SYS_ADMIN so that libc falls back to clone, whose
// namespace flags the filter can see. One description, two renderings: the OCI spec's
// `linux.seccomp` for runc and the rules file of tbuild-enter (compiled by libseccomp).

export type SeccompAction = { kind: "allow" } | { kind: "errno"; errno: number };

export interface SeccompArg {
  index: number;
  op: "eq" | "ne" | "masked_eq";
  value: bigint;
  /** For masked_eq: (arg & value) == valueTwo. */
  valueTwo?: bigint;
}

interface Rule {
  names: readonly string[];
  action: SeccompAction;
  args?: SeccompArg[];
  /** Applies only when the step holds one of these capabilities. */
  ifCaps?: readonly string[];
  /** Applies only when the step holds none of these capabilities. */
  unlessCaps?: readonly string[];
  /** Applies only on these Node `process.arch` values. */
  arches?: readonly string[];
}

const ALLOW: SeccompAction = { kind: "allow" };
const EPERM = 1;
const ENOSYS = 38;
/** clone flags that make namespaces: NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET. */
const CLONE_NAMESPACE_FLAGS = 0x7e020000n;
const AF_VSOCK = 40n;

// Calls any process may make: file, memory, signal, time, socket and process-control calls
// without host-wide effect (grouped by subject; moby keeps one sorted list).
const ALWAYS: readonly string[] = [
  // files and directories
  "access", "chdir", "chmod", "chown", "chown32", "close", "close_range", "copy_file_range", "creat", "dup", "dup2", "dup3",
  "faccessat", "faccessat2", "fadvise64", "fadvise64_64", "fallocate", "fchdir", "fchmod", "fchmodat", "fchown", "fchown32",
  "fchownat", "fcntl", "fcntl64", "fdatasync", "fgetxattr", "flistxattr", "flock", "fremovexattr", "fsetxattr", "fstat",
  "fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate", "ftruncate64", "futimesat", "getcwd", "getdents",
  "getdents64", "getxattr", "lchown", "lchown32", "lgetxattr", "link", "linkat", "listxattr", "llistxattr", "_llseek",
  "lremovexattr", "lseek", "lsetxattr", "lstat", "lstat64", "mkdir", "mkdirat", "mknod", "mknodat", "name_to_handle_at",
  "newfstatat", "open", "openat", "openat2", "pread64", "preadv", "preadv2", "pwrite64", "pwritev", "pwritev2", "read",
  "readahead", "readlink", "readlinkat", "readv", "removexattr", "rename", "renameat", "renameat2", "rmdir", "sendfile",
  "sendfile64", "setxattr", "splice", "stat", "stat64", "statfs", "statfs64", "statx", "symlink", "symlinkat", "sync",
  "sync_file_range", "syncfs", "tee", "truncate", "truncate64", "umask", "unlink", "unlinkat", "utime", "utimensat",
  "utimensat_time64", "utimes", "vmsplice", "write", "writev",
  // polling, events, async io, pipes
  "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait", "epoll_pwait2", "epoll_wait", "epoll_wait_old",
  "eventfd", "eventfd2", "fanotify_mark", "inotify_add_watch", "inotify_init", "inotify_init1", "inotify_rm_watch",
  "io_cancel", "io_destroy", "io_getevents", "io_pgetevents", "io_pgetevents_time64", "io_setup", "io_submit",
  "io_uring_enter", "io_uring_register", "io_uring_setup", "ioctl", "pipe", "pipe2", "poll", "ppoll", "ppoll_time64",
  "pselect6", "pselect6_time64", "select", "_newselect", "signalfd", "signalfd4", "timerfd_create", "timerfd_gettime",
  "timerfd_gettime64", "timerfd_settime", "timerfd_settime64",
  // memory
  "brk", "madvise", "membarrier", "memfd_create", "memfd_secret", "mincore", "mlock", "mlock2", "mlockall", "mmap", "mmap2",
  "mprotect", "mremap", "msync", "munlock", "munlockall", "munmap", "pkey_alloc", "pkey_free", "pkey_mprotect",
  "remap_file_pages",
  // processes, credentials, scheduling, limits
  "capget", "capset", "execve", "execveat", "exit", "exit_group", "fork", "vfork", "getcpu", "getegid", "getegid32",
  "geteuid", "geteuid32", "getgid", "getgid32", "getgroups", "getgroups32", "getpgid", "getpgrp", "getpid", "getppid",
  "getpriority", "getresgid", "getresgid32", "getresuid", "getresuid32", "getrlimit", "get_robust_list", "getrusage",
  "getsid", "get_thread_area", "gettid", "getuid", "getuid32", "ioprio_get", "ioprio_set", "kill", "pidfd_open",
  "pidfd_send_signal", "prctl", "prlimit64", "process_mrelease", "restart_syscall", "rseq", "sched_getaffinity",
  "sched_getattr", "sched_getparam", "sched_get_priority_max", "sched_get_priority_min", "sched_getscheduler",
  "sched_rr_get_interval", "sched_rr_get_interval_time64", "sched_setaffinity", "sched_setattr", "sched_setparam",
  "sched_setscheduler", "sched_yield", "seccomp", "setfsgid", "setfsgid32", "setfsuid", "setfsuid32", "setgid", "setgid32",
  "setgroups", "setgroups32", "setpgid", "setpriority", "setregid", "setregid32", "setresgid", "setresgid32", "setresuid",
  "setresuid32", "setreuid", "setreuid32", "setrlimit", "set_robust_list", "setsid", "set_thread_area", "set_tid_address",
  "setuid", "setuid32", "tgkill", "tkill", "ugetrlimit", "wait4", "waitid", "waitpid", "futex", "futex_time64", "futex_waitv",
  "landlock_add_rule", "landlock_create_ruleset", "landlock_restrict_self",
  // signals and time
  "alarm", "adjtimex", "clock_adjtime", "clock_adjtime64", "clock_getres", "clock_getres_time64", "clock_gettime",
  "clock_gettime64", "clock_nanosleep", "clock_nanosleep_time64", "getitimer", "gettimeofday", "nanosleep", "pause",
  "rt_sigaction", "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait",
  "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "setitimer", "sigaltstack", "sigprocmask", "sigreturn", "time",
  "timer_create", "timer_delete", "timer_getoverrun", "timer_gettime", "timer_gettime64", "timer_settime",
  "timer_settime64", "times",
  // sockets and System V / POSIX IPC (in the step's own ipc namespace)
  "accept", "accept4", "bind", "connect", "getpeername", "getsockname", "getsockopt", "listen", "recv", "recvfrom",
  "recvmmsg", "recvmmsg_time64", "recvmsg", "send", "sendmmsg", "sendmsg", "sendto", "setsockopt", "shutdown",
  "socketcall", "socketpair", "ipc", "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive", "mq_timedreceive_time64",
  "mq_timedsend", "mq_timedsend_time64", "mq_unlink", "msgctl", "msgget", "msgrcv", "msgsnd", "semctl", "semget", "semop",
  "semtimedop", "semtimedop_time64", "shmat", "shmctl", "shmdt", "shmget",
  // system information
  "getrandom", "sysinfo", "uname",
];

const RULES: readonly Rule[] = [
  { names: ALWAYS, action: ALLOW },
  // Since Linux 4.8 ptrace cannot be used to bypass seccomp; it stays bound by ptrace's own checks.
  { names: ["process_vm_readv", "process_vm_writev", "ptrace"], action: ALLOW },
  { names: ["socket"], action: ALLOW, args: [{ index: 0, op: "ne", value: AF_VSOCK }] },
  // personality: only the harmless personas (Linux, PER_LINUX32, UNAME26 variants, and the query).
  ...[0x0n, 0x8n, 0x20000n, 0x20008n, 0xffffffffn].map((v): Rule => ({ names: ["personality"], action: ALLOW, args: [{ index: 0, op: "eq", value: v }] })),
  { names: ["arch_prctl"], action: ALLOW, arches: ["x64"] },
  { names: ["modify_ldt"], action: ALLOW, arches: ["x64", "ia32"] },
  { names: ["arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint", "cacheflush", "set_tls"], action: ALLOW, arches: ["arm", "arm64"] },
  { names: ["open_by_handle_at"], action: ALLOW, ifCaps: ["CAP_DAC_READ_SEARCH"] },
  {
    names: ["bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick", "lookup_dcookie", "mount",
      "mount_setattr", "move_mount", "open_tree", "perf_event_open", "quotactl", "quotactl_fd", "setdomainname",
      "sethostname", "setns", "syslog", "umount", "umount2", "unshare"],
    action: ALLOW,
    ifCaps: ["CAP_SYS_ADMIN"],
  },
  { names: ["clone"], action: ALLOW, args: [{ index: 0, op: "masked_eq", value: CLONE_NAMESPACE_FLAGS, valueTwo: 0n }], unlessCaps: ["CAP_SYS_ADMIN"] },
  { names: ["clone3"], action: { kind: "errno", errno: ENOSYS }, unlessCaps: ["CAP_SYS_ADMIN"] },
  { names: ["reboot"], action: ALLOW, ifCaps: ["CAP_SYS_BOOT"] },
  { names: ["chroot"], action: ALLOW, ifCaps: ["CAP_SYS_CHROOT"] },
  { names: ["delete_module", "init_module", "finit_module"], action: ALLOW, ifCaps: ["CAP_SYS_MODULE"] },
  { names: ["acct"], action: ALLOW, ifCaps: ["CAP_SYS_PACCT"] },
  { names: ["kcmp", "pidfd_getfd", "process_madvise"], action: ALLOW, ifCaps: ["CAP_SYS_PTRACE"] },
  { names: ["iopl", "ioperm"], action: ALLOW, ifCaps: ["CAP_SYS_RAWIO"] },
  { names: ["settimeofday", "stime", "clock_settime", "clock_settime64"], action: ALLOW, ifCaps: ["CAP_SYS_TIME"] },
  { names: ["vhangup"], action: ALLOW, ifCaps: ["CAP_SYS_TTY_CONFIG"] },
  { names: ["get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"], action: ALLOW, ifCaps: ["CAP_SYS_NICE"] },
  { names: ["syslog"], action: ALLOW, ifCaps: ["CAP_SYSLOG"] },
  { names: ["bpf"], action: ALLOW, ifCaps: ["CAP_BPF"] },
  { names: ["perf_event_open"], action: ALLOW, ifCaps: ["CAP_PERFMON"] },
];

/** The rules that apply to a step holding `caps` on this machine's architecture. */
export function seccompRules(caps: readonly string[], arch: string = process.arch): { names: readonly string[]; action: SeccompAction; args?: SeccompArg[] }[] {
  const has = new Set(caps);
  return RULES.filter((r) =>
    (!r.ifCaps || r.ifCaps.some((c) => has.has(c))) &&
    (!r.unlessCaps || !r.unlessCaps.some((c) => has.has(c))) &&
    (!r.arches || r.arches.includes(arch)),
  ).map(({ names, action, args }) => ({ names, action, ...(args ? { args } : {}) }));
}

/** libseccomp architecture names of the ABIs a process on `arch` can use (moby's archMap). */
function seccompArches(arch: string): { native: string; extra: string[] } {
  if (arch === "x64") return { native: "x86_64", extra: ["x86", "x32"] };
  if (arch === "arm64") return { native: "aarch64", extra: ["arm"] };
  return { native: arch, extra: [] };
}

function actionWord(a: SeccompAction): string {
  return a.kind === "allow" ? "allow" : `errno:${a.errno}`;
}

/** The rules file tbuild-enter compiles with libseccomp: "default", "arch" and one line per syscall and rule. */
export function enterSeccompRules(caps: readonly string[], arch: string = process.arch): string {
  const lines = [`default errno:${EPERM}`, ...seccompArches(arch).extra.map((a) => `arch ${a}`)];
  for (const r of seccompRules(caps, arch)) {
    const cond = (r.args ?? []).map((a) => [a.index, a.op, `0x${a.value.toString(16)}`, ...(a.op === "masked_eq" ? [`0x${(a.valueTwo ?? 0n).toString(16)}`] : [])].join(" "));
    for (const n of r.names) lines.push([actionWord(r.action), n, ...cond].join(" "));
  }
  return lines.join("\n") + "\n";
}

const OCI_OP = { eq: "SCMP_CMP_EQ", ne: "SCMP_CMP_NE", masked_eq: "SCMP_CMP_MASKED_EQ" } as const;
const OCI_ARCH: Record<string, string> = { x86_64: "SCMP_ARCH_X86_64", x86: "SCMP_ARCH_X86", x32: "SCMP_ARCH_X32", aarch64: "SCMP_ARCH_AARCH64", arm: "SCMP_ARCH_ARM" };

/** The same filter as an OCI runtime spec `linux.seccomp` section (runc compiles it with libseccomp too). */
export function ociSeccomp(caps: readonly string[], arch: string = process.arch): object {
  const a = seccompArches(arch);
  return {
    defaultAction: "SCMP_ACT_ERRNO",
    defaultErrnoRet: EPERM,
    architectures: [a.native, ...a.extra].map((n) => OCI_ARCH[n]).filter((n): n is string => n !== undefined),
    syscalls: seccompRules(caps, arch).map((r) => ({
      names: [...r.names],
      action: r.action.kind === "allow" ? "SCMP_ACT_ALLOW" : "SCMP_ACT_ERRNO",
      ...(r.action.kind === "errno" ? { errnoRet: r.action.errno } : {}),
      ...(r.args ? { args: r.args.map((x) => ({ index: x.index, op: OCI_OP[x.op], value: Number(x.value), ...(x.op === "masked_eq" ? { valueTwo: Number(x.valueTwo ?? 0n) } : {}) })) } : {}),
    })),
  };
}
