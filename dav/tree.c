/* SPDX-License-Identifier: MIT */
/*
 * Recursive removal, crash-safe copy and index sync for DELETE, COPY and MOVE (see tree.h).
 *
 * A folder's names are read in one go before its members are touched, so no directory stream
 * stays open while the walk goes deeper, and removing or adding entries cannot confuse readdir.
 *
 * Known gaps: FIFOs, sockets and devices are not copied (their members answer 403); a copy
 * keeps permission bits but not times, owners or extended attributes; a path longer than
 * DAV_INDEX_PATH_MAX is still removed or copied, but a failure there is reported under its
 * deepest ancestor that fits, and the index does not know it.
 */
#include "tree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsx.h"

#define COPY_BUF (128 * 1024)
#define TEMP_NAME_MAX 32

/* --- the names of a folder --- */

struct names {
    char *buf; /* NUL-separated */
    size_t len, cap;
    size_t n;
};

static void names_free(struct names *nm)
{
    free(nm->buf);
}

static int names_add(struct names *nm, const char *name)
{
    size_t l = strlen(name) + 1;
    if (nm->cap - nm->len < l) {
        size_t cap = nm->cap ? nm->cap : 1024;
        while (cap - nm->len < l)
            cap *= 2;
        char *p = realloc(nm->buf, cap);
        if (!p)
            return -ENOMEM;
        nm->buf = p;
        nm->cap = cap;
    }
    memcpy(nm->buf + nm->len, name, l);
    nm->len += l;
    nm->n++;
    return 0;
}

