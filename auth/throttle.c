/* SPDX-License-Identifier: MIT */
/*
 * Failed-login throttling (see throttle.h): two fixed tables, client addresses and user names,
 * behind one mutex.
 *
 * Window. Each record keeps the times of its latest failures in a ring as long as the largest
 * count a rule looks at: addr_ban for an address (the failure that fills the ring bans it, and
 * a ban drops the failures), user_soft for a name (a full ring of failures inside the window
 * is all the name rule asks). Before every use, failures older than window_s are dropped from
 * the ring's old end, so counts are exact for a sliding window: no fixed buckets, no reset at
 * a window edge that would let an attacker double his rate across it. The cost is 8 bytes per
 * ring slot, allocated once in throttle_new.
 *
 * Delays. With n >= addr_soft failures (refusals included) in the window, the next attempt is
 * allowed delay_base_s * 2^max(0, n - addr_soft - 1) seconds (at most delay_max_s) after the
 * latest one. The soft-th failure and the refusal that follows it both get the base delay: a
 * refusal is itself a failure, so without the max() the first Retry-After would already be
 * twice delay_base_s. Retry-After is computed after the refusal is counted, so a client that
 * waits what it was told is let through, never refused again for having asked.
 *
 * Names. When a name has user_soft failures in the window, an address that has failed at
 * least once is held to a soft limit of 1: it waits as above, counting its own failures. An
 * address with no failures passes, so an attack on a name does not lock its owner out.
 * Refusals count for the address only (throttle.h), not for the name.
 *
 * Bans. The addr_ban-th failure bans the address for ban_s: its failures are dropped, the sink
 * hears ban() once and a line is logged. The first call that finds the ban over frees the
 * record and calls unban(). Failures reported while a ban is in force are ignored (they come
 * from verifications started before it), and so is a success: only expiry lifts a ban, or one
 * valid account would let its holder undo a ban earned by guessing others.
 *
 * Tables. Records sit in a fixed array, found through a chained hash keyed with SipHash and a
 * random key (addresses and names come from clients: an unkeyed hash would let them build long
 * chains under our lock). Live records are kept in order of their latest failure, banned ones
 * in order of ban start. A full table gives up, in this order, a ban that has expired, the live
 * record with the oldest latest failure, the oldest ban; an evicted ban gets its unban() so the
 * sink never holds a ban the throttle has forgotten. Names are truncated to 64 bytes for keying.
 *
 * IPv6 is keyed by its /64: a single host usually owns a whole /64 (SLAAC, privacy addresses),
 * so counting /128s would give an attacker 2^64 fresh addresses. The address handed to the sink
 * is the /64 prefix with a zero interface id, and stands for the whole prefix. Other families
 * (unix sockets) all share one key.
 *
 * Sink callbacks and log lines run with the lock held: sinks must be quick and must not call
 * back into the throttle. throttle_free makes no sink calls: bans are not lifted at shutdown.
 *
 * Known gaps:
 * - A success clears the address's failures (throttle.h), so a client holding one valid account
 *   can interleave its own logins with guesses on another name and never reach addr_soft; the
 *   name rule does not catch it either, as the cleared address counts as clean. Closing this
 *   needs the name in throttle_success (clear only failures on that name) or per-(address,
 *   name) records.
 * - Limits are trusted configuration: ring memory is cap * limit * 8 bytes per table (about
 *   1.3 MB for both with the defaults), so an absurd addr_ban or user_soft costs memory.
 */
#include "throttle.h"

#include <arpa/inet.h>
#include <assert.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "log.h"

#define THROTTLE_ADDR_CAP 4096
#define THROTTLE_NAME_CAP 4096
#define THROTTLE_KEY_MAX 64 /* longest name kept; longer ones are truncated for keying */
#define THROTTLE_NIL UINT32_MAX

static_assert(sizeof(struct throttle_addr) <= THROTTLE_KEY_MAX, "an address fits a key");
static_assert((THROTTLE_ADDR_CAP & (THROTTLE_ADDR_CAP - 1)) == 0, "bucket mask");
static_assert((THROTTLE_NAME_CAP & (THROTTLE_NAME_CAP - 1)) == 0, "bucket mask");

