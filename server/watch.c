/* SPDX-License-Identifier: MIT */
/*
 * The watcher thread (see watch.h): inotify events under DATA/files become a set of (user,
 * path) to sync, flushed after a quiet time.
 *
 * Watches are added through /proc/self/fd/N of a folder opened with fsx_open, so a symlink can
 * never make us watch (or list) anything outside the user's root. Symlinks are not descended:
 * a link to a folder of the same tree would be watched twice, a link loop never ends.
 *
 * A folder moved away from under a watched folder takes its watches along: they are removed on
 * IN_MOVED_FROM, and a folder moved in is listed and watched anew, so a watch always names the
 * path its folder has now.
 */
#include "watch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fs.h"
#include "fsx.h"
#include "index.h"
#include "log.h"
#include "store.h"

/* A window of events is synced once no event came for QUIET_MS, or CAP_MS after its first
 * event under a steady stream. */
#define QUIET_MS 200
#define CAP_MS 1000
/* At a CAP_MS flush a path touched in the last MIN_AGE_MS waits for the next window: the
 * server's own MOVE and DELETE change the disk first and the index just after, and a sync in
 * between would delete rows (ids, properties) the method is about to move. A path touched
 * without pause is still synced every STARVE_MS. */
#define MIN_AGE_MS 100
#define STARVE_MS 5000

/* The self events (IN_DELETE_SELF, IN_MOVE_SELF) are left out: the parent folder's watch
 * reports the same change by name, and IN_IGNORED (always sent) says when a watch is gone. */
#define DIR_MASK                                                                                  \
    (IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO |          \
     IN_ATTRIB | IN_EXCL_UNLINK | IN_ONLYDIR)
/* DATA/files itself: only user folders appearing matter (a first login creates one). */
#define TOP_MASK (IN_CREATE | IN_MOVED_TO | IN_ONLYDIR)
#define TOP_USER (-1)

/* A chained hash table of nodes that start with struct node; sizes are powers of two. */
struct node {
    struct node *next;
    uint64_t hash;
};

struct table {
    struct node **b;
    size_t nb, n;
};

struct wuser {
    int64_t id;
    int root_fd; /* O_PATH, DATA/files/NAME */
};

/* A watched folder: wd -> (user, path). */
struct wdir {
    struct node h; /* hash: the wd */
    int wd;
    int user; /* index into users, TOP_USER for DATA/files */
    char path[];
};

/* A path waiting for its sync. */
struct pend {
    struct node h;
    int user;
    int64_t first, last; /* ms, events seen */
    char path[];
};

/* Folders still to list while adding a tree. */
struct strvec {
    char **v;
    size_t n, cap;
};

