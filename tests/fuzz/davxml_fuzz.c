/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for dav/xml.c and dav/multistatus.c.
 *
 * The input goes to each of the three body parsers. Whatever they accept is checked against
 * what xml.h promises (names are XML names, values and langs are XML text, the error codes are
 * the listed ones) and written back through the multistatus writer: every PROPPATCH value with
 * dav_ms_prop_xml, every name with dav_ms_prop_empty, the lock owner with dav_ms_lock_body. The
 * output must then read back with libxml2 as well-formed, namespace-well-formed XML with one
 * property element per name written. Anything else is an abort(). libxml2 itself is not built
 * with the sanitizers; our code is.
 */
#include <errno.h>
#include <libxml/parser.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "multistatus.h"
#include "xml.h"

struct membuf {
    uint8_t *p;
    size_t len, cap;
};

static int membuf_write(void *ctx, const void *p, size_t n)
{
    struct membuf *m = ctx;
    if (m->cap - m->len < n) {
        size_t cap = m->cap ? m->cap : 1024;
        while (cap - m->len < n)
            cap *= 2;
        uint8_t *b = realloc(m->p, cap);
        if (!b)
            return -ENOMEM;
        m->p = b;
        m->cap = cap;
    }
    memcpy(m->p + m->len, p, n);
    m->len += n;
    return 0;
}

static void check_err(int err)
{
    if (err != 0 && err != -EBADMSG && err != -E2BIG && err != -EPROTO && err != -EMSGSIZE &&
        err != -ENODATA && err != -ENOMEM)
        abort();
}

static void check_name(const struct dav_xml_name *n)
{
    if (!dav_xml_is_ncname(n->local) || !dav_xml_is_text(n->ns))
        abort();
}

static void check_value(const struct dav_xml_value *v)
{
    if (!v->xml.base || !dav_xml_is_text(v->xml) || !dav_xml_is_text(v->lang))
        abort();
}

static xmlNodePtr find_elem(xmlNodePtr n, const char *local)
{
    for (; n; n = n->next) {
        if (n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, local) == 0 && n->ns &&
            strcmp((const char *)n->ns->href, "DAV:") == 0)
            return n;
        xmlNodePtr c = find_elem(n->children, local);
        if (c)
            return c;
    }
    return NULL;
}

/*
 * The output must be well-formed with namespaces; returns the number of child elements of the
 * first DAV: element named local.
 */
static size_t read_back(const struct membuf *m, const char *local)
{
    xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
    if (!ctxt)
        abort();
    xmlDocPtr doc = xmlCtxtReadMemory(ctxt, (const char *)m->p, (int)m->len, NULL, NULL,
                                      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                                          XML_PARSE_HUGE);
    if (!doc || !ctxt->wellFormed || !ctxt->nsWellFormed)
        abort();
    xmlNodePtr e = find_elem(xmlDocGetRootElement(doc), local);
    if (!e)
        abort();
    size_t k = 0;
    for (xmlNodePtr c = e->children; c; c = c->next)
        k += c->type == XML_ELEMENT_NODE;
    xmlFreeDoc(doc);
    xmlFreeParserCtxt(ctxt);
    return k;
}

static void fuzz_proppatch(const uint8_t *data, size_t size)
{
    struct dav_xml_proppatch pp;
    int err = dav_xml_proppatch_parse(&pp, data, size);
    check_err(err);
    if (err)
        goto out;
    struct membuf m = {0};
    struct dav_ms ms;
    dav_ms_init(&ms, membuf_write, &m);
    dav_ms_begin(&ms);
    dav_ms_response_begin(&ms, iov_make(data, size < 64 ? size : 64));
    dav_ms_propstat_begin(&ms, 200);
    for (size_t i = 0; i < pp.n_ops; i++) {
        const struct dav_xml_patch *op = &pp.ops[i];
        check_name(&op->name);
        if (op->op == DAV_XML_SET) {
            check_value(&op->value);
            if (dav_ms_prop_xml(&ms, &op->name, &op->value) != 0)
                abort();
        } else if (dav_ms_prop_empty(&ms, &op->name) != 0) {
            abort();
        }
    }
    dav_ms_propstat_end(&ms);
    dav_ms_response_end(&ms);
    if (dav_ms_end(&ms) != 0)
        abort();
    if (read_back(&m, "prop") != pp.n_ops)
        abort();
    free(m.p);
out:
    dav_xml_proppatch_release(&pp);
}

static void fuzz_propfind(const uint8_t *data, size_t size)
{
    struct dav_xml_propfind pf;
    int err = dav_xml_propfind_parse(&pf, data, size);
    check_err(err);
    if (err)
        goto out;
    if (pf.kind != DAV_XML_ALLPROP && pf.kind != DAV_XML_PROPNAME && pf.kind != DAV_XML_PROP)
        abort();
    struct membuf m = {0};
    struct dav_ms ms;
    dav_ms_init(&ms, membuf_write, &m);
    dav_ms_begin(&ms);
    dav_ms_response_begin(&ms, IOV_LIT("/"));
    dav_ms_propstat_begin(&ms, 404);
    for (size_t i = 0; i < pf.n_names; i++) {
        check_name(&pf.names[i]);
        if (dav_ms_prop_empty(&ms, &pf.names[i]) != 0)
            abort();
    }
    dav_ms_propstat_end(&ms);
    dav_ms_response_end(&ms);
    dav_ms_end(&ms);
    if (read_back(&m, "prop") != pf.n_names)
        abort();
    free(m.p);
out:
    dav_xml_propfind_release(&pf);
}

static void fuzz_lockinfo(const uint8_t *data, size_t size)
{
    struct dav_xml_lockinfo li;
    int err = dav_xml_lockinfo_parse(&li, data, size);
    check_err(err);
    if (err)
        goto out;
    struct dav_ms_lock lk = {
        .exclusive = li.exclusive,
        .owner = li.has_owner ? &li.owner : NULL,
        .timeout = size,
        .token = IOV_LIT("urn:uuid:00000000-0000-0000-0000-000000000000"),
        .root = iov_make(data, size < 64 ? size : 64),
    };
    if (li.has_owner)
        check_value(&li.owner);
    struct membuf m = {0};
    struct dav_ms ms;
    dav_ms_init(&ms, membuf_write, &m);
    if (dav_ms_lock_body(&ms, &lk) != 0)
        abort();
    /* locktype, lockscope, depth, owner if any, timeout, locktoken, lockroot */
    if (read_back(&m, "activelock") != (li.has_owner ? 7u : 6u))
        abort();
    free(m.p);
out:
    dav_xml_lockinfo_release(&li);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_propfind(data, size);
    fuzz_proppatch(data, size);
    fuzz_lockinfo(data, size);
    return 0;
}
