/* SPDX-License-Identifier: MIT */
/*
 * The gate (see gate.h).
 *
 * A verification travels as a struct auth_job: built on the loop, run on a pool thread
 * (store lookup, Argon2id or the app-password digest, the failure record, the new session),
 * and finished on the loop, where the credential is cached and the waiting requests go on.
 * Every waiting connection holds an in-flight count, so it outlives the job even if it is
 * closed meanwhile.
 *
 * Unknown names and wrong passwords take the same path and the same time: an unknown name is
 * checked against a dummy hash with the same limits.
 */
#include "gate.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "conn.h"
#include "credcache.h"
#include "fs.h"
#include "http/cookie.h"
#include "log.h"
#include "login.h"
#include "loop.h"
#include "route.h"
#include "session.h"
#include "site.h"
#include "token.h"
#include "work.h"

/* A decoded "name:secret" is at most this long. */
#define BASIC_MAX (STORE_NAME_MAX + 1 + PW_MAX)
#define CRED_CACHE_SLOTS 4096
/* Expired sessions and old failure records are deleted this often (by loop 0), and failure
 * records are kept this long. */
#define PURGE_EVERY_MS (10 * 60 * 1000)
#define FAILURES_KEPT_S (30 * 24 * 3600)

enum auth_kind { AUTH_BASIC, AUTH_LOGIN };

struct auth_job {
    struct work_item w;
    struct auth_job *next_pending; /* the loop's BASIC jobs in flight */
    struct conn *waiters;          /* linked through conn->auth_next */
    enum auth_kind kind;
    uint64_t epoch; /* the cache's epoch when submitted: stale results are not cached */
    uint8_t id[CREDCACHE_ID_LEN];
    union peer_addr peer;
    char name[STORE_NAME_MAX + 1];
    bool name_valid;
    size_t secret_len;
    char secret[PW_MAX];
    /* results */
    int rc; /* 0: verified */
    int64_t user_id;
    char cookie[TOKEN_TEXT_LEN], csrf[TOKEN_TEXT_LEN];
};

struct user_root {
    int64_t user_id; /* 0: free */
    int fd;
    char name[STORE_NAME_MAX + 1];
};

struct gate {
    struct store *store;
    struct credcache cc;
    uint8_t tag_key[crypto_shorthash_KEYBYTES];
    int64_t cred_gen;
    uint64_t epoch; /* bumped whenever the cache is dropped */
    struct auth_job *pending;
    int inotify_fd;
    uint8_t ev[sizeof(struct inotify_event) + 256] __attribute__((aligned(8)));
    struct user_root *roots;
    unsigned n_roots, cap_roots;
    /* Folders of users that went away: a request may still be opening beneath one, so they
     * are closed with the loop. */
    int *dead_fds;
    unsigned n_dead;
    uint64_t next_purge_ms;
};

static int64_t wall_s(void)
{
    return (int64_t)time(NULL);
}

static void addr_text(const struct sockaddr *sa, char out[STORE_ADDR_MAX])
{
    const void *a = NULL;
    if (sa->sa_family == AF_INET)
        a = &((const struct sockaddr_in *)sa)->sin_addr;
    else if (sa->sa_family == AF_INET6)
        a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
    if (!a || !inet_ntop(sa->sa_family, a, out, STORE_ADDR_MAX))
        snprintf(out, STORE_ADDR_MAX, "-");
}

/* --- setup --- */

static void arm_inotify(struct loop *l)
{
    struct gate *g = l->gate;
    struct io_uring_sqe *sqe = loop_sqe(l);
    io_uring_prep_read(sqe, g->inotify_fd, g->ev, sizeof(g->ev), 0);
    io_uring_sqe_set_data64(sqe, ud_make(l, OP_INOTIFY));
}

