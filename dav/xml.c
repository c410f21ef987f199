/* SPDX-License-Identifier: MIT */
/*
 * WebDAV request bodies with libxml2's SAX2 push parser, see xml.h.
 *
 * SAX rather than a tree: the limits are checked as elements arrive, nothing but our own structs
 * is built, and property values are serialised straight from the events, so we decide exactly
 * which namespace declarations and escapes a stored value carries.
 *
 * Before libxml2 sees a byte the whole body is checked to be UTF-8 without NUL, and an encoding
 * declaration other than UTF-8 is refused; libxml2 is then told to ignore the declaration, so it
 * never switches to another decoder. The DOCTYPE callback stops the parser before the internal
 * subset is read, and the entity callbacks refuse anything that gets past it.
 *
 * The structure of each body is followed by depth: path[d] names the DAV: element at depth d
 * (the root is depth 1). Elements we do not know are ignored with their content (RFC 4918 §17).
 *
 * Known gaps: comments and processing instructions inside values are dropped; a value made only
 * of text keeps no namespace declarations, so a QName in such text (xsi:type style) loses its
 * binding (RFC 4918 §4.3 only says SHOULD for prefixes).
 */
#include "xml.h"

#include <errno.h>
#include <libxml/parser.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_MIN 4096
#define XML_NS_URI "http://www.w3.org/XML/1998/namespace"

/* ---- arena ---- */

struct dav_xml_chunk {
    struct dav_xml_chunk *next;
    size_t used, cap;
    alignas(max_align_t) unsigned char data[];
};

static void *arena_alloc(struct dav_xml_arena *a, size_t n)
{
    n = (n + alignof(max_align_t) - 1) & ~(alignof(max_align_t) - 1);
    struct dav_xml_chunk *c = a->head;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > CHUNK_MIN ? n : CHUNK_MIN;
        c = malloc(sizeof(*c) + cap);
        if (!c)
            return NULL;
        c->next = a->head;
        c->used = 0;
        c->cap = cap;
        a->head = c;
    }
    void *p = c->data + c->used;
    c->used += n;
    return p;
}

/* A copy that is never NULL on success, even for n == 0 (an empty xml:lang is not "none"). */
static bool arena_dup(struct dav_xml_arena *a, const void *s, size_t n, struct iov *out)
{
    uint8_t *p = arena_alloc(a, n + 1);
    if (!p)
        return false;
    if (n)
        memcpy(p, s, n);
    p[n] = 0;
    *out = iov_make(p, n);
    return true;
}

static void arena_release(struct dav_xml_arena *a)
{
    struct dav_xml_chunk *c = a->head;
    while (c) {
        struct dav_xml_chunk *next = c->next;
        free(c);
        c = next;
    }
    a->head = NULL;
}

/* ---- characters ---- */

