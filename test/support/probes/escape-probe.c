/*
 * What a hostile RUN step can reach: a static probe the containment suite builds with
 * `gcc -static` and runs inside the sandbox (busybox lacks these syscalls). Each
 * subcommand tries one thing and prints one line per finding, "key=value", so that the
 * test asserts on what was reached rather than on the step's exit status.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *err(int r) { return r < 0 ? strerror(errno) : "ok"; }

/* Lists the names in `dir`, sorted by the caller (one line "entry=NAME" each). */
static void list_root(const char *tag) {
  DIR *d = opendir("/");
  if (!d) { printf("%s=cannot-list:%s\n", tag, strerror(errno)); return; }
  struct dirent *e;
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    printf("%s=%s\n", tag, e->d_name);
  }
  closedir(d);
}

static void try_write(const char *tag, const char *path) {
  int fd = open(path, O_WRONLY);
  printf("%s=%s\n", tag, fd >= 0 ? "WRITABLE" : strerror(errno));
  if (fd >= 0) close(fd);
}

/* The classic chroot escape, then what the escapee sees. */
static int chroot_escape(void) {
  mkdir("/escape-x", 0755);
  printf("chroot1=%s\n", err(chroot("/escape-x")));
  for (int i = 0; i < 128; i++) if (chdir("..") < 0) break;
  printf("chroot2=%s\n", err(chroot(".")));
  list_root("root");
  try_write("core_pattern", "/proc/sys/kernel/core_pattern");
  printf("marker=%s\n", access("/.tbuild-rootfs-marker", F_OK) == 0 ? "present" : "absent");
  return 0;
}

/* fd-based ways out: inherited descriptors, /proc/self/root, /proc/1/root, /proc/1/cwd. */
static int fds(void) {
  DIR *d = opendir("/proc/self/fd");
  struct dirent *e;
  while (d && (e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    if (atoi(e->d_name) == dirfd(d)) continue;
    char p[64], t[4096];
    snprintf(p, sizeof p, "/proc/self/fd/%s", e->d_name);
    ssize_t n = readlink(p, t, sizeof t - 1);
    t[n > 0 ? n : 0] = 0;
    struct stat st;
    fstat(atoi(e->d_name), &st);
    printf("fd%s=%s dev=%u:%u rdev=%u:%u\n", e->d_name, t, major(st.st_dev), minor(st.st_dev), major(st.st_rdev), minor(st.st_rdev));
  }
  if (d) closedir(d);
  const char *links[] = { "/proc/self/root", "/proc/1/root", "/proc/1/cwd", NULL };
  for (int i = 0; links[i]; i++) {
    char t[4096];
    ssize_t n = readlink(links[i], t, sizeof t - 1);
    t[n > 0 ? n : 0] = 0;
    printf("link %s=%s\n", links[i], n >= 0 ? t : strerror(errno));
  }
  /* Through the magic link and up: must stay in the rootfs. */
  int fd = open("/proc/1/root/../../../..", O_RDONLY | O_DIRECTORY);
  if (fd >= 0 && fchdir(fd) == 0) list_root("via-proc1");
  return 0;
}

static int kernel_knobs(void) {
  try_write("core_pattern", "/proc/sys/kernel/core_pattern");
  try_write("sysrq", "/proc/sysrq-trigger");
  try_write("sys_uevent", "/sys/kernel/uevent_helper");
  try_write("modprobe", "/proc/sys/kernel/modprobe");
  int fd = open("/proc/kcore", O_RDONLY);
  char b[16];
  ssize_t n = fd >= 0 ? read(fd, b, sizeof b) : -1;
  printf("kcore_bytes=%zd\n", n);
  return 0;
}

/* mknod works (CAP_MKNOD, as in Docker) but the node must not open. */
static int devices(void) {
  const char *paths[] = { "/tmp/kmsg", "/dev/kmsg2", "/dev/shm/mem", NULL };
  for (int i = 0; paths[i]; i++) {
    int r = mknod(paths[i], S_IFCHR | 0666, makedev(1, 11));
    printf("mknod %s=%s\n", paths[i], err(r));
    if (r == 0) {
      int fd = open(paths[i], O_RDWR);
      printf("open %s=%s\n", paths[i], fd >= 0 ? "OPENED" : strerror(errno));
    }
  }
  int fd = open("/dev/null", O_RDWR);
  printf("open /dev/null=%s\n", fd >= 0 ? "ok" : strerror(errno));
  return 0;
}

/* Namespaces and other calls the seccomp filter and capability set must refuse. */
static int syscalls(void) {
  printf("unshare_user=%s\n", err(unshare(CLONE_NEWUSER)));
  printf("unshare_mnt=%s\n", err(unshare(CLONE_NEWNS)));
  pid_t p = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
  if (p == 0) _exit(0);
  if (p > 0) waitpid(p, NULL, 0);
  printf("clone_newuser=%s\n", p < 0 ? strerror(errno) : "ok");
  long r = syscall(SYS_clone3, NULL, 0);
  printf("clone3=%s\n", r < 0 ? strerror(errno) : "ok");
  mkdir("/mnt-x", 0755);
  printf("mount=%s\n", err(mount("none", "/mnt-x", "tmpfs", 0, NULL)));
  printf("keyctl=%s\n", err(syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3, 0)));
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  printf("bpf=%s\n", err(syscall(SYS_bpf, BPF_MAP_CREATE, &a, sizeof a)));
  struct perf_event_attr pe;
  memset(&pe, 0, sizeof pe);
  pe.size = sizeof pe;
  pe.type = PERF_TYPE_SOFTWARE;
  pe.config = PERF_COUNT_SW_CPU_CLOCK;
  printf("perf_event_open=%s\n", err(syscall(SYS_perf_event_open, &pe, 0, -1, -1, 0)));
  printf("sethostname=%s\n", err(sethostname("evil", 4)));
  printf("setns=%s\n", err(syscall(SYS_setns, 0, 0)));
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  while (f && fgets(line, sizeof line, f)) {
    if (!strncmp(line, "Seccomp:", 8) || !strncmp(line, "NoNewPrivs:", 11) || !strncmp(line, "Cap", 3)) {
      line[strcspn(line, "\n")] = 0;
      char *colon = strchr(line, ':');
      *colon = 0;
      char *v = colon + 1;
      while (*v == ' ' || *v == '\t') v++;
      printf("%s=%s\n", line, v);
    }
  }
  if (f) fclose(f);
  return 0;
}

