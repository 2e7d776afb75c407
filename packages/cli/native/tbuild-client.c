/*
 * tbuild (bundle/native/tbuild): the command as installed on PATH. It hands the command line
 * to a warm worker (src/warm/worker.ts), a Node process that has loaded tbuild already and
 * waits on a private socket, or, when there is none or it declines, execs the Node command
 * itself (bundle/main.js) as before.
 *
 * Why C: what a short command costs is mostly Node starting and loading a megabyte of code
 * (~0.1 s of a 0.15 s push); a warm worker has paid that already, and a client in Node would
 * pay Node's start again. This one starts in a millisecond.
 *
 * What goes over the socket (all of it is the worker's to apply, see worker.ts):
 *   client -> worker: "TBW1" with fds 0, 1, 2 attached (SCM_RIGHTS; a closed one is sent as
 *     /dev/null, as Node opens it), then a little-endian u32 length and that many bytes of
 *     NUL-terminated fields: cwd, umask (octal), argc, the arguments, then every environment
 *     entry.
 *   worker -> client: "D" + a line saying why (declined: run it cold; TBUILD_WARM_DEBUG=1 prints
 *     it) or "A" + u32 pid (it runs); later "X" + i32 exit code, or "S" + i32 signal number
 *     when the command dies of a signal (then this process dies of it too), each followed by
 *     the worker's peak RSS in KB (u32; TBUILD_WARM_DEBUG=1 prints it).
 * The worker runs with this process's stdin, stdout and stderr (a terminal stays a terminal),
 * its working directory, umask, arguments and environment. Signals this process gets (Ctrl-C
 * reaches only the terminal's foreground group, which the worker is not in) are sent on to
 * the worker.
 *
 * Trust: the socket lives in a directory only this user may enter (checked here: owned by
 * the effective uid, mode 0700, not a symlink; otherwise nothing is sent), and the worker
 * checks the peer's uid with SO_PEERCRED. TBUILD_WARM=0 never uses a worker.
 *
 * Cold path: `node bundle/main.js ARGS`, with TBUILD_WARM_START=1 when no worker listens, so
 * that process starts the workers for the next command (launcher.ts). A connection closed
 * before any answer (nothing ran) is tried once more first.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

extern char **environ;

static char bundle_dir[PATH_MAX];
static volatile sig_atomic_t worker_pid;
static volatile sig_atomic_t forwarded;

/* Runs the command in this process: node bundle/main.js ARGS. */
static void cold(char **argv, int start_workers) {
  char main_js[PATH_MAX];
  if (snprintf(main_js, sizeof main_js, "%s/main.js", bundle_dir) >= (int)sizeof main_js) {
    fprintf(stderr, "tbuild: installation path too long\n");
    exit(1);
  }
  if (start_workers) setenv("TBUILD_WARM_START", "1", 1);
  else unsetenv("TBUILD_WARM_START");
  int argc = 0;
  while (argv[argc]) argc++;
  char **args = calloc((size_t)argc + 2, sizeof *args);
  if (!args) exit(1);
  args[0] = "node";
  args[1] = main_js;
  for (int i = 1; i < argc; i++) args[i + 1] = argv[i];
  execvp("node", args);
  fprintf(stderr, "tbuild: cannot run node: %s\n", strerror(errno));
  exit(127);
}

/* bundle_dir: the directory above this executable's (bundle/native/tbuild). */
static int find_bundle(void) {
  ssize_t n = readlink("/proc/self/exe", bundle_dir, sizeof bundle_dir - 1);
  if (n <= 0) return -1;
  bundle_dir[n] = 0;
  for (int up = 0; up < 2; up++) {
    char *slash = strrchr(bundle_dir, '/');
    if (!slash || slash == bundle_dir) return -1;
    *slash = 0;
  }
  return 0;
}

/*
 * The worker socket's path, named for the bundle it serves (warm-worker.js's inode, size and
 * modification time: a rebuilt bundle gets workers of its own). 0: the directory is safe
 * (or absent); -1: unusable, run cold without starting workers.
 */
