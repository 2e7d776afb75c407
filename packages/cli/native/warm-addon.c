/*
 * warm.node: what a warm worker (src/warm/worker.ts) needs from the kernel and Node cannot
 * do: take a client's stdin, stdout and stderr over a unix socket (SCM_RIGHTS) after checking
 * who sent them (SO_PEERCRED), and put them in place as fds 0, 1 and 2 (dup2).
 *
 *   receive(fd, timeoutMs) -> { pid, uid, gid, fds: [in, out, err], payload: Buffer }
 *     reads the client's request (tbuild-client.c describes it) from the connected socket fd,
 *     waiting at most timeoutMs for each part; throws when the peer is another user, the
 *     request is malformed, or it does not come in time.
 *   dup(fd) -> a copy of fd (close-on-exec), dup2(from, to), close(fd)
 */
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_PAYLOAD (16u << 20)

static napi_value fail(napi_env env, const char *what) {
  char msg[160];
  snprintf(msg, sizeof msg, "%s%s%s", what, errno ? ": " : "", errno ? strerror(errno) : "");
  napi_throw_error(env, NULL, msg);
  return NULL;
}

/* The call's first n arguments as int32s; 0, or -1 after throwing a usage error naming `usage`. */
static int int_args(napi_env env, napi_callback_info info, size_t n, int32_t *out, const char *usage) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  for (size_t i = 0; i < n; i++) {
    if (i >= argc || napi_get_value_int32(env, argv[i], &out[i]) != napi_ok) {
      errno = 0;
      fail(env, usage);
      return -1;
    }
  }
  return 0;
}

static int wait_readable(int fd, int timeout_ms) {
  struct pollfd p = {.fd = fd, .events = POLLIN};
  int r;
  do r = poll(&p, 1, timeout_ms);
  while (r < 0 && errno == EINTR);
  if (r == 0) errno = ETIMEDOUT;
  return r > 0 ? 0 : -1;
}

/* Reads exactly n bytes from the non-blocking socket. */
static int read_exact(int fd, char *p, size_t n, int timeout_ms) {
  while (n > 0) {
    if (wait_readable(fd, timeout_ms) != 0) return -1;
    ssize_t r = recv(fd, p, n, 0);
    if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (r <= 0) {
      if (r == 0) errno = ECONNRESET;
      return -1;
    }
    p += r;
    n -= (size_t)r;
  }
  return 0;
}

static void close_all(int *fds, int n) {
  for (int i = 0; i < n; i++)
    if (fds[i] >= 0) close(fds[i]);
}

static napi_value receive(napi_env env, napi_callback_info info) {
  int32_t args[2];
  if (int_args(env, info, 2, args, "receive(fd, timeoutMs)") != 0) return NULL;
  int32_t fd = args[0], timeout_ms = args[1];
  struct ucred cred;
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return fail(env, "SO_PEERCRED");
  if (cred.uid != geteuid()) {
    errno = EPERM;
    return fail(env, "peer is another user");
  }

  char magic[4];
  int fds[3] = {-1, -1, -1};
  union {
    char buf[CMSG_SPACE(sizeof fds)];
    struct cmsghdr align;
  } control;
  struct iovec iov = {.iov_base = magic, .iov_len = sizeof magic};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof control.buf};
  ssize_t got;
  for (;;) {
    if (wait_readable(fd, timeout_ms) != 0) return fail(env, "waiting for the request");
    got = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    break;
  }
  if (got <= 0) {
    if (got == 0) errno = ECONNRESET;
    return fail(env, "reading the request");
  }
  int nfds = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      int n = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
      int *in = (int *)CMSG_DATA(c);
      for (int i = 0; i < n; i++) {
        if (nfds < 3) fds[nfds++] = in[i];
        else close(in[i]);
      }
    }
  }
  const char *refused;
  errno = 0;
  if (nfds != 3 || (msg.msg_flags & MSG_CTRUNC)) {
    refused = "the request carries no stdin, stdout and stderr";
    goto refuse;
  }
  if (read_exact(fd, magic + got, sizeof magic - (size_t)got, timeout_ms) != 0 || memcmp(magic, "TBW1", 4) != 0) {
    refused = "not a tbuild request";
    goto refuse;
  }
  unsigned char head[4];
  if (read_exact(fd, (char *)head, 4, timeout_ms) != 0) {
    refused = "reading the request's length";
    goto refuse;
  }
  uint32_t size = (uint32_t)head[0] | (uint32_t)head[1] << 8 | (uint32_t)head[2] << 16 | (uint32_t)head[3] << 24;
  if (size > MAX_PAYLOAD) {
    errno = EMSGSIZE;
    refused = "request too large";
    goto refuse;
  }
  void *data;
  napi_value payload;
  if (napi_create_buffer(env, size, &data, &payload) != napi_ok) {
    refused = "allocating the request";
    goto refuse;
  }
  if (read_exact(fd, data, size, timeout_ms) != 0) {
    refused = "reading the request";
    goto refuse;
  }

  napi_value result, v, list;
  napi_create_object(env, &result);
  napi_create_int32(env, cred.pid, &v);
  napi_set_named_property(env, result, "pid", v);
  napi_create_uint32(env, cred.uid, &v);
  napi_set_named_property(env, result, "uid", v);
  napi_create_uint32(env, cred.gid, &v);
  napi_set_named_property(env, result, "gid", v);
  napi_create_array_with_length(env, 3, &list);
  for (uint32_t i = 0; i < 3; i++) {
    napi_create_int32(env, fds[i], &v);
    napi_set_element(env, list, i, v);
  }
  napi_set_named_property(env, result, "fds", list);
  napi_set_named_property(env, result, "payload", payload);
  return result;

refuse: /* nothing ran: the fds received go back */
  close_all(fds, 3);
  return fail(env, refused);
}

static napi_value dup2_(napi_env env, napi_callback_info info) {
  int32_t fds[2];
  if (int_args(env, info, 2, fds, "dup2(from, to)") != 0) return NULL;
  if (dup2(fds[0], fds[1]) < 0) return fail(env, "dup2");
  return NULL;
}

static napi_value dup_(napi_env env, napi_callback_info info) {
  napi_value result;
  int32_t fd;
  if (int_args(env, info, 1, &fd, "dup(fd)") != 0) return NULL;
  int copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (copy < 0) return fail(env, "dup");
  napi_create_int32(env, copy, &result);
  return result;
}

static napi_value close_(napi_env env, napi_callback_info info) {
  int32_t fd;
  if (int_args(env, info, 1, &fd, "close(fd)") != 0) return NULL;
  close(fd);
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"receive", NULL, receive, NULL, NULL, NULL, napi_default_jsproperty, NULL},
      {"dup", NULL, dup_, NULL, NULL, NULL, napi_default_jsproperty, NULL},
      {"dup2", NULL, dup2_, NULL, NULL, NULL, napi_default_jsproperty, NULL},
      {"close", NULL, close_, NULL, NULL, NULL, napi_default_jsproperty, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof *props, props);
  return exports;
}
