/*
 * xattrs.node: every extended attribute under a directory, read in this process
 * (src/layer/xattr.ts readXattrs; getfattr -R is the fallback when this was not built).
 *
 *   read(dir) -> Buffer of records, one per entry that has attributes (dir itself included,
 *     as the empty path): u16 path length, the path relative to dir (bytes as the kernel has
 *     them), u16 attribute count, then per attribute u16 name length, name, u32 value length,
 *     value; little-endian. Symlinks are never followed (their own attributes are read);
 *     entries that vanish meanwhile and filesystems without attributes give none.
 *   Throws an Error with `code` (the errno's name) when a directory cannot be read.
 *
 * Why C: a layer step's snapshot commit reads its tree's attributes once; through getfattr
 * that was a process spawn from a large Node process, ~15 ms each, for a tree that usually
 * has a handful of files and no attribute at all. Entries are reached as
 * /proc/self/fd/DIRFD/NAME with the l* calls: no path length limit, nothing followed (the
 * directory asked for is read as getfattr run in it reads ".").
 */
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

struct out {
  unsigned char *data;
  size_t len, cap;
};

static int put(struct out *o, const void *p, size_t n) {
  if (o->len + n > o->cap) {
    size_t cap = o->cap ? o->cap * 2 : 4096;
    while (cap < o->len + n) cap *= 2;
    unsigned char *d = realloc(o->data, cap);
    if (!d) return -1;
    o->data = d;
    o->cap = cap;
  }
  memcpy(o->data + o->len, p, n);
  o->len += n;
  return 0;
}

static int put16(struct out *o, size_t v) {
  unsigned char b[2] = {v & 0xff, (v >> 8) & 0xff};
  return v > 0xffff ? -1 : put(o, b, 2);
}

static int put32(struct out *o, size_t v) {
  unsigned char b[4] = {v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >> 24) & 0xff};
  return put(o, b, 4);
}

/* A failure to report: errno and the path it concerns. */
struct failure {
  int err;
  char path[4096];
};

static void failed(struct failure *f, int err, const char *rel) {
  if (f->err) return;
  f->err = err;
  snprintf(f->path, sizeof f->path, "%s", rel[0] ? rel : ".");
}

/* Ignorable: no attribute support, or the entry is gone. */
static int tolerated(int err) {
  return err == ENOTSUP || err == ENOENT;
}

/* The l* calls (an entry: its own attributes), or the following ones (the walked directory itself). */
struct calls {
  ssize_t (*list)(const char *, char *, size_t);
  ssize_t (*get)(const char *, const char *, void *, size_t);
};
static const struct calls own = {llistxattr, lgetxattr};
static const struct calls followed = {listxattr, getxattr};

/* Appends the record of `at` if it has attributes; 0 or -1 (failure set). */
static int record(struct out *o, const struct calls *c, const char *at, const char *rel, struct failure *f) {
  ssize_t n = c->list(at, NULL, 0);
  if (n < 0) {
    if (tolerated(errno)) return 0;
    failed(f, errno, rel);
    return -1;
  }
  if (n == 0) return 0;
  char *names = malloc((size_t)n + 1);
  if (!names) return failed(f, ENOMEM, rel), -1;
  n = c->list(at, names, (size_t)n);
  if (n < 0) {
    int e = errno;
    free(names);
    if (tolerated(e) || e == ERANGE) return 0; /* gone, or changed meanwhile: read as it was not there */
    failed(f, e, rel);
    return -1;
  }
  size_t count = 0;
  for (ssize_t i = 0; i < n; i += (ssize_t)strlen(names + i) + 1) count++;
  int r = put16(o, strlen(rel)) || put(o, rel, strlen(rel)) || put16(o, count) ? -1 : 0;
  for (ssize_t i = 0; r == 0 && i < n; i += (ssize_t)strlen(names + i) + 1) {
    const char *name = names + i;
    ssize_t vn = c->get(at, name, NULL, 0);
    char *value = vn > 0 ? malloc((size_t)vn) : NULL;
    if (vn > 0 && !value) r = -1, failed(f, ENOMEM, rel);
    else if (vn > 0) vn = c->get(at, name, value, (size_t)vn);
    if (r == 0 && vn < 0) {
      /* A name that went away keeps its place with an empty value only if it could not be read at all. */
      if (!tolerated(errno) && errno != ENODATA) r = -1, failed(f, errno, rel);
      vn = 0;
    }
    if (r == 0 && (put16(o, strlen(name)) || put(o, name, strlen(name)) || put32(o, (size_t)vn) || put(o, value, (size_t)vn))) r = -1, failed(f, ENOMEM, rel);
    free(value);
  }
  free(names);
  return r;
}

/* Records the entries of the open directory `fd` (path `rel`), recursing into subdirectories. */
static int walk(struct out *o, int fd, const char *rel, struct failure *f) {
  DIR *d = fdopendir(fd);
  if (!d) {
    failed(f, errno, rel);
    close(fd);
    return -1;
  }
  struct dirent *e;
  int r = 0;
  while (r == 0 && (e = readdir(d))) {
    if (e->d_name[0] == '.' && (e->d_name[1] == 0 || (e->d_name[1] == '.' && e->d_name[2] == 0))) continue;
    char at[64 + 256], child[4096];
    snprintf(at, sizeof at, "/proc/self/fd/%d/%s", dirfd(d), e->d_name);
    if (snprintf(child, sizeof child, "%s%s%s", rel, rel[0] ? "/" : "", e->d_name) >= (int)sizeof child) {
      failed(f, ENAMETOOLONG, rel);
      r = -1;
      break;
    }
    r = record(o, &own, at, child, f);
    int isdir = e->d_type == DT_DIR;
    if (e->d_type == DT_UNKNOWN) {
      struct stat st;
      isdir = fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
    }
    if (r == 0 && isdir) {
      int sub = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub < 0) {
        if (!tolerated(errno)) failed(f, errno, child), r = -1;
      } else {
        r = walk(o, sub, child, f);
      }
    }
  }
  closedir(d);
  return r;
}

static napi_value read_tree(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value arg;
  char dir[4096];
  size_t len = 0;
  napi_get_cb_info(env, info, &argc, &arg, NULL, NULL);
  if (argc < 1 || napi_get_value_string_utf8(env, arg, dir, sizeof dir, &len) != napi_ok || len >= sizeof dir - 1) {
    napi_throw_type_error(env, NULL, "read(dir): dir must be a string shorter than 4095 bytes");
    return NULL;
  }
  struct failure f = {0};
  struct out o = {0};
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    failed(&f, errno, "");
  } else {
    if (record(&o, &followed, dir, "", &f) == 0) walk(&o, fd, "", &f);
    else close(fd);
  }
  if (f.err) {
    free(o.data);
    const char *code = strerrorname_np(f.err);
    char msg[8400];
    snprintf(msg, sizeof msg, "cannot read the extended attributes of %s in %s: %s", f.path, dir, strerror(f.err));
    napi_throw_error(env, code ? code : "EIO", msg);
    return NULL;
  }
  napi_value buf;
  void *copy;
  napi_status s = napi_create_buffer_copy(env, o.len, o.len ? (const void *)o.data : (const void *)"", &copy, &buf);
  free(o.data);
  if (s != napi_ok) {
    napi_throw_error(env, NULL, "read: cannot allocate the result");
    return NULL;
  }
  return buf;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "read", NAPI_AUTO_LENGTH, read_tree, NULL, &fn);
  napi_set_named_property(env, exports, "read", fn);
  return exports;
}
