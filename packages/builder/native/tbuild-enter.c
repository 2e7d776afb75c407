/*
 * tbuild-enter: runs one RUN step in a sandbox, in one exec from Node.
 *
 * Why a C program: the step must end up pivoted into its rootfs with the old root
 * detached, Docker's capabilities, a seccomp filter loaded *without* no_new_privs (so
 * setuid programs such as su and sudo keep working, as under Docker) and the image's
 * uid, gid and groups. No Debian tool does all of that in one process: util-linux's
 * setpriv cannot load seccomp, bubblewrap always sets no_new_privs and cannot switch
 * uid without a user namespace, and runc costs two Go start-ups per step. Once the old
 * root is gone no host program can be exec'd, so the last steps must run in a process
 * that was loaded before the pivot. The seccomp program is compiled by libseccomp, once
 * per tbuild process (--compile-seccomp), and each step loads the compiled program.
 *
 * Usage: tbuild-enter CONFIG
 *   CONFIG is a file of NUL-terminated fields (written by unshare-executor.ts): a key,
 *   then that key's fixed number of values. See enter-config.ts for the keys.
 * File descriptors: 0 ignored, 1 the command's stdout, 2 the setup log, 3 the command's
 * stderr, 4 the lifeline socket. "started\n" goes to the lifeline right before the
 * command is exec'd; "exec-failed <errno>\n" when the exec fails. When the lifeline
 * reaches EOF (tbuild closed it or died) the sandbox is killed.
 *
 * Process layout: this process (outside) joins the step's cgroups, unshares a pid
 * namespace and forks; the child is pid 1 of that namespace, unshares mount, ipc, uts
 * (and net) namespaces, mounts everything, pivots, drops privileges and execs the
 * command. When the command (pid 1) exits the kernel kills every process left in the
 * namespace, so nothing a step starts outlives it.
 *
 * Containers (@tbuild/runtime) use the same program with a few more keys: "stdin 1" gives
 * the command fd 0 instead of /dev/null; "tty 1" gives it a terminal of the sandbox's own
 * devpts (the master comes back to the outside process, which relays fd 0 -> terminal ->
 * fd 1 and passes on window sizes); "netns PATH" joins a network namespace prepared by
 * the runtime instead of the host's or a new one; "join PID" (exec) enters the namespaces
 * of a running sandbox's pid 1 instead of making new ones and mounting. The outside
 * process says "pid N" on the lifeline (the host pid of the sandbox's pid 1) and forwards
 * SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 to it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/uio.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define FD_LOG 2
#define FD_STDERR 3
#define FD_LIFE 4
#define EXIT_SETUP 125

#define MAX_ITEMS 4096

struct mount_rec {
  const char *source, *target, *fstype, *data, *create;
  unsigned long flags;
};

struct config {
  const char *setupdir;  /* the setup runs here (overlay options name lower dirs relative to it) */
  const char *rootdir;   /* host directory the rootfs is mounted on */
  const char *cwd;
  const char *hostname;
  const char *seccomp;   /* compiled filter (see --compile-seccomp), or NULL for none */
  const char *netns;     /* network namespace to join, or NULL */
  pid_t join;            /* exec into the namespaces of this pid instead of making new ones */
  int tty;               /* give the command a terminal */
  int keep_stdin;        /* give the command our fd 0 */
  uid_t uid;
  gid_t gid;
  gid_t groups[256];
  size_t ngroups;
  uint64_t caps;
  int newnet;
  const char *cgroups[16];
  size_t ncgroups;
  struct { int res; rlim_t soft, hard; } rlimits[32];
  size_t nrlimits;
  struct mount_rec mounts[512];
  size_t nmounts;
  struct { const char *name; unsigned major, minor; } devices[16];
  size_t ndevices;
  struct { const char *target, *path; } links[16];
  size_t nlinks;
  char *env[MAX_ITEMS];
  size_t nenv;
  char *args[MAX_ITEMS];
  size_t nargs;
};

static void die(const char *fmt, ...) {
  char buf[2048];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
  va_end(ap);
  if (n < 0) n = 0;
  if (n > (int)sizeof buf - 2) n = sizeof buf - 2;
  buf[n++] = '\n';
  if (write(FD_LOG, buf, n) < 0) { /* nothing more to do */ }
  _exit(EXIT_SETUP);
}

/* ---- config ---------------------------------------------------------------------- */

static char *cfg_buf;
static size_t cfg_len, cfg_pos;

