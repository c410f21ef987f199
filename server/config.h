/* SPDX-License-Identifier: MIT */
/* Settings of `fastfile serve`, from defaults and the command line. */
#ifndef SERVER_CONFIG_H
#define SERVER_CONFIG_H

#include <stdbool.h>
#include <sys/socket.h>

#include "dav.h"
#include "http/parse.h"
#include "log.h"
#include "password.h"

struct ff_config {
    struct sockaddr_storage listen; /* HTTPS */
    socklen_t listen_len;
    struct sockaddr_storage http; /* plain HTTP, only when http_len > 0 */
    socklen_t http_len;
    const char *cert_file; /* PEM full chain; NULL: generated into DATA/tls */
    const char *key_file;
    unsigned threads;       /* loop threads; 0 = one per CPU */
    const char *data_dir;   /* files are served from DATA/files */
    const char *access_log; /* a path, "-" for stderr, or "off" */
    unsigned head_timeout_ms;      /* from the first byte of a head to its end */
    unsigned body_timeout_ms;      /* idle time allowed while a body arrives */
    unsigned keepalive_timeout_ms; /* idle time between requests */
    unsigned send_timeout_ms;      /* idle time allowed while the client reads a response */
    struct http_limits limits;
    bool no_multishot; /* testing: use the single-shot recv fallback */
    bool no_ktls;      /* keep every TLS connection in userspace */
    int log_level;     /* enum log_level */
    struct pw_limits pw;   /* Argon2id limits for new hashes */
    unsigned auth_workers; /* blocking-work threads */
    unsigned cred_ttl_s;   /* verified-credential cache lifetime */
    unsigned dav_workers;  /* threads running WebDAV methods */
    struct dav_cfg dav;
};

void config_defaults(struct ff_config *cfg);

/**
 * Parse the arguments after "serve". Returns 0, 1 when --help was printed (exit 0), or -EINVAL
 * after printing what is wrong to stderr.
 */
int config_parse_serve(struct ff_config *cfg, int argc, char **argv);

/** Parse "ADDR:PORT" or "[V6]:PORT" into ss. Returns 0 or -EINVAL. */
int config_parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len);

/** Parse a number option (opt names it in the message). Returns 0 or -EINVAL (message
 *  printed). */
int config_parse_uint(const char *opt, const char *s, unsigned long min, unsigned long max,
                      unsigned long *out);

/* Option codes of --argon2-ops and --argon2-mem, shared with the user commands. */
enum { CONFIG_OPT_ARGON2_OPS = 512, CONFIG_OPT_ARGON2_MEM };

/** Apply --argon2-ops or --argon2-mem (opt: CONFIG_OPT_ARGON2_*) to pw. 0 or -EINVAL. */
int config_parse_pw_option(int opt, const char *arg, struct pw_limits *pw);

extern const char config_serve_usage[];

#endif
