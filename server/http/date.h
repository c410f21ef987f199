/* SPDX-License-Identifier: MIT */
/* HTTP-date (RFC 9110 §5.6.7): IMF-fixdate out; IMF-fixdate, RFC 850 and asctime in. */
#ifndef HTTP_DATE_H
#define HTTP_DATE_H

#include <time.h>

#include "iov.h"

#define HTTP_DATE_LEN 29 /* "Sun, 06 Nov 1994 08:49:37 GMT" */

/**
 * Write t as IMF-fixdate into out (HTTP_DATE_LEN bytes plus a NUL). Independent of locale and TZ;
 * times outside years 0000..9999 are clamped to the nearest representable one.
 */
void http_date_format(time_t t, char out[HTTP_DATE_LEN + 1]);

#define HTTP_DATE_ISO_LEN 20 /* "1994-11-06T08:49:37Z" */

/** Write t as an RFC 3339 date-time in UTC (WebDAV's creationdate), clamped like
 *  http_date_format, into out (HTTP_DATE_ISO_LEN bytes plus a NUL). */
void http_date_format_iso(time_t t, char out[HTTP_DATE_ISO_LEN + 1]);

/**
 * Parse any of the three HTTP-date forms, strictly (case, spacing, field ranges, weekday, nothing
 * before or after). RFC 850 two-digit years are read relative to the current clock (§5.6.7).
 * Returns 0 and sets *out, or -EINVAL when it is not a valid date (*out untouched).
 */
int http_date_parse(struct iov s, time_t *out);

#endif