static const char *next_field(void) {
  if (cfg_pos >= cfg_len) die("tbuild-enter: truncated config");
  const char *s = cfg_buf + cfg_pos;
  const char *nul = memchr(s, 0, cfg_len - cfg_pos);
  if (!nul) die("tbuild-enter: unterminated config field");
  cfg_pos = (nul - cfg_buf) + 1;
  return s;
}

static unsigned long long num(const char *s) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 0);
  if (errno || *s == 0 || *end != 0) die("tbuild-enter: bad number in config: %s", s);
  return v;
}

static rlim_t rlim_value(const char *s) {
  return strcmp(s, "unlimited") == 0 ? RLIM_INFINITY : (rlim_t)num(s);
}

static void read_config(const char *path, struct config *c) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) die("tbuild-enter: open %s: %s", path, strerror(errno));
  struct stat st;
  if (fstat(fd, &st) < 0) die("tbuild-enter: stat %s: %s", path, strerror(errno));
  cfg_len = st.st_size;
  cfg_buf = malloc(cfg_len + 1);
  if (!cfg_buf) die("tbuild-enter: out of memory");
  size_t got = 0;
  while (got < cfg_len) {
    ssize_t r = read(fd, cfg_buf + got, cfg_len - got);
    if (r <= 0) die("tbuild-enter: read %s: %s", path, r < 0 ? strerror(errno) : "short read");
    got += r;
  }
  close(fd);
  memset(c, 0, sizeof *c);
  c->cwd = "/";
  while (cfg_pos < cfg_len) {
    const char *k = next_field();
    if (!strcmp(k, "cwd")) c->cwd = next_field();
    else if (!strcmp(k, "setupdir")) c->setupdir = next_field();
    else if (!strcmp(k, "rootdir")) c->rootdir = next_field();
    else if (!strcmp(k, "hostname")) c->hostname = next_field();
    else if (!strcmp(k, "seccomp")) c->seccomp = next_field();
    else if (!strcmp(k, "uid")) c->uid = num(next_field());
    else if (!strcmp(k, "gid")) c->gid = num(next_field());
    else if (!strcmp(k, "group")) {
      if (c->ngroups >= 256) die("tbuild-enter: too many groups");
      c->groups[c->ngroups++] = num(next_field());
    } else if (!strcmp(k, "caps")) c->caps = num(next_field());
    else if (!strcmp(k, "newnet")) c->newnet = num(next_field()) != 0;
    else if (!strcmp(k, "netns")) c->netns = next_field();
    else if (!strcmp(k, "join")) c->join = (pid_t)num(next_field());
    else if (!strcmp(k, "tty")) c->tty = num(next_field()) != 0;
    else if (!strcmp(k, "stdin")) c->keep_stdin = num(next_field()) != 0;
    else if (!strcmp(k, "cgroup")) {
      if (c->ncgroups >= 16) die("tbuild-enter: too many cgroups");
      c->cgroups[c->ncgroups++] = next_field();
    } else if (!strcmp(k, "rlimit")) {
      if (c->nrlimits >= 32) die("tbuild-enter: too many rlimits");
      c->rlimits[c->nrlimits].res = num(next_field());
      c->rlimits[c->nrlimits].soft = rlim_value(next_field());
      c->rlimits[c->nrlimits].hard = rlim_value(next_field());
      c->nrlimits++;
    } else if (!strcmp(k, "mount")) {
      if (c->nmounts >= 512) die("tbuild-enter: too many mounts");
      struct mount_rec *m = &c->mounts[c->nmounts++];
      m->source = next_field();
      m->target = next_field();
      m->fstype = next_field();
      m->flags = num(next_field());
      m->data = next_field();
      m->create = next_field();
    } else if (!strcmp(k, "device")) {
      if (c->ndevices >= 16) die("tbuild-enter: too many devices");
      c->devices[c->ndevices].name = next_field();
      c->devices[c->ndevices].major = num(next_field());
      c->devices[c->ndevices].minor = num(next_field());
      c->ndevices++;
    } else if (!strcmp(k, "symlink")) {
      if (c->nlinks >= 16) die("tbuild-enter: too many symlinks");
      c->links[c->nlinks].target = next_field();
      c->links[c->nlinks].path = next_field();
      c->nlinks++;
    } else if (!strcmp(k, "env")) {
      if (c->nenv >= MAX_ITEMS - 1) die("tbuild-enter: too many environment entries");
      c->env[c->nenv++] = (char *)next_field();
    } else if (!strcmp(k, "arg")) {
      if (c->nargs >= MAX_ITEMS - 1) die("tbuild-enter: too many arguments");
      c->args[c->nargs++] = (char *)next_field();
    } else die("tbuild-enter: unknown config key %s", k);
  }
  if (c->nargs == 0) die("tbuild-enter: no command");
  if (c->join) return;
  if (!c->setupdir || !c->rootdir) die("tbuild-enter: setupdir and rootdir are required");
  if (c->nmounts == 0 || strcmp(c->mounts[0].target, "/") != 0) die("tbuild-enter: the first mount must be the rootfs at /");
}

