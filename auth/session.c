/* SPDX-License-Identifier: MIT */
/*
 * Browser sessions on the store (see session.h). The cookie is a token_new secret kept only by
 * the browser; the store has its BLAKE2b digest, so a copy of the database opens no session.
 * Expiry is checked on lookup (and the expired row deleted there); store_session_purge clears
 * the sessions nobody comes back for.
 */
#include "session.h"

#include <assert.h>
#include <errno.h>
#include <sodium.h>
#include <string.h>

#include "token.h"

static_assert(TOKEN_TEXT_LEN - 1 <= STORE_CSRF_MAX, "a CSRF token fits the store's column");

void session_limits_default(struct session_limits *l)
{
    l->idle_s = 12 * 3600;
    l->absolute_s = 7 * 86400;
    l->touch_s = 60;
}

int session_create(struct store *st, int64_t user_id, int64_t now, char cookie[TOKEN_TEXT_LEN],
                   char csrf[TOKEN_TEXT_LEN])
{
    uint8_t digest[TOKEN_DIGEST_LEN];

    token_new(cookie);
    token_new(csrf);
    token_digest(cookie, TOKEN_TEXT_LEN - 1, digest);
    int rc = store_session_add(st, digest, user_id, csrf, now);
    sodium_memzero(digest, sizeof(digest));
    if (rc) {
        /* A cookie that opens nothing must not be handed out by mistake. */
        sodium_memzero(cookie, TOKEN_TEXT_LEN);
        sodium_memzero(csrf, TOKEN_TEXT_LEN);
    }
    return rc;
}

static bool expired(const struct store_session *s, const struct session_limits *l, int64_t now)
{
    return now - s->last_seen > l->idle_s || now - s->created > l->absolute_s;
}

int session_lookup(struct store *st, const char *cookie, size_t len,
                   const struct session_limits *l, int64_t now, struct store_session *out)
{
    uint8_t digest[TOKEN_DIGEST_LEN];
    int rc;

    /* Cheap reject: whatever a client sends as a cookie costs no digest and no query. */
    if (!token_well_formed(cookie, len))
        return -ENOENT;
    token_digest(cookie, len, digest);
    rc = store_session_get(st, digest, out);
    if (rc)
        goto out;
    if (expired(out, l, now)) {
        /* The session is over whether or not the delete works; the purge gets it later. */
        (void)store_session_del(st, digest);
        rc = -ENOENT;
        goto out;
    }
    if (now - out->last_seen >= l->touch_s) {
        rc = store_session_touch(st, digest, now);
        if (rc == 0) {
            out->last_seen = now;
        } else if (rc != -ENOENT) {
            /* A late timestamp only brings the idle expiry nearer: serve the request. */
            rc = 0;
        }
        /* -ENOENT: ended (logout, password change) since the read above. */
    }
out:
    sodium_memzero(digest, sizeof(digest));
    /* The CSRF token of a session that is not live is of no use to the caller. */
    if (rc)
        sodium_memzero(out, sizeof(*out));
    return rc;
}

int session_end(struct store *st, const char *cookie, size_t len)
{
    uint8_t digest[TOKEN_DIGEST_LEN];

    if (!token_well_formed(cookie, len))
        return 0;
    token_digest(cookie, len, digest);
    int rc = store_session_del(st, digest);
    sodium_memzero(digest, sizeof(digest));
    return rc == -ENOENT ? 0 : rc;
}

bool session_csrf_ok(const struct store_session *s, const char *hdr, size_t len)
{
    /* An empty header never passes, even against a damaged row with an empty token. */
    if (len == 0)
        return false;
    return token_equal(s->csrf, strnlen(s->csrf, sizeof(s->csrf)), hdr, len);
}
