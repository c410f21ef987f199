/* SPDX-License-Identifier: MIT */
/*
 * PROPPATCH (RFC 4918 §9.2): every instruction applied in document order in one index
 * transaction, or none. A live property (liveprop.h; all protected) fails the whole request
 * before the index is touched: 403 for it, 424 for the rest. Any other name, in any namespace
 * (DAV: included), is a dead property whose value is the XML fragment from dav/xml, stored with
 * its xml:lang (dav_prop_value_encode). The 403 for a live property carries
 * <D:error><D:cannot-modify-protected-property/> (§9.2.1).
 */
#include "dav.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "liveprop.h"
#include "status.h"

#define XML_TYPE "application/xml; charset=utf-8"

/* The ops for the index: NUL-terminated names and stored values, in one allocation. */
static int index_ops(const struct dav_xml_proppatch *pp, struct dav_prop_op **out, char **buf)
{
    size_t size = 0;
    for (size_t i = 0; i < pp->n_ops; i++) {
        const struct dav_xml_patch *p = &pp->ops[i];
        size += p->name.ns.len + p->name.local.len + 2;
        if (p->op == DAV_XML_SET)
            size += dav_prop_value_len(&p->value);
    }
    *out = calloc(pp->n_ops, sizeof(**out));
    *buf = malloc(size ? size : 1);
    if (!*out || !*buf)
        return -ENOMEM;
    char *at = *buf;
    for (size_t i = 0; i < pp->n_ops; i++) {
        const struct dav_xml_patch *p = &pp->ops[i];
        struct dav_prop_op *op = &(*out)[i];
        op->is_remove = p->op == DAV_XML_REMOVE;
        op->ns = at;
        if (p->name.ns.len)
            memcpy(at, p->name.ns.base, p->name.ns.len);
        at += p->name.ns.len;
        *at++ = '\0';
        op->name = at;
        memcpy(at, p->name.local.base, p->name.local.len);
        at += p->name.local.len;
        *at++ = '\0';
        if (!op->is_remove) {
            op->value = at;
            op->value_len = dav_prop_value_len(&p->value);
            dav_prop_value_encode(&p->value, at);
            at += op->value_len;
        }
    }
    return 0;
}

/* §9.2: the status of every instruction, given the one that failed (or none: n). */
static void fail_all(int *status, size_t n, size_t failed, int failed_status)
{
    for (size_t i = 0; i < n; i++)
        status[i] = i == failed ? failed_status : 424;
}

/* Statuses from the index's answer; 0 when it is not a refusal of one op (a failure then). */
static int index_status(int rc)
{
    switch (rc) {
    case -E2BIG:
    case -ENOSPC:
        return 507; /* §9.2.1: insufficient storage */
    case -EINVAL:
        return 403;
    default:
        return 0;
    }
}

/* One propstat per status, in a fixed order, holding the names of its instructions. */
static int write_207(struct dav_resp *resp, const struct dav_req *req, const struct dav_entry *e,
                     const struct dav_xml_proppatch *pp, const int *status, bool is_protected)
{
    static const int order[] = {200, 403, 507, 424};
    char *href = malloc(DAV_INDEX_PATH_MAX + strlen(req->href_root) + 2);
    if (!href)
        return -ENOMEM;
    int n = dav_href_of(href, DAV_INDEX_PATH_MAX + strlen(req->href_root) + 2, req->href_root,
                        e->path, e->is_dir);
    if (n < 0) {
        free(href);
        return n;
    }
    resp->status = 207;
    resp->content_type = XML_TYPE;
    struct dav_ms ms;
    dav_ms_init(&ms, resp->write, resp->write_ctx);
    dav_ms_begin(&ms);
    dav_ms_response_begin(&ms, iov_make(href, (size_t)n));
    for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
        bool open = false;
        for (size_t i = 0; i < pp->n_ops; i++) {
            if (status[i] != order[k])
                continue;
            /* §9.2.1: a refused live property says why. */
            if (!open)
                dav_ms_propstat_begin_error(&ms, order[k],
                                            order[k] == 403 && is_protected
                                                ? "cannot-modify-protected-property"
                                                : NULL);
            open = true;
            /* Names come from the parser, which only passes what XML can carry. */
            (void)dav_ms_prop_empty(&ms, &pp->ops[i].name);
        }
        if (open)
            dav_ms_propstat_end(&ms);
    }
    dav_ms_response_end(&ms);
    dav_ms_end(&ms);
    free(href);
    /* The answer has started: a failing sink is the server's to see. */
    return 0;
}

static int patch(struct dav_env *env, const struct dav_req *req, struct dav_resp *resp,
                 const struct dav_entry *e, const struct dav_xml_proppatch *pp)
{
    int *status = calloc(pp->n_ops, sizeof(*status));
    struct dav_prop_op *ops = NULL;
    char *buf = NULL;
    int rc = status ? 0 : -ENOMEM;
    if (rc)
        goto out;
    bool is_refused = false;
    for (size_t i = 0; i < pp->n_ops; i++) {
        int id = dav_liveprop_find(&pp->ops[i].name);
        status[i] = id >= 0 && dav_liveprops[id].is_protected ? 403 : 0;
        is_refused |= status[i] != 0;
    }
    if (is_refused) {
        for (size_t i = 0; i < pp->n_ops; i++)
            status[i] = status[i] ? status[i] : 424;
        rc = write_207(resp, req, e, pp, status, true);
        goto out;
    }
    rc = index_ops(pp, &ops, &buf);
    if (rc)
        goto out;
    size_t failed = pp->n_ops;
    rc = dav_index_prop_patch(env->ix, e->id, ops, pp->n_ops, &failed);
    if (rc == 0) {
        for (size_t i = 0; i < pp->n_ops; i++)
            status[i] = 200;
    } else if (failed < pp->n_ops && index_status(rc)) {
        fail_all(status, pp->n_ops, failed, index_status(rc));
    } else {
        goto out;
    }
    rc = write_207(resp, req, e, pp, status, false);
out:
    free(buf);
    free(ops);
    free(status);
    return rc;
}

int dav_proppatch(struct dav_env *env, const struct dav_req *req, struct dav_resp *resp)
{
    struct dav_xml_proppatch pp = {0};
    struct dav_entry *e = malloc(sizeof(*e));
    if (!e)
        return -ENOMEM;
    int rc = dav_resolve(env, req, req->path, e);
    if (dav_is_absent(rc)) {
        rc = 404;
        goto out;
    }
    if (rc)
        goto out;
    rc = dav_precond(env, req, req->path, false, resp);
    if (rc)
        goto out;
    rc = dav_xml_proppatch_parse(&pp, req->body, req->body_len);
    if (rc == -EMSGSIZE) {
        rc = 413;
    } else if (rc == -EBADMSG || rc == -E2BIG || rc == -EPROTO) {
        rc = 400;
    } else if (rc == 0 && pp.n_ops == 0) {
        rc = 400; /* §14.19: at least one set or remove */
    } else if (rc == 0) {
        rc = patch(env, req, resp, e, &pp);
    }
out:
    if (rc > 0 && !resp->status)
        rc = dav_resp_text(resp, rc, http_status_reason(rc));
    else if (rc > 0)
        rc = 0; /* dav_precond wrote its answer */
    dav_xml_proppatch_release(&pp);
    free(e);
    return rc;
}
