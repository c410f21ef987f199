/* SPDX-License-Identifier: MIT */
/* Diagnostics to stderr and the buffered per-thread access log (see log.h). */
#include "log.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static enum log_level max_level = LOG_INFO;

void log_set_level(enum log_level lvl)
{
    max_level = lvl;
}

static const char *const level_names[] = {"error", "warn", "info", "debug"};

static void vlog(enum log_level lvl, const char *file, int line, const char *fmt, va_list ap)
{
    char msg[1024];
    struct timespec ts;
    struct tm tm;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(msg, sizeof(msg), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000000, level_names[lvl]);
    if (n < 0)
        return;
    size_t len = (size_t)n;
    n = vsnprintf(msg + len, sizeof(msg) - len, fmt, ap);
    if (n > 0)
        len += (size_t)n < sizeof(msg) - len ? (size_t)n : sizeof(msg) - len - 1;
    n = snprintf(msg + len, sizeof(msg) - len, " src=%s:%d\n", file, line);
    if (n > 0)
        len += (size_t)n < sizeof(msg) - len ? (size_t)n : sizeof(msg) - len - 1;
    /* One write per line so that lines from several threads never interleave. */
    if (write(STDERR_FILENO, msg, len) < 0)
        return;
}

void log_line(enum log_level lvl, const char *file, int line, const char *fmt, ...)
{
    if (lvl > max_level)
        return;
    va_list ap;
    va_start(ap, fmt);
    vlog(lvl, file, line, fmt, ap);
    va_end(ap);
}

void die_at(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(LOG_ERROR, file, line, fmt, ap);
    va_end(ap);
    abort();
}

void log_format_peer(const struct sockaddr *ss, char *out, size_t outsz)
{
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;

    if (ss->sa_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
        port = ntohs(sin->sin_port);
        snprintf(out, outsz, "%s:%u", host, port);
    } else if (ss->sa_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
        port = ntohs(sin6->sin6_port);
        snprintf(out, outsz, "[%s]:%u", host, port);
    } else {
        snprintf(out, outsz, "-");
    }
}

void access_log_init(struct access_log *al, int fd)
{
    al->fd = fd;
    al->len = 0;
}

void access_log_flush(struct access_log *al)
{
    if (al->fd >= 0 && al->len > 0) {
        ssize_t n = write(al->fd, al->buf, al->len);
        (void)n;
    }
    al->len = 0;
}

/* Copy a request field into the log, replacing anything that could forge a line or a field. */
static size_t put_field(char *dst, size_t room, struct iov v)
{
    size_t n = v.len < room ? v.len : room;
    for (size_t i = 0; i < n; i++) {
        uint8_t ch = v.base[i];
        dst[i] = (ch <= 0x20 || ch == 0x7f) ? '_' : (char)ch;
    }
    return n;
}

void access_log_add(struct access_log *al, const struct access_entry *e)
{
    if (al->fd < 0)
        return;
    /* Bounded line: a 8 KiB target is cut at 2 KiB in the log. */
    enum { MAX_LINE = 2300 };
    if (sizeof(al->buf) - al->len < MAX_LINE)
        access_log_flush(al);

    char *p = al->buf + al->len;
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(p, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ ", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     ts.tv_nsec / 1000000);
    p += n;
    char peer[64];
    log_format_peer(e->peer, peer, sizeof(peer));
    p += snprintf(p, 72, "%s ", peer);
    p += put_field(p, 32, e->method.len ? e->method : IOV_LIT("-"));
    *p++ = ' ';
    p += put_field(p, 2048, e->target.len ? e->target : IOV_LIT("-"));
    p += snprintf(p, 80, " %d %llu %llu\n", e->status, (unsigned long long)e->bytes,
                  (unsigned long long)e->usec);
    al->len = (size_t)(p - al->buf);
}