struct watch {
    pthread_t thread;
    atomic_bool stop;
    int ifd, stop_fd, files_fd;
    struct store *st;
    struct dav_index *ix;
    struct wuser *users;
    size_t nusers, users_cap;
    struct table dirs, pend;
    int64_t win_first, win_last; /* the open window, 0: none */
    bool warned_limit, warned_nomem;
    atomic_bool *covered; /* the caller's: true while every folder is watched */
    bool catching_up;     /* a scan's paths are not all synced yet: *covered stays false */
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- the hash table --- */

static int tab_grow(struct table *t)
{
    size_t nb = t->nb ? t->nb * 2 : 64;
    struct node **b = calloc(nb, sizeof(*b));
    if (!b)
        return -ENOMEM;
    for (size_t i = 0; i < t->nb; i++) {
        while (t->b[i]) {
            struct node *x = t->b[i];
            t->b[i] = x->next;
            x->next = b[x->hash & (nb - 1)];
            b[x->hash & (nb - 1)] = x;
        }
    }
    free(t->b);
    t->b = b;
    t->nb = nb;
    return 0;
}

static int tab_add(struct table *t, struct node *x)
{
    if (t->n >= t->nb && tab_grow(t) < 0)
        return -ENOMEM;
    struct node **slot = &t->b[x->hash & (t->nb - 1)];
    x->next = *slot;
    *slot = x;
    t->n++;
    return 0;
}

static struct node *tab_head(const struct table *t, uint64_t hash)
{
    return t->nb ? t->b[hash & (t->nb - 1)] : NULL;
}

static void tab_del(struct table *t, struct node *x)
{
    struct node **p = &t->b[x->hash & (t->nb - 1)];
    while (*p != x)
        p = &(*p)->next;
    *p = x->next;
    t->n--;
    free(x);
}

static void tab_release(struct table *t)
{
    for (size_t i = 0; i < t->nb; i++) {
        while (t->b[i]) {
            struct node *x = t->b[i];
            t->b[i] = x->next;
            free(x);
        }
    }
    free(t->b);
}

static uint64_t hash_wd(int wd)
{
    return (uint64_t)wd * 0x9E3779B97F4A7C15ull >> 7;
}

static uint64_t hash_path(int user, const char *path)
{
    uint64_t h = 0xcbf29ce484222325ull ^ (uint64_t)user;
    for (const unsigned char *p = (const unsigned char *)path; *p; p++)
        h = (h ^ *p) * 0x100000001b3ull;
    return h;
}

static bool path_at_or_below(const char *path, const char *top)
{
    size_t n = strlen(top);
    return strncmp(path, top, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* parent/name into out (DAV_INDEX_PATH_MAX + 1 bytes); -EINVAL when it is no index path. */
static int join(char *out, const char *parent, const char *name)
{
    int n = snprintf(out, DAV_INDEX_PATH_MAX + 1, "%s%s%s", parent, parent[0] ? "/" : "", name);
    if (n < 0 || n > DAV_INDEX_PATH_MAX)
        return -ENAMETOOLONG;
    return dav_index_path_valid(out) ? 0 : -EINVAL;
}

static void nomem(struct watch *w)
{
    if (!w->warned_nomem)
        log_error("event=watch_nomem (changes made outside the server may be missed)");
    w->warned_nomem = true;
    atomic_store(w->covered, false);
}

/* --- the paths to sync --- */

static int pend_add(struct watch *w, int user, const char *path)
{
    int64_t now = now_ms();
    uint64_t hash = hash_path(user, path);
    if (!w->win_first)
        w->win_first = now;
    w->win_last = now;
    for (struct node *x = tab_head(&w->pend, hash); x; x = x->next) {
        struct pend *p = (struct pend *)x;
        if (x->hash == hash && p->user == user && strcmp(p->path, path) == 0) {
            p->last = now;
            return 0;
        }
    }
    size_t len = strlen(path);
    struct pend *p = malloc(sizeof(*p) + len + 1);
    if (p) {
        p->h.hash = hash;
        p->user = user;
        p->first = p->last = now;
        memcpy(p->path, path, len + 1);
    }
    if (!p || tab_add(&w->pend, &p->h) < 0) {
        free(p);
        nomem(w);
        return -ENOMEM;
    }
    return 0;
}

/* Bring the index in line with the disk for one path. -EBUSY: try again later. */
static int sync_one(struct watch *w, const struct pend *p)
{
    const struct wuser *u = &w->users[p->user];
    struct dav_stat st;
    int rc = fsx_stat(u->root_fd, p->path, &st);
    /* A symlink that leads out of the root (-EXDEV, -ELOOP) is the method layer's to refuse;
     * a vanished user root is no reason to empty the index. */
    if (rc < 0 && ((rc != -ENOENT && rc != -ENOTDIR) || !p->path[0]))
        return 0;
    bool changed = false;
    rc = dav_index_sync(w->ix, u->id, p->path, rc == 0 ? &st : NULL, &changed, NULL);
    if (rc < 0 && rc != -EBUSY)
        log_warn("event=watch_sync_failed user_id=%lld err=%d", (long long)u->id, rc);
    else if (changed)
        log_debug("event=watch_synced user_id=%lld path_len=%zu", (long long)u->id,
                  strlen(p->path));
    return rc;
}

static void flush(struct watch *w, int64_t now)
{
    size_t kept = 0;
    for (size_t i = 0; i < w->pend.nb; i++) {
        struct node **pp = &w->pend.b[i];
        while (*pp) {
            struct pend *p = (struct pend *)*pp;
            bool is_due = now - p->last >= MIN_AGE_MS || now - p->first >= STARVE_MS;
            if (!is_due || sync_one(w, p) == -EBUSY) {
                kept++;
                pp = &(*pp)->next;
                continue;
            }
            *pp = p->h.next;
            w->pend.n--;
            free(p);
        }
    }
    w->win_first = w->win_last = kept ? now : 0;
    /* From here on the index follows every folder (unless a limit was hit on the way). */
    if (w->catching_up && !kept) {
        w->catching_up = false;
        atomic_store(w->covered, !w->warned_limit && !w->warned_nomem);
    }
}

/* Milliseconds until the open window is due, -1 when there is none. */
static int timeout_ms(const struct watch *w, int64_t now)
{
    if (!w->win_first)
        return -1;
    int64_t due = w->win_last + QUIET_MS;
    if (due > w->win_first + CAP_MS)
        due = w->win_first + CAP_MS;
    return due <= now ? 0 : (int)(due - now);
}

/* --- watched folders --- */

static struct wdir *dir_find(struct watch *w, int wd)
{
    for (struct node *x = tab_head(&w->dirs, hash_wd(wd)); x; x = x->next)
        if (((struct wdir *)x)->wd == wd)
            return (struct wdir *)x;
    return NULL;
}

/* Record that wd watches user's path; the kernel hands out the same wd again for a folder
 * already watched, which then has moved. */
static int dir_set(struct watch *w, int wd, int user, const char *path)
{
    struct wdir *d = dir_find(w, wd);
    if (d && d->user == user && strcmp(d->path, path) == 0)
        return 0;
    if (d)
        tab_del(&w->dirs, &d->h);
    size_t len = strlen(path);
    d = malloc(sizeof(*d) + len + 1);
    if (d) {
        d->h.hash = hash_wd(wd);
        d->wd = wd;
        d->user = user;
        memcpy(d->path, path, len + 1);
    }
    if (!d || tab_add(&w->dirs, &d->h) < 0) {
        free(d);
        inotify_rm_watch(w->ifd, wd);
        nomem(w);
        return -ENOMEM;
    }
    return 0;
}

/* Forget the watches of user's folder top and below: it has moved away. */
static void drop_subtree(struct watch *w, int user, const char *top)
{
    for (size_t i = 0; i < w->dirs.nb; i++) {
        struct node **pp = &w->dirs.b[i];
        while (*pp) {
            struct wdir *d = (struct wdir *)*pp;
            if (d->user != user || !path_at_or_below(d->path, top)) {
                pp = &(*pp)->next;
                continue;
            }
            /* Its IN_IGNORED finds no entry any more; a fresh watch gets a fresh wd. */
            inotify_rm_watch(w->ifd, d->wd);
            *pp = d->h.next;
            w->dirs.n--;
            free(d);
        }
    }
}

static int watch_fd(struct watch *w, int fd, uint32_t mask)
{
    char proc[32];
    snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
    int wd = inotify_add_watch(w->ifd, proc, mask);
    if (wd >= 0)
        return wd;
    int err = -errno;
    if (err == -ENOSPC)
        atomic_store(w->covered, false);
    if (err == -ENOSPC && !w->warned_limit) {
        w->warned_limit = true;
        log_warn("event=watch_limit (fs.inotify.max_user_watches reached: changes made outside "
                 "the server in further folders show when a request touches them)");
    }
    return err;
}

static int strvec_push(struct strvec *v, const char *s)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 16;
        char **nv = realloc(v->v, cap * sizeof(*nv));
        if (!nv)
            return -ENOMEM;
        v->v = nv;
        v->cap = cap;
    }
    v->v[v->n] = strdup(s);
    return v->v[v->n++] ? 0 : -ENOMEM;
}

static void strvec_release(struct strvec *v)
{
    while (v->n)
        free(v->v[--v->n]);
    free(v->v);
}

static bool is_dir(DIR *dp, const struct dirent *de)
{
    if (de->d_type != DT_UNKNOWN)
        return de->d_type == DT_DIR;
    struct stat sb;
    return fstatat(dirfd(dp), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(sb.st_mode);
}

/* Watch folder path, then queue its members (what appeared before the watch took hold is
 * caught by the listing) and push its subfolders onto todo. Only -ENOMEM is an error: a folder
 * gone meanwhile is its parent's event. */
static int add_dir(struct watch *w, int user, const char *path, struct strvec *todo)
{
    int fd = fsx_open(w->users[user].root_fd, path, O_RDONLY | O_DIRECTORY, 0);
    if (fd < 0)
        return 0;
    int wd = watch_fd(w, fd, DIR_MASK);
    int rc = wd >= 0 ? dir_set(w, wd, user, path) : 0;
    DIR *dp = rc == 0 ? fdopendir(fd) : NULL;
    if (!dp) {
        close(fd);
        return rc;
    }
    char child[DAV_INDEX_PATH_MAX + 1];
    for (;;) {
        struct dirent *de = readdir(dp);
        if (!de || rc < 0)
            break;
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
            join(child, path, de->d_name) < 0)
            continue;
        rc = pend_add(w, user, child);
        if (rc == 0 && is_dir(dp, de))
            rc = strvec_push(todo, child);
    }
    closedir(dp);
    return rc;
}

/* Watch user's folder path and everything below it, and queue it all for a sync. */
static void add_tree(struct watch *w, int user, const char *path)
{
    struct strvec todo = {0};
    int rc = pend_add(w, user, path);
    if (rc == 0)
        rc = strvec_push(&todo, path);
    while (rc == 0 && todo.n && !atomic_load(&w->stop)) {
        char *dir = todo.v[--todo.n];
        rc = add_dir(w, user, dir, &todo);
        free(dir);
    }
    if (rc < 0)
        nomem(w);
    strvec_release(&todo);
}

/* --- users --- */

struct sweep {
    struct watch *w;
    int user;
};

static int sweep_cb(void *ctx, const struct dav_entry *e)
{
    struct sweep *s = ctx;
    return pend_add(s->w, s->user, e->path);
}

/* Queue every path the index has for user: the ones gone from the disk are deleted. */
static void sweep(struct watch *w, int user)
{
    struct sweep s = {.w = w, .user = user};
    int rc = dav_index_walk(w->ix, w->users[user].id, "", SIZE_MAX, sweep_cb, &s);
    if (rc < 0 && rc != -ENOENT)
        log_warn("event=watch_sweep_failed user_id=%lld err=%d", (long long)w->users[user].id,
                 rc);
}

static int user_slot(struct watch *w, int64_t id)
{
    for (size_t i = 0; i < w->nusers; i++)
        if (w->users[i].id == id)
            return (int)i;
    if (w->nusers == w->users_cap) {
        size_t cap = w->users_cap ? w->users_cap * 2 : 8;
        struct wuser *nu = realloc(w->users, cap * sizeof(*nu));
        if (!nu)
            return -ENOMEM;
        w->users = nu;
        w->users_cap = cap;
    }
    w->users[w->nusers] = (struct wuser){.id = id, .root_fd = -1};
    return (int)w->nusers++;
}

/* DATA/files/name is there: when it belongs to a user, watch it all and catch up with the
 * disk (its folder may be new, or replaced, or events were lost). */
static void user_scan(struct watch *w, const char *name)
{
    struct store_user su;
    if (!store_name_valid(name))
        return;
    int rc = store_user_get(w->st, name, &su);
    if (rc < 0) {
        if (rc != -ENOENT)
            log_warn("event=watch_user_failed err=%d", rc);
        return;
    }
    /* As the gate opens it: a link standing in for a user's folder is nobody's tree. */
    int fd = fs_user_root_open(w->files_fd, name);
    if (fd < 0)
        return;
    int u = user_slot(w, su.id);
    if (u < 0) {
        close(fd);
        nomem(w);
        return;
    }
    if (w->users[u].root_fd >= 0)
        close(w->users[u].root_fd);
    w->users[u].root_fd = fd;
    add_tree(w, u, "");
    sweep(w, u);
}

/* Every user folder, from the top: at start and after lost events. */
static void scan_all(struct watch *w)
{
    int fd = fsx_open(w->files_fd, "", O_RDONLY | O_DIRECTORY, 0);
    DIR *dp = fd >= 0 ? fdopendir(fd) : NULL;
    if (!dp) {
        log_error("event=watch_scan_failed err=%d", fd < 0 ? fd : -errno);
        if (fd >= 0)
            close(fd);
        return;
    }
    for (;;) {
        struct dirent *de = readdir(dp);
        if (!de || atomic_load(&w->stop))
            break;
        if (is_dir(dp, de))
            user_scan(w, de->d_name);
    }
    closedir(dp);
}

/* --- events --- */

static void on_event(struct watch *w, const struct inotify_event *ev)
{
    if (ev->mask & IN_Q_OVERFLOW) {
        log_warn("event=watch_overflow action=rescan");
        /* Events were lost: until the rescan is synced the index may be behind. */
        atomic_store(w->covered, false);
        w->catching_up = true;
        scan_all(w);
        return;
    }
    struct wdir *d = dir_find(w, ev->wd);
    if (!d)
        return;
    if (ev->mask & IN_IGNORED) {
        tab_del(&w->dirs, &d->h);
        return;
    }
    if (!ev->len)
        return;
    if (d->user == TOP_USER) {
        if (ev->mask & IN_ISDIR)
            user_scan(w, ev->name);
        return;
    }
    int user = d->user;
    char child[DAV_INDEX_PATH_MAX + 1];
    if (join(child, d->path, ev->name) < 0)
        return;
    bool is_dir_event = ev->mask & IN_ISDIR;
    if (is_dir_event && (ev->mask & IN_MOVED_FROM))
        drop_subtree(w, user, child);
    if (is_dir_event && (ev->mask & (IN_CREATE | IN_MOVED_TO)))
        add_tree(w, user, child);
    else
        pend_add(w, user, child);
}

static void read_events(struct watch *w)
{
    char buf[65536] __attribute__((aligned(__alignof__(struct inotify_event))));
    for (;;) {
        ssize_t n = read(w->ifd, buf, sizeof(buf));
        if (n <= 0) {
            if (n < 0 && errno != EAGAIN && errno != EINTR)
                log_error("event=watch_read_failed err=%d", -errno);
            return;
        }
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *ev = (const struct inotify_event *)p;
            on_event(w, ev);
            p += sizeof(*ev) + ev->len;
        }
    }
}