/* A pid outside the sandbox (tbuild's) must not be reachable at all. */
static int outside(const char *pidstr) {
  pid_t pid = atoi(pidstr);
  printf("kill=%s\n", err(kill(pid, 0)));
  printf("ptrace=%s\n", err(ptrace(PTRACE_ATTACH, pid, 0, 0)));
  char p[64];
  snprintf(p, sizeof p, "/proc/%d/environ", pid);
  printf("environ=%s\n", access(p, F_OK) == 0 ? "VISIBLE" : strerror(errno));
  return 0;
}

/* Forks until the kernel says no; children wait to be killed with the sandbox. */
static int forkbomb(void) {
  int n = 0;
  for (; n < 100000; n++) {
    pid_t p = fork();
    if (p < 0) { printf("fork_error=%s\n", strerror(errno)); break; }
    if (p == 0) { pause(); _exit(0); }
  }
  printf("forks=%d\n", n);
  return 0;
}

/* Touches `mb` MiB; under a smaller memory limit the kernel kills us. */
static int eat(const char *mb) {
  size_t size = (size_t)atoi(mb) << 20;
  char *p = malloc(size);
  if (!p) { printf("malloc=failed\n"); return 0; }
  for (size_t i = 0; i < size; i += 4096) p[i] = 1;
  printf("ate=%s\n", mb);
  return 0;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc < 2) return 2;
  const char *c = argv[1];
  if (!strcmp(c, "chroot")) return chroot_escape();
  if (!strcmp(c, "fds")) return fds();
  if (!strcmp(c, "knobs")) return kernel_knobs();
  if (!strcmp(c, "devices")) return devices();
  if (!strcmp(c, "syscalls")) return syscalls();
  if (!strcmp(c, "outside") && argc == 3) return outside(argv[2]);
  if (!strcmp(c, "forkbomb")) return forkbomb();
  if (!strcmp(c, "eat") && argc == 3) return eat(argv[2]);
  return 2;
}