/* ---- seccomp --------------------------------------------------------------------- */

static enum scmp_compare cmp_op(const char *s) {
  if (!strcmp(s, "eq")) return SCMP_CMP_EQ;
  if (!strcmp(s, "ne")) return SCMP_CMP_NE;
  if (!strcmp(s, "lt")) return SCMP_CMP_LT;
  if (!strcmp(s, "le")) return SCMP_CMP_LE;
  if (!strcmp(s, "gt")) return SCMP_CMP_GT;
  if (!strcmp(s, "ge")) return SCMP_CMP_GE;
  if (!strcmp(s, "masked_eq")) return SCMP_CMP_MASKED_EQ;
  die("tbuild-enter: bad seccomp operator %s", s);
  return SCMP_CMP_EQ;
}

static uint32_t action_of(const char *s) {
  if (!strcmp(s, "allow")) return SCMP_ACT_ALLOW;
  if (!strncmp(s, "errno:", 6)) return SCMP_ACT_ERRNO((uint16_t)num(s + 6));
  die("tbuild-enter: bad seccomp action %s", s);
  return 0;
}

/*
 * Compiles the rules file (one rule a line, fields separated by spaces):
 *   default ACTION | arch NAME | ACTION SYSCALL [INDEX OP VALUE [VALUE2]]...
 * ACTION is "allow" or "errno:N"; conditions of one line must all hold. Syscalls this
 * libseccomp does not know on an architecture are skipped, as Docker skips them.
 */
static scmp_filter_ctx build_seccomp(const char *path) {
  FILE *f = fopen(path, "re");
  if (!f) die("tbuild-enter: open %s: %s", path, strerror(errno));
  scmp_filter_ctx ctx = NULL;
  char line[1024];
  while (fgets(line, sizeof line, f)) {
    char *tok[32];
    size_t n = 0;
    for (char *save = NULL, *t = strtok_r(line, " \n", &save); t && n < 32; t = strtok_r(NULL, " \n", &save)) tok[n++] = t;
    if (n == 0) continue;
    if (!strcmp(tok[0], "default")) {
      if (n != 2 || ctx) die("tbuild-enter: bad seccomp default line");
      ctx = seccomp_init(action_of(tok[1]));
      if (!ctx) die("tbuild-enter: seccomp_init failed");
      /* Docker does not set no_new_privs: setuid programs must keep working. */
      if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0) != 0) die("tbuild-enter: seccomp NNP attribute");
      continue;
    }
    if (!ctx) die("tbuild-enter: seccomp rules must start with a default line");
    if (!strcmp(tok[0], "arch")) {
      uint32_t a = seccomp_arch_resolve_name(tok[1]);
      if (a == 0) continue;
      int r = seccomp_arch_add(ctx, a);
      if (r != 0 && r != -EEXIST) die("tbuild-enter: seccomp_arch_add %s: %s", tok[1], strerror(-r));
      continue;
    }
    uint32_t act = action_of(tok[0]);
    if (n < 2) die("tbuild-enter: bad seccomp rule line");
    struct scmp_arg_cmp cmps[6];
    unsigned ncmp = 0;
    for (size_t i = 2; i < n;) {
      if (ncmp >= 6 || i + 3 > n) die("tbuild-enter: bad seccomp condition for %s", tok[1]);
      enum scmp_compare op = cmp_op(tok[i + 1]);
      cmps[ncmp].arg = num(tok[i]);
      cmps[ncmp].op = op;
      cmps[ncmp].datum_a = num(tok[i + 2]);
      cmps[ncmp].datum_b = 0;
      if (op == SCMP_CMP_MASKED_EQ) {
        if (i + 4 > n) die("tbuild-enter: masked_eq needs two values");
        cmps[ncmp].datum_b = num(tok[i + 3]);
        i += 4;
      } else i += 3;
      ncmp++;
    }
    int nr = seccomp_syscall_resolve_name(tok[1]);
    if (nr == __NR_SCMP_ERROR) continue;
    int r = seccomp_rule_add_array(ctx, act, nr, ncmp, cmps);
    /* -EDOM/-EINVAL: the syscall does not exist on one of the architectures; -EACCES: same action as the default. */
    if (r != 0 && r != -EDOM && r != -EINVAL && r != -EACCES && r != -EEXIST) die("tbuild-enter: seccomp rule for %s: %s", tok[1], strerror(-r));
  }
  fclose(f);
  if (!ctx) die("tbuild-enter: empty seccomp rules");
  return ctx;
}