/* Every name in folder dir_fd (an O_PATH descriptor will do) but "." and "..". */
static int read_names(int dir_fd, struct names *nm)
{
    /* A descriptor of its own: readdir's offset is not shared with dir_fd. */
    int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    DIR *d = fdopendir(fd);
    if (!d) {
        int rc = -errno;
        close(fd);
        return rc;
    }
    int rc = 0;
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (!de) {
            rc = -errno;
            break;
        }
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        rc = names_add(nm, de->d_name);
        if (rc)
            break;
    }
    closedir(d);
    return rc;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The names in bytewise order (the index's), as pointers into nm (*v: free() it). */
static int names_sorted(const struct names *nm, const char ***v)
{
    *v = malloc((nm->n ? nm->n : 1) * sizeof(**v));
    if (!*v)
        return -ENOMEM;
    size_t i = 0;
    for (size_t off = 0; off < nm->len; off += strlen(nm->buf + off) + 1)
        (*v)[i++] = nm->buf + off;
    qsort(*v, nm->n, sizeof(**v), cmp_name);
    return 0;
}

/* --- the path of the entry a walk is at --- */

struct walk {
    char path[DAV_INDEX_PATH_MAX + 1];
    size_t len;
    unsigned over;       /* levels below path that did not fit */
    char link[PATH_MAX]; /* a link's target while it is copied (off the stack: walks recurse) */
};

static void walk_init(struct walk *w, const char *path)
{
    w->len = strlen(path);
    memcpy(w->path, path, w->len + 1);
    w->over = 0;
}

/* Descend to name: -ENAMETOOLONG when the path would not fit (it then stays as it was). */
static int walk_in(struct walk *w, const char *name)
{
    size_t l = strlen(name);
    size_t sep = w->len ? 1 : 0;
    if (w->over || w->len + sep + l > DAV_INDEX_PATH_MAX) {
        w->over++;
        return -ENAMETOOLONG;
    }
    if (sep)
        w->path[w->len] = '/';
    memcpy(w->path + w->len + sep, name, l + 1);
    w->len += sep + l;
    return 0;
}

static void walk_out(struct walk *w)
{
    if (w->over) {
        w->over--;
        return;
    }
    char *slash = strrchr(w->path, '/');
    w->len = slash ? (size_t)(slash - w->path) : 0;
    w->path[w->len] = '\0';
}

/* The member at w failed with err; the walk's ancestors then stay too, unreported (§9.6.1). */
static void report(struct dav_tree *t, const struct walk *w, bool is_dir, int err)
{
    t->failed++;
    if (t->fail && !t->stop)
        t->stop = t->fail(t->ctx, w->path, is_dir, err);
}

/* --- removal --- */

static int remove_name(struct dav_tree *t, struct walk *w, int dir_fd, const char *name,
                       bool *is_dir);

/* Remove every member of folder dir_fd: 0 when it is empty, -ENOTEMPTY when members stay
 * (each reported), another -errno when it could not be read (not reported). */
static int remove_in(struct dav_tree *t, struct walk *w, int dir_fd)
{
    struct names nm = {0};
    bool is_left = false, is_changed = false;
    int rc = read_names(dir_fd, &nm);
    for (size_t off = 0; rc == 0 && !t->stop && off < nm.len; off += strlen(nm.buf + off) + 1) {
        const char *name = nm.buf + off;
        size_t before = t->failed;
        bool is_dir = false;
        (void)walk_in(w, name); /* too long: reports name the deepest ancestor that fits */
        int r = remove_name(t, w, dir_fd, name, &is_dir);
        if (r == -ENOENT) /* gone meanwhile: what DELETE wanted */
            r = 0;
        if (r && t->failed == before)
            report(t, w, is_dir, r);
        walk_out(w);
        if (r)
            is_left = true;
        else
            is_changed = true;
    }
    names_free(&nm);
    if (rc)
        return rc;
    if (t->stop)
        return -ENOTEMPTY;
    /* The folder stays: make the removals in it durable, as the parent's fsync does for a
     * folder that went as a whole. */
    if (is_left && is_changed && fsync(dir_fd) < 0)
        return -errno;
    return is_left ? -ENOTEMPTY : 0;
}

/* Remove name in folder dir_fd (w at it), never following a link: 0, -ENOTEMPTY when members
 * stay (reported), or the -errno of name itself (not reported). */
static int remove_name(struct dav_tree *t, struct walk *w, int dir_fd, const char *name,
                       bool *is_dir)
{
    struct stat sb;
    if (fstatat(dir_fd, name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
        return -errno;
    *is_dir = S_ISDIR(sb.st_mode);
    if (!*is_dir)
        return unlinkat(dir_fd, name, 0) < 0 ? -errno : 0;
    /* O_NOFOLLOW: had a link replaced the folder since fstatat, this fails (ELOOP). */
    int fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = remove_in(t, w, fd);
    close(fd);
    if (rc == 0 && unlinkat(dir_fd, name, AT_REMOVEDIR) < 0)
        rc = -errno;
    return rc;
}

int dav_tree_remove(struct dav_tree *t, const char *path)
{
    char name[FSX_NAME_MAX + 1];
    struct walk *w = malloc(sizeof(*w));
    if (!w)
        return -ENOMEM;
    int dir = fsx_parent(t->root_fd, path, name);
    int rc = dir < 0 ? dir : 0;
    if (rc == 0) {
        bool is_dir;
        walk_init(w, path);
        rc = remove_name(t, w, dir, name, &is_dir);
        int src = dav_tree_fsync_dir(dir);
        if (rc == 0)
            rc = src;
        close(dir);
    }
    free(w);
    return t->stop ? t->stop : rc;
}

int dav_tree_empty(int dir_fd)
{
    struct names nm = {0};
    int rc = read_names(dir_fd, &nm);
    struct dav_tree t = {.root_fd = dir_fd, .stage_fd = dir_fd};
    int n = 0;
    for (size_t off = 0; rc == 0 && off < nm.len; off += strlen(nm.buf + off) + 1) {
        if (dav_tree_remove(&t, nm.buf + off) == 0)
            n++;
    }
    names_free(&nm);
    return rc < 0 ? rc : n;
}

/* --- copy --- */

/* A name for something being built: hidden, random, so a crash leaves nothing a client sees
 * under a name it knows, and two copies never collide. */
static int temp_name(char out[TEMP_NAME_MAX])
{
    uint64_t r;
    if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
        return -EIO;
    snprintf(out, TEMP_NAME_MAX, ".ff-copy-%016" PRIx64, r);
    return 0;
}

static int copy_rw(int in, int out)
{
    char *buf = malloc(COPY_BUF);
    if (!buf)
        return -ENOMEM;
    int rc = 0;
    for (;;) {
        ssize_t n = read(in, buf, COPY_BUF);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = n < 0 ? -errno : 0;
            break;
        }
        for (ssize_t done = 0; rc == 0 && done < n;) {
            ssize_t m = write(out, buf + done, (size_t)(n - done));
            if (m < 0 && errno != EINTR)
                rc = -errno;
            else if (m > 0)
                done += m;
        }
        if (rc)
            break;
    }
    free(buf);
    return rc;
}

/* All of in (from its offset) to out: in the kernel (reflinks where the file system has them),
 * or through a buffer where copy_file_range cannot. */
static int copy_data(int in, int out)
{
    for (;;) {
        ssize_t n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
        if (n > 0)
            continue;
        if (n == 0)
            return 0;
        if (errno == EINTR)
            continue;
        /* Both offsets moved by what was copied: the fallback goes on from there. */
        if (errno == EXDEV || errno == EINVAL || errno == EOPNOTSUPP || errno == ENOSYS)
            return copy_rw(in, out);
        return -errno;
    }
}

/* Are folders a and b on one mount, so that a rename can go from one to the other? */
static bool same_mount(int a, int b)
{
    struct statx sa, sb;
    if (statx(a, "", AT_EMPTY_PATH, STATX_MNT_ID, &sa) < 0 ||
        statx(b, "", AT_EMPTY_PATH, STATX_MNT_ID, &sb) < 0)
        return false;
    return (sa.stx_mask & sb.stx_mask & STATX_MNT_ID) && sa.stx_mnt_id == sb.stx_mnt_id;
}

/* Copy the regular file in to name in dir_fd, fsynced. Only inside a folder being built, which
 * nobody sees before it is renamed into place: a half-written name there is harmless. */
static int copy_member_file(int in, int dir_fd, const char *name, mode_t mode)
{
    int out = openat(dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (out < 0)
        return -errno;
    int rc = copy_data(in, out);
    if (rc == 0 && fsync(out) < 0)
        rc = -errno;
    close(out);
    /* Best effort: the member is reported failed either way; a half copy would mislead. */
    if (rc)
        (void)unlinkat(dir_fd, name, 0);
    return rc;
}

static int copy_in(struct dav_tree *t, struct walk *w, int src_fd, int dst_fd);

/* Copy member name of folder src_fd into folder dst_fd (w at its destination path): 0,
 * -ENOTEMPTY (members of a folder failed, reported) or name's own -errno (not reported). */
static int copy_member(struct dav_tree *t, struct walk *w, int src_fd, int dst_fd, const char *name,
                       bool *is_dir)
{
    struct stat sb;
    if (fstatat(src_fd, name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
        return -errno;
    mode_t mode = sb.st_mode & 0777;
    if (S_ISLNK(sb.st_mode)) {
        /* Copied as a link: following it could leave the root or loop. */
        ssize_t n = readlinkat(src_fd, name, w->link, sizeof(w->link));
        if (n < 0)
            return -errno;
        if ((size_t)n >= sizeof(w->link))
            return -ENAMETOOLONG;
        w->link[n] = '\0';
        return symlinkat(w->link, dst_fd, name) < 0 ? -errno : 0;
    }
    if (S_ISREG(sb.st_mode)) {
        /* O_NONBLOCK: were it swapped for a FIFO meanwhile, the open must not wait. */
        int in = openat(src_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (in < 0)
            return -errno;
        int rc = fstat(in, &sb) < 0 ? -errno : S_ISREG(sb.st_mode) ? 0 : -EPERM;
        if (rc == 0)
            rc = copy_member_file(in, dst_fd, name, mode);
        close(in);
        return rc;
    }
    if (!S_ISDIR(sb.st_mode))
        return -EPERM;
    *is_dir = true;
    int in = openat(src_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (in < 0)
        return -errno;
    int out = -1;
    /* Writable while it fills, whatever the source's bits; they are set at the end. */
    int rc = mkdirat(dst_fd, name, 0700) < 0 ? -errno : 0;
    if (rc == 0) {
        out = openat(dst_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (out < 0)
            rc = -errno;
    }
    if (rc == 0)
        rc = copy_in(t, w, in, out);
    if ((rc == 0 || rc == -ENOTEMPTY) && (fchmod(out, mode) < 0 || fsync(out) < 0))
        rc = -errno;
    if (out >= 0)
        close(out);
    close(in);
    /* The folder could not be read at all: no empty stand-in for it (best effort). */
    if (rc && rc != -ENOTEMPTY && out >= 0)
        (void)unlinkat(dst_fd, name, AT_REMOVEDIR);
    return rc;
}

/* Copy every member of folder src_fd into the new folder dst_fd: 0, -ENOTEMPTY when members
 * failed (reported), another -errno when src_fd could not be read (not reported). */
static int copy_in(struct dav_tree *t, struct walk *w, int src_fd, int dst_fd)
{
    struct names nm = {0};
    bool is_left = false;
    int rc = read_names(src_fd, &nm);
    for (size_t off = 0; rc == 0 && !t->stop && off < nm.len; off += strlen(nm.buf + off) + 1) {
        const char *name = nm.buf + off;
        size_t before = t->failed;
        bool is_dir = false;
        (void)walk_in(w, name); /* too long: reports name the deepest ancestor that fits */
        int r = copy_member(t, w, src_fd, dst_fd, name, &is_dir);
        if (r == -ENOENT) /* gone from the source meanwhile: nothing to copy */
            r = 0;
        if (r && t->failed == before)
            report(t, w, is_dir, r);
        walk_out(w);
        if (r)
            is_left = true;
    }
    names_free(&nm);
    if (rc)
        return rc;
    return is_left || t->stop ? -ENOTEMPTY : 0;
}

/* Link the open (O_TMPFILE) file fd into folder dir_fd under a new temporary name. */
static int link_temp(int fd, int dir_fd, char tmp[TEMP_NAME_MAX])
{
    char proc[32];
    int rc = temp_name(tmp);
    if (rc)
        return rc;
    snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
    return linkat(AT_FDCWD, proc, dir_fd, tmp, AT_SYMLINK_FOLLOW) < 0 ? -errno : 0;
}

int dav_tree_install(int fd, int build_fd, int dir_fd, const char *name)
{
    char tmp[TEMP_NAME_MAX];
    int rc = link_temp(fd, build_fd, tmp);
    if (rc == 0 && renameat(build_fd, tmp, dir_fd, name) < 0) {
        rc = -errno;
        /* Best effort: left behind in the stage, it would go at the next start anyway. */
        (void)unlinkat(build_fd, tmp, 0);
    }
    return rc;
}

/* A file: written unnamed in its destination folder, fsynced, named in build_fd, renamed. */
static int copy_top_file(int in, mode_t mode, int build_fd, int dir_fd, const char *name)
{
    int out = openat(dir_fd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, mode);
    if (out < 0)
        return -errno;
    int rc = copy_data(in, out);
    if (rc == 0 && fsync(out) < 0)
        rc = -errno;
    if (rc == 0)
        rc = dav_tree_install(out, build_fd, dir_fd, name);
    close(out);
    return rc;
}

/* A folder: built complete under a temporary name in build_fd, then renamed into place. */
static int copy_top_dir(struct dav_tree *t, struct walk *w, int in, mode_t mode, int build_fd,
                        int dir_fd, const char *name, bool is_recursive)
{
    char tmp[TEMP_NAME_MAX];
    int rc = temp_name(tmp);
    if (rc)
        return rc;
    if (mkdirat(build_fd, tmp, 0700) < 0)
        return -errno;
    int out = openat(build_fd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (out < 0)
        rc = -errno;
    if (rc == 0 && is_recursive)
        rc = copy_in(t, w, in, out);
    if ((rc == 0 || rc == -ENOTEMPTY) && (fchmod(out, mode) < 0 || fsync(out) < 0))
        rc = -errno;
    if (out >= 0)
        close(out);
    if ((rc == 0 || rc == -ENOTEMPTY) && renameat(build_fd, tmp, dir_fd, name) < 0)
        rc = -errno;
    if (rc && rc != -ENOTEMPTY) {
        /* Not placed: take the half-built folder away again, silently. */
        struct dav_tree quiet = {.root_fd = t->root_fd, .stage_fd = t->stage_fd};
        bool is_dir;
        walk_init(w, "");
        (void)remove_name(&quiet, w, build_fd, tmp, &is_dir);
    }
    return rc;
}

int dav_tree_copy(struct dav_tree *t, const char *from, const char *to, bool is_recursive)
{
    char name[FSX_NAME_MAX + 1];
    struct walk *w = malloc(sizeof(*w));
    int in = -1, dir = -1;
    int rc = w ? 0 : -ENOMEM;
    if (rc == 0) {
        /* Followed when it is a link inside the root, as dav_resolve showed it to the client;
         * O_NONBLOCK so that a FIFO does not hold the open. */
        in = fsx_open(t->root_fd, from, O_RDONLY | O_NONBLOCK, 0);
        rc = in < 0 ? in : 0;
    }
    if (rc == 0) {
        dir = fsx_parent(t->root_fd, to, name);
        rc = dir < 0 ? dir : 0;
    }
    struct stat sb;
    if (rc == 0 && fstat(in, &sb) < 0)
        rc = -errno;
    if (rc == 0) {
        /* The stage is emptied at start, so a crash mid-copy leaves nothing in the tree; on
         * another mount it cannot rename into place, and the build happens next to to. */
        int build = same_mount(t->stage_fd, dir) ? t->stage_fd : dir;
        mode_t mode = sb.st_mode & 0777;
        walk_init(w, to);
        if (S_ISREG(sb.st_mode))
            rc = copy_top_file(in, mode, build, dir, name);
        else if (S_ISDIR(sb.st_mode))
            rc = copy_top_dir(t, w, in, mode, build, dir, name, is_recursive);
        else
            rc = -EPERM;
    }
    if (rc == 0 || rc == -ENOTEMPTY) {
        int src = dav_tree_fsync_dir(dir);
        if (src)
            rc = src;
    }
    if (dir >= 0)
        close(dir);
    if (in >= 0)
        close(in);
    free(w);
    return t->stop ? t->stop : rc;
}

/* --- the index --- */

struct sync {
    struct dav_env *env;
    const struct dav_req *req;
    struct walk w;
};

static int add_entry_name(void *ctx, const struct dav_entry *e)
{
    return names_add(ctx, e->name);
}

static int sync_gone(struct sync *s)
{
    return dav_index_sync(s->env->ix, s->req->user_id, s->w.path, NULL, NULL, NULL);
}

/* Sync the entry at s->w, then, for a folder (not a link to one), its members on disk and
 * in the index. No descriptor stays open while it recurses. */
static int sync_entry(struct sync *s)
{
    struct dav_index *ix = s->env->ix;
    int64_t uid = s->req->user_id;
    struct dav_stat st;
    int rc = fsx_stat(s->req->root_fd, s->w.path, &st);
    if (dav_is_absent(rc))
        return sync_gone(s); /* what dav_resolve would answer 404 */
    if (rc == 0)
        rc = dav_index_sync(ix, uid, s->w.path, &st, NULL, NULL);
    if (rc || !st.is_dir)
        return rc;
    int fd = fsx_open(s->req->root_fd, s->w.path, O_PATH | O_DIRECTORY | O_NOFOLLOW, 0);
    if (fd == -ELOOP || fd == -ENOTDIR)
        return 0; /* a link to a folder: its members are the target's, synced there */
    if (fd < 0)
        return fd;
    struct names disk = {0}, known = {0};
    const char **dv = NULL, **kv = NULL;
    rc = read_names(fd, &disk);
    close(fd);
    if (rc == 0)
        rc = dav_index_list(ix, uid, s->w.path, add_entry_name, &known);
    if (rc == 0)
        rc = names_sorted(&disk, &dv);
    if (rc == 0)
        rc = names_sorted(&known, &kv);
    for (size_t i = 0, j = 0; rc == 0 && (i < disk.n || j < known.n);) {
        int c = i == disk.n ? 1 : j == known.n ? -1 : strcmp(dv[i], kv[j]);
        const char *name = c <= 0 ? dv[i] : kv[j];
        if (walk_in(&s->w, name) == 0)
            rc = c > 0 ? sync_gone(s) : sync_entry(s);
        walk_out(&s->w);
        i += c <= 0;
        j += c >= 0;
    }
    free(dv);
    free(kv);
    names_free(&disk);
    names_free(&known);
    return rc;
}

int dav_tree_sync(struct dav_env *env, const struct dav_req *req, const char *path)
{
    struct sync *s = malloc(sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->env = env;
    s->req = req;
    walk_init(&s->w, path);
    int rc = sync_entry(s);
    free(s);
    return rc;
}

/* --- shared --- */

int dav_tree_precond_remove(struct dav_env *env, const struct dav_req *req, const char *path,
                            struct dav_resp *resp)
{
    char parent[DAV_INDEX_PATH_MAX + 1];
    int rc = dav_precond(env, req, path, true, resp);
    if (rc != 0 || path[0] == '\0')
        return rc;
    const char *slash = strrchr(path, '/');
    size_t n = slash ? (size_t)(slash - path) : 0;
    if (n >= sizeof(parent))
        return -ENAMETOOLONG;
    memcpy(parent, path, n);
    parent[n] = '\0';
    return dav_precond(env, req, parent, false, resp);
}

int dav_tree_fsync_dir(int dir_fd)
{
    /* O_PATH descriptors cannot be fsynced: a real one for the same folder. */
    int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = fsync(fd) < 0 ? -errno : 0;
    close(fd);
    return rc;
}

int dav_tree_status(int err)
{
    switch (err) {
    case -ENOENT:
    case -ENOTDIR:
    case -EXDEV:
    case -ELOOP:
        return 404;
    case -EACCES:
    case -EPERM:
    case -EROFS:
    case -EBUSY: /* a mount point */
        return 403;
    case -EEXIST:
    case -ENOTEMPTY:
        return 409;
    case -ENAMETOOLONG:
        return 414;
    case -ENOSPC:
    case -EDQUOT:
        return 507;
    default:
        return 500;
    }
}

void dav_tree_ms_init(struct dav_tree_ms *r, const struct dav_req *req, struct dav_resp *resp)
{
    r->req = req;
    r->resp = resp;
    r->is_started = false;
}

int dav_tree_ms_fail(void *ctx, const char *path, bool is_dir, int err)
{
    struct dav_tree_ms *r = ctx;
    size_t rl = strlen(r->req->href_root), pl = strlen(path);
    char *href = malloc(rl + pl + 2);
    if (!href)
        return -ENOMEM;
    if (!r->is_started) {
        r->is_started = true;
        r->resp->status = 207;
        r->resp->content_type = "application/xml; charset=utf-8";
        dav_ms_init(&r->ms, r->resp->write, r->resp->write_ctx);
        dav_ms_begin(&r->ms);
    }
    memcpy(href, r->req->href_root, rl);
    memcpy(href + rl, path, pl);
    size_t n = rl + pl;
    if (is_dir)
        href[n++] = '/';
    dav_ms_response_begin(&r->ms, iov_make(href, n));
    dav_ms_response_status(&r->ms, dav_tree_status(err), NULL, iov_make(NULL, 0));
    free(href);
    return dav_ms_response_end(&r->ms);
}

int dav_tree_ms_end(struct dav_tree_ms *r)
{
    return r->is_started ? dav_ms_end(&r->ms) : 0;
}
