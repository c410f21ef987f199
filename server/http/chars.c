/* SPDX-License-Identifier: MIT */
/* The character-class table behind chars.h, built once at compile time. */
#include "chars.h"

#define T HTTP_CC_TCHAR
#define F HTTP_CC_FIELD
#define D HTTP_CC_DIGIT
#define X HTTP_CC_HEX
#define W HTTP_CC_OWS

/* Every byte >= 0x80 is obs-text: allowed in field values, never in tokens. */
#define OBS8 F, F, F, F, F, F, F, F
#define OBS32 OBS8, OBS8, OBS8, OBS8

const uint8_t http_char_class[256] = {
    ['\t'] = F | W,
    [' '] = F | W,
    ['!'] = T | F, ['"'] = F, ['#'] = T | F, ['$'] = T | F, ['%'] = T | F, ['&'] = T | F,
    ['\''] = T | F, ['('] = F, [')'] = F, ['*'] = T | F, ['+'] = T | F, [','] = F,
    ['-'] = T | F, ['.'] = T | F, ['/'] = F,
    ['0'] = T | F | D | X, ['1'] = T | F | D | X, ['2'] = T | F | D | X, ['3'] = T | F | D | X,
    ['4'] = T | F | D | X, ['5'] = T | F | D | X, ['6'] = T | F | D | X, ['7'] = T | F | D | X,
    ['8'] = T | F | D | X, ['9'] = T | F | D | X,
    [':'] = F, [';'] = F, ['<'] = F, ['='] = F, ['>'] = F, ['?'] = F, ['@'] = F,
    ['A'] = T | F | X, ['B'] = T | F | X, ['C'] = T | F | X, ['D'] = T | F | X,
    ['E'] = T | F | X, ['F'] = T | F | X, ['G'] = T | F, ['H'] = T | F, ['I'] = T | F,
    ['J'] = T | F, ['K'] = T | F, ['L'] = T | F, ['M'] = T | F, ['N'] = T | F, ['O'] = T | F,
    ['P'] = T | F, ['Q'] = T | F, ['R'] = T | F, ['S'] = T | F, ['T'] = T | F, ['U'] = T | F,
    ['V'] = T | F, ['W'] = T | F, ['X'] = T | F, ['Y'] = T | F, ['Z'] = T | F,
    ['['] = F, ['\\'] = F, [']'] = F, ['^'] = T | F, ['_'] = T | F, ['`'] = T | F,
    ['a'] = T | F | X, ['b'] = T | F | X, ['c'] = T | F | X, ['d'] = T | F | X,
    ['e'] = T | F | X, ['f'] = T | F | X, ['g'] = T | F, ['h'] = T | F, ['i'] = T | F,
    ['j'] = T | F, ['k'] = T | F, ['l'] = T | F, ['m'] = T | F, ['n'] = T | F, ['o'] = T | F,
    ['p'] = T | F, ['q'] = T | F, ['r'] = T | F, ['s'] = T | F, ['t'] = T | F, ['u'] = T | F,
    ['v'] = T | F, ['w'] = T | F, ['x'] = T | F, ['y'] = T | F, ['z'] = T | F,
    ['{'] = F, ['|'] = T | F, ['}'] = F, ['~'] = T | F,
    [0x80] = OBS32, OBS32, OBS32, OBS32,
};