static int socket_path(char *out, size_t size) {
  char worker_js[PATH_MAX], dir[PATH_MAX];
  struct stat st, ds;
  if (snprintf(worker_js, sizeof worker_js, "%s/warm-worker.js", bundle_dir) >= (int)sizeof worker_js) return -1;
  if (stat(worker_js, &st) != 0) return -1;
  const char *rt = getenv("XDG_RUNTIME_DIR");
  int n = rt && rt[0] ? snprintf(dir, sizeof dir, "%s/tbuild", rt) : snprintf(dir, sizeof dir, "/tmp/tbuild-%u", (unsigned)geteuid());
  if (n < 0 || n >= (int)sizeof dir) return -1;
  unsigned long long mtime = (unsigned long long)st.st_mtim.tv_sec * 1000000000ull + (unsigned long long)st.st_mtim.tv_nsec;
  n = snprintf(out, size, "%s/warm-%llx-%llx-%llx.sock", dir, (unsigned long long)st.st_ino, (unsigned long long)st.st_size, mtime);
  if (n < 0 || n >= (int)size) return -1;
  if (lstat(dir, &ds) != 0) return errno == ENOENT ? 0 : -1;
  if (!S_ISDIR(ds.st_mode) || ds.st_uid != geteuid() || (ds.st_mode & 077) != 0) return -1;
  return 0;
}

/* Writes all of p to the socket; a closed peer is an error, not SIGPIPE. */
static int write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* Reads exactly n bytes; 0 on success, 1 at EOF before them, -1 on error. */
static int read_all(int fd, char *p, size_t n) {
  while (n > 0) {
    ssize_t r = read(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if (r == 0) return 1;
    p += r;
    n -= (size_t)r;
  }
  return 0;
}

struct buf {
  char *data;
  size_t len, cap;
};

static int put(struct buf *b, const char *s) {
  size_t n = strlen(s) + 1;
  if (b->len + n > b->cap) {
    size_t cap = (b->cap ? b->cap * 2 : 4096) + n;
    char *d = realloc(b->data, cap);
    if (!d) return -1;
    b->data = d;
    b->cap = cap;
  }
  memcpy(b->data + b->len, s, n);
  b->len += n;
  return 0;
}

/* The request: magic and fds, then the length-prefixed fields. */
static int send_request(int sock, int argc, char **argv) {
  int fds[3];
  for (int i = 0; i < 3; i++) fds[i] = fcntl(i, F_GETFD) == -1 ? open("/dev/null", O_RDWR | O_CLOEXEC) : i;
  if (fds[0] < 0 || fds[1] < 0 || fds[2] < 0) return -1;
  char magic[4] = {'T', 'B', 'W', '1'};
  struct iovec iov = {.iov_base = magic, .iov_len = sizeof magic};
  union {
    char buf[CMSG_SPACE(sizeof fds)];
    struct cmsghdr align;
  } control;
  memset(&control, 0, sizeof control);
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof control.buf};
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof fds);
  memcpy(CMSG_DATA(c), fds, sizeof fds);
  ssize_t sent;
  do sent = sendmsg(sock, &msg, MSG_NOSIGNAL);
  while (sent < 0 && errno == EINTR);
  for (int i = 0; i < 3; i++)
    if (fds[i] != i) close(fds[i]);
  if (sent != (ssize_t)sizeof magic) return -1;

  struct buf b = {0};
  char cwd[PATH_MAX], num[32];
  if (!getcwd(cwd, sizeof cwd)) return -1;
  mode_t mask = umask(0);
  umask(mask);
  snprintf(num, sizeof num, "%o", (unsigned)mask);
  if (put(&b, cwd) || put(&b, num)) return -1;
  snprintf(num, sizeof num, "%d", argc - 1);
  if (put(&b, num)) return -1;
  for (int i = 1; i < argc; i++)
    if (put(&b, argv[i])) return -1;
  for (char **e = environ; *e; e++)
    if (put(&b, *e)) return -1;
  if (b.len > UINT32_MAX) return -1;
  uint32_t len = (uint32_t)b.len;
  unsigned char head[4] = {len & 0xff, (len >> 8) & 0xff, (len >> 16) & 0xff, len >> 24};
  int r = write_all(sock, (const char *)head, 4) || write_all(sock, b.data, b.len) ? -1 : 0;
  free(b.data);
  return r;
}