struct throttle_rec {
    uint8_t key[THROTTLE_KEY_MAX];
    uint8_t key_len;
    bool banned;
    uint32_t chain;          /* next record in the bucket, or in the free list */
    uint32_t prev, next;     /* neighbours in the live or the banned list */
    unsigned head;           /* ring slot the next failure goes to */
    unsigned count;          /* failures in the ring, the oldest count slots behind head */
    int64_t banned_until_ms; /* while banned */
};

struct throttle_list {
    uint32_t first, last;
};

struct throttle_table {
    unsigned cap; /* records, also buckets: a power of two */
    unsigned ring_len;
    uint32_t free;
    struct throttle_list live;   /* by latest failure, oldest first */
    struct throttle_list banned; /* by ban start, oldest first */
    uint32_t *buckets;
    struct throttle_rec *recs;
    int64_t *times; /* ring_len failure times per record */
    uint8_t hash_key[crypto_shorthash_KEYBYTES];
};

struct throttle {
    pthread_mutex_t lock;
    struct throttle_limits lim;
    struct ban_sink sink;
    struct throttle_table addrs;
    struct throttle_table names;
};

void throttle_limits_default(struct throttle_limits *l)
{
    *l = (struct throttle_limits){
        .window_s = 15 * 60,
        .addr_soft = 10,
        .addr_ban = 20,
        .user_soft = 20,
        .delay_base_s = 1,
        .delay_max_s = 60,
        .ban_s = 15 * 60,
    };
}

struct throttle_addr throttle_addr_from(const struct sockaddr *sa)
{
    struct throttle_addr a = {0};

    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
        a.family = AF_INET;
        memcpy(a.bytes, &sin->sin_addr, 4);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
        if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
            /* a dual-stack socket's view of an IPv4 client: the same client as over AF_INET */
            a.family = AF_INET;
            memcpy(a.bytes, &sin6->sin6_addr.s6_addr[12], 4);
        } else {
            a.family = AF_INET6;
            memcpy(a.bytes, sin6->sin6_addr.s6_addr, 8); /* the /64, see the file header */
        }
    }
    return a;
}

/* The sockaddr the sink sees for a key (port 0; for IPv6 the /64 prefix). */
static const struct sockaddr *addr_sockaddr(const struct throttle_addr *a,
                                            struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    ss->ss_family = a->family;
    if (a->family == AF_INET)
        memcpy(&((struct sockaddr_in *)ss)->sin_addr, a->bytes, 4);
    else if (a->family == AF_INET6)
        memcpy(&((struct sockaddr_in6 *)ss)->sin6_addr, a->bytes, 16);
    return (const struct sockaddr *)ss;
}

static void addr_format(const struct throttle_addr *a, char *out, size_t outsz)
{
    char host[INET6_ADDRSTRLEN] = "-";

    if (a->family == AF_INET || a->family == AF_INET6)
        inet_ntop(a->family, a->bytes, host, sizeof(host));
    snprintf(out, outsz, "%s%s", host, a->family == AF_INET6 ? "/64" : "");
}

/* ---- tables ---- */

static int table_init(struct throttle_table *tab, unsigned cap, unsigned ring_len)
{
    tab->cap = cap;
    tab->ring_len = ring_len;
    tab->buckets = malloc(cap * sizeof(*tab->buckets));
    tab->recs = calloc(cap, sizeof(*tab->recs));
    /* size_t is 64 bits: cap * ring_len * 8 cannot overflow; absurd limits fail in calloc. */
    tab->times = calloc((size_t)cap * ring_len, sizeof(*tab->times));
    if (!tab->buckets || !tab->recs || !tab->times)
        return -1;
    for (unsigned i = 0; i < cap; i++) {
        tab->buckets[i] = THROTTLE_NIL;
        tab->recs[i].chain = i + 1 < cap ? i + 1 : THROTTLE_NIL;
    }
    tab->free = 0;
    tab->live = tab->banned = (struct throttle_list){THROTTLE_NIL, THROTTLE_NIL};
    randombytes_buf(tab->hash_key, sizeof(tab->hash_key));
    return 0;
}

static void table_release(struct throttle_table *tab)
{
    free(tab->buckets);
    free(tab->recs);
    free(tab->times);
}

static uint32_t bucket_of(const struct throttle_table *tab, const void *key, size_t len)
{
    uint8_t h[crypto_shorthash_BYTES];
    uint64_t v;

    crypto_shorthash(h, key, len, tab->hash_key);
    memcpy(&v, h, sizeof(v));
    return (uint32_t)(v & (tab->cap - 1));
}

