/* SPDX-License-Identifier: MIT */
/*
 * Content-Type from a file name's extension.
 *
 * A static table sorted by lower-case extension, searched by binary search; the test checks the
 * order. Only the part after the last '.' of the last path segment counts, so "a.tar.gz" is gzip
 * and "dir.d/file" has no extension. A name whose only dots are leading (".bashrc", "..x") has no
 * extension either: it is a hidden file, not a file of type "bashrc".
 *
 * Text types carry "; charset=utf-8": a file server cannot know the encoding, but UTF-8 is by far
 * the most likely, and without the parameter the default is whatever the subtype's registration
 * says (RFC 6657 §3/§4; US-ASCII for text/plain) and browsers guess windows-1252. Types whose
 * own rules put the encoding in the content (XML, JSON, SVG) get no parameter. JavaScript is
 * text/javascript (RFC 9239 §6). Shell and source files are served as text so that a browser
 * shows them rather than offering to run them. There is no content sniffing: an unknown
 * extension is application/octet-stream, arbitrary binary data (RFC 2046 §4.5.1).
 */
#include "mime.h"

#define TEXT(t) t "; charset=utf-8"

struct mime_entry {
    const char *ext; /* lower case */
    const char *type;
};

static const struct mime_entry mime_table[] = {
    {"3gp", "video/3gpp"},
    {"7z", "application/x-7z-compressed"},
    {"aac", "audio/aac"},
    {"apk", "application/vnd.android.package-archive"},
    {"avi", "video/x-msvideo"},
    {"avif", "image/avif"},
    {"bmp", "image/bmp"},
    {"bz2", "application/x-bzip2"},
    {"c", TEXT("text/x-c")},
    {"cc", TEXT("text/x-c")},
    {"conf", TEXT("text/plain")},
    {"cpp", TEXT("text/x-c")},
    {"css", TEXT("text/css")},
    {"csv", TEXT("text/csv")},
    {"deb", "application/vnd.debian.binary-package"},
    {"diff", TEXT("text/x-diff")},
    {"dmg", "application/x-apple-diskimage"},
    {"doc", "application/msword"},
    {"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
    {"eot", "application/vnd.ms-fontobject"},
    {"eps", "application/postscript"},
    {"epub", "application/epub+zip"},
    {"exe", "application/vnd.microsoft.portable-executable"},
    {"flac", "audio/flac"},
    {"gif", "image/gif"},
    {"go", TEXT("text/x-go")},
    {"gz", "application/gzip"},
    {"h", TEXT("text/x-c")},
    {"heic", "image/heic"},
    {"heif", "image/heif"},
    {"hpp", TEXT("text/x-c")},
    {"htm", TEXT("text/html")},
    {"html", TEXT("text/html")},
    {"ico", "image/vnd.microsoft.icon"},
    {"ics", TEXT("text/calendar")},
    {"ini", TEXT("text/plain")},
    {"iso", "application/x-iso9660-image"},
    {"jar", "application/java-archive"},
    {"java", TEXT("text/x-java")},
    {"jpeg", "image/jpeg"},
    {"jpg", "image/jpeg"},
    {"js", TEXT("text/javascript")},
    {"json", "application/json"},
    {"jsonld", "application/ld+json"},
    {"jxl", "image/jxl"},
    {"log", TEXT("text/plain")},
    {"m3u8", "application/vnd.apple.mpegurl"},
    {"m4a", "audio/mp4"},
    {"m4v", "video/mp4"},
    {"markdown", TEXT("text/markdown")},
    {"md", TEXT("text/markdown")},
    {"mid", "audio/midi"},
    {"midi", "audio/midi"},
    {"mjs", TEXT("text/javascript")},
    {"mkv", "video/x-matroska"},
    {"mov", "video/quicktime"},
    {"mp3", "audio/mpeg"},
    {"mp4", "video/mp4"},
    {"mpd", "application/dash+xml"},
    {"mpeg", "video/mpeg"},
    {"mpg", "video/mpeg"},
    {"msi", "application/x-msi"},
    {"odp", "application/vnd.oasis.opendocument.presentation"},
    {"ods", "application/vnd.oasis.opendocument.spreadsheet"},
    {"odt", "application/vnd.oasis.opendocument.text"},
    {"oga", "audio/ogg"},
    {"ogg", "audio/ogg"},
    {"ogv", "video/ogg"},
    {"opus", "audio/ogg"}, /* RFC 7845: Opus travels in Ogg */
    {"otf", "font/otf"},
    {"patch", TEXT("text/x-diff")},
    {"pdf", "application/pdf"},
    {"pl", TEXT("text/x-perl")},
    {"png", "image/png"},
    {"ppt", "application/vnd.ms-powerpoint"},
    {"pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
    {"ps", "application/postscript"},
    {"py", TEXT("text/x-python")},
    {"rar", "application/vnd.rar"},
    {"rb", TEXT("text/x-ruby")},
    {"rs", TEXT("text/x-rust")},
    {"rtf", "application/rtf"},
    {"sh", TEXT("text/x-shellscript")},
    {"sql", "application/sql"},
    {"srt", "application/x-subrip"},
    {"svg", "image/svg+xml"},
    {"tar", "application/x-tar"},
    {"tgz", "application/gzip"},
    {"tif", "image/tiff"},
    {"tiff", "image/tiff"},
    {"toml", "application/toml"},
    {"torrent", "application/x-bittorrent"},
    {"ttf", "font/ttf"},
    {"txt", TEXT("text/plain")},
    {"vcf", TEXT("text/vcard")},
    {"vtt", TEXT("text/vtt")},
    {"wasm", "application/wasm"},
    {"wav", "audio/wav"},
    {"weba", "audio/webm"},
    {"webm", "video/webm"},
    {"webmanifest", "application/manifest+json"},
    {"webp", "image/webp"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"xhtml", "application/xhtml+xml"},
    {"xls", "application/vnd.ms-excel"},
    {"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
    {"xml", "application/xml"},
    {"xz", "application/x-xz"},
    {"yaml", "application/yaml"},
    {"yml", "application/yaml"},
    {"zip", "application/zip"},
    {"zst", "application/zstd"},
};

#define MIME_DEFAULT "application/octet-stream"
#define MIME_EXT_MAX 16 /* longer than any extension in the table */

const char *http_mime_type(struct iov name)
{
    if (name.len == 0)
        return MIME_DEFAULT;

    /* last path segment */
    size_t seg = name.len;
    while (seg > 0 && name.base[seg - 1] != '/')
        seg--;
    /* last dot within it */
    size_t dot = name.len;
    while (dot > seg && name.base[dot - 1] != '.')
        dot--;
    if (dot == seg)
        return MIME_DEFAULT; /* no dot */
    /* name.base[dot - 1] is the last '.'; something other than dots must come before it */
    bool has_stem = false;
    for (size_t i = seg; i + 1 < dot; i++) {
        if (name.base[i] != '.') {
            has_stem = true;
            break;
        }
    }
    size_t ext_len = name.len - dot;
    if (!has_stem || ext_len == 0 || ext_len > MIME_EXT_MAX)
        return MIME_DEFAULT;

    char ext[MIME_EXT_MAX + 1];
    for (size_t i = 0; i < ext_len; i++) {
        uint8_t c = name.base[dot + i];
        if (c == 0)
            return MIME_DEFAULT; /* strcmp would stop there */
        if (c >= 'A' && c <= 'Z')
            c = (uint8_t)(c - 'A' + 'a');
        ext[i] = (char)c;
    }
    ext[ext_len] = '\0';

    size_t lo = 0;
    size_t hi = sizeof(mime_table) / sizeof(mime_table[0]);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = strcmp(ext, mime_table[mid].ext);
        if (cmp == 0)
            return mime_table[mid].type;
        if (cmp < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return MIME_DEFAULT;
}