/* Reads a filter written by --compile-seccomp: the raw array of struct sock_filter. */
static struct sock_fprog read_bpf(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) die("tbuild-enter: open %s: %s", path, strerror(errno));
  struct stat st;
  if (fstat(fd, &st) < 0 || st.st_size == 0 || st.st_size % sizeof(struct sock_filter) != 0 || st.st_size > 65536 * (off_t)sizeof(struct sock_filter))
    die("tbuild-enter: %s is not a seccomp program", path);
  struct sock_filter *prog = malloc(st.st_size);
  if (!prog) die("tbuild-enter: out of memory");
  if (read(fd, prog, st.st_size) != st.st_size) die("tbuild-enter: read %s: %s", path, strerror(errno));
  close(fd);
  struct sock_fprog f = { (unsigned short)(st.st_size / sizeof(struct sock_filter)), prog };
  return f;
}

/* ---- mounts ---------------------------------------------------------------------- */

static int rootfd = -1;

static int open_in_root(const char *path, int flags) {
  struct open_how how = { .flags = flags | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
  while (*path == '/') path++;
  if (*path == 0) path = ".";
  return syscall(SYS_openat2, rootfd, path, &how, sizeof how);
}

/* Creates `path` (and missing parents) inside the root; symlinks resolve within the root. */
static void create_in_root(const char *path, int as_file) {
  char buf[4096];
  if (strlen(path) >= sizeof buf) die("tbuild-enter: path too long: %s", path);
  strcpy(buf, path);
  for (char *p = buf + 1;; p++) {
    int last = (*p == 0);
    if (*p != '/' && !last) continue;
    char saved = *p;
    *p = 0;
    int fd = open_in_root(buf, O_PATH);
    if (fd >= 0) {
      close(fd);
    } else if (errno == ENOENT) {
      char *slash = strrchr(buf, '/');
      *slash = 0;
      int parent = open_in_root(buf[0] ? buf : "/", O_PATH | O_DIRECTORY);
      *slash = '/';
      if (parent < 0) die("tbuild-enter: mount target %s: parent: %s", path, strerror(errno));
      int r;
      if (last && as_file) {
        r = openat(parent, slash + 1, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (r >= 0) close(r);
      } else {
        r = mkdirat(parent, slash + 1, 0755);
      }
      if (r < 0 && errno != EEXIST) die("tbuild-enter: create mount target %s: %s", path, strerror(errno));
      close(parent);
    } else {
      die("tbuild-enter: mount target %s: %s", buf, strerror(errno));
    }
    *p = saved;
    if (last) break;
  }
}

/* The flags of the mount at `path` that a remount must keep (see do_mount). */
static unsigned long kept_flags(const char *path) {
  struct statvfs sv;
  if (statvfs(path, &sv) < 0) return 0;
  unsigned long f = 0;
  if (sv.f_flag & ST_NOSUID) f |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV) f |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
  if (sv.f_flag & ST_NOATIME) f |= MS_NOATIME;
  if (sv.f_flag & ST_NODIRATIME) f |= MS_NODIRATIME;
  if (sv.f_flag & ST_RELATIME) f |= MS_RELATIME;
  return f;
}

#define REMOUNT_FLAGS (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME)

static void do_mount(const struct mount_rec *m, const char *root_host) {
  char where[64];
  int fd = -1;
  const char *target;
  if (strcmp(m->target, "/") == 0) {
    target = root_host;
  } else {
    if (m->create[0]) {
      int probe = open_in_root(m->target, O_PATH);
      if (probe >= 0) close(probe);
      else if (errno == ENOENT) create_in_root(m->target, strcmp(m->create, "file") == 0);
    }
    fd = open_in_root(m->target, O_PATH);
    if (fd < 0) die("tbuild-enter: mount target %s: %s", m->target, strerror(errno));
    snprintf(where, sizeof where, "/proc/self/fd/%d", fd);
    target = where;
  }
  const char *src = m->source[0] ? m->source : NULL;
  const char *fstype = m->fstype[0] ? m->fstype : NULL;
  if (m->flags & MS_BIND) {
    if (mount(src, target, NULL, m->flags & (MS_BIND | MS_REC), NULL) < 0)
      die("tbuild-enter: bind %s on %s: %s", m->source, m->target, strerror(errno));
    /* The fd still names what was under the new mount: reopen the target to reach the mount itself. */
    if (fd >= 0) {
      close(fd);
      fd = open_in_root(m->target, O_PATH);
      if (fd < 0) die("tbuild-enter: reopen %s: %s", m->target, strerror(errno));
      snprintf(where, sizeof where, "/proc/self/fd/%d", fd);
    }
    /*
     * A bind takes the flags of its source; the remount sets ours on top. The source's
     * nosuid/nodev/noexec and atime flags are kept: in a user namespace they are locked
     * (clearing one fails with EPERM), and keeping them never loosens anything.
     */
    if (mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | (m->flags & REMOUNT_FLAGS) | kept_flags(target), NULL) < 0)
      die("tbuild-enter: remount %s: %s", m->target, strerror(errno));
  } else {
    if (mount(src, target, fstype, m->flags, m->data[0] ? m->data : NULL) < 0)
      die("tbuild-enter: mount %s (%s) on %s: %s", m->source, m->fstype, m->target, strerror(errno));
  }
  if (fd >= 0) close(fd);
}

