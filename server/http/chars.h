/* SPDX-License-Identifier: MIT */
/*
 * Character classes of the HTTP grammar (RFC 9110 §5.5, §5.6.2), shared by the parsers in this
 * directory. One table lookup per byte: the request parser calls these for every byte of a head.
 */
#ifndef HTTP_CHARS_H
#define HTTP_CHARS_H

#include <stdbool.h>
#include <stdint.h>

enum {
    HTTP_CC_TCHAR = 1 << 0, /* token characters */
    HTTP_CC_FIELD = 1 << 1, /* field-value bytes: VCHAR, obs-text, SP, HTAB */
    HTTP_CC_DIGIT = 1 << 2,
    HTTP_CC_HEX = 1 << 3,
    HTTP_CC_OWS = 1 << 4, /* SP, HTAB */
};

extern const uint8_t http_char_class[256];

static inline bool http_is_tchar(uint8_t c)
{
    return http_char_class[c] & HTTP_CC_TCHAR;
}

static inline bool http_is_field_byte(uint8_t c)
{
    return http_char_class[c] & HTTP_CC_FIELD;
}

static inline bool http_is_digit(uint8_t c)
{
    return http_char_class[c] & HTTP_CC_DIGIT;
}

static inline bool http_is_hex(uint8_t c)
{
    return http_char_class[c] & HTTP_CC_HEX;
}

static inline bool http_is_ows(uint8_t c)
{
    return http_char_class[c] & HTTP_CC_OWS;
}

/** Value of a hex digit, -1 for anything else. */
static inline int http_hex_value(uint8_t c)
{
    if (!http_is_hex(c))
        return -1;
    return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

#endif
