/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the dav/ XML tests: a memory sink for the multistatus writer, and a
 * structural comparison of XML subtrees read back with libxml2's tree parser.
 */
#ifndef TESTS_UNIT_DAV_DAVTEST_H
#define TESTS_UNIT_DAV_DAVTEST_H

#include <criterion/criterion.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>

#include "multistatus.h"
#include "xml.h"

struct membuf {
    char *p;
    size_t len, cap;
};

static inline int membuf_write(void *ctx, const void *p, size_t n)
{
    struct membuf *m = ctx;
    if (m->cap - m->len < n + 1) {
        size_t cap = m->cap ? m->cap : 256;
        while (cap - m->len < n + 1)
            cap *= 2;
        m->p = realloc(m->p, cap);
        cr_assert(m->p);
        m->cap = cap;
    }
    memcpy(m->p + m->len, p, n);
    m->len += n;
    m->p[m->len] = 0;
    return 0;
}

/* The tree parser as a client would use it; CDATA merged into text so values compare as text. */
static inline xmlDocPtr read_doc(const void *p, size_t n)
{
    return xmlReadMemory(p, (int)n, NULL, NULL,
                         XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_NOERROR |
                             XML_PARSE_NOWARNING);
}

static inline bool node_is(xmlNodePtr n, const char *ns, const char *local)
{
    if (!n || n->type != XML_ELEMENT_NODE || strcmp((const char *)n->name, local) != 0)
        return false;
    if (!ns || !*ns)
        return !n->ns;
    return n->ns && strcmp((const char *)n->ns->href, ns) == 0;
}

/* First element named (ns, local) in document order below n, n included. */
static inline xmlNodePtr find_elem(xmlNodePtr n, const char *ns, const char *local)
{
    for (; n; n = n->next) {
        if (node_is(n, ns, local))
            return n;
        xmlNodePtr c = find_elem(n->children, ns, local);
        if (c)
            return c;
    }
    return NULL;
}

/* Next child at or after n that the infoset comparison looks at (comments and PIs are not kept). */
static inline xmlNodePtr next_kept(xmlNodePtr n)
{
    while (n && n->type != XML_ELEMENT_NODE && n->type != XML_TEXT_NODE)
        n = n->next;
    return n;
}

/* Concatenated text of consecutive text nodes from *n (skipping comments), advancing *n. */
static inline char *take_text(xmlNodePtr *n)
{
    size_t len = 0;
    char *s = calloc(1, 1);
    xmlNodePtr c = *n;
    for (; c && c->type != XML_ELEMENT_NODE; c = c->next) {
        if (c->type != XML_TEXT_NODE)
            continue;
        size_t k = strlen((const char *)c->content);
        s = realloc(s, len + k + 1);
        memcpy(s + len, c->content, k + 1);
        len += k;
    }
    *n = c;
    return s;
}

static inline void assert_same_attrs(xmlNodePtr a, xmlNodePtr b)
{
    xmlAttrPtr x = a->properties, y = b->properties;
    for (; x && y; x = x->next, y = y->next) {
        cr_assert_str_eq((const char *)x->name, (const char *)y->name);
        cr_assert_eq(!x->ns, !y->ns);
        if (x->ns)
            cr_assert_str_eq((const char *)x->ns->href, (const char *)y->ns->href);
        xmlChar *vx = xmlNodeListGetString(a->doc, x->children, 1);
        xmlChar *vy = xmlNodeListGetString(b->doc, y->children, 1);
        cr_assert_str_eq((const char *)(vx ? vx : BAD_CAST ""),
                         (const char *)(vy ? vy : BAD_CAST ""));
        xmlFree(vx);
        xmlFree(vy);
    }
    cr_assert(!x && !y, "attribute count differs on %s", a->name);
}

/*
 * The children of a and b are the same infoset (RFC 4918 §4.3): element namespace, local name
 * and prefix, attributes, character data; comments and PIs ignored, adjacent text merged.
 */
static inline void assert_same_children(xmlNodePtr a, xmlNodePtr b)
{
    xmlNodePtr x = next_kept(a->children), y = next_kept(b->children);
    while (x || y) {
        cr_assert(x && y, "child count differs under %s", a->name);
        if (x->type == XML_TEXT_NODE || y->type == XML_TEXT_NODE) {
            cr_assert_eq(x->type, y->type, "text vs element under %s", a->name);
            char *tx = take_text(&x), *ty = take_text(&y);
            cr_assert_str_eq(tx, ty);
            free(tx);
            free(ty);
        } else {
            cr_assert_str_eq((const char *)x->name, (const char *)y->name);
            cr_assert_eq(!x->ns, !y->ns, "namespace presence differs on %s", x->name);
            if (x->ns) {
                cr_assert_str_eq((const char *)x->ns->href, (const char *)y->ns->href);
                cr_assert_eq(!x->ns->prefix, !y->ns->prefix);
                if (x->ns->prefix)
                    cr_assert_str_eq((const char *)x->ns->prefix, (const char *)y->ns->prefix);
            }
            assert_same_attrs(x, y);
            assert_same_children(x, y);
            x = x->next;
            y = y->next;
        }
        x = next_kept(x);
        y = next_kept(y);
    }
}

#endif
