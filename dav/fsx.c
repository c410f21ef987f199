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

int fsx_fstat(int fd, struct dav_stat *st)
{
    struct stat sb;
    if (fstat(fd, &sb) < 0)
        return -errno;
    st->is_dir = S_ISDIR(sb.st_mode);
    st->size = st->is_dir ? 0 : (uint64_t)sb.st_size;
    st->mtime_ns = (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
    st->inode = (uint64_t)sb.st_ino;
    return 0;
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
