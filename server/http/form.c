/* SPDX-License-Identifier: MIT */
/* Form field lookup (see form.h). */
#include "form.h"

#include "chars.h"

#include <errno.h>
#include <string.h>

/* Decode p[0..n) into out (at most outsz bytes). Returns the decoded length or -errno. */
static long decode(const uint8_t *p, size_t n, char *out, size_t outsz)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int ch = p[i];
        if (ch == '+') {
            ch = ' ';
        } else if (ch == '%') {
            if (n - i < 3)
                return -EINVAL;
            int h = http_hex_value(p[i + 1]), l = http_hex_value(p[i + 2]);
            if (h < 0 || l < 0)
                return -EINVAL;
            ch = h * 16 + l;
            i += 2;
        }
        if (o >= outsz)
            return -ENOSPC;
        out[o++] = (char)ch;
    }
    return (long)o;
}

int http_form_get(struct iov body, const char *key, char *out, size_t outsz, size_t *len)
{
    size_t klen = strlen(key);
    const uint8_t *p = body.base, *end = body.base + body.len;
    while (p < end) {
        const uint8_t *amp = memchr(p, '&', (size_t)(end - p));
        if (!amp)
            amp = end;
        const uint8_t *eq = memchr(p, '=', (size_t)(amp - p));
        const uint8_t *kend = eq ? eq : amp;
        char name[64];
        long nl = decode(p, (size_t)(kend - p), name, sizeof(name));
        if (nl == (long)klen && memcmp(name, key, klen) == 0) {
            if (outsz == 0)
                return -ENOSPC;
            long vl = eq ? decode(eq + 1, (size_t)(amp - eq - 1), out, outsz - 1) : 0;
            if (vl < 0)
                return (int)vl;
            out[vl] = '\0';
            *len = (size_t)vl;
            return 0;
        }
        p = amp + (amp < end);
    }
    return -ENOENT;
}