/*
 * The default device nodes, made by us per step (as runc makes them) in a tmpfs of the
 * setup dir that no path of the sandbox reaches, and bound one by one onto files in the
 * sandbox's /dev. The sandbox's /dev and rootfs are nodev, so a node the step makes with
 * mknod cannot be opened; these binds are mounts of their own, without nodev. A chmod of
 * /dev/null in the step changes only this step's node.
 */
static void make_devices(struct config *c) {
  if (c->ndevices == 0 && c->nlinks == 0) return;
  char dir[4096];
  if (snprintf(dir, sizeof dir, "%s/dev-nodes", c->setupdir) >= (int)sizeof dir) die("tbuild-enter: setup dir path too long");
  if (c->ndevices > 0) {
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) die("tbuild-enter: mkdir %s: %s", dir, strerror(errno));
    if (mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=755,size=4k") < 0) die("tbuild-enter: mount device tmpfs: %s", strerror(errno));
  }
  for (size_t i = 0; i < c->ndevices; i++) {
    char node[4200], target[256];
    snprintf(node, sizeof node, "%s/%s", dir, c->devices[i].name);
    const char *source = node;
    char host[256];
    if (mknod(node, S_IFCHR | 0666, makedev(c->devices[i].major, c->devices[i].minor)) == 0) {
      if (chmod(node, 0666) < 0) die("tbuild-enter: chmod %s: %s", node, strerror(errno));
    } else if (errno == EPERM) {
      /* In a user namespace (rootless) no node can be made: bind the host's, as rootless runc does. The step cannot chmod it (its owner is not mapped). */
      snprintf(host, sizeof host, "/dev/%s", c->devices[i].name);
      source = host;
    } else die("tbuild-enter: mknod %s: %s", node, strerror(errno));
    snprintf(target, sizeof target, "/dev/%s", c->devices[i].name);
    struct mount_rec m = { source, target, "", "", "file", MS_BIND | MS_NOSUID };
    do_mount(&m, c->rootdir);
  }
  for (size_t i = 0; i < c->nlinks; i++) {
    const char *path = c->links[i].path;
    const char *slash = strrchr(path, '/');
    if (!slash) die("tbuild-enter: bad symlink path %s", path);
    char parent[4096];
    size_t len = slash - path;
    if (len >= sizeof parent) die("tbuild-enter: symlink path too long");
    memcpy(parent, path, len);
    parent[len] = 0;
    int pfd = open_in_root(len ? parent : "/", O_PATH | O_DIRECTORY);
    if (pfd < 0) die("tbuild-enter: symlink parent %s: %s", parent, strerror(errno));
    if (symlinkat(c->links[i].target, pfd, slash + 1) < 0 && errno != EEXIST) die("tbuild-enter: symlink %s: %s", path, strerror(errno));
    close(pfd);
  }
}

/* ---- the sandbox's pid 1 --------------------------------------------------------- */

static void loopback_up(void) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) die("tbuild-enter: socket: %s", strerror(errno));
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strcpy(ifr.ifr_name, "lo");
  if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) die("tbuild-enter: lo flags: %s", strerror(errno));
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) die("tbuild-enter: lo up: %s", strerror(errno));
  close(s);
}

static void drop_bounding_set(uint64_t keep) {
  for (int cap = 0; cap < 64; cap++) {
    if (keep & (1ULL << cap)) continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL) die("tbuild-enter: drop capability %d: %s", cap, strerror(errno));
  }
}

static void set_caps(uint64_t caps) {
  struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct data[2];
  memset(data, 0, sizeof data);
  data[0].effective = data[0].permitted = (uint32_t)caps;
  data[1].effective = data[1].permitted = (uint32_t)(caps >> 32);
  if (syscall(SYS_capset, &hdr, data) < 0) die("tbuild-enter: capset: %s", strerror(errno));
}