static void *watch_main(void *arg)
{
    struct watch *w = arg;
    w->catching_up = true;
    scan_all(w);
    /* Everything the scan found is due now: the index catches up before anything trusts it. */
    flush(w, now_ms() + STARVE_MS);
    log_info("event=watch_ready users=%zu folders=%zu", w->nusers, w->dirs.n - 1);
    while (!atomic_load(&w->stop)) {
        struct pollfd pf[2] = {{.fd = w->stop_fd, .events = POLLIN},
                               {.fd = w->ifd, .events = POLLIN}};
        int n = poll(pf, 2, timeout_ms(w, now_ms()));
        if (n < 0 && errno != EINTR) {
            log_error("event=watch_poll_failed err=%d", -errno);
            atomic_store(w->covered, false);
            break;
        }
        if (n > 0 && (pf[1].revents & POLLIN))
            read_events(w);
        int64_t now = now_ms();
        if (w->win_first && timeout_ms(w, now) == 0)
            flush(w, w->catching_up ? now + STARVE_MS : now);
    }
    return NULL;
}

/* --- start and stop --- */

static void watch_free(struct watch *w)
{
    tab_release(&w->dirs);
    tab_release(&w->pend);
    for (size_t i = 0; i < w->nusers; i++)
        if (w->users[i].root_fd >= 0)
            close(w->users[i].root_fd);
    free(w->users);
    dav_index_close(w->ix);
    if (w->st)
        store_close(w->st);
    if (w->files_fd >= 0)
        close(w->files_fd);
    if (w->stop_fd >= 0)
        close(w->stop_fd);
    if (w->ifd >= 0)
        close(w->ifd);
    free(w);
}