static struct throttle_list *list_of(struct throttle_table *tab, const struct throttle_rec *r)
{
    return r->banned ? &tab->banned : &tab->live;
}

static void list_push(struct throttle_table *tab, struct throttle_list *l, uint32_t i)
{
    struct throttle_rec *r = &tab->recs[i];

    r->prev = l->last;
    r->next = THROTTLE_NIL;
    if (l->last != THROTTLE_NIL)
        tab->recs[l->last].next = i;
    else
        l->first = i;
    l->last = i;
}

static void list_del(struct throttle_table *tab, struct throttle_list *l, uint32_t i)
{
    struct throttle_rec *r = &tab->recs[i];

    if (r->prev != THROTTLE_NIL)
        tab->recs[r->prev].next = r->next;
    else
        l->first = r->next;
    if (r->next != THROTTLE_NIL)
        tab->recs[r->next].prev = r->prev;
    else
        l->last = r->prev;
}

static uint32_t table_find(const struct throttle_table *tab, const void *key, size_t len)
{
    uint32_t i = tab->buckets[bucket_of(tab, key, len)];

    while (i != THROTTLE_NIL &&
           (tab->recs[i].key_len != len || memcmp(tab->recs[i].key, key, len) != 0))
        i = tab->recs[i].chain;
    return i;
}

/* Takes a free record (there must be one) for key, as a live record with no failures. */
static uint32_t table_add(struct throttle_table *tab, const void *key, size_t len)
{
    uint32_t i = tab->free;

    assert(i != THROTTLE_NIL && len <= THROTTLE_KEY_MAX);
    struct throttle_rec *r = &tab->recs[i];
    uint32_t b = bucket_of(tab, key, len);
    tab->free = r->chain;
    *r = (struct throttle_rec){.key_len = (uint8_t)len, .chain = tab->buckets[b]};
    memcpy(r->key, key, len);
    tab->buckets[b] = i;
    list_push(tab, &tab->live, i);
    return i;
}

static void table_remove(struct throttle_table *tab, uint32_t i)
{
    struct throttle_rec *r = &tab->recs[i];
    uint32_t *link = &tab->buckets[bucket_of(tab, r->key, r->key_len)];

    while (*link != i)
        link = &tab->recs[*link].chain;
    *link = r->chain;
    list_del(tab, list_of(tab, r), i);
    *r = (struct throttle_rec){.chain = tab->free};
    tab->free = i;
}

static int64_t *ring(const struct throttle_table *tab, uint32_t i)
{
    return &tab->times[(size_t)i * tab->ring_len];
}

static void ring_push(struct throttle_table *tab, uint32_t i, int64_t now_ms)
{
    struct throttle_rec *r = &tab->recs[i];

    ring(tab, i)[r->head] = now_ms;
    r->head = (r->head + 1) % tab->ring_len;
    if (r->count < tab->ring_len)
        r->count++;
    /* the record now has the latest failure of its list */
    list_del(tab, &tab->live, i);
    list_push(tab, &tab->live, i);
}

static void ring_prune(struct throttle_table *tab, uint32_t i, int64_t now_ms, int64_t window_ms)
{
    struct throttle_rec *r = &tab->recs[i];
    const int64_t *times = ring(tab, i);

    while (r->count > 0 &&
           now_ms - times[(r->head + tab->ring_len - r->count) % tab->ring_len] >= window_ms)
        r->count--;
}

static int64_t ring_latest(const struct throttle_table *tab, uint32_t i)
{
    return ring(tab, i)[(tab->recs[i].head + tab->ring_len - 1) % tab->ring_len];
}

/* ---- rules ---- */

static void end_ban(struct throttle *t, uint32_t i)
{
    struct throttle_rec *r = &t->addrs.recs[i];
    struct throttle_addr a;
    struct sockaddr_storage ss;
    char text[INET6_ADDRSTRLEN + 4];

    memcpy(&a, r->key, sizeof(a));
    addr_format(&a, text, sizeof(text));
    log_info("event=login_unban addr=%s", text);
    if (t->sink.unban)
        t->sink.unban(t->sink.ctx, addr_sockaddr(&a, &ss));
}