static void life_say(const char *s) {
  size_t n = strlen(s);
  if (write(FD_LIFE, s, n) < 0) { /* tbuild is gone; the kill follows */ }
}

/* The socket the sandbox side sends a terminal's master over (SCM_RIGHTS), or -1. */
static int tty_sock = -1;

static void send_fd(int sock, int fd) {
  char byte = 't';
  struct iovec iov = { &byte, 1 };
  union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } u;
  memset(&u, 0, sizeof u);
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
  struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_RIGHTS;
  cm->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(cm), &fd, sizeof(int));
  if (sendmsg(sock, &msg, 0) < 0) die("tbuild-enter: send the terminal: %s", strerror(errno));
}

static int recv_fd(int sock) {
  char byte;
  struct iovec iov = { &byte, 1 };
  union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } u;
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
  ssize_t r;
  do r = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC); while (r < 0 && errno == EINTR);
  if (r <= 0) return -1;
  struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
  if (!cm || cm->cmsg_type != SCM_RIGHTS) return -1;
  int fd;
  memcpy(&fd, CMSG_DATA(cm), sizeof(int));
  return fd;
}

/*
 * A terminal from the sandbox's own devpts (/dev/ptmx is pts/ptmx there): the command gets
 * the slave as stdin, stdout and stderr and as its controlling terminal; the master goes to
 * the outside process, which relays it.
 */
static void make_tty(struct config *c) {
  int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) die("tbuild-enter: open /dev/ptmx: %s", strerror(errno));
  int unlock = 0, n;
  if (ioctl(master, TIOCSPTLCK, &unlock) < 0 || ioctl(master, TIOCGPTN, &n) < 0) die("tbuild-enter: pty: %s", strerror(errno));
  char name[64];
  snprintf(name, sizeof name, "/dev/pts/%d", n);
  int slave = open(name, O_RDWR | O_NOCTTY);
  if (slave < 0) die("tbuild-enter: open %s: %s", name, strerror(errno));
  if (fchown(slave, c->uid, 5) < 0) { /* a missing tty group is harmless */ }
  send_fd(tty_sock, master);
  close(master);
  close(tty_sock);
  if (setsid() < 0) die("tbuild-enter: setsid: %s", strerror(errno));
  if (ioctl(slave, TIOCSCTTY, 0) < 0) die("tbuild-enter: controlling terminal: %s", strerror(errno));
  if (dup2(slave, 0) < 0 || dup2(slave, 1) < 0 || dup2(slave, FD_STDERR) < 0) die("tbuild-enter: terminal fds: %s", strerror(errno));
  if (slave > FD_LIFE) close(slave);
}

/* Inside the sandbox's namespaces, with its root as ours: stdio, limits, cwd, privileges, exec. */
static void become(struct config *c, const struct sock_fprog *filter) {
  if (c->tty) {
    make_tty(c);
  } else if (!c->keep_stdin) {
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull < 0) die("tbuild-enter: open /dev/null: %s", strerror(errno));
    if (dup2(devnull, 0) < 0) die("tbuild-enter: stdin: %s", strerror(errno));
    close(devnull);
  }

  for (size_t i = 0; i < c->nrlimits; i++) {
    struct rlimit rl = { c->rlimits[i].soft, c->rlimits[i].hard };
    if (setrlimit(c->rlimits[i].res, &rl) < 0) die("tbuild-enter: setrlimit %d: %s", c->rlimits[i].res, strerror(errno));
  }
  /* As root, the cwd is always reachable; runc enters it before changing the user too. */
  if (chdir(c->cwd) < 0) die("tbuild-enter: chdir to %s: %s", c->cwd, strerror(errno));

  drop_bounding_set(c->caps);
  if (setgroups(c->ngroups, c->groups) < 0) die("tbuild-enter: setgroups: %s", strerror(errno));
  if (setresgid(c->gid, c->gid, c->gid) < 0) die("tbuild-enter: setgid %u: %s", c->gid, strerror(errno));
  /* Loaded while we still hold CAP_SYS_ADMIN, so no_new_privs is not needed; the rules allow what follows. */
  if (filter && prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, filter, 0, 0) < 0) die("tbuild-enter: loading the seccomp filter: %s", strerror(errno));
  if (c->uid == 0) set_caps(c->caps);
  if (setresuid(c->uid, c->uid, c->uid) < 0) die("tbuild-enter: setuid %u: %s", c->uid, strerror(errno));
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) die("tbuild-enter: clear ambient capabilities: %s", strerror(errno));
  /* Cleared by the uid change above; set again so that the step dies with us. */
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);

  c->env[c->nenv] = NULL;
  c->args[c->nargs] = NULL;
  environ = c->env;
  int keep_log = fcntl(FD_LOG, F_DUPFD_CLOEXEC, 10);
  if (dup2(FD_STDERR, 2) < 0) die("tbuild-enter: stderr: %s", strerror(errno));
  close(FD_STDERR);
  /* Nothing of ours but stdio reaches the command. */
  syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
  life_say("started\n");
  execvp(c->args[0], c->args);
  int err = errno;
  char msg[64];
  snprintf(msg, sizeof msg, "exec-failed %d\n", err);
  life_say(msg);
  if (keep_log >= 0) dup2(keep_log, 2);
  _exit(err == ENOENT ? 127 : 126);
}

