#ifndef CHIREDIS_SHIM_H
#define CHIREDIS_SHIM_H

#include <hiredis/hiredis.h>
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>

/* Thin static-inline helpers so Swift never calls hiredis' variadic or macro APIs, and never
 * builds a `struct timeval` or pokes into `redisContext` by hand. Debian 12 ships hiredis 0.14.1. */

static inline struct timeval chiredis_timeval_ms(long long ms) {
    struct timeval tv;
    tv.tv_sec = (time_t)(ms / 1000);
    tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
    return tv;
}

/* Connects with a timeout; never returns NULL unless out of memory. */
static inline redisContext *chiredis_connect(const char *host, int port, long long timeout_ms) {
    return redisConnectWithTimeout(host, port, chiredis_timeval_ms(timeout_ms));
}

/* Sets SO_RCVTIMEO/SO_SNDTIMEO; 0 means "no timeout". */
static inline int chiredis_set_timeout(redisContext *c, long long timeout_ms) {
    return redisSetTimeout(c, chiredis_timeval_ms(timeout_ms));
}

static inline int chiredis_fd(const redisContext *c) { return c->fd; }
static inline int chiredis_err(const redisContext *c) { return c->err; }
static inline const char *chiredis_errstr(const redisContext *c) { return c->errstr; }
static inline int chiredis_errno(void) { return errno; }

/* Reads one reply, flushing pending output first (blocking). */
static inline int chiredis_get_reply(redisContext *c, redisReply **reply) {
    return redisGetReply(c, (void **)reply);
}

/* Takes a reply already buffered in the reader, without touching the socket; *reply is NULL if none. */
static inline int chiredis_buffered_reply(redisContext *c, redisReply **reply) {
    return redisGetReplyFromReader(c, (void **)reply);
}

static inline void chiredis_free_reply(redisReply *reply) { freeReplyObject(reply); }

static inline redisReply *chiredis_reply_element(const redisReply *reply, size_t index) {
    return reply->element[index];
}

/* Waits until the socket is readable. Returns 1 when readable or hung up, 0 on timeout, -1 on error. */
static inline int chiredis_wait_readable(int fd, int timeout_ms) {
    struct pollfd p;
    p.fd = fd;
    p.events = POLLIN;
    p.revents = 0;
    int rc = poll(&p, 1, timeout_ms);
    if (rc < 0) return errno == EINTR ? 0 : -1;
    return rc > 0 ? 1 : 0;
}

/* True when the peer has closed the connection or sent unsolicited bytes: either way the
 * connection cannot be used for a request/response exchange. Does not block. */
static inline int chiredis_connection_stale(int fd) {
    struct pollfd p;
    p.fd = fd;
    p.events = POLLIN;
    p.revents = 0;
    int rc = poll(&p, 1, 0);
    if (rc < 0) return errno == EINTR ? 0 : 1;
    if (rc == 0) return 0;
    return 1;
}

/* Unblocks a thread blocked in read/write on this socket (called from another thread). */
static inline int chiredis_shutdown(int fd) { return shutdown(fd, SHUT_RDWR); }

#endif
