/* SPDX-License-Identifier: MIT */
/* Command-line settings of `fastfile serve` (see config.h). */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char config_serve_usage[] =
    "usage: fastfile serve [options]\n"
    "\n"
    "Serve the files under DATA/files over HTTPS (and HTTP when asked for).\n"
    "\n"
    "  --listen ADDR:PORT       HTTPS address (default 127.0.0.1:8443; port 0 picks one)\n"
    "  --http ADDR:PORT         also plain HTTP on this address (e.g. behind a reverse proxy)\n"
    "  --cert FILE --key FILE   PEM certificate (full chain) and key; without them a self-signed\n"
    "                           certificate is generated into DATA/tls on the first start\n"
    "  --threads N              event-loop threads (default: one per CPU)\n"
    "  --data DIR               data folder, created if missing (default ./data)\n"
    "  --access-log FILE        access log file, '-' for stderr (default), 'off' for none\n"
    "  --head-timeout SEC       deadline for a whole request head (default 10)\n"
    "  --body-timeout SEC       idle deadline while a request body arrives (default 30)\n"
    "  --keepalive-timeout SEC  idle deadline between requests (default 60)\n"
    "  --send-timeout SEC       idle deadline while a client reads a response (default 60)\n"
    "  --max-head BYTES         largest request head (default 16384)\n"
    "  --max-headers N          most header fields (default 100)\n"
    "  --max-url BYTES          longest request target (default 8192)\n"
    "  --no-multishot           receive with single-shot recv (the fallback for old kernels)\n"
    "  --no-ktls                keep TLS in userspace even where the kernel offers kTLS\n"
    "  --log-level LEVEL        error, warn, info (default) or debug\n"
    "  --argon2-ops N           Argon2id passes for new password hashes (default 2)\n"
    "  --argon2-mem MIB         Argon2id memory per hash in MiB (default 64)\n"
    "  --auth-workers N         threads verifying passwords (default 2)\n"
    "  --cred-cache SEC         how long a verified Basic credential is remembered (default 300)\n"
    "  --dav-workers N          threads running WebDAV methods (default 4)\n"
    "  --depth-max N            most entries a PROPFIND Depth: infinity lists (default 100000)\n"
    "  --lock-timeout-max SEC   longest WebDAV lock (default 604800)\n"
    "  --quota MIB              space each user may fill (default: no quota)\n"
    "  -h, --help               this text\n";

void config_defaults(struct ff_config *cfg)
{
    *cfg = (struct ff_config){
        .threads = 0,
        .data_dir = "./data",
        .access_log = "-",
        .head_timeout_ms = 10000,
        .body_timeout_ms = 30000,
        .keepalive_timeout_ms = 60000,
        .send_timeout_ms = 60000,
        .limits = http_limits_default,
        .log_level = LOG_INFO,
        .auth_workers = 2,
        .cred_ttl_s = 300,
        .dav_workers = 4,
        .dav = {.depth_infinity_max = 100000,
                .lock_timeout_default = 600,
                .lock_timeout_max = 7 * 86400,
                .quota_bytes = -1},
    };
    pw_limits_default(&cfg->pw);
    int rc = config_parse_addr("127.0.0.1:8443", &cfg->listen, &cfg->listen_len);
    (void)rc;
}

int config_parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
    char host[INET6_ADDRSTRLEN + 2];
    const char *colon = strrchr(s, ':');
    if (!colon || (size_t)(colon - s) >= sizeof(host))
        return -EINVAL;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';

    char *end;
    errno = 0;
    unsigned long port = strtoul(colon + 1, &end, 10);
    if (errno || *end || end == colon + 1 || port > 65535)
        return -EINVAL;

    memset(ss, 0, sizeof(*ss));
    size_t hl = strlen(host);
    if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
        host[hl - 1] = '\0';
        if (inet_pton(AF_INET6, host + 1, &sin6->sin6_addr) != 1)
            return -EINVAL;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)port);
        *len = sizeof(*sin6);
        return 0;
    }
    struct sockaddr_in *sin = (struct sockaddr_in *)ss;
    if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
        return -EINVAL;
    sin->sin_family = AF_INET;
    sin->sin_port = htons((uint16_t)port);
    *len = sizeof(*sin);
    return 0;
}

int config_parse_uint(const char *opt, const char *s, unsigned long min, unsigned long max,
                      unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || end == s || s[0] == '-' || v < min || v > max) {
        fprintf(stderr, "fastfile: %s needs a number from %lu to %lu, not '%s'\n", opt, min,
                max, s);
        return -EINVAL;
    }
    *out = v;
    return 0;
}