int gate_init(struct loop *l)
{
    struct gate *g = calloc(1, sizeof(*g));
    if (!g)
        return -ENOMEM;
    l->gate = g;
    g->inotify_fd = -1;
    char err[256];
    int rc = store_open(l->site->data_dir, &g->store, err, sizeof(err));
    if (rc < 0) {
        log_error("event=store_open_failed err=%d msg=\"%s\"", rc, err);
        return rc;
    }
    rc = store_cred_gen(g->store, &g->cred_gen);
    if (rc < 0)
        return rc;
    uint8_t key[CREDCACHE_KEY_LEN];
    randombytes_buf(key, sizeof(key));
    rc = credcache_init(&g->cc, CRED_CACHE_SLOTS, (int64_t)l->site->cred_ttl_s * 1000, key);
    sodium_memzero(key, sizeof(key));
    randombytes_buf(g->tag_key, sizeof(g->tag_key));
    if (rc < 0)
        return rc;
    /* Any write to the database (its WAL) may be a credential change: look then. */
    g->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (g->inotify_fd < 0)
        return -errno;
    if (inotify_add_watch(g->inotify_fd, l->site->data_dir,
                          IN_MODIFY | IN_CLOSE_WRITE | IN_CREATE | IN_MOVED_TO) < 0)
        return -errno;
    return 0;
}

void gate_start(struct loop *l)
{
    arm_inotify(l);
}

void gate_release(struct loop *l)
{
    struct gate *g = l->gate;
    if (!g)
        return;
    for (unsigned i = 0; i < g->n_roots; i++)
        if (g->roots[i].user_id)
            close(g->roots[i].fd);
    for (unsigned i = 0; i < g->n_dead; i++)
        close(g->dead_fds[i]);
    free(g->roots);
    free(g->dead_fds);
    credcache_free(&g->cc);
    store_close(g->store);
    if (g->inotify_fd >= 0)
        close(g->inotify_fd);
    free(g);
    l->gate = NULL;
}

/* --- credential changes --- */

static void root_retire(struct gate *g, struct user_root *r)
{
    int *d = realloc(g->dead_fds, (g->n_dead + 1) * sizeof(*d));
    if (d) {
        g->dead_fds = d;
        g->dead_fds[g->n_dead++] = r->fd;
    }
    /* Without room to remember it the fd stays open until exit: never closed under a
     * request that may still use it. */
    r->user_id = 0;
}

static void recheck_credentials(struct loop *l)
{
    struct gate *g = l->gate;
    int64_t gen;
    if (store_cred_gen(g->store, &gen) < 0 || gen == g->cred_gen)
        return;
    g->cred_gen = gen;
    credcache_clear(&g->cc);
    g->epoch++;
    /* A user id may have gone, or (after a deletion) come back under another name. */
    for (unsigned i = 0; i < g->n_roots; i++) {
        struct user_root *r = &g->roots[i];
        struct store_user u;
        if (r->user_id && (store_user_get_id(g->store, r->user_id, &u) < 0 ||
                           strcmp(u.name, r->name) != 0))
            root_retire(g, r);
    }
    log_info("event=credentials_changed loop=%u gen=%lld", l->id, (long long)gen);
}

void gate_on_inotify(struct loop *l, int res)
{
    if (res < 0 && res != -EAGAIN && res != -EINTR) {
        log_warn("event=inotify_failed err=%d", res);
        return;
    }
    recheck_credentials(l);
    if (!l->draining)
        arm_inotify(l);
}

void gate_on_tick(struct loop *l)
{
    struct gate *g = l->gate;
    if (l->id != 0 || l->now_ms < g->next_purge_ms)
        return;
    g->next_purge_ms = l->now_ms + PURGE_EVERY_MS;
    int64_t now = wall_s();
    const struct session_limits *sl = &l->site->sessions;
    int rc = store_session_purge(g->store, now - sl->idle_s, now - sl->absolute_s);
    if (rc == 0)
        rc = store_failure_purge(g->store, now - FAILURES_KEPT_S);
    if (rc < 0)
        log_warn("event=purge_failed err=%d", rc);
}

