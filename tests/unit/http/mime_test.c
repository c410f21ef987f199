/* SPDX-License-Identifier: MIT */
/*
 * Tests for server/http/mime.c: extension extraction and lookup. Includes mime.c to check that the
 * table is sorted (the binary search depends on it) and that every entry can be found.
 */
#include <criterion/criterion.h>
#include <stdio.h>

#include "mime.c"

#define N_ENTRIES (sizeof(mime_table) / sizeof(mime_table[0]))

static const char *type_of(const char *name)
{
    return http_mime_type(iov_make(name, strlen(name)));
}

Test(mime, table_sorted_lower_case_unique)
{
    for (size_t i = 0; i < N_ENTRIES; i++) {
        const char *ext = mime_table[i].ext;
        cr_assert_gt(strlen(ext), 0);
        cr_assert_leq(strlen(ext), MIME_EXT_MAX, "'%s' longer than MIME_EXT_MAX", ext);
        for (const char *p = ext; *p; p++)
            cr_assert(!(*p >= 'A' && *p <= 'Z') && *p != '.', "'%s' must be lower case", ext);
        if (i > 0)
            cr_assert_lt(strcmp(mime_table[i - 1].ext, ext), 0, "'%s' then '%s'",
                         mime_table[i - 1].ext, ext);
    }
    cr_assert_geq(N_ENTRIES, 80);
}

Test(mime, every_entry_found_any_case)
{
    for (size_t i = 0; i < N_ENTRIES; i++) {
        char name[64];
        snprintf(name, sizeof(name), "file.%s", mime_table[i].ext);
        cr_assert_str_eq(type_of(name), mime_table[i].type, "%s", name);
        for (char *p = name; *p; p++) {
            if (*p >= 'a' && *p <= 'z')
                *p = (char)(*p - 'a' + 'A');
        }
        cr_assert_str_eq(type_of(name), mime_table[i].type, "%s", name);
    }
}

Test(mime, text_types_have_charset)
{
    for (size_t i = 0; i < N_ENTRIES; i++) {
        const char *t = mime_table[i].type;
        if (strncmp(t, "text/", 5) == 0)
            cr_assert_not_null(strstr(t, "; charset=utf-8"), "%s: %s", mime_table[i].ext, t);
        else
            cr_assert_null(strchr(t, ';'), "%s: %s", mime_table[i].ext, t);
    }
}

Test(mime, common)
{
    cr_assert_str_eq(type_of("index.html"), "text/html; charset=utf-8");
    cr_assert_str_eq(type_of("index.htm"), "text/html; charset=utf-8");
    cr_assert_str_eq(type_of("style.css"), "text/css; charset=utf-8");
    cr_assert_str_eq(type_of("app.js"), "text/javascript; charset=utf-8");
    cr_assert_str_eq(type_of("app.mjs"), "text/javascript; charset=utf-8");
    cr_assert_str_eq(type_of("data.json"), "application/json");
    cr_assert_str_eq(type_of("notes.txt"), "text/plain; charset=utf-8");
    cr_assert_str_eq(type_of("README.md"), "text/markdown; charset=utf-8");
    cr_assert_str_eq(type_of("photo.jpg"), "image/jpeg");
    cr_assert_str_eq(type_of("photo.jpeg"), "image/jpeg");
    cr_assert_str_eq(type_of("logo.svg"), "image/svg+xml");
    cr_assert_str_eq(type_of("doc.pdf"), "application/pdf");
    cr_assert_str_eq(type_of("song.mp3"), "audio/mpeg");
    cr_assert_str_eq(type_of("movie.mp4"), "video/mp4");
    cr_assert_str_eq(type_of("font.woff2"), "font/woff2");
    cr_assert_str_eq(type_of("mod.wasm"), "application/wasm");
    cr_assert_str_eq(type_of("a.7z"), "application/x-7z-compressed");
    cr_assert_str_eq(type_of("main.c"), "text/x-c; charset=utf-8");
    cr_assert_str_eq(type_of("main.h"), "text/x-c; charset=utf-8");
}

Test(mime, case_insensitive)
{
    cr_assert_str_eq(type_of("PHOTO.JPG"), "image/jpeg");
    cr_assert_str_eq(type_of("a.HtMl"), "text/html; charset=utf-8");
    cr_assert_str_eq(type_of("a.Md"), "text/markdown; charset=utf-8");
}

Test(mime, last_dot_of_last_segment)
{
    cr_assert_str_eq(type_of("a.tar.gz"), "application/gzip");
    cr_assert_str_eq(type_of("a.html.txt"), "text/plain; charset=utf-8");
    cr_assert_str_eq(type_of("/x/y/z.css"), "text/css; charset=utf-8");
    cr_assert_str_eq(type_of("dir.html/file"), "application/octet-stream");
    cr_assert_str_eq(type_of("dir.d/file.png"), "image/png");
    cr_assert_str_eq(type_of("a.html/"), "application/octet-stream");
    cr_assert_str_eq(type_of(".config.json"), "application/json");
    cr_assert_str_eq(type_of("dir/.config.json"), "application/json");
}

Test(mime, unknown)
{
    const char *names[] = {
        "",   "noext",  "Makefile", ".bashrc", "dir/.bashrc", "..x",   "...",
        "a.", ".",      "..",       "a.xyz",   "a.jpgg",      "a.jp",  "a.verylongextensionx",
        "/",  "dir.d/", "a. html",  "a.html ", "a.ht ml",     ".html", "x/.html",
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        cr_assert_str_eq(type_of(names[i]), "application/octet-stream", "'%s'", names[i]);

    const char nul[] = "a.js\0x";
    cr_assert_str_eq(http_mime_type(iov_make(nul, sizeof(nul) - 1)), "application/octet-stream");
    cr_assert_str_eq(http_mime_type(iov_make(nul, 4)), "text/javascript; charset=utf-8");
}
