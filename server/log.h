/* SPDX-License-Identifier: MIT */
/*
 * Diagnostics and the access log.
 *
 * Diagnostics are one key=value line each on stderr, with the source location added by the
 * macro. The access log is one line per request (time, client, method, target, status, body
 * bytes, microseconds), buffered per loop thread and flushed when the buffer fills, once a
 * second, and at exit, so that logging never costs a syscall per request.
 */
#ifndef SERVER_LOG_H
#define SERVER_LOG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "http/iov.h"

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

/** Lines above this level are dropped (default LOG_INFO). */
void log_set_level(enum log_level lvl);

__attribute__((format(printf, 4, 5))) void log_line(enum log_level lvl, const char *file,
                                                     int line, const char *fmt, ...);

#define log_error(...) log_line(LOG_ERROR, __FILE__, __LINE__, __VA_ARGS__)
#define log_warn(...) log_line(LOG_WARN, __FILE__, __LINE__, __VA_ARGS__)
#define log_info(...) log_line(LOG_INFO, __FILE__, __LINE__, __VA_ARGS__)
#define log_debug(...) log_line(LOG_DEBUG, __FILE__, __LINE__, __VA_ARGS__)

/** Log and abort: for failures only a broken kernel or a bug can cause. */
__attribute__((noreturn, format(printf, 3, 4))) void die_at(const char *file, int line,
                                                             const char *fmt, ...);
#define die(...) die_at(__FILE__, __LINE__, __VA_ARGS__)

#define ACCESS_LOG_BUF 16384

/* One per loop thread; fd is shared (opened O_APPEND), -1 when the access log is off. */
struct access_log {
    int fd;
    size_t len;
    char buf[ACCESS_LOG_BUF];
};

struct access_entry {
    const struct sockaddr *peer;
    struct iov method;
    struct iov target;
    int status;
    uint64_t bytes;
    uint64_t usec;
};

void access_log_init(struct access_log *al, int fd);

/** Append one line; flushes first if the line would not fit. */
void access_log_add(struct access_log *al, const struct access_entry *e);

/** Write out what is buffered (a short or failed write drops the rest: logs never block us). */
void access_log_flush(struct access_log *al);

/** "a.b.c.d:port" or "[v6]:port" into out. */
void log_format_peer(const struct sockaddr *sa, char *out, size_t outsz);

#endif