/* Frees a record; a ban it holds ends (names are never banned). */
static void drop(struct throttle *t, struct throttle_table *tab, uint32_t i)
{
    if (tab->recs[i].banned)
        end_ban(t, i);
    table_remove(tab, i);
}

/* The record for key as of now, or NIL: an expired ban or a record whose failures have all
 * left the window is freed on the way. */
static uint32_t lookup(struct throttle *t, struct throttle_table *tab, const void *key, size_t len,
                       int64_t now_ms)
{
    uint32_t i = table_find(tab, key, len);

    if (i == THROTTLE_NIL)
        return i;
    struct throttle_rec *r = &tab->recs[i];
    if (r->banned) {
        if (now_ms < r->banned_until_ms)
            return i;
    } else {
        ring_prune(tab, i, now_ms, (int64_t)t->lim.window_s * 1000);
        if (r->count > 0)
            return i;
    }
    drop(t, tab, i);
    return THROTTLE_NIL;
}

static uint32_t lookup_or_add(struct throttle *t, struct throttle_table *tab, const void *key,
                              size_t len, int64_t now_ms)
{
    uint32_t i = lookup(t, tab, key, len, now_ms);

    if (i != THROTTLE_NIL)
        return i;
    if (tab->free == THROTTLE_NIL) {
        /* Full: never an active ban while anything else can go (file header). */
        uint32_t victim = tab->banned.first;
        if (victim == THROTTLE_NIL || now_ms < tab->recs[victim].banned_until_ms)
            victim = tab->live.first != THROTTLE_NIL ? tab->live.first : tab->banned.first;
        drop(t, tab, victim);
    }
    return table_add(tab, key, len);
}

static void start_ban(struct throttle *t, uint32_t i, int64_t now_ms)
{
    struct throttle_rec *r = &t->addrs.recs[i];
    struct throttle_addr a;
    struct sockaddr_storage ss;
    char text[INET6_ADDRSTRLEN + 4];

    list_del(&t->addrs, &t->addrs.live, i);
    r->count = 0;
    r->head = 0;
    r->banned = true;
    r->banned_until_ms = now_ms + (int64_t)t->lim.ban_s * 1000;
    list_push(&t->addrs, &t->addrs.banned, i);
    memcpy(&a, r->key, sizeof(a));
    addr_format(&a, text, sizeof(text));
    log_info("event=login_ban addr=%s failures=%u until_s=%lld ban_s=%u", text, t->lim.addr_ban,
             (long long)(r->banned_until_ms / 1000), t->lim.ban_s);
    if (t->sink.ban)
        t->sink.ban(t->sink.ctx, addr_sockaddr(&a, &ss), r->banned_until_ms);
}

/* Counts a failure of address record i; true when the address is (now) banned. */
static bool addr_failure(struct throttle *t, uint32_t i, int64_t now_ms)
{
    if (t->addrs.recs[i].banned)
        return true;
    ring_push(&t->addrs, i, now_ms);
    if (t->addrs.recs[i].count < t->lim.addr_ban)
        return false;
    start_ban(t, i, now_ms);
    return true;
}

static size_t name_key_len(const char *user)
{
    return strnlen(user, THROTTLE_KEY_MAX);
}

static bool name_under_attack(struct throttle *t, const char *user, int64_t now_ms)
{
    if (t->lim.user_soft == 0)
        return true;
    uint32_t i = lookup(t, &t->names, user, name_key_len(user), now_ms);
    return i != THROTTLE_NIL && t->names.recs[i].count >= t->lim.user_soft;
}

/* When address record i (count >= soft > 0 failures) may try again. */
static int64_t allowed_at(const struct throttle *t, uint32_t i, unsigned soft)
{
    unsigned n = t->addrs.recs[i].count;
    unsigned doublings = n > soft ? n - soft - 1 : 0;
    uint64_t delay_s = t->lim.delay_max_s;

    if (doublings < 32 && ((uint64_t)t->lim.delay_base_s << doublings) < delay_s)
        delay_s = (uint64_t)t->lim.delay_base_s << doublings;
    return ring_latest(&t->addrs, i) + (int64_t)delay_s * 1000;
}