bool gate_accept_ok(struct loop *l, const struct sockaddr *sa)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return !throttle_banned(l->site->throttle, sa,
                            (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* --- user folders --- */

int gate_user_root(struct loop *l, int64_t user_id)
{
    struct gate *g = l->gate;
    for (unsigned i = 0; i < g->n_roots; i++)
        if (g->roots[i].user_id == user_id)
            return g->roots[i].fd;
    struct store_user u;
    int rc = store_user_get_id(g->store, user_id, &u);
    if (rc < 0)
        return rc;
    int fd = fs_user_root_open(l->site->files_fd, u.name);
    if (fd == -ENOENT) {
        if (mkdirat(l->site->files_fd, u.name, 0750) < 0 && errno != EEXIST)
            return -errno;
        fd = fs_user_root_open(l->site->files_fd, u.name);
    }
    if (fd < 0)
        return fd;
    struct user_root *slot = NULL;
    for (unsigned i = 0; i < g->n_roots && !slot; i++)
        if (!g->roots[i].user_id)
            slot = &g->roots[i];
    if (!slot) {
        if (g->n_roots == g->cap_roots) {
            unsigned cap = g->cap_roots ? 2 * g->cap_roots : 8;
            struct user_root *r = realloc(g->roots, cap * sizeof(*r));
            if (!r) {
                close((int)fd);
                return -ENOMEM;
            }
            g->roots = r;
            g->cap_roots = cap;
        }
        slot = &g->roots[g->n_roots++];
    }
    slot->user_id = user_id;
    slot->fd = (int)fd;
    snprintf(slot->name, sizeof(slot->name), "%s", u.name);
    return (int)fd;
}

/* --- the pool side --- */

static void auth_run(struct work_item *w, struct work_env *env)
{
    struct store *st = env->store;
    struct auth_job *j = (struct auth_job *)w;
    const struct site *site = w->loop->site;
    struct store_user u;
    int rc = st ? -ENOENT : -EIO;
    bool app = false;

    if (st && j->name_valid)
        rc = store_user_get(st, j->name, &u);
    if (rc == 0) {
        if (j->kind == AUTH_BASIC && token_well_formed(j->secret, j->secret_len)) {
            uint8_t digest[TOKEN_DIGEST_LEN];
            struct store_token t;
            token_digest(j->secret, j->secret_len, digest);
            if (store_token_find(st, u.id, digest, &t) == 0) {
                app = true;
                store_token_touch(st, t.id, wall_s());
            }
        }
        if (!app)
            rc = pw_verify(u.hash, j->secret, j->secret_len);
    } else if (rc == -ENOENT) {
        pw_verify_dummy(j->secret, j->secret_len, &site->pw);
        rc = -EACCES;
    }
    if (rc == 0 && j->kind == AUTH_LOGIN)
        rc = session_create(st, u.id, wall_s(), j->cookie, j->csrf);
    sodium_memzero(j->secret, sizeof(j->secret));

    char addr[STORE_ADDR_MAX];
    addr_text(&j->peer.sa, addr);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    const char *via = j->kind == AUTH_LOGIN ? "form" : app ? "app_password" : "basic";
    const char *who = j->name_valid ? j->name : "(invalid)";
    if (rc == 0) {
        j->user_id = u.id;
        throttle_success(site->throttle, &j->peer.sa, now_ms);
        log_info("event=login_ok client=%s user=%s via=%s", addr, who, via);
    } else if (rc == -EACCES) {
        throttle_fail(site->throttle, &j->peer.sa, j->name_valid ? j->name : NULL, now_ms);
        if (st)
            store_failure_add(st, addr, who, wall_s());
        log_warn("event=login_failed client=%s user=%s via=%s", addr, who, via);
    } else {
        log_error("event=login_error client=%s user=%s err=%d", addr, who, rc);
    }
    j->rc = rc;
}

/* --- the loop side --- */

static void respond_401(struct conn *c)
{
    static const char body[] = "401 Unauthorized\n";
    conn_respond(c, 401, false,
                 "WWW-Authenticate: Basic realm=\"fastfile\", charset=\"UTF-8\"\r\n",
                 "text/plain; charset=utf-8", body, sizeof(body) - 1);
}

static void respond_wait(struct conn *c, int status, unsigned retry_after_s)
{
    char headers[48];
    snprintf(headers, sizeof(headers), "Retry-After: %u\r\n", retry_after_s);
    char body[64];
    int n = snprintf(body, sizeof(body), "%d %s\n", status,
                     status == 429 ? "Too Many Requests" : "Service Unavailable");
    conn_respond(c, status, false, headers, "text/plain; charset=utf-8", body, (size_t)n);
}

static void unlink_pending(struct gate *g, struct auth_job *j)
{
    for (struct auth_job **p = &g->pending; *p; p = &(*p)->next_pending) {
        if (*p == j) {
            *p = j->next_pending;
            return;
        }
    }
}

static void auth_done(struct work_item *w)
{
    struct auth_job *j = (struct auth_job *)w;
    struct loop *l = w->loop;
    struct gate *g = l->gate;

    if (j->kind == AUTH_BASIC) {
        unlink_pending(g, j);
        if (j->rc == 0 && j->epoch == g->epoch)
            credcache_insert(&g->cc, j->id, j->user_id, (int64_t)l->now_ms);
    }
    struct conn *c = j->waiters;
    while (c) {
        struct conn *next = c->auth_next;
        c->auth_next = NULL;
        c->inflight--;
        if (c->state == CONN_AUTH) {
            struct http_request *req = conn_scratch_request();
            conn_request(c, req);
            conn_set_state(c, CONN_HANDLE);
            if (j->kind == AUTH_LOGIN)
                login_finished(c, j->rc == 0        ? GATE_LOGIN_OK
                                  : j->rc == -EACCES ? GATE_LOGIN_DENIED
                                                     : GATE_LOGIN_ERROR,
                               0, j->cookie, j->csrf);
            else if (j->rc == 0)
                route_signed_in(c, req, j->user_id);
            else if (j->rc == -EACCES)
                respond_401(c);
            else
                conn_respond_simple(c, 500, true, NULL);
        }
        conn_settle(c);
        c = next;
    }
    sodium_memzero(j, sizeof(*j));
    free(j);
}

static void wait_for(struct conn *c, struct auth_job *j)
{
    c->auth_next = j->waiters;
    j->waiters = c;
    c->inflight++;
    conn_set_state(c, CONN_AUTH);
    /* Bounded by the send deadline like any response the client waits for. */
    loop_timer_set(c->loop, c, TIMER_SEND);
}

static struct auth_job *job_new(struct conn *c, enum auth_kind kind, const char *name,
                                size_t name_len, const char *secret, size_t secret_len)
{
    struct auth_job *j = calloc(1, sizeof(*j));
    if (!j)
        return NULL;
    j->w.loop = c->loop;
    j->w.run = auth_run;
    j->w.done = auth_done;
    j->kind = kind;
    j->epoch = c->loop->gate->epoch;
    j->peer = c->peer;
    if (name_len <= STORE_NAME_MAX) {
        memcpy(j->name, name, name_len);
        j->name[name_len] = '\0';
        j->name_valid = strlen(j->name) == name_len && store_name_valid(j->name);
    }
    memcpy(j->secret, secret, secret_len);
    j->secret_len = secret_len;
    return j;
}

static int64_t mono_now_ms(const struct loop *l)
{
    return (int64_t)l->now_ms;
}

/* A refused attempt (429) is a failed login too: recorded like the others, on the pool, so
 * that the count (and the ban it leads to) survives a restart. */
struct refusal {
    struct work_item w;
    union peer_addr peer;
    char name[STORE_NAME_MAX + 1];
};

static void refusal_run(struct work_item *w, struct work_env *env)
{
    struct store *st = env->store;
    struct refusal *r = (struct refusal *)w;
    char addr[STORE_ADDR_MAX];
    addr_text(&r->peer.sa, addr);
    if (st)
        store_failure_add(st, addr, r->name[0] ? r->name : NULL, wall_s());
}

static void refusal_done(struct work_item *w)
{
    free(w);
}

static void record_refusal(struct conn *c, const char *name)
{
    struct refusal *r = calloc(1, sizeof(*r));
    if (!r)
        return;
    r->w = (struct work_item){.loop = c->loop, .run = refusal_run, .done = refusal_done};
    r->peer = c->peer;
    if (name)
        snprintf(r->name, sizeof(r->name), "%s", name);
    /* A full queue drops the record, never the refusal. */
    if (work_submit(c->loop->site->work, &r->w) < 0)
        free(r);
}

/* The name as sent, for the throttle and the logs; "" when it cannot be a user name. */
static void name_copy(char out[STORE_NAME_MAX + 1], const char *name, size_t len)
{
    out[0] = '\0';
    if (len <= STORE_NAME_MAX) {
        memcpy(out, name, len);
        out[len] = '\0';
    }
}

/* Throttle before any verification. Returns true when the request may go on. */
static bool throttle_ok(struct conn *c, const char *name, unsigned *retry_after_s)
{
    const struct site *site = c->loop->site;
    enum throttle_verdict v = throttle_check(site->throttle, &c->peer.sa, name,
                                             mono_now_ms(c->loop), retry_after_s);
    if (v == THROTTLE_BANNED) {
        char addr[STORE_ADDR_MAX];
        addr_text(&c->peer.sa, addr);
        log_info("event=banned_client_closed client=%s", addr);
        conn_abort(c);
        return false;
    }
    if (v == THROTTLE_WAIT) {
        char addr[STORE_ADDR_MAX];
        addr_text(&c->peer.sa, addr);
        log_warn("event=login_refused client=%s user=%s retry_after_s=%u", addr,
                 name && store_name_valid(name) ? name : "(invalid)", *retry_after_s);
        record_refusal(c, name && store_name_valid(name) ? name : NULL);
    }
    return v == THROTTLE_OK;
}

/* Basic credentials from the Authorization header: decoded into buf. */
static int basic_parse(struct iov value, char buf[BASIC_MAX + 1], size_t *name_len,
                       size_t *secret_off, size_t *len)
{
    if (value.len < 6 || strncasecmp((const char *)value.base, "Basic ", 6) != 0)
        return -EINVAL;
    const char *b64 = (const char *)value.base + 6;
    size_t b64_len = value.len - 6;
    while (b64_len && *b64 == ' ') {
        b64++;
        b64_len--;
    }
    size_t n;
    if (sodium_base642bin((unsigned char *)buf, BASIC_MAX, b64, b64_len, NULL, &n, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0)
        return -EINVAL;
    buf[n] = '\0';
    const char *colon = memchr(buf, ':', n);
    if (!colon)
        return -EINVAL;
    *name_len = (size_t)(colon - buf);
    *secret_off = *name_len + 1;
    *len = n;
    return 0;
}

static bool method_is_safe(enum http_method m)
{
    return m == HTTP_M_GET || m == HTTP_M_HEAD || m == HTTP_M_OPTIONS || m == HTTP_M_PROPFIND ||
           m == HTTP_M_REPORT;
}

/*
 * A connection's clients send the same Authorization value on every request. Once the gate has
 * accepted one, the connection remembers a SipHash of it (keyed per loop, salted with the cache
 * epoch so that a credential change voids it) and the next requests skip decoding and the
 * cache: forging a matching tag without the key is a 2^-64 guess.
 */
static uint64_t auth_tag(const struct gate *g, struct iov value)
{
    uint8_t in[8 + 512];
    if (value.len > sizeof(in) - 8)
        return 0;
    memcpy(in, &g->epoch, 8);
    memcpy(in + 8, value.base, value.len);
    uint64_t tag;
    crypto_shorthash((unsigned char *)&tag, in, 8 + value.len, g->tag_key);
    return tag | 1; /* never 0, the "none" value */
}

static int64_t check_basic(struct conn *c, struct iov value)
{
    struct loop *l = c->loop;
    struct gate *g = l->gate;
    uint64_t tag = auth_tag(g, value);
    if (c->auth_user > 0 && tag == c->auth_tag)
        return c->auth_user;
    c->auth_user = 0;
    char buf[BASIC_MAX + 1];
    size_t name_len, secret_off, len;
    if (basic_parse(value, buf, &name_len, &secret_off, &len) < 0) {
        respond_401(c);
        return 0;
    }
    const char *name = buf, *secret = buf + secret_off;
    size_t secret_len = len - secret_off;
    uint8_t id[CREDCACHE_ID_LEN];
    credcache_id(&g->cc, name, name_len, secret, secret_len, id);
    int64_t user = credcache_lookup(&g->cc, id, mono_now_ms(l));
    if (user > 0) {
        sodium_memzero(buf, sizeof(buf));
        c->auth_tag = tag;
        c->auth_user = tag ? user : 0;
        return user;
    }
    /* The same credential already on its way: wait for that verification. */
    for (struct auth_job *j = g->pending; j; j = j->next_pending) {
        if (sodium_memcmp(j->id, id, sizeof(id)) == 0) {
            sodium_memzero(buf, sizeof(buf));
            wait_for(c, j);
            return 0;
        }
    }
    char who[STORE_NAME_MAX + 1];
    name_copy(who, name, name_len);
    unsigned retry = 0;
    if (!throttle_ok(c, who[0] ? who : NULL, &retry)) {
        sodium_memzero(buf, sizeof(buf));
        if (c->state != CONN_CLOSED)
            respond_wait(c, 429, retry);
        return 0;
    }
    if (secret_len > PW_MAX) {
        sodium_memzero(buf, sizeof(buf));
        respond_401(c);
        return 0;
    }
    struct auth_job *j = job_new(c, AUTH_BASIC, name, name_len, secret, secret_len);
    sodium_memzero(buf, sizeof(buf));
    if (!j) {
        conn_respond_simple(c, 503, false, NULL);
        return 0;
    }
    memcpy(j->id, id, sizeof(id));
    if (work_submit(l->site->work, &j->w) < 0) {
        free(j);
        respond_wait(c, 503, 1);
        return 0;
    }
    j->next_pending = g->pending;
    g->pending = j;
    wait_for(c, j);
    return 0;
}

int gate_session(struct loop *l, const struct http_request *req, struct store_session *s)
{
    struct iov v = http_cookie_find(req, GATE_COOKIE);
    if (!v.len)
        return -ENOENT;
    return session_lookup(l->gate->store, (const char *)v.base, v.len, &l->site->sessions,
                          wall_s(), s);
}

void gate_session_end(struct loop *l, const struct http_request *req)
{
    struct iov v = http_cookie_find(req, GATE_COOKIE);
    if (v.len)
        session_end(l->gate->store, (const char *)v.base, v.len);
}

int64_t gate_check(struct conn *c, const struct http_request *req)
{
    const struct http_header *h = http_header_find(req, "Authorization");
    if (h)
        return check_basic(c, h->value);
    struct store_session s;
    if (gate_session(c->loop, req, &s) == 0) {
        if (!method_is_safe(req->method)) {
            const struct http_header *t = http_header_find(req, GATE_CSRF_HEADER);
            if (!t || !session_csrf_ok(&s, (const char *)t->value.base, t->value.len)) {
                conn_respond_simple(c, 403, false, NULL);
                return 0;
            }
        }
        return s.user_id;
    }
    respond_401(c);
    return 0;
}

bool gate_login(struct conn *c, const char *name, size_t name_len, const char *pw,
                size_t pw_len)
{
    struct loop *l = c->loop;
    char who[STORE_NAME_MAX + 1];
    name_copy(who, name, name_len);
    unsigned retry = 0;
    if (!throttle_ok(c, who[0] ? who : NULL, &retry)) {
        if (c->state != CONN_CLOSED)
            login_finished(c, GATE_LOGIN_THROTTLED, retry, NULL, NULL);
        return false;
    }
    struct auth_job *j = pw_len <= PW_MAX ? job_new(c, AUTH_LOGIN, name, name_len, pw, pw_len)
                                          : NULL;
    if (!j || work_submit(l->site->work, &j->w) < 0) {
        free(j);
        login_finished(c, pw_len > PW_MAX ? GATE_LOGIN_DENIED : GATE_LOGIN_BUSY, 1, NULL,
                       NULL);
        return false;
    }
    wait_for(c, j);
    return true;
}
