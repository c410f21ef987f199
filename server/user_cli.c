/* SPDX-License-Identifier: MIT */
/*
 * `fastfile user add|passwd|del|list|token|tokens|revoke`. Passwords are read from the
 * terminal without echo (asked twice), or as one line from standard input when it is not a
 * terminal, for scripts. A running server notices changes by itself (gate.h).
 */
#include "user_cli.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "config.h"
#include "fs.h"
#include "token.h"

static const char usage[] =
    "usage: fastfile user <command> [options]\n"
    "\n"
    "  add NAME              create a user (password asked, or one line on stdin)\n"
    "  passwd NAME           change a user's password; ends their browser sessions\n"
    "  del NAME              delete a user with their app passwords (their files are kept)\n"
    "  list                  list users\n"
    "  token NAME [LABEL]    create an app password for NAME (printed once)\n"
    "  tokens NAME           list NAME's app passwords\n"
    "  revoke NAME ID        revoke one of NAME's app passwords\n"
    "\n"
    "options:\n"
    "  --data DIR            data folder (default ./data)\n"
    "  --argon2-ops N        Argon2id passes for the new hash (default 2)\n"
    "  --argon2-mem MIB      Argon2id memory in MiB (default 64)\n"
    "  -h, --help            this text\n";

#define PW_MIN 8

/* Read a password into buf. Returns its length or -errno (message printed). */
static long read_password(const char *prompt, char *buf, size_t size)
{
    bool tty = isatty(STDIN_FILENO);
    struct termios old, quiet;
    if (tty) {
        fprintf(stderr, "%s", prompt);
        if (tcgetattr(STDIN_FILENO, &old) == 0) {
            quiet = old;
            quiet.c_lflag &= (tcflag_t)~ECHO;
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
        } else {
            tty = false;
        }
    }
    char *line = fgets(buf, (int)size, stdin);
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    if (!line) {
        fprintf(stderr, "fastfile user: no password given\n");
        return -EINVAL;
    }
    size_t n = strlen(buf);
    if (n == size - 1 && buf[n - 1] != '\n') {
        fprintf(stderr, "fastfile user: password longer than %d bytes\n", PW_MAX);
        return -EINVAL;
    }
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    return (long)n;
}

/* Ask for a new password (twice on a terminal). Returns 0 or -EINVAL. */
static int new_password(const char *name, char pw[PW_MAX + 2])
{
    char prompt[128];
    snprintf(prompt, sizeof(prompt), "New password for %s: ", name);
    long n = read_password(prompt, pw, PW_MAX + 2);
    if (n < 0)
        return (int)n;
    if (n < PW_MIN) {
        fprintf(stderr, "fastfile user: a password needs at least %d characters\n", PW_MIN);
        return -EINVAL;
    }
    if (isatty(STDIN_FILENO)) {
        char again[PW_MAX + 2];
        long m = read_password("Again: ", again, sizeof(again));
        bool same = m == n && sodium_memcmp(again, pw, (size_t)n) == 0;
        sodium_memzero(again, sizeof(again));
        if (!same) {
            fprintf(stderr, "fastfile user: the passwords differ\n");
            return -EINVAL;
        }
    }
    return 0;
}

int user_create(struct store *st, const char *data_dir, const char *name, const char *pw,
                const struct pw_limits *l)
{
    char hash[PW_HASH_MAX], dir[PATH_MAX];
    int rc = pw_hash(pw, strlen(pw), l, hash);
    if (rc < 0)
        return rc;
    int64_t id;
    rc = store_user_add(st, name, hash, (int64_t)time(NULL), &id);
    if (rc < 0)
        return rc;
    if (snprintf(dir, sizeof(dir), "%s/files/%s", data_dir, name) >= (int)sizeof(dir))
        return -ENAMETOOLONG;
    return fs_mkdir_p(dir, 0750);
}

static void print_time(int64_t t)
{
    if (!t) {
        printf("%-20s", "never");
        return;
    }
    char buf[32];
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%SZ", &tm);
    printf("%-20s", buf);
}

static int list_user(void *ctx, const struct store_user *u)
{
    (void)ctx;
    printf("%-24s created ", u->name);
    print_time(u->created);
    printf("\n");
    return 0;
}

static int list_token(void *ctx, const struct store_token *t)
{
    (void)ctx;
    printf("%-6lld %-24s created ", (long long)t->id, t->label);
    print_time(t->created);
    printf(" last used ");
    print_time(t->last_used);
    printf("\n");
    return 0;
}

static int fail(const char *what, const char *name, int rc)
{
    if (rc == -ENOENT)
        fprintf(stderr, "fastfile user: no %s '%s'\n", what, name);
    else if (rc == -EEXIST)
        fprintf(stderr, "fastfile user: %s '%s' exists already\n", what, name);
    else
        fprintf(stderr, "fastfile user: %s '%s': %s\n", what, name, strerror(-rc));
    return 1;
}

