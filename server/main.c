/* SPDX-License-Identifier: MIT */
/*
 * The fastfile command: `serve` starts the loops; the main thread then only waits for signals
 * (SIGTERM/SIGINT drain and exit 0). Later subcommands (user management) join here.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "config.h"
#include "fs.h"
#include "log.h"
#include "loop.h"
#include "tls/cert.h"
#include "tls/ctx.h"
#include "tls/ktls.h"
#include "tls/tls.h"
#include "user_cli.h"
#include "site.h"
#include "store.h"
#include "token.h"
#include "tree.h"
#include "work.h"
#include "index.h"
#include "version.h"
#include "watch.h"

static const char usage[] =
    "usage: fastfile <command> [options]\n"
    "\n"
    "fastfile is a fast WebDAV and file-sync server for files kept on your own machine.\n"
    "\n"
    "commands:\n"
    "  serve        serve DATA over HTTPS (see fastfile serve --help)\n"
    "  user         manage users and app passwords (see fastfile user --help)\n"
    "\n"
    "  -h, --help     this text\n"
    "  -V, --version  print the version\n";

static int open_listener(const struct sockaddr_storage *ss, socklen_t len)
{
    int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0 ||
        bind(fd, (const struct sockaddr *)ss, len) < 0 || listen(fd, 4096) < 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    return fd;
}

/* Open a listener for addr (port 0: the kernel picks one, written back so that the other loops'
 * listeners share it). */
static int add_listener(struct listener *ls, unsigned *n, struct sockaddr_storage *addr,
                        socklen_t *len, bool tls)
{
    int fd = open_listener(addr, *len);
    if (fd < 0) {
        fprintf(stderr, "fastfile: cannot listen: %s\n", strerror(-fd));
        return fd;
    }
    socklen_t l = sizeof(*addr);
    getsockname(fd, (struct sockaddr *)addr, &l);
    *len = l;
    ls[(*n)++] = (struct listener){.fd = fd, .tls = tls};
    return 0;
}

/* Verifications waiting for a pool thread; past this, logins get 503 and Retry-After. */
#define WORK_QUEUE_MAX 256

/* Create DATA/NAME if missing and open it as a root. Returns 0 or -1 (message printed). */
static int open_folder(const char *data_dir, const char *name, int *fd)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof(path), "%s/%s", data_dir, name) >= (int)sizeof(path)) {
        fprintf(stderr, "fastfile: data path too long\n");
        return -1;
    }
    int rc = fs_mkdir_p(path, 0750);
    if (rc == 0)
        rc = *fd = fs_root_open(path);
    if (rc < 0) {
        fprintf(stderr, "fastfile: cannot open %s: %s\n", path, strerror(-rc));
        return -1;
    }
    return 0;
}

/*
 * Open (and migrate) the account database; on a fresh one create user admin with a random
 * password, printed once, so that the first start leads straight to a working login.
 */
struct restore {
    struct throttle *t;
    int64_t now_s, now_ms;
    unsigned n;
};

static int restore_failure(void *ctx, const char *addr, const char *user, int64_t at)
{
    struct restore *r = ctx;
    union {
        struct sockaddr sa;
        struct sockaddr_in in4;
        struct sockaddr_in6 in6;
    } a = {0};
    if (inet_pton(AF_INET, addr, &a.in4.sin_addr) == 1)
        a.sa.sa_family = AF_INET;
    else if (inet_pton(AF_INET6, addr, &a.in6.sin6_addr) == 1)
        a.sa.sa_family = AF_INET6;
    else
        return 0;
    bool named = user && store_name_valid(user);
    throttle_fail(r->t, &a.sa, named ? user : NULL, r->now_ms - (r->now_s - at) * 1000);
    r->n++;
    return 0;
}

/* The failures of the last window count again after a restart: restarting is no way round the
 * throttle. */
static void restore_failures(struct store *st, struct throttle *t,
                             const struct throttle_limits *tl)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    struct restore r = {.t = t, .now_s = (int64_t)time(NULL),
                        .now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000};
    if (store_failure_list(st, r.now_s - (int64_t)tl->window_s, restore_failure, &r) < 0)
        log_warn("event=failures_restore_failed");
    else if (r.n)
        log_info("event=failures_restored count=%u", r.n);
}