static int parse_level(const char *s, int *out)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    for (int i = 0; i < 4; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = i;
            return 0;
        }
    }
    fprintf(stderr, "fastfile serve: --log-level is error, warn, info or debug, not '%s'\n", s);
    return -EINVAL;
}

enum {
    OPT_LISTEN = 256,
    OPT_THREADS,
    OPT_DATA,
    OPT_ACCESS_LOG,
    OPT_HEAD_TIMEOUT,
    OPT_BODY_TIMEOUT,
    OPT_KEEPALIVE_TIMEOUT,
    OPT_SEND_TIMEOUT,
    OPT_MAX_HEAD,
    OPT_MAX_HEADERS,
    OPT_MAX_URL,
    OPT_NO_MULTISHOT,
    OPT_LOG_LEVEL,
    OPT_HTTP,
    OPT_CERT,
    OPT_KEY,
    OPT_NO_KTLS,
    OPT_ARGON2_OPS = CONFIG_OPT_ARGON2_OPS,
    OPT_ARGON2_MEM = CONFIG_OPT_ARGON2_MEM,
    OPT_AUTH_WORKERS,
    OPT_CRED_CACHE,
    OPT_DAV_WORKERS,
    OPT_DEPTH_MAX,
    OPT_LOCK_TIMEOUT_MAX,
    OPT_QUOTA,
};

int config_parse_pw_option(int opt, const char *arg, struct pw_limits *pw)
{
    unsigned long v = 0;
    int rc;
    if (opt == OPT_ARGON2_OPS) {
        rc = config_parse_uint("--argon2-ops", arg, 1, 64, &v);
        pw->ops = v;
    } else {
        rc = config_parse_uint("--argon2-mem", arg, 8, 4096, &v);
        pw->mem = (size_t)v << 20;
    }
    return rc;
}

