/*
 * warm-wait POOL_DIR PROGRAM ARGS...: waits until the machine is quiet, then execs PROGRAM.
 *
 * A warm worker that took a command starts its successor through this (src/warm/worker.ts):
 * Node's start alone takes ~60 ms of CPU, and commands run back to back (build, tag, push)
 * were measurably slower with successors starting beside them. It stops waiting when no worker
 * is ready (POOL_DIR holds an empty file ready.PID per ready worker: a client may be waiting),
 * or after 10 s; a start for want of a ready worker happens one at a time (the file `loading`
 * in POOL_DIR holds that one's pid; it passes to the exec'd worker, same pid, which gives it
 * up once it listens: src/warm/pool.ts).
 *
 * C, not Node, because waiting in Node would cost that start first.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Busy and total CPU ticks of the machine so far (/proc/stat's first line). */
static int cpu_times(unsigned long long *busy, unsigned long long *total) {
  FILE *f = fopen("/proc/stat", "re");
  if (!f) return -1;
  unsigned long long v[8] = {0};
  int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
  fclose(f);
  if (n < 5) return -1;
  *total = 0;
  for (int i = 0; i < 8; i++) *total += v[i];
  *busy = *total - v[3] - v[4]; /* idle and iowait are not busy */
  return 0;
}

/* Ready workers in the pool directory (files ready.PID of live processes). */
static int ready_workers(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return 0;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (strncmp(e->d_name, "ready.", 6) != 0) continue;
    long pid = strtol(e->d_name + 6, NULL, 10);
    if (pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM)) n++;
  }
  closedir(d);
  return n;
}

/* Takes the one loading turn (POOL_DIR/loading, O_EXCL); a dead holder's is taken over. */
static int take_turn(const char *dir) {
  char file[4096], pid[32];
  if (snprintf(file, sizeof file, "%s/loading", dir) >= (int)sizeof file) return 0;
  for (int attempt = 0; attempt < 2; attempt++) {
    int fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
      int n = snprintf(pid, sizeof pid, "%d", (int)getpid());
      ssize_t w = write(fd, pid, (size_t)n);
      close(fd);
      return w == n;
    }
    if (errno == ENOENT) return 1; /* no pool directory: nothing to share */
    if (errno != EEXIST) return 0;
    FILE *f = fopen(file, "re");
    long holder = 0;
    if (f) {
      if (fscanf(f, "%ld", &holder) != 1) holder = 0;
      fclose(f);
    }
    if (holder > 0 && (kill((pid_t)holder, 0) == 0 || errno == EPERM)) return 0;
    unlink(file);
  }
  return 0;
}

static long long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: warm-wait POOL_DIR PROGRAM ARGS...\n");
    return 2;
  }
  const int step_ms = 50, quiet_needed_ms = 100, max_wait_ms = 10000;
  long long start = now_ms();
  unsigned long long busy0, total0, busy1, total1;
  int quiet_ms = 0;
  if (cpu_times(&busy0, &total0) == 0) {
    for (;;) {
      struct timespec step = {0, step_ms * 1000000L};
      nanosleep(&step, NULL);
      if (cpu_times(&busy1, &total1) != 0) break;
      double fraction = total1 > total0 ? (double)(busy1 - busy0) / (double)(total1 - total0) : 0;
      busy0 = busy1;
      total0 = total1;
      quiet_ms = fraction < 0.25 ? quiet_ms + step_ms : 0;
      if (quiet_ms >= quiet_needed_ms || now_ms() - start > max_wait_ms) break;
      if (ready_workers(argv[1]) == 0 && take_turn(argv[1])) break;
    }
  }
  execvp(argv[2], argv + 2);
  fprintf(stderr, "warm-wait: cannot run %s: %s\n", argv[2], strerror(errno));
  return 127;
}