static int setup_accounts(const struct ff_config *cfg, struct throttle *t,
                          const struct throttle_limits *tl)
{
    struct store *st;
    char err[256];
    int rc = store_open(cfg->data_dir, &st, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "fastfile: %s\n", err);
        return -1;
    }
    int64_t users = 0;
    rc = store_user_count(st, &users);
    if (rc == 0 && users == 0) {
        char pw[TOKEN_TEXT_LEN];
        token_new(pw);
        pw[20] = '\0'; /* 120 random bits, short enough to type */
        rc = user_create(st, cfg->data_dir, "admin", pw, &cfg->pw);
        if (rc == 0)
            printf("created user admin with password %s (shown only now; change it with "
                   "'fastfile user passwd admin --data %s')\n",
                   pw, cfg->data_dir);
        sodium_memzero(pw, sizeof(pw));
    }
    restore_failures(st, t, tl);
    store_close(st);
    /* Bring the index schema up to date once, before the pool threads open it. */
    struct dav_index *ix;
    if (rc == 0 && dav_index_open(cfg->data_dir, NULL, &ix, err, sizeof(err)) < 0) {
        fprintf(stderr, "fastfile: %s\n", err);
        return -1;
    }
    if (rc == 0)
        dav_index_close(ix);
    if (rc < 0) {
        fprintf(stderr, "fastfile: cannot set up the accounts: %s\n", strerror(-rc));
        return -1;
    }
    return 0;
}

/* The certificate to serve: --cert/--key, or one generated into DATA/tls on the first start. */
static int setup_certificate(const struct ff_config *cfg, char cert[PATH_MAX], char key[PATH_MAX],
                             char fingerprint[96])
{
    int rc;
    if (cfg->cert_file) {
        snprintf(cert, PATH_MAX, "%s", cfg->cert_file);
        snprintf(key, PATH_MAX, "%s", cfg->key_file);
        rc = tls_cert_fingerprint(cert, fingerprint);
    } else {
        rc = tls_cert_ensure(cfg->data_dir, cert, PATH_MAX, key, PATH_MAX, fingerprint);
        if (rc == 1)
            printf("generated a self-signed certificate: %s\n", cert);
    }
    if (rc >= 0)
        rc = tls_ctx_reload(cert, key);
    if (rc < 0)
        fprintf(stderr, "fastfile: no usable certificate (%s, %s): %s\n", cert, key,
                strerror(-rc));
    return rc < 0 ? rc : 0;
}

static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static int open_access_log(const char *spec)
{
    if (strcmp(spec, "off") == 0)
        return -1;
    if (strcmp(spec, "-") == 0)
        return fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
    int fd = open(spec, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) {
        fprintf(stderr, "fastfile: cannot open access log %s: %s\n", spec, strerror(errno));
        return -2;
    }
    return fd;
}

