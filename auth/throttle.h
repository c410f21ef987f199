/* SPDX-License-Identifier: MIT */
/*
 * Failed-login throttling, shared by all loop threads (a mutex: it is only consulted when a
 * credential has to be verified, never on a cache hit).
 *
 * Per client address: failures inside a sliding window are counted. Past addr_soft of them
 * each further attempt must wait a delay that doubles with every failure (from delay_base_s up
 * to delay_max_s): attempts made before it has passed are refused (429 with Retry-After) and
 * count as failures too. Past addr_ban, the address is banned for ban_s: its connections are
 * closed on accept, and a ban sink (the XDP blocklist, later) hears of it.
 *
 * Per user name: failures from all addresses are counted too. Past user_soft, attempts on that
 * name from addresses that have failed themselves in the window must wait the same way; an
 * address with a clean record still gets through, so an attack on a name does not lock its
 * owner out.
 *
 * Time is passed in (milliseconds of any monotonic clock), so tests drive it.
 */
#ifndef AUTH_THROTTLE_H
#define AUTH_THROTTLE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

struct throttle_limits {
    unsigned window_s;     /* failures older than this are forgotten */
    unsigned addr_soft;    /* failures from one address before delays start */
    unsigned addr_ban;     /* failures (refused attempts included) before a ban */
    unsigned user_soft;    /* failures on one name before delays start for failing addresses */
    unsigned delay_base_s; /* first delay; doubles with each failure past the soft limit */
    unsigned delay_max_s;
    unsigned ban_s;
};

/** 15 min window, address: 10 soft / 20 ban, user: 20 soft, delay 1 s doubling to 60 s,
 *  ban 15 min. */
void throttle_limits_default(struct throttle_limits *l);

/** Where bans go besides the throttle itself (the XDP blocklist plugs in here). addr has port 0
 *  and is an IPv4 address or an IPv6 /64 prefix (interface id zero) standing for the whole /64.
 *  Called with the throttle's lock held: be quick, do not call back into the throttle. Each ban
 *  is followed by one unban (on expiry, or when a full table evicts it), unless the throttle is
 *  freed first. */
struct ban_sink {
    void (*ban)(void *ctx, const struct sockaddr *addr, int64_t until_ms);
    void (*unban)(void *ctx, const struct sockaddr *addr);
    void *ctx;
};

/* An address as a fixed-size key (IPv4-mapped IPv6 is folded to IPv4; IPv6 keeps its /64 only,
 * the other bytes zero). */
struct throttle_addr {
    uint8_t family; /* AF_INET or AF_INET6 (0: any other family, all one key) */
    uint8_t bytes[16];
};

struct throttle_addr throttle_addr_from(const struct sockaddr *sa);

struct throttle;

/** A throttle with these limits and optional sink (copied). NULL when out of memory. */
struct throttle *throttle_new(const struct throttle_limits *l, const struct ban_sink *sink);
void throttle_free(struct throttle *t);

enum throttle_verdict {
    THROTTLE_OK,     /* go ahead and verify */
    THROTTLE_WAIT,   /* refuse with 429; *retry_after_s says for how long */
    THROTTLE_BANNED, /* the address is banned: close */
};

/**
 * Before verifying a credential for user (may be NULL: not known yet) from addr. A WAIT
 * counts as a failure of addr (it may lead to a ban). *retry_after_s (may be NULL) is set to
 * the seconds to wait for WAIT, those left of the ban for BANNED, 0 for OK.
 */
enum throttle_verdict throttle_check(struct throttle *t, const struct sockaddr *addr,
                                     const char *user, int64_t now_ms, unsigned *retry_after_s);

/** A verification failed. */
void throttle_fail(struct throttle *t, const struct sockaddr *addr, const char *user,
                   int64_t now_ms);

/** A verification succeeded: the address's record is cleared (the name's is kept); a ban in
 *  force stays until it expires. */
void throttle_success(struct throttle *t, const struct sockaddr *addr, int64_t now_ms);

/** True while addr is banned (checked on accept). */
bool throttle_banned(struct throttle *t, const struct sockaddr *addr, int64_t now_ms);

#endif