size_t dav_xml_utf8_next(const uint8_t *s, size_t len, uint32_t *cp)
{
    if (len == 0)
        return 0;
    uint8_t b = s[0];
    if (b < 0x80) {
        *cp = b;
        return 1;
    }
    size_t n;
    uint32_t c, min;
    if (b >= 0xc2 && b <= 0xdf) {
        n = 2, c = b & 0x1f, min = 0x80;
    } else if (b >= 0xe0 && b <= 0xef) {
        n = 3, c = b & 0x0f, min = 0x800;
    } else if (b >= 0xf0 && b <= 0xf4) {
        n = 4, c = b & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (len < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = c << 6 | (s[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return n;
}

/* XML 1.0 §2.2 Char. */
static bool is_xml_char(uint32_t c)
{
    return c == 0x9 || c == 0xa || c == 0xd || (c >= 0x20 && c <= 0xd7ff) ||
           (c >= 0xe000 && c <= 0xfffd) || (c >= 0x10000 && c <= 0x10ffff);
}

/* XML 1.0 (fifth edition) §2.3 NameStartChar, without ':'. */
static bool is_name_start(uint32_t c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
           (c >= 0xc0 && c <= 0xd6) || (c >= 0xd8 && c <= 0xf6) || (c >= 0xf8 && c <= 0x2ff) ||
           (c >= 0x370 && c <= 0x37d) || (c >= 0x37f && c <= 0x1fff) ||
           (c >= 0x200c && c <= 0x200d) || (c >= 0x2070 && c <= 0x218f) ||
           (c >= 0x2c00 && c <= 0x2fef) || (c >= 0x3001 && c <= 0xd7ff) ||
           (c >= 0xf900 && c <= 0xfdcf) || (c >= 0xfdf0 && c <= 0xfffd) ||
           (c >= 0x10000 && c <= 0xeffff);
}

static bool is_name_char(uint32_t c)
{
    return is_name_start(c) || c == '-' || c == '.' || (c >= '0' && c <= '9') || c == 0xb7 ||
           (c >= 0x300 && c <= 0x36f) || (c >= 0x203f && c <= 0x2040);
}

bool dav_xml_is_ncname(struct iov name)
{
    if (name.len == 0)
        return false;
    for (size_t i = 0; i < name.len;) {
        uint32_t c = name.base[i];
        /* ASCII, what nearly every property name is, without decoding. */
        size_t n = c < 0x80 ? 1 : dav_xml_utf8_next(name.base + i, name.len - i, &c);
        if (n == 0 || !(i == 0 ? is_name_start(c) : is_name_char(c)))
            return false;
        i += n;
    }
    return true;
}

bool dav_xml_is_text(struct iov s)
{
    for (size_t i = 0; i < s.len;) {
        /* ASCII, most of what is checked (names, dates, ETags), without decoding. */
        uint8_t b = s.base[i];
        if (b < 0x80) {
            if (b < 0x20 && b != '\t' && b != '\n' && b != '\r')
                return false;
            i++;
            continue;
        }
        uint32_t c;
        size_t n = dav_xml_utf8_next(s.base + i, s.len - i, &c);
        if (n == 0 || !is_xml_char(c))
            return false;
        i += n;
    }
    return true;
}

/* UTF-8 without NUL; libxml2 refuses the other control characters itself. */
static bool is_utf8_body(const uint8_t *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        uint32_t c;
        size_t n = dav_xml_utf8_next(s + i, len - i, &c);
        if (n == 0 || c == 0)
            return false;
        i += n;
    }
    return true;
}

static bool is_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_blank(const uint8_t *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (!is_space(s[i]))
            return false;
    }
    return true;
}

/*
 * The encoding declaration, if any, must name UTF-8 (XML 1.0 §4.3.3): we decode nothing else,
 * and reading other bytes as UTF-8 would silently change their meaning. Anything malformed is
 * left for libxml2 to refuse.
 */
static bool declares_utf8(const uint8_t *s, size_t len)
{
    if (len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
        s += 3, len -= 3;
    if (len < 6 || memcmp(s, "<?xml", 5) != 0 || !is_space(s[5]))
        return true;
    const uint8_t *end = memmem(s, len, "?>", 2);
    if (!end)
        return true;
    const uint8_t *e = memmem(s, (size_t)(end - s), "encoding", 8);
    if (!e)
        return true;
    const uint8_t *p = e + 8;
    while (p < end && (is_space(*p) || *p == '='))
        p++;
    if (p == end || (*p != '"' && *p != '\''))
        return true;
    uint8_t q = *p++;
    const uint8_t *v = p;
    while (p < end && *p != q)
        p++;
    struct iov name = iov_make(v, (size_t)(p - v));
    return iov_eq_nocase(name, "UTF-8");
}

/* ---- libxml2 setup ---- */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

/*
 * libxml2 (2.9 at least) hands attribute values and namespace URIs that contained '&' to SAX
 * with each '&' written back as "&#38;" unless entity substitution is on, which we never turn
 * on. Newer versions may not; a probe at start-up tells which we have.
 */
static bool amp_as_charref;

static void probe_start(void *ctx, const xmlChar *localname, const xmlChar *prefix,
                        const xmlChar *uri, int nb_namespaces, const xmlChar **namespaces,
                        int nb_attributes, int nb_defaulted, const xmlChar **attrs)
{
    (void)ctx, (void)localname, (void)prefix, (void)uri, (void)nb_namespaces, (void)namespaces;
    (void)nb_defaulted;
    if (nb_attributes == 1)
        amp_as_charref = attrs[4] - attrs[3] == 5;
}

static void init_libxml(void)
{
    xmlInitParser();
    xmlSAXHandler sax = {.initialized = XML_SAX2_MAGIC, .startElementNs = probe_start};
    static const char probe[] = "<a b='&amp;'/>";
    xmlParserCtxtPtr ctxt = xmlCreatePushParserCtxt(&sax, NULL, NULL, 0, NULL);
    if (!ctxt)
        return;
    xmlCtxtUseOptions(ctxt, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    xmlParseChunk(ctxt, probe, (int)sizeof(probe) - 1, 1);
    xmlFreeParserCtxt(ctxt);
}

/* ---- the parser ---- */

enum elem {
    E_OTHER,
    E_PROPFIND,
    E_ALLPROP,
    E_PROPNAME,
    E_PROP,
    E_INCLUDE,
    E_PROPERTYUPDATE,
    E_SET,
    E_REMOVE,
    E_LOCKINFO,
    E_LOCKSCOPE,
    E_LOCKTYPE,
    E_EXCLUSIVE,
    E_SHARED,
    E_WRITE,
    E_OWNER,
};

static const char *const elem_names[] = {
    [E_PROPFIND] = "propfind", [E_ALLPROP] = "allprop",
    [E_PROPNAME] = "propname", [E_PROP] = "prop",
    [E_INCLUDE] = "include",   [E_PROPERTYUPDATE] = "propertyupdate",
    [E_SET] = "set",           [E_REMOVE] = "remove",
    [E_LOCKINFO] = "lockinfo", [E_LOCKSCOPE] = "lockscope",
    [E_LOCKTYPE] = "locktype", [E_EXCLUSIVE] = "exclusive",
    [E_SHARED] = "shared",     [E_WRITE] = "write",
    [E_OWNER] = "owner",
};

enum doc {
    DOC_PROPFIND,
    DOC_PROPPATCH,
    DOC_LOCKINFO,
};

struct nsbind {
    struct iov prefix; /* base NULL: the default namespace */
    struct iov uri;
    unsigned depth;
};

struct item {
    struct item *next;
    struct dav_xml_patch patch; /* PROPFIND uses only the name */
};

struct parser {
    xmlParserCtxtPtr ctxt;
    enum doc doc;
    int err;
    /* Well-formed so far but not the document expected: -EPROTO if it stays well-formed. */
    bool unexpected;
    unsigned depth, elements;
    enum elem path[DAV_XML_DEPTH_MAX + 1];
    struct iov lang[DAV_XML_DEPTH_MAX + 1]; /* xml:lang in scope, kept outside captured values */
    struct nsbind ns[DAV_XML_NS_MAX];
    size_t n_ns;
    struct dav_xml_arena *out;    /* the result's */
    struct dav_xml_arena scratch; /* what only the parse needs */

    /* Value capture: the children of the element at depth 'capture' go to buf. */
    unsigned capture;
    struct dav_xml_value *value; /* where the finished value goes */
    bool tag_open;               /* "<name attrs" written, its '>' or "/>" not yet */
    bool outer_known;
    size_t outer[DAV_XML_NS_MAX]; /* indexes into ns: bindings in scope on the captured element */
    size_t n_outer;
    uint8_t *buf;
    size_t buf_len, buf_cap, values_total;

    struct item *items, **tail;
    size_t n_items;

    /* PROPFIND */
    bool has_kind, has_include;
    enum dav_xml_propfind_kind kind;
    /* LOCK */
    bool has_scope, exclusive, is_write, has_owner;
    struct dav_xml_value owner;
};

static void fail(struct parser *p, int err)
{
    if (!p->err)
        p->err = err;
    xmlStopParser(p->ctxt);
}

/* Copy a namespace URI or attribute value from libxml2, undoing its "&#38;" (see probe). */
static bool dup_value(struct dav_xml_arena *a, const xmlChar *s, size_t n, struct iov *out)
{
    if (!amp_as_charref || !memchr(s, '&', n))
        return arena_dup(a, s, n, out);
    uint8_t *d = arena_alloc(a, n + 1);
    if (!d)
        return false;
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        d[j++] = s[i];
        if (s[i] == '&' && n - i >= 5 && memcmp(s + i, "&#38;", 5) == 0)
            i += 4;
    }
    d[j] = 0;
    *out = iov_make(d, j);
    return true;
}

static enum elem identify(const xmlChar *localname, const xmlChar *uri)
{
    if (!uri || strcmp((const char *)uri, DAV_XML_NS_DAV) != 0)
        return E_OTHER;
    for (size_t i = 1; i < sizeof(elem_names) / sizeof(elem_names[0]); i++) {
        if (strcmp((const char *)localname, elem_names[i]) == 0)
            return (enum elem)i;
    }
    return E_OTHER;
}

static struct item *add_item(struct parser *p, const xmlChar *localname, const xmlChar *uri)
{
    struct item *it = arena_alloc(&p->scratch, sizeof(*it));
    if (!it) {
        fail(p, -ENOMEM);
        return NULL;
    }
    *it = (struct item){0};
    struct dav_xml_name *name = &it->patch.name;
    bool ok = arena_dup(p->out, localname, strlen((const char *)localname), &name->local);
    if (ok && uri)
        ok = dup_value(p->out, uri, strlen((const char *)uri), &name->ns);
    else if (ok)
        ok = arena_dup(p->out, "", 0, &name->ns);
    if (!ok) {
        fail(p, -ENOMEM);
        return NULL;
    }
    *p->tail = it;
    p->tail = &it->next;
    p->n_items++;
    return it;
}

/* ---- value serialisation ---- */

static void put(struct parser *p, const void *s, size_t n)
{
    if (p->err || n == 0)
        return; /* n == 0 may come with a NULL buffer not yet allocated */
    if (n > DAV_XML_VALUES_MAX - p->values_total) {
        fail(p, -E2BIG);
        return;
    }
    if (p->buf_cap - p->buf_len < n) {
        size_t cap = p->buf_cap ? p->buf_cap : 256;
        while (cap - p->buf_len < n)
            cap *= 2;
        uint8_t *b = realloc(p->buf, cap);
        if (!b) {
            fail(p, -ENOMEM);
            return;
        }
        p->buf = b;
        p->buf_cap = cap;
    }
    memcpy(p->buf + p->buf_len, s, n);
    p->buf_len += n;
    p->values_total += n;
}

static void put_str(struct parser *p, const char *s)
{
    put(p, s, strlen(s));
}

/*
 * Escape character data, or an attribute value in double quotes if attr. from_sax: s is an
 * attribute value from libxml2, whose '&' may be written "&#38;" (see probe).
 */
static void put_escaped(struct parser *p, const uint8_t *s, size_t n, bool attr, bool from_sax)
{
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        const char *esc = NULL;
        size_t skip = 0;
        switch (s[i]) {
        case '&':
            esc = "&amp;";
            if (from_sax && amp_as_charref && n - i >= 5 && memcmp(s + i, "&#38;", 5) == 0)
                skip = 4;
            break;
        case '<': esc = "&lt;"; break;
        case '>': esc = attr ? NULL : "&gt;"; break;
        case '"': esc = attr ? "&quot;" : NULL; break;
        case '\r': esc = "&#13;"; break; /* a literal CR would be read back as LF (§2.11) */
        case '\t': esc = attr ? "&#9;" : NULL; break; /* attributes normalise them (§3.3.3) */
        case '\n': esc = attr ? "&#10;" : NULL; break;
        }
        if (!esc)
            continue;
        put(p, s + run, i - run);
        put_str(p, esc);
        i += skip;
        run = i + 1;
    }
    put(p, s + run, n - run);
}

static void put_qname(struct parser *p, const xmlChar *prefix, const xmlChar *localname)
{
    if (prefix) {
        put_str(p, (const char *)prefix);
        put(p, ":", 1);
    }
    put_str(p, (const char *)localname);
}

static void put_nsdecl(struct parser *p, struct iov prefix, struct iov uri)
{
    put_str(p, " xmlns");
    if (prefix.base) {
        put(p, ":", 1);
        put(p, prefix.base, prefix.len);
    }
    put(p, "=\"", 2);
    put_escaped(p, uri.base, uri.len, true, false);
    put(p, "\"", 1);
}

static bool same_prefix(struct iov a, struct iov b)
{
    return (a.base == NULL) == (b.base == NULL) && iov_eq(a, b);
}

/* The bindings in scope on the captured element, innermost first, one per prefix. */
static void find_outer(struct parser *p)
{
    p->n_outer = 0;
    for (size_t i = p->n_ns; i-- > 0;) {
        if (p->ns[i].depth > p->capture)
            continue;
        bool shadowed = false;
        for (size_t j = 0; j < p->n_outer && !shadowed; j++)
            shadowed = same_prefix(p->ns[p->outer[j]].prefix, p->ns[i].prefix);
        if (!shadowed)
            p->outer[p->n_outer++] = i;
    }
    p->outer_known = true;
}

static void close_tag(struct parser *p)
{
    if (p->tag_open) {
        put(p, ">", 1);
        p->tag_open = false;
    }
}

static void value_start(struct parser *p, const xmlChar *localname, const xmlChar *prefix,
                        size_t first_ns, const xmlChar **attrs, int nb_attributes)
{
    close_tag(p);
    put(p, "<", 1);
    put_qname(p, prefix, localname);
    for (size_t i = first_ns; i < p->n_ns; i++)
        put_nsdecl(p, p->ns[i].prefix, p->ns[i].uri);
    if (p->depth == p->capture + 1) {
        /* A top-level element of the value carries the bindings it inherited (xml.h). */
        if (!p->outer_known)
            find_outer(p);
        for (size_t j = 0; j < p->n_outer; j++) {
            const struct nsbind *b = &p->ns[p->outer[j]];
            bool redeclared = false;
            for (size_t i = first_ns; i < p->n_ns && !redeclared; i++)
                redeclared = same_prefix(p->ns[i].prefix, b->prefix);
            /* xmlns="" only undoes a default, and the writer declares none. */
            if (!redeclared && !(b->prefix.base == NULL && b->uri.len == 0))
                put_nsdecl(p, b->prefix, b->uri);
        }
    }
    for (int i = 0; i < nb_attributes; i++) {
        const xmlChar **a = attrs + 5 * i;
        put(p, " ", 1);
        put_qname(p, a[1], a[0]);
        put(p, "=\"", 2);
        put_escaped(p, a[3], (size_t)(a[4] - a[3]), true, true);
        put(p, "\"", 1);
    }
    p->tag_open = true;
}

static void value_end(struct parser *p, const xmlChar *localname, const xmlChar *prefix)
{
    if (p->tag_open) {
        put(p, "/>", 2);
        p->tag_open = false;
        return;
    }
    put(p, "</", 2);
    put_qname(p, prefix, localname);
    put(p, ">", 1);
}

static void capture_begin(struct parser *p, struct dav_xml_value *v)
{
    p->capture = p->depth;
    p->value = v;
    p->tag_open = false;
    p->outer_known = false;
    p->buf_len = 0;
    v->lang = p->lang[p->depth];
}

static void capture_end(struct parser *p)
{
    if (!arena_dup(p->out, p->buf, p->buf_len, &p->value->xml))
        fail(p, -ENOMEM);
    p->capture = 0;
    p->value = NULL;
}

/* ---- structure of each body ---- */

static void propfind_start(struct parser *p, enum elem e, const xmlChar *localname,
                           const xmlChar *uri)
{
    unsigned d = p->depth;
    if (d == 1) {
        if (e != E_PROPFIND)
            p->unexpected = true;
    } else if (d == 2 && (e == E_ALLPROP || e == E_PROPNAME || e == E_PROP)) {
        if (p->has_kind)
            p->unexpected = true; /* §14.20: exactly one of them */
        p->has_kind = true;
        p->kind = e == E_ALLPROP    ? DAV_XML_ALLPROP
                  : e == E_PROPNAME ? DAV_XML_PROPNAME
                                    : DAV_XML_PROP;
    } else if (d == 2 && e == E_INCLUDE) {
        p->has_include = true;
    } else if (d == 3 && (p->path[2] == E_PROP || p->path[2] == E_INCLUDE)) {
        add_item(p, localname, uri);
    }
}

static void proppatch_start(struct parser *p, enum elem e, const xmlChar *localname,
                            const xmlChar *uri)
{
    unsigned d = p->depth;
    if (d == 1 && e != E_PROPERTYUPDATE) {
        p->unexpected = true;
    } else if (d == 4 && p->path[3] == E_PROP && (p->path[2] == E_SET || p->path[2] == E_REMOVE)) {
        struct item *it = add_item(p, localname, uri);
        if (!it)
            return;
        it->patch.op = p->path[2] == E_SET ? DAV_XML_SET : DAV_XML_REMOVE;
        if (it->patch.op == DAV_XML_SET)
            capture_begin(p, &it->patch.value);
    }
}

static void lockinfo_start(struct parser *p, enum elem e)
{
    unsigned d = p->depth;
    if (d == 1) {
        if (e != E_LOCKINFO)
            p->unexpected = true;
    } else if (d == 2 && e == E_OWNER) {
        if (p->has_owner)
            p->unexpected = true;
        p->has_owner = true;
        capture_begin(p, &p->owner);
    } else if (d == 3 && p->path[2] == E_LOCKSCOPE && (e == E_EXCLUSIVE || e == E_SHARED)) {
        p->has_scope = true;
        p->exclusive = e == E_EXCLUSIVE;
    } else if (d == 3 && p->path[2] == E_LOCKTYPE && e == E_WRITE) {
        p->is_write = true;
    }
}

/* ---- SAX callbacks ---- */

static void on_start(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri,
                     int nb_namespaces, const xmlChar **namespaces, int nb_attributes,
                     int nb_defaulted, const xmlChar **attrs)
{
    struct parser *p = ctx;
    (void)nb_defaulted; /* only a DTD defaults attributes, and there is none */
    if (p->err)
        return;
    if (++p->elements > DAV_XML_ELEMENTS_MAX || ++p->depth > DAV_XML_DEPTH_MAX) {
        fail(p, -E2BIG);
        return;
    }
    size_t first_ns = p->n_ns;
    for (int i = 0; i < nb_namespaces; i++) {
        if (p->n_ns == DAV_XML_NS_MAX) {
            fail(p, -E2BIG);
            return;
        }
        struct nsbind *b = &p->ns[p->n_ns];
        const xmlChar *pfx = namespaces[2 * i], *u = namespaces[2 * i + 1];
        b->prefix = iov_make(NULL, 0);
        b->depth = p->depth;
        if ((pfx && !arena_dup(&p->scratch, pfx, strlen((const char *)pfx), &b->prefix)) ||
            !dup_value(&p->scratch, u, strlen((const char *)u), &b->uri)) {
            fail(p, -ENOMEM);
            return;
        }
        p->n_ns++;
    }
    if (p->capture && p->depth > p->capture) {
        value_start(p, localname, prefix, first_ns, attrs, nb_attributes);
        return;
    }

    /* RFC 4918 §4.3: xml:lang in scope on a property element belongs to its value. */
    p->lang[p->depth] = p->lang[p->depth - 1];
    for (int i = 0; i < nb_attributes; i++) {
        const xmlChar **a = attrs + 5 * i;
        if (a[2] && strcmp((const char *)a[2], XML_NS_URI) == 0 &&
            strcmp((const char *)a[0], "lang") == 0 &&
            !dup_value(p->out, a[3], (size_t)(a[4] - a[3]), &p->lang[p->depth])) {
            fail(p, -ENOMEM);
            return;
        }
    }

    enum elem e = identify(localname, uri);
    p->path[p->depth] = e;
    switch (p->doc) {
    case DOC_PROPFIND: propfind_start(p, e, localname, uri); break;
    case DOC_PROPPATCH: proppatch_start(p, e, localname, uri); break;
    case DOC_LOCKINFO: lockinfo_start(p, e); break;
    }
}

static void on_end(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri)
{
    struct parser *p = ctx;
    (void)uri;
    if (p->err)
        return;
    if (p->capture && p->depth > p->capture)
        value_end(p, localname, prefix);
    else if (p->capture && p->depth == p->capture)
        capture_end(p);
    while (p->n_ns > 0 && p->ns[p->n_ns - 1].depth == p->depth)
        p->n_ns--;
    p->depth--;
}

static void on_text(void *ctx, const xmlChar *s, int len)
{
    struct parser *p = ctx;
    if (p->err || !p->capture || p->depth < p->capture)
        return; /* whitespace (or stray text, §17) between DAV: elements */
    close_tag(p);
    put_escaped(p, s, (size_t)len, false, false);
}

static void on_doctype(void *ctx, const xmlChar *name, const xmlChar *external_id,
                       const xmlChar *system_id)
{
    (void)name, (void)external_id, (void)system_id;
    fail(ctx, -EBADMSG); /* before the internal subset: no entity is ever declared */
}

static void on_entity_decl(void *ctx, const xmlChar *name, int type, const xmlChar *public_id,
                           const xmlChar *system_id, xmlChar *content)
{
    (void)name, (void)type, (void)public_id, (void)system_id, (void)content;
    fail(ctx, -EBADMSG);
}

static xmlEntityPtr on_get_entity(void *ctx, const xmlChar *name)
{
    (void)name;
    fail(ctx, -EBADMSG); /* the five predefined entities never get here */
    return NULL;
}

static xmlParserInputPtr on_resolve(void *ctx, const xmlChar *public_id, const xmlChar *system_id)
{
    (void)public_id, (void)system_id;
    fail(ctx, -EBADMSG);
    return NULL;
}

static int run(struct parser *p, enum doc doc, struct dav_xml_arena *out, const uint8_t *body,
               size_t len)
{
    *p = (struct parser){.doc = doc, .out = out};
    p->tail = &p->items;
    if (len > DAV_XML_BODY_MAX)
        return -EMSGSIZE;
    if (!is_utf8_body(body, len) || !declares_utf8(body, len))
        return -EBADMSG;
    pthread_once(&init_once, init_libxml);

    xmlSAXHandler sax = {
        .initialized = XML_SAX2_MAGIC,
        .startElementNs = on_start,
        .endElementNs = on_end,
        .characters = on_text,
        .cdataBlock = on_text,
        .internalSubset = on_doctype,
        .externalSubset = on_doctype,
        .entityDecl = on_entity_decl,
        .getEntity = on_get_entity,
        .getParameterEntity = on_get_entity,
        .resolveEntity = on_resolve,
    };
    p->ctxt = xmlCreatePushParserCtxt(&sax, p, NULL, 0, NULL);
    if (!p->ctxt)
        return -ENOMEM;
    xmlCtxtUseOptions(p->ctxt, XML_PARSE_NONET | XML_PARSE_IGNORE_ENC | XML_PARSE_NOERROR |
                                   XML_PARSE_NOWARNING);
    int rc = xmlParseChunk(p->ctxt, (const char *)body, (int)len, 1);
    int err = p->err;
    if (!err && p->ctxt->errNo == XML_ERR_NO_MEMORY)
        err = -ENOMEM;
    else if (!err && (rc != 0 || !p->ctxt->wellFormed || !p->ctxt->nsWellFormed))
        err = -EBADMSG; /* namespace errors (an unbound prefix) are not fatal to libxml2 */
    else if (!err && p->unexpected)
        err = -EPROTO;
    xmlFreeParserCtxt(p->ctxt);
    p->ctxt = NULL;
    free(p->buf);
    p->buf = NULL;
    return err;
}

static void run_release(struct parser *p)
{
    arena_release(&p->scratch);
}

/* The items as one array in the result's arena. */
static int flatten(struct parser *p, struct dav_xml_patch **out)
{
    *out = NULL;
    if (p->n_items == 0)
        return 0;
    struct dav_xml_patch *arr = arena_alloc(p->out, p->n_items * sizeof(*arr));
    if (!arr)
        return -ENOMEM;
    size_t i = 0;
    for (struct item *it = p->items; it; it = it->next)
        arr[i++] = it->patch;
    *out = arr;
    return 0;
}

int dav_xml_propfind_parse(struct dav_xml_propfind *pf, const uint8_t *body, size_t len)
{
    *pf = (struct dav_xml_propfind){.kind = DAV_XML_ALLPROP};
    if (is_blank(body, len))
        return 0; /* RFC 4918 §9.1: no body means allprop */
    struct parser p;
    int err = run(&p, DOC_PROPFIND, &pf->arena, body, len);
    if (err)
        goto out;
    err = -EPROTO;
    if (!p.has_kind || (p.has_include && p.kind != DAV_XML_ALLPROP))
        goto out;
    pf->kind = p.kind;
    struct dav_xml_name *names = NULL;
    if (p.n_items) {
        names = arena_alloc(&pf->arena, p.n_items * sizeof(*names));
        err = -ENOMEM;
        if (!names)
            goto out;
        size_t i = 0;
        for (struct item *it = p.items; it; it = it->next)
            names[i++] = it->patch.name;
    }
    pf->names = names;
    pf->n_names = p.n_items;
    err = 0;
out:
    run_release(&p);
    return err;
}

void dav_xml_propfind_release(struct dav_xml_propfind *pf)
{
    arena_release(&pf->arena);
    *pf = (struct dav_xml_propfind){0};
}

int dav_xml_proppatch_parse(struct dav_xml_proppatch *pp, const uint8_t *body, size_t len)
{
    *pp = (struct dav_xml_proppatch){0};
    struct parser p;
    int err = run(&p, DOC_PROPPATCH, &pp->arena, body, len);
    if (err)
        goto out;
    struct dav_xml_patch *ops;
    err = flatten(&p, &ops);
    if (err)
        goto out;
    pp->ops = ops;
    pp->n_ops = p.n_items;
out:
    run_release(&p);
    return err;
}

void dav_xml_proppatch_release(struct dav_xml_proppatch *pp)
{
    arena_release(&pp->arena);
    *pp = (struct dav_xml_proppatch){0};
}

int dav_xml_lockinfo_parse(struct dav_xml_lockinfo *li, const uint8_t *body, size_t len)
{
    *li = (struct dav_xml_lockinfo){0};
    if (is_blank(body, len))
        return -ENODATA;
    struct parser p;
    int err = run(&p, DOC_LOCKINFO, &li->arena, body, len);
    if (err)
        goto out;
    err = -EPROTO;
    if (!p.has_scope || !p.is_write)
        goto out;
    li->exclusive = p.exclusive;
    li->has_owner = p.has_owner;
    li->owner = p.owner;
    err = 0;
out:
    run_release(&p);
    return err;
}

void dav_xml_lockinfo_release(struct dav_xml_lockinfo *li)
{
    arena_release(&li->arena);
    *li = (struct dav_xml_lockinfo){0};
}