/* Whole seconds from now until at, rounded up, at least 1. */
static unsigned seconds_until(int64_t at_ms, int64_t now_ms)
{
    int64_t s = (at_ms - now_ms + 999) / 1000;

    if (s < 1)
        return 1;
    return s > UINT_MAX ? UINT_MAX : (unsigned)s;
}

/* ---- public ---- */

struct throttle *throttle_new(const struct throttle_limits *l, const struct ban_sink *sink)
{
    struct throttle *t = NULL;

    /* randombytes_buf needs it; idempotent and thread-safe */
    if (sodium_init() < 0)
        goto out;
    t = calloc(1, sizeof(*t));
    if (!t)
        goto out;
    pthread_mutex_init(&t->lock, NULL);
    t->lim = *l;
    if (sink)
        t->sink = *sink;
    /* A ring never needs more slots than the count its rule compares with; at least one. */
    if (table_init(&t->addrs, THROTTLE_ADDR_CAP, l->addr_ban ? l->addr_ban : 1) < 0 ||
        table_init(&t->names, THROTTLE_NAME_CAP, l->user_soft ? l->user_soft : 1) < 0) {
        throttle_free(t);
        t = NULL;
    }
out:
    return t;
}

void throttle_free(struct throttle *t)
{
    if (!t)
        return;
    table_release(&t->names);
    table_release(&t->addrs);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

enum throttle_verdict throttle_check(struct throttle *t, const struct sockaddr *addr,
                                     const char *user, int64_t now_ms, unsigned *retry_after_s)
{
    struct throttle_addr a = throttle_addr_from(addr);
    enum throttle_verdict v = THROTTLE_OK;
    unsigned retry = 0;

    pthread_mutex_lock(&t->lock);
    uint32_t i = lookup(t, &t->addrs, &a, sizeof(a), now_ms);
    if (i == THROTTLE_NIL)
        goto out; /* no failures in the window: nothing to wait for */
    if (t->addrs.recs[i].banned) {
        v = THROTTLE_BANNED;
        retry = seconds_until(t->addrs.recs[i].banned_until_ms, now_ms);
        goto out;
    }
    unsigned soft = t->lim.addr_soft;
    if (user && soft > 1 && name_under_attack(t, user, now_ms))
        soft = 1;
    if (t->addrs.recs[i].count < soft || now_ms >= allowed_at(t, i, soft))
        goto out;
    /* Refused too early: that counts as a failure (throttle.h) and may ban. */
    if (addr_failure(t, i, now_ms)) {
        v = THROTTLE_BANNED;
        retry = seconds_until(t->addrs.recs[i].banned_until_ms, now_ms);
        goto out;
    }
    v = THROTTLE_WAIT;
    retry = seconds_until(allowed_at(t, i, soft), now_ms);
out:
    pthread_mutex_unlock(&t->lock);
    if (retry_after_s)
        *retry_after_s = retry;
    return v;
}

void throttle_fail(struct throttle *t, const struct sockaddr *addr, const char *user,
                   int64_t now_ms)
{
    struct throttle_addr a = throttle_addr_from(addr);

    pthread_mutex_lock(&t->lock);
    addr_failure(t, lookup_or_add(t, &t->addrs, &a, sizeof(a), now_ms), now_ms);
    if (user) {
        uint32_t n = lookup_or_add(t, &t->names, user, name_key_len(user), now_ms);
        ring_push(&t->names, n, now_ms);
    }
    pthread_mutex_unlock(&t->lock);
}

void throttle_success(struct throttle *t, const struct sockaddr *addr, int64_t now_ms)
{
    struct throttle_addr a = throttle_addr_from(addr);

    pthread_mutex_lock(&t->lock);
    uint32_t i = lookup(t, &t->addrs, &a, sizeof(a), now_ms);
    /* an active ban stays (file header) */
    if (i != THROTTLE_NIL && !t->addrs.recs[i].banned)
        table_remove(&t->addrs, i);
    pthread_mutex_unlock(&t->lock);
}

bool throttle_banned(struct throttle *t, const struct sockaddr *addr, int64_t now_ms)
{
    struct throttle_addr a = throttle_addr_from(addr);

    pthread_mutex_lock(&t->lock);
    uint32_t i = lookup(t, &t->addrs, &a, sizeof(a), now_ms);
    bool banned = i != THROTTLE_NIL && t->addrs.recs[i].banned;
    pthread_mutex_unlock(&t->lock);
    return banned;
}