int config_parse_serve(struct ff_config *cfg, int argc, char **argv)
{
    static const struct option opts[] = {
        {"listen", required_argument, NULL, OPT_LISTEN},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"data", required_argument, NULL, OPT_DATA},
        {"access-log", required_argument, NULL, OPT_ACCESS_LOG},
        {"head-timeout", required_argument, NULL, OPT_HEAD_TIMEOUT},
        {"body-timeout", required_argument, NULL, OPT_BODY_TIMEOUT},
        {"keepalive-timeout", required_argument, NULL, OPT_KEEPALIVE_TIMEOUT},
        {"send-timeout", required_argument, NULL, OPT_SEND_TIMEOUT},
        {"max-head", required_argument, NULL, OPT_MAX_HEAD},
        {"max-headers", required_argument, NULL, OPT_MAX_HEADERS},
        {"max-url", required_argument, NULL, OPT_MAX_URL},
        {"no-multishot", no_argument, NULL, OPT_NO_MULTISHOT},
        {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
        {"http", required_argument, NULL, OPT_HTTP},
        {"cert", required_argument, NULL, OPT_CERT},
        {"key", required_argument, NULL, OPT_KEY},
        {"no-ktls", no_argument, NULL, OPT_NO_KTLS},
        {"argon2-ops", required_argument, NULL, OPT_ARGON2_OPS},
        {"argon2-mem", required_argument, NULL, OPT_ARGON2_MEM},
        {"auth-workers", required_argument, NULL, OPT_AUTH_WORKERS},
        {"cred-cache", required_argument, NULL, OPT_CRED_CACHE},
        {"dav-workers", required_argument, NULL, OPT_DAV_WORKERS},
        {"depth-max", required_argument, NULL, OPT_DEPTH_MAX},
        {"lock-timeout-max", required_argument, NULL, OPT_LOCK_TIMEOUT_MAX},
        {"quota", required_argument, NULL, OPT_QUOTA},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    unsigned long v = 0;
    int c;

    optind = 1;
    opterr = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int rc = 0;
        switch (c) {
        case OPT_LISTEN:
            rc = config_parse_addr(optarg, &cfg->listen, &cfg->listen_len);
            if (rc < 0)
                fprintf(stderr, "fastfile serve: --listen wants ADDR:PORT, not '%s'\n", optarg);
            break;
        case OPT_HTTP:
            rc = config_parse_addr(optarg, &cfg->http, &cfg->http_len);
            if (rc < 0)
                fprintf(stderr, "fastfile serve: --http wants ADDR:PORT, not '%s'\n", optarg);
            break;
        case OPT_CERT:
            cfg->cert_file = optarg;
            break;
        case OPT_KEY:
            cfg->key_file = optarg;
            break;
        case OPT_NO_KTLS:
            cfg->no_ktls = true;
            break;
        case OPT_ARGON2_OPS:
        case OPT_ARGON2_MEM:
            rc = config_parse_pw_option(c, optarg, &cfg->pw);
            break;
        case OPT_AUTH_WORKERS:
            rc = config_parse_uint("--auth-workers", optarg, 1, 64, &v);
            cfg->auth_workers = (unsigned)v;
            break;
        case OPT_CRED_CACHE:
            rc = config_parse_uint("--cred-cache", optarg, 1, 86400, &v);
            cfg->cred_ttl_s = (unsigned)v;
            break;
        case OPT_DAV_WORKERS:
            rc = config_parse_uint("--dav-workers", optarg, 1, 64, &v);
            cfg->dav_workers = (unsigned)v;
            break;
        case OPT_DEPTH_MAX:
            rc = config_parse_uint("--depth-max", optarg, 1, 100000000, &v);
            cfg->dav.depth_infinity_max = (uint32_t)v;
            break;
        case OPT_LOCK_TIMEOUT_MAX:
            rc = config_parse_uint("--lock-timeout-max", optarg, 1, UINT32_MAX, &v);
            cfg->dav.lock_timeout_max = (uint32_t)v;
            if (cfg->dav.lock_timeout_default > v)
                cfg->dav.lock_timeout_default = (uint32_t)v;
            break;
        case OPT_QUOTA:
            rc = config_parse_uint("--quota", optarg, 0, 1ul << 40, &v);
            cfg->dav.quota_bytes = (int64_t)v << 20;
            break;
        case OPT_THREADS:
            rc = config_parse_uint("--threads", optarg, 1, 256, &v);
            cfg->threads = (unsigned)v;
            break;
        case OPT_DATA:
            cfg->data_dir = optarg;
            break;
        case OPT_ACCESS_LOG:
            cfg->access_log = optarg;
            break;
        case OPT_HEAD_TIMEOUT:
            rc = config_parse_uint("--head-timeout", optarg, 1, 3600, &v);
            cfg->head_timeout_ms = (unsigned)v * 1000;
            break;
        case OPT_BODY_TIMEOUT:
            rc = config_parse_uint("--body-timeout", optarg, 1, 3600, &v);
            cfg->body_timeout_ms = (unsigned)v * 1000;
            break;
        case OPT_KEEPALIVE_TIMEOUT:
            rc = config_parse_uint("--keepalive-timeout", optarg, 1, 3600, &v);
            cfg->keepalive_timeout_ms = (unsigned)v * 1000;
            break;
        case OPT_SEND_TIMEOUT:
            rc = config_parse_uint("--send-timeout", optarg, 1, 3600, &v);
            cfg->send_timeout_ms = (unsigned)v * 1000;
            break;
        case OPT_MAX_HEAD:
            rc = config_parse_uint("--max-head", optarg, 256, 1 << 20, &v);
            cfg->limits.max_head = v;
            break;
        case OPT_MAX_HEADERS:
            rc = config_parse_uint("--max-headers", optarg, 1, HTTP_MAX_HEADERS, &v);
            cfg->limits.max_headers = v;
            break;
        case OPT_MAX_URL:
            rc = config_parse_uint("--max-url", optarg, 16, 1 << 20, &v);
            cfg->limits.max_target = v;
            break;
        case OPT_NO_MULTISHOT:
            cfg->no_multishot = true;
            break;
        case OPT_LOG_LEVEL:
            rc = parse_level(optarg, &cfg->log_level);
            break;
        case 'h':
            fputs(config_serve_usage, stdout);
            return 1;
        default:
            fputs(config_serve_usage, stderr);
            return -EINVAL;
        }
        if (rc < 0)
            return rc;
    }
    if (optind < argc) {
        fprintf(stderr, "fastfile serve: unexpected argument '%s'\n", argv[optind]);
        return -EINVAL;
    }
    if (!cfg->cert_file != !cfg->key_file) {
        fprintf(stderr, "fastfile serve: --cert and --key go together\n");
        return -EINVAL;
    }
    if (cfg->limits.max_target > cfg->limits.max_head) {
        cfg->limits.max_target = cfg->limits.max_head;
    }
    return 0;
}
