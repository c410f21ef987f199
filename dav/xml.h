/* SPDX-License-Identifier: MIT */
/*
 * WebDAV request bodies (RFC 4918 §14): PROPFIND, PROPPATCH and LOCK, parsed with libxml2 into
 * plain structs.
 *
 * Safety: a body with a DOCTYPE is refused before its internal subset is read, so no entity can
 * be declared, expanded or fetched (billion laughs, XXE); the network is off; only UTF-8 is
 * accepted (checked here, and the encoding declaration must say UTF-8 if present). Nesting, the
 * number of elements and the namespace declarations in scope are limited.
 *
 * Errors (the caller maps them to HTTP; everything but -EMSGSIZE and -ENOMEM is a 400):
 *   -EMSGSIZE  body longer than DAV_XML_BODY_MAX (413; the caller should check before reading)
 *   -EBADMSG   not well-formed, not UTF-8, or has a DOCTYPE
 *   -E2BIG     over DAV_XML_DEPTH_MAX, DAV_XML_ELEMENTS_MAX or DAV_XML_NS_MAX, or property values
 *              that would serialise to more than DAV_XML_VALUES_MAX bytes
 *   -EPROTO    well-formed XML that is not the expected DAV: document
 *   -ENODATA   empty LOCK body (a refresh, RFC 4918 §9.10.2)
 *   -ENOMEM
 *
 * Names are (namespace URI, local name) pairs, never prefixes; the DAV: namespace is "DAV:".
 * Property values and lock owners are kept as XML fragments, see struct dav_xml_value.
 *
 * Memory: every result owns one arena holding everything it points to; the parse function
 * initialises the result even when it fails, and the matching _release frees it all.
 */
#ifndef DAV_XML_H
#define DAV_XML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iov.h"

#define DAV_XML_BODY_MAX (1u << 20)   /* bytes of a request body */
#define DAV_XML_DEPTH_MAX 64          /* nesting of elements, the root is depth 1 */
#define DAV_XML_ELEMENTS_MAX 10000    /* elements in one body */
#define DAV_XML_NS_MAX 64             /* namespace declarations in scope at once */
#define DAV_XML_VALUES_MAX (4u << 20) /* bytes of all serialised values of one body */

#define DAV_XML_NS_DAV "DAV:"

/* Chunks of an arena; private to xml.c. */
struct dav_xml_chunk;

struct dav_xml_arena {
    struct dav_xml_chunk *head;
};

/** Element identity: namespace URI (empty = no namespace) and local name, both UTF-8. */
struct dav_xml_name {
    struct iov ns;
    struct iov local;
};

/**
 * A dead property value or lock owner as an XML fragment: the element's children (text and
 * elements) serialised as UTF-8. Each top-level child element declares every namespace that was
 * in scope for it in the request (RFC 4918 §4.3 asks to keep prefixes and in-scope namespaces),
 * so the fragment reads back the same inside any element that declares no default namespace.
 * Text is escaped (&amp; &lt; &gt;, CR as &#13;), CDATA sections become escaped text, comments
 * and processing instructions are dropped. lang is the xml:lang in scope on the property element
 * (base NULL: none), which the writer puts back on it.
 */
struct dav_xml_value {
    struct iov xml;
    struct iov lang;
};

enum dav_xml_propfind_kind {
    DAV_XML_ALLPROP,  /* <allprop/> or an empty body; names = the <include> list */
    DAV_XML_PROPNAME, /* <propname/> */
    DAV_XML_PROP,     /* <prop>: names = the properties asked for */
};

struct dav_xml_propfind {
    enum dav_xml_propfind_kind kind;
    const struct dav_xml_name *names;
    size_t n_names;
    struct dav_xml_arena arena;
};

/**
 * Parse a PROPFIND body (RFC 4918 §14.20). An empty or all-whitespace body means allprop.
 * Unknown elements are ignored (§17). Always initialises *pf; release it even on failure.
 * Returns 0 or a negative errno listed at the top of this file.
 */
int dav_xml_propfind_parse(struct dav_xml_propfind *pf, const uint8_t *body, size_t len);

/** Free everything a parsed PROPFIND points to. */
void dav_xml_propfind_release(struct dav_xml_propfind *pf);

enum dav_xml_patch_op {
    DAV_XML_SET,
    DAV_XML_REMOVE,
};

struct dav_xml_patch {
    enum dav_xml_patch_op op;
    struct dav_xml_name name;
    struct dav_xml_value value; /* DAV_XML_SET only */
};

struct dav_xml_proppatch {
    const struct dav_xml_patch *ops; /* in document order, one per property */
    size_t n_ops;
    struct dav_xml_arena arena;
};

/**
 * Parse a PROPPATCH body (RFC 4918 §14.19): every property of every <set> and <remove>, in
 * document order (§9.2 requires them applied in that order). Always initialises *pp; release it
 * even on failure. Returns 0 or a negative errno listed at the top of this file.
 */
int dav_xml_proppatch_parse(struct dav_xml_proppatch *pp, const uint8_t *body, size_t len);

/** Free everything a parsed PROPPATCH points to. */
void dav_xml_proppatch_release(struct dav_xml_proppatch *pp);

struct dav_xml_lockinfo {
    bool exclusive; /* <exclusive/>, else <shared/> */
    bool has_owner;
    struct dav_xml_value owner; /* the children of <owner>, as for dead properties */
    struct dav_xml_arena arena;
};

/**
 * Parse a LOCK body (RFC 4918 §14.11): lockscope is required, locktype must be write. An empty
 * or all-whitespace body gives -ENODATA: a refresh, if the request's headers agree. Always
 * initialises *li; release it even on failure. Returns 0 or a negative errno listed above.
 */
int dav_xml_lockinfo_parse(struct dav_xml_lockinfo *li, const uint8_t *body, size_t len);

/** Free everything a parsed lockinfo points to. */
void dav_xml_lockinfo_release(struct dav_xml_lockinfo *li);

/** True if name is an XML NCName (a name without ':'), in UTF-8: safe to echo as a local name. */
bool dav_xml_is_ncname(struct iov name);

/**
 * True if s is UTF-8 made only of characters XML 1.0 allows (§2.2): safe to echo once escaped.
 * Also what a namespace URI from anywhere must satisfy before it is written.
 */
bool dav_xml_is_text(struct iov s);

/**
 * Length of the UTF-8 sequence at s[0..len) and its code point in *cp; 0 if it is not valid
 * UTF-8 (overlong, surrogate, above U+10FFFF, truncated).
 */
size_t dav_xml_utf8_next(const uint8_t *s, size_t len, uint32_t *cp);

#endif