static void child(struct config *c, const char *root_host, const struct sock_fprog *filter) {
  if (c->netns) {
    int fd = open(c->netns, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) die("tbuild-enter: join network namespace %s: %s", c->netns, strerror(errno));
    close(fd);
  }
  int newnet = c->newnet && !c->netns;
  int cloneflags = CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | (newnet ? CLONE_NEWNET : 0);
  if (unshare(cloneflags) < 0) die("tbuild-enter: unshare: %s", strerror(errno));
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) die("tbuild-enter: make / private: %s", strerror(errno));
  if (c->hostname && sethostname(c->hostname, strlen(c->hostname)) < 0) die("tbuild-enter: sethostname: %s", strerror(errno));
  if (newnet) loopback_up();
  if (chdir(c->setupdir) < 0) die("tbuild-enter: chdir %s: %s", c->setupdir, strerror(errno));

  do_mount(&c->mounts[0], root_host);
  rootfd = open(root_host, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) die("tbuild-enter: open rootfs: %s", strerror(errno));
  for (size_t i = 1; i < c->nmounts; i++) {
    do_mount(&c->mounts[i], root_host);
    if (strcmp(c->mounts[i].target, "/dev") == 0) make_devices(c);
  }

  /* pivot_root(".", ".") stacks the old root on the new one; detaching it leaves no path to the host. */
  if (fchdir(rootfd) < 0) die("tbuild-enter: chdir rootfs: %s", strerror(errno));
  if (syscall(SYS_pivot_root, ".", ".") < 0) die("tbuild-enter: pivot_root: %s", strerror(errno));
  if (umount2(".", MNT_DETACH) < 0) die("tbuild-enter: detach the old root: %s", strerror(errno));
  if (chdir("/") < 0) die("tbuild-enter: chdir /: %s", strerror(errno));
  close(rootfd);
  become(c, filter);
}

/*
 * exec: enters the namespaces of a running sandbox's pid 1 (whose mount namespace has the
 * rootfs as its root and its mounts done). The pid namespace applies to children only, so
 * the caller forks after this.
 */
static void join_namespaces(pid_t pid) {
  static const struct { const char *name; int type; } order[] = {
    { "ipc", CLONE_NEWIPC }, { "uts", CLONE_NEWUTS }, { "net", CLONE_NEWNET }, { "pid", CLONE_NEWPID }, { "mnt", CLONE_NEWNS },
  };
  int fds[5];
  for (int i = 0; i < 5; i++) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/%s", (int)pid, order[i].name);
    fds[i] = open(path, O_RDONLY | O_CLOEXEC);
    if (fds[i] < 0) die("tbuild-enter: the container's process %d is gone (%s: %s)", (int)pid, path, strerror(errno));
  }
  for (int i = 0; i < 5; i++) {
    if (setns(fds[i], order[i].type) < 0) die("tbuild-enter: enter the container's %s namespace: %s", order[i].name, strerror(errno));
    close(fds[i]);
  }
}

static volatile sig_atomic_t winch_pending;
static volatile pid_t sandbox_pid;

static void forward_signal(int sig) {
  if (sig == SIGWINCH) { winch_pending = 1; return; }
  if (sandbox_pid > 0) kill(sandbox_pid, sig);
}

static void copy_winsize(int from, int to) {
  struct winsize ws;
  if (ioctl(from, TIOCGWINSZ, &ws) == 0) ioctl(to, TIOCSWINSZ, &ws);
}

/* Writes all of buf to fd (blocking); false when the reader is gone. */
static int write_all(int fd, const char *buf, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, buf, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return 0;
    buf += w;
    n -= w;
  }
  return 1;
}