static int run(struct store *st, const char *data_dir, const struct pw_limits *pwl, int argc,
               char **argv)
{
    const char *cmd = argv[0];
    const char *name = argc > 1 ? argv[1] : NULL;
    struct store_user u;
    char pw[PW_MAX + 2];
    int rc;

    if (strcmp(cmd, "list") == 0 && argc == 1)
        return store_user_list(st, list_user, NULL) < 0 ? 1 : 0;
    if (!name) {
        fputs(usage, stderr);
        return 2;
    }
    if (!store_name_valid(name)) {
        fprintf(stderr,
                "fastfile user: '%s' is not a valid user name (at most %d letters, digits, "
                "'.', '_' or '-', not starting with '.' or '-')\n",
                name, STORE_NAME_MAX);
        return 2;
    }
    if (strcmp(cmd, "add") == 0 && argc == 2) {
        rc = new_password(name, pw);
        if (rc == 0)
            rc = user_create(st, data_dir, name, pw, pwl);
        sodium_memzero(pw, sizeof(pw));
        if (rc == -EINVAL)
            return 1;
        if (rc < 0)
            return fail("user", name, rc);
        printf("user %s added; files in %s/files/%s\n", name, data_dir, name);
        return 0;
    }
    if (strcmp(cmd, "passwd") == 0 && argc == 2) {
        if (store_user_get(st, name, &u) < 0)
            return fail("user", name, -ENOENT);
        char hash[PW_HASH_MAX];
        rc = new_password(name, pw);
        if (rc == 0)
            rc = pw_hash(pw, strlen(pw), pwl, hash);
        sodium_memzero(pw, sizeof(pw));
        if (rc == 0)
            rc = store_user_set_hash(st, name, hash);
        if (rc == -EINVAL)
            return 1;
        if (rc < 0)
            return fail("user", name, rc);
        printf("password of %s changed; their browser sessions are over\n", name);
        return 0;
    }
    if (strcmp(cmd, "del") == 0 && argc == 2) {
        rc = store_user_del(st, name);
        if (rc < 0)
            return fail("user", name, rc);
        printf("user %s deleted; their files stay in %s/files/%s\n", name, data_dir, name);
        return 0;
    }
    if (strcmp(cmd, "token") == 0 && (argc == 2 || argc == 3)) {
        const char *label = argc == 3 ? argv[2] : "app password";
        if (store_user_get(st, name, &u) < 0)
            return fail("user", name, -ENOENT);
        char tok[TOKEN_TEXT_LEN];
        uint8_t digest[TOKEN_DIGEST_LEN];
        int64_t id;
        token_new(tok);
        token_digest(tok, strlen(tok), digest);
        rc = store_token_add(st, u.id, label, digest, (int64_t)time(NULL), &id);
        if (rc < 0) {
            sodium_memzero(tok, sizeof(tok));
            return fail("app password for", name, rc);
        }
        printf("app password %lld for %s (shown only now): %s\n", (long long)id, name, tok);
        sodium_memzero(tok, sizeof(tok));
        return 0;
    }
    if (strcmp(cmd, "tokens") == 0 && argc == 2) {
        if (store_user_get(st, name, &u) < 0)
            return fail("user", name, -ENOENT);
        return store_token_list(st, u.id, list_token, NULL) < 0 ? 1 : 0;
    }
    if (strcmp(cmd, "revoke") == 0 && argc == 3) {
        unsigned long id;
        if (config_parse_uint("ID", argv[2], 1, LONG_MAX, &id) < 0)
            return 2;
        if (store_user_get(st, name, &u) < 0)
            return fail("user", name, -ENOENT);
        rc = store_token_revoke(st, u.id, (int64_t)id);
        if (rc < 0)
            return fail("app password", argv[2], rc);
        printf("app password %lu of %s revoked\n", id, name);
        return 0;
    }
    fputs(usage, stderr);
    return 2;
}

int user_cli(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {"argon2-ops", required_argument, NULL, CONFIG_OPT_ARGON2_OPS},
        {"argon2-mem", required_argument, NULL, CONFIG_OPT_ARGON2_MEM},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    const char *data_dir = "./data";
    struct pw_limits pwl;
    pw_limits_default(&pwl);
    int c;
    /* GNU getopt moves the options, wherever they are, in front of the words. */
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            data_dir = optarg;
            break;
        case CONFIG_OPT_ARGON2_OPS:
        case CONFIG_OPT_ARGON2_MEM:
            if (config_parse_pw_option(c, optarg, &pwl) < 0)
                return 2;
            break;
        case 'h':
            fputs(usage, stdout);
            return 0;
        default:
            fputs(usage, stderr);
            return 2;
        }
    }
    if (optind >= argc) {
        fputs(usage, stderr);
        return 2;
    }
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s/files", data_dir);
    int rc = fs_mkdir_p(dir, 0750);
    if (rc < 0) {
        fprintf(stderr, "fastfile user: cannot create %s: %s\n", dir, strerror(-rc));
        return 1;
    }
    struct store *st;
    char err[256];
    rc = store_open(data_dir, &st, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "fastfile user: %s\n", err);
        return 1;
    }
    rc = run(st, data_dir, &pwl, argc - optind, argv + optind);
    store_close(st);
    return rc;
}