static int open_handles(struct watch *w, const char *data_dir, int files_fd)
{
    w->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (w->ifd < 0)
        return -errno;
    w->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (w->stop_fd < 0)
        return -errno;
    w->files_fd = fcntl(files_fd, F_DUPFD_CLOEXEC, 3);
    if (w->files_fd < 0)
        return -errno;
    char err[256];
    int rc = store_open(data_dir, &w->st, err, sizeof(err));
    if (rc == 0)
        rc = dav_index_open(data_dir, NULL, &w->ix, err, sizeof(err));
    if (rc < 0) {
        log_error("event=watch_db_failed err=%d msg=\"%s\"", rc, err);
        return rc;
    }
    int wd = watch_fd(w, w->files_fd, TOP_MASK);
    return wd < 0 ? wd : dir_set(w, wd, TOP_USER, "");
}

int watch_start(struct watch **out, const char *data_dir, int files_fd, atomic_bool *covered)
{
    struct watch *w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    w->covered = covered;
    w->ifd = w->stop_fd = w->files_fd = -1;
    int rc = open_handles(w, data_dir, files_fd);
    if (rc == 0)
        rc = -pthread_create(&w->thread, NULL, watch_main, w);
    if (rc < 0) {
        watch_free(w);
        return rc;
    }
    *out = w;
    return 0;
}

void watch_stop(struct watch *w)
{
    if (!w)
        return;
    atomic_store(&w->stop, true);
    atomic_store(w->covered, false);
    uint64_t one = 1;
    if (write(w->stop_fd, &one, sizeof(one)) < 0)
        log_warn("event=watch_stop_signal_failed err=%d", -errno);
    pthread_join(w->thread, NULL);
    watch_free(w);
}