/* TBUILD_WARM_DEBUG: the worker's reason for declining (one line after the "D"). */
static void say_why(int sock) {
  char why[256];
  size_t n = 0;
  while (n < sizeof why - 1 && read_all(sock, why + n, 1) == 0 && why[n] != '\n') n++;
  why[n] = 0;
  fprintf(stderr, "tbuild: starting cold: %s\n", why);
}

static void forward(int sig) {
  if (worker_pid > 0) {
    kill((pid_t)worker_pid, sig);
    if (sig != SIGWINCH) forwarded = sig;
  }
}

static uint32_t le32(const char *p) {
  const unsigned char *u = (const unsigned char *)p;
  return (uint32_t)u[0] | (uint32_t)u[1] << 8 | (uint32_t)u[2] << 16 | (uint32_t)u[3] << 24;
}

/* What came of handing the command to a worker. */
enum handover { HANDED, NO_WORKER, DROPPED, DECLINED, FAILED };

/*
 * One try: connects and sends the request. HANDED: a worker said "A" and runs the command
 * (its connection in *sock, its pid in worker_pid). NO_WORKER: nobody listens. DROPPED: the
 * connection closed before any answer (nothing ran).
 */
static enum handover hand_over(const struct sockaddr_un *addr, int argc, char **argv, int *sock_out) {
  int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0) return FAILED;
  if (connect(sock, (const struct sockaddr *)addr, sizeof *addr) != 0) {
    int e = errno;
    close(sock);
    return e == ENOENT || e == ECONNREFUSED ? NO_WORKER : FAILED;
  }
  /* Until the worker says "A" nothing has run. */
  char reply[5] = {0};
  enum handover r = DROPPED;
  if (send_request(sock, argc, argv) == 0 && read_all(sock, reply, 1) == 0) {
    if (reply[0] == 'D') {
      if (getenv("TBUILD_WARM_DEBUG")) say_why(sock);
      r = DECLINED;
    } else if (reply[0] == 'A' && read_all(sock, reply + 1, 4) == 0) {
      worker_pid = (sig_atomic_t)le32(reply + 1);
      *sock_out = sock;
      return HANDED;
    } else {
      r = FAILED;
    }
  }
  close(sock);
  return r;
}

int main(int argc, char **argv) {
  if (find_bundle() != 0) {
    fprintf(stderr, "tbuild: cannot find the installation (/proc/self/exe)\n");
    return 1;
  }
  const char *warm = getenv("TBUILD_WARM");
  if (warm && strcmp(warm, "0") == 0) cold(argv, 0);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (socket_path(addr.sun_path, sizeof addr.sun_path) != 0) cold(argv, 0);
  int sock = -1;
  for (int attempt = 0;; attempt++) {
    enum handover r = hand_over(&addr, argc, argv, &sock);
    if (r == HANDED) break;
    /* Nobody listens: run it here, and that process starts the workers for the next command. */
    if (r == NO_WORKER) cold(argv, 1);
    /*
     * Dropped unanswered: the worker that accepted was taken by another client in the same
     * turn, or the pool was going away as this connected. Once more: another worker may be
     * ready, or nobody listens now (and then the workers are started).
     */
    if (r == DROPPED && attempt == 0) continue;
    cold(argv, 0);
  }

  struct sigaction sa = {.sa_handler = forward};
  sigemptyset(&sa.sa_mask);
  int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};
  for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++) sigaction(sigs[i], &sa, NULL);

  char end[9] = {0};
  int r = read_all(sock, end, sizeof end);
  if (r == 0 && getenv("TBUILD_WARM_DEBUG")) fprintf(stderr, "tbuild: ran in warm worker %d (peak RSS %u KB)\n", (int)worker_pid, le32(end + 5));
  if (r == 0 && end[0] == 'X') return (int)le32(end + 1);
  int sig = r == 0 && end[0] == 'S' ? (int)le32(end + 1) : forwarded;
  if (sig > 0) {
    /* Die of it, as the command did. */
    signal(sig, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
    return 128 + sig;
  }
  fprintf(stderr, "tbuild: the command's worker (pid %d) ended without an exit status\n", (int)worker_pid);
  return 1;
}
