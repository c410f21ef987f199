/* SPDX-License-Identifier: MIT */
/* The character-class table against the grammar's definitions, byte by byte. */
#include <criterion/criterion.h>
#include <string.h>

#include "chars.h"

static bool is_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

Test(chars, every_byte_matches_the_grammar)
{
    for (int c = 0; c < 256; c++) {
        bool digit = c >= '0' && c <= '9';
        /* RFC 9110 §5.6.2 */
        bool tchar = digit || is_alpha(c) || (c != 0 && strchr("!#$%&'*+-.^_`|~", c));
        /* RFC 9110 §5.5: VCHAR / obs-text / SP / HTAB */
        bool field = (c > 0x20 && c < 0x7f) || c >= 0x80 || c == ' ' || c == '\t';
        bool hex = digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        cr_assert_eq(http_is_tchar((uint8_t)c), tchar, "tchar 0x%02x", c);
        cr_assert_eq(http_is_field_byte((uint8_t)c), field, "field 0x%02x", c);
        cr_assert_eq(http_is_digit((uint8_t)c), digit, "digit 0x%02x", c);
        cr_assert_eq(http_is_hex((uint8_t)c), hex, "hex 0x%02x", c);
        cr_assert_eq(http_is_ows((uint8_t)c), c == ' ' || c == '\t', "ows 0x%02x", c);
        int v = http_hex_value((uint8_t)c);
        if (hex)
            cr_assert_eq(v, (int)strtol((char[]){(char)c, 0}, NULL, 16), "value 0x%02x", c);
        else
            cr_assert_eq(v, -1, "value 0x%02x", c);
    }
}