static int serve(int argc, char **argv)
{
    struct ff_config cfg;
    config_defaults(&cfg);
    int rc = config_parse_serve(&cfg, argc, argv);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    log_set_level((enum log_level)cfg.log_level);

    struct site site = {.data_dir = cfg.data_dir, .pw = cfg.pw, .cred_ttl_s = cfg.cred_ttl_s,
                        .files_fd = -1, .public_fd = -1, .stage_fd = -1};
    session_limits_default(&site.sessions);
    if (open_folder(cfg.data_dir, "files", &site.files_fd) < 0 ||
        open_folder(cfg.data_dir, "public", &site.public_fd) < 0 ||
        open_folder(cfg.data_dir, "tmp", &site.stage_fd) < 0)
        return 1;
    /* What is left here was on its way into place when the last run ended: it never got
     * there, so the trees hold the old versions, whole. */
    rc = dav_tree_empty(site.stage_fd);
    if (rc > 0)
        log_info("event=stage_cleared entries=%d", rc);
    site.dav = cfg.dav;
    struct throttle_limits tl;
    throttle_limits_default(&tl);
    site.throttle = throttle_new(&tl, NULL);
    if (!site.throttle || setup_accounts(&cfg, site.throttle, &tl) < 0)
        return 1;
    int access_fd = open_access_log(cfg.access_log);
    if (access_fd == -2)
        return 1;
    raise_nofile();

    unsigned n = cfg.threads;
    if (n == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        n = cpus > 0 ? (unsigned)cpus : 1;
    }

    /* Signals are taken by this thread alone, with sigwait; loops never see them. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* Aligned: loop pointers carry op codes in their low bits (loop.h). */
    char cert[PATH_MAX], key[PATH_MAX], fingerprint[96];
    rc = setup_certificate(&cfg, cert, key, fingerprint);
    if (rc < 0)
        return 1;

    /* Aligned: loop pointers carry op codes in their low bits (loop.h). */
    struct loop *loops = aligned_alloc(64, n * sizeof(*loops));
    if (!loops)
        return 1;
    for (unsigned i = 0; i < n; i++) {
        struct listener ls[LOOP_MAX_LISTENERS];
        unsigned nls = 0;
        rc = add_listener(ls, &nls, &cfg.listen, &cfg.listen_len, true);
        if (rc == 0 && cfg.http_len > 0)
            rc = add_listener(ls, &nls, &cfg.http, &cfg.http_len, false);
        if (rc < 0)
            return 1;
        rc = loop_init(&loops[i], i, &cfg, &site, ls, nls, access_fd);
        if (rc < 0) {
            fprintf(stderr, "fastfile: cannot set up io_uring (kernel 6.0 or later needed): %s\n",
                    strerror(-rc));
            return 1;
        }
    }
    rc = work_pool_start(&site.work, WORK_AUTH, cfg.auth_workers, WORK_QUEUE_MAX, &site);
    if (rc == 0)
        rc = work_pool_start(&site.dav_work, WORK_DAV, cfg.dav_workers, WORK_QUEUE_MAX, &site);
    if (rc < 0)
        die("event=work_pool_failed err=%d", rc);
    /* Without it the server still works: outside changes then show when a request stats them. */
    struct watch *watch = NULL;
    rc = watch_start(&watch, cfg.data_dir, site.files_fd, &site.tree_watched);
    if (rc < 0)
        log_warn("event=watch_failed err=%d", rc);
    for (unsigned i = 0; i < n; i++) {
        rc = pthread_create(&loops[i].thread, NULL, loop_run, &loops[i]);
        if (rc != 0)
            die("event=thread_create_failed err=%d", rc);
    }

    char addr[80], http_addr[80] = "-";
    log_format_peer((const struct sockaddr *)&cfg.listen, addr, sizeof(addr));
    if (cfg.http_len > 0)
        log_format_peer((const struct sockaddr *)&cfg.http, http_addr, sizeof(http_addr));
    log_info("event=start version=%s threads=%u https=%s http=%s recv=%s cert=%s sha256=%s",
             FASTFILE_VERSION, n, addr, http_addr,
             cfg.no_multishot ? "single-shot" : "multishot", cert, fingerprint);
    const char *ktls_reason = "turned off with --no-ktls";
    if (!cfg.no_ktls && ktls_probe(&ktls_reason) == 0)
        log_info("kTLS: available");
    else
        log_info("kTLS: not available (%s)", ktls_reason);
    printf("fastfile %s listening on https://%s/ (data: %s)\n", FASTFILE_VERSION, addr,
           cfg.data_dir);
    if (cfg.http_len > 0)
        printf("fastfile %s listening on http://%s/ (data: %s)\n", FASTFILE_VERSION, http_addr,
               cfg.data_dir);
    printf("certificate SHA-256 fingerprint: %s\n", fingerprint);
    fflush(stdout);

    for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            /* Existing connections keep the context they started with. */
            rc = tls_ctx_reload(cert, key);
            log_info("event=sighup action=cert_reload result=%s", rc == 0 ? "ok" : "kept_old");
            continue;
        }
        log_info("event=shutdown signal=%d", sig);
        break;
    }
    for (unsigned i = 0; i < n; i++)
        loop_stop(&loops[i]);
    for (unsigned i = 0; i < n; i++)
        pthread_join(loops[i].thread, NULL);
    watch_stop(watch);
    /* Work not tied to a connection (failure records) may still be queued: finish it while the
     * loops' inboxes exist, then run what came back. */
    work_pool_stop(site.work);
    work_pool_stop(site.dav_work);
    for (unsigned i = 0; i < n; i++) {
        work_inbox_drain(&loops[i].inbox);
        loop_release(&loops[i]);
    }
    free(loops);
    throttle_free(site.throttle);
    tls_ctx_current_release();
    if (access_fd >= 0)
        close(access_fd);
    close(site.files_fd);
    close(site.public_fd);
    close(site.stage_fd);
    struct ktls_counters kc = ktls_counters_get();
    log_info("event=stopped tls_connections_ktls=%llu tls_connections_userspace=%llu",
             (unsigned long long)kc.kernel, (unsigned long long)kc.userspace);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage, stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        fputs(usage, stdout);
        return 0;
    }
    if (strcmp(cmd, "-V") == 0 || strcmp(cmd, "--version") == 0) {
        printf("fastfile %s (%s)\n", FASTFILE_VERSION, tls_library_version());
        return 0;
    }
    if (strcmp(cmd, "serve") == 0)
        return serve(argc - 1, argv + 1);
    if (strcmp(cmd, "user") == 0)
        return user_cli(argc - 1, argv + 1);
    fprintf(stderr, "fastfile: unknown command '%s'\n\n%s", cmd, usage);
    return 2;
}
