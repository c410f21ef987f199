/* SPDX-License-Identifier: MIT */
/* Confined file system access for the WebDAV methods (see fsx.h). */
#include "fsx.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int fsx_open(int root_fd, const char *path, int flags, mode_t mode)
{
    /* openat2 checks flags strictly: O_PATH takes nothing but O_DIRECTORY, O_NOFOLLOW and
     * O_CLOEXEC beside it (EINVAL otherwise), and an O_PATH descriptor is never a tty anyway. */
    int extra = (flags & O_PATH) ? O_CLOEXEC : O_CLOEXEC | O_NOCTTY;
    struct open_how how = {
        .flags = (uint64_t)(flags | extra),
        .mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
    };
    long fd = syscall(SYS_openat2, root_fd, path[0] ? path : ".", &how, sizeof(how));
    return fd < 0 ? -errno : (int)fd;
}

static int64_t ns_of(struct statx_timestamp t)
{
    return t.tv_sec * 1000000000 + t.tv_nsec;
}

int fsx_statat(int dir_fd, const char *name, int flags, struct dav_stat *st)
{
    struct statx sx;
    unsigned mask = STATX_TYPE | STATX_SIZE | STATX_MTIME | STATX_INO | STATX_BTIME;
    if (statx(dir_fd, name, flags, mask, &sx) < 0)
        return -errno;
    if (S_ISLNK(sx.stx_mode))
        return -ELOOP;
    st->is_dir = S_ISDIR(sx.stx_mode);
    st->size = st->is_dir ? 0 : sx.stx_size;
    st->mtime_ns = ns_of(sx.stx_mtime);
    st->inode = sx.stx_ino;
    /* Without a birth time the first mtime seen stands in: stable until the file is replaced. */
    st->btime_ns = (sx.stx_mask & STATX_BTIME) ? ns_of(sx.stx_btime) : st->mtime_ns;
    return 0;
}

int fsx_fstat(int fd, struct dav_stat *st)
{
    return fsx_statat(fd, "", AT_EMPTY_PATH, st);
}

int fsx_stat(int root_fd, const char *path, struct dav_stat *st)
{
    int fd = fsx_open(root_fd, path, O_PATH, 0);
    if (fd < 0)
        return fd;
    int rc = fsx_fstat(fd, st);
    close(fd);
    return rc;
}

int fsx_parent(int root_fd, const char *path, char name[FSX_NAME_MAX + 1])
{
    if (!path[0])
        return -EINVAL;
    const char *slash = strrchr(path, '/');
    const char *last = slash ? slash + 1 : path;
    size_t len = strlen(last);
    if (len > FSX_NAME_MAX)
        return -ENAMETOOLONG;
    memcpy(name, last, len + 1);
    char dir[PATH_MAX];
    size_t dlen = slash ? (size_t)(slash - path) : 0;
    if (dlen >= sizeof(dir))
        return -ENAMETOOLONG;
    memcpy(dir, path, dlen);
    dir[dlen] = '\0';
    return fsx_open(root_fd, dir, O_PATH | O_DIRECTORY, 0);
}
