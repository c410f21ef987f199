/* SPDX-License-Identifier: MIT */
/*
 * The fastfile command: `serve` starts the loops; the main thread then only waits for signals
 * (SIGTERM/SIGINT drain and exit 0). Later subcommands (user management) join here.
 */
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
#include <unistd.h>

#include "config.h"
#include "fs.h"
#include "log.h"
#include "loop.h"
#include "tls/tls.h"
#include "version.h"

static const char usage[] =
    "usage: fastfile <command> [options]\n"
    "\n"
    "fastfile is a fast WebDAV and file-sync server for files kept on your own machine.\n"
    "\n"
    "commands:\n"
    "  serve        serve DATA/files over HTTP (see fastfile serve --help)\n"
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

    char files[PATH_MAX];
    if (snprintf(files, sizeof(files), "%s/files", cfg.data_dir) >= (int)sizeof(files)) {
        fprintf(stderr, "fastfile: data path too long\n");
        return 1;
    }
    rc = fs_mkdir_p(files, 0750);
    if (rc < 0) {
        fprintf(stderr, "fastfile: cannot create %s: %s\n", files, strerror(-rc));
        return 1;
    }
    int root_fd = fs_root_open(files);
    if (root_fd < 0) {
        fprintf(stderr, "fastfile: cannot open %s: %s\n", files, strerror(-root_fd));
        return 1;
    }
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
    struct loop *loops = aligned_alloc(64, n * sizeof(*loops));
    if (!loops)
        return 1;
    for (unsigned i = 0; i < n; i++) {
        int lfd = open_listener(&cfg.listen, cfg.listen_len);
        if (lfd < 0) {
            fprintf(stderr, "fastfile: cannot listen: %s\n", strerror(-lfd));
            return 1;
        }
        if (i == 0) {
            /* Port 0: the kernel picked one; the other loops' listeners share it. */
            socklen_t len = sizeof(cfg.listen);
            getsockname(lfd, (struct sockaddr *)&cfg.listen, &len);
            cfg.listen_len = len;
        }
        rc = loop_init(&loops[i], i, &cfg, root_fd, lfd, access_fd);
        if (rc < 0) {
            fprintf(stderr, "fastfile: cannot set up io_uring (kernel 6.0 or later needed): %s\n",
                    strerror(-rc));
            return 1;
        }
    }
    for (unsigned i = 0; i < n; i++) {
        rc = pthread_create(&loops[i].thread, NULL, loop_run, &loops[i]);
        if (rc != 0)
            die("event=thread_create_failed err=%d", rc);
    }

    char addr[80];
    log_format_peer((const struct sockaddr *)&cfg.listen, addr, sizeof(addr));
    log_info("event=start version=%s threads=%u listen=%s recv=%s", FASTFILE_VERSION, n, addr,
             cfg.no_multishot ? "single-shot" : "multishot");
    printf("fastfile %s listening on http://%s/ (data: %s)\n", FASTFILE_VERSION, addr,
           cfg.data_dir);
    fflush(stdout);

    for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            log_info("event=sighup action=none");
            continue;
        }
        log_info("event=shutdown signal=%d", sig);
        break;
    }
    for (unsigned i = 0; i < n; i++)
        loop_stop(&loops[i]);
    for (unsigned i = 0; i < n; i++) {
        pthread_join(loops[i].thread, NULL);
        loop_release(&loops[i]);
    }
    free(loops);
    if (access_fd >= 0)
        close(access_fd);
    close(root_fd);
    log_info("event=stopped");
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
    fprintf(stderr, "fastfile: unknown command '%s'\n\n%s", cmd, usage);
    return 2;
}