/* Compiles a rules file once per tbuild process, so a step only reads the program. */
static int compile_seccomp(const char *rules, const char *out) {
  scmp_filter_ctx ctx = build_seccomp(rules);
  int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) die("tbuild-enter: create %s: %s", out, strerror(errno));
  int r = seccomp_export_bpf(ctx, fd);
  if (r != 0) die("tbuild-enter: seccomp_export_bpf: %s", strerror(-r));
  close(fd);
  seccomp_release(ctx);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 4 && strcmp(argv[1], "--compile-seccomp") == 0) return compile_seccomp(argv[2], argv[3]);
  if (argc != 2) {
    fprintf(stderr, "usage: tbuild-enter CONFIG | tbuild-enter --compile-seccomp RULES OUT\n");
    return 2;
  }
  struct config *c = calloc(1, sizeof *c);
  if (!c) die("tbuild-enter: out of memory");
  read_config(argv[1], c);
  const char *root_host = c->rootdir;
  struct sock_fprog prog;
  const struct sock_fprog *filter = NULL;
  if (c->seccomp) {
    prog = read_bpf(c->seccomp);
    filter = &prog;
  }

  for (size_t i = 0; i < c->ncgroups; i++) {
    int fd = open(c->cgroups[i], O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, "0\n", 2) < 0) die("tbuild-enter: join cgroup %s: %s", c->cgroups[i], strerror(errno));
    close(fd);
  }
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  int sv[2] = { -1, -1 };
  if (c->tty && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) die("tbuild-enter: socketpair: %s", strerror(errno));
  if (c->join) join_namespaces(c->join);
  else if (unshare(CLONE_NEWPID) < 0) die("tbuild-enter: unshare pid namespace: %s", strerror(errno));
  pid_t pid = fork();
  if (pid < 0) die("tbuild-enter: fork: %s", strerror(errno));
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (c->tty) {
      close(sv[0]);
      tty_sock = sv[1];
    }
    if (c->join) become(c, filter);
    else child(c, root_host, filter);
  }
  /* Outside: wait for pid 1 of the sandbox, or for the lifeline to close; relay its terminal. */
  sandbox_pid = pid;
  char said[64];
  snprintf(said, sizeof said, "pid %d\n", (int)pid);
  life_say(said);
  static const int forwarded[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };
  for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = forward_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(forwarded[i], &sa, NULL);
  }
  int master = -1;
  if (c->tty) {
    close(sv[1]);
    master = recv_fd(sv[0]);
    close(sv[0]);
    if (master >= 0 && isatty(0)) copy_winsize(0, master);
  }
  int in = (master >= 0 && c->keep_stdin) ? 0 : -1;
  if (in < 0) close(0);
  if (master < 0) close(1);
  close(FD_STDERR);
  int pidfd = syscall(SYS_pidfd_open, pid, 0);
  for (;;) {
    struct pollfd fds[4] = {
      { FD_LIFE, POLLIN | POLLRDHUP, 0 }, { pidfd, POLLIN, 0 }, { master, POLLIN, 0 }, { in, POLLIN, 0 },
    };
    int n = poll(fds, 4, -1);
    if (winch_pending) {
      winch_pending = 0;
      if (master >= 0 && isatty(0)) copy_winsize(0, master);
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    if (fds[0].revents & (POLLHUP | POLLRDHUP | POLLERR)) {
      kill(pid, SIGKILL);
      break;
    }
    if (fds[0].revents & POLLIN) {
      char buf[64];
      ssize_t r = read(FD_LIFE, buf, sizeof buf);
      if (r <= 0) {
        kill(pid, SIGKILL);
        break;
      }
    }
    if (master >= 0 && (fds[2].revents & (POLLIN | POLLHUP | POLLERR))) {
      char buf[16384];
      ssize_t r = read(master, buf, sizeof buf);
      if (r > 0) write_all(1, buf, r);
      else if (r == 0 || errno != EINTR) {
        close(master);
        master = -1;
      }
    }
    if (in >= 0 && (fds[3].revents & (POLLIN | POLLHUP | POLLERR))) {
      char buf[4096];
      ssize_t r = read(in, buf, sizeof buf);
      if (r > 0 && master >= 0) write_all(master, buf, r);
      else if (r == 0 || (r < 0 && errno != EINTR)) {
        close(in);
        in = -1;
      }
    }
    if (pidfd >= 0 && (fds[1].revents & POLLIN)) break;
  }
  if (master >= 0) {
    /* What the command wrote before it ended is still in the terminal. */
    fcntl(master, F_SETFL, O_NONBLOCK);
    char buf[16384];
    ssize_t r;
    while ((r = read(master, buf, sizeof buf)) > 0) write_all(1, buf, r);
  }
  int status;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return EXIT_SETUP;
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return EXIT_SETUP;
}
