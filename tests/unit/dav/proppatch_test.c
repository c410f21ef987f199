/* SPDX-License-Identifier: MIT */
/*
 * Tests for dav/proppatch.c against a real data folder and index: dead properties set and read
 * back by PROPFIND with their XML (nested elements, namespaces, xml:lang) unchanged, remove,
 * document order, all-or-nothing on a protected property (403 + 424) and on index limits
 * (507 + 424), locks through dav_precond, and the refusals.
 */
#include "methodfix.h"

#define NS_DAV "DAV:"

static xmlDocPtr doc;

static void drop_doc(void)
{
    xmlFreeDoc(doc);
    doc = NULL;
}

static void fini(void)
{
    drop_doc();
    mf_teardown();
}

TestSuite(proppatch, .init = mf_setup, .fini = fini);

static int run_method(const char *method, const char *target, const char *extra,
                      const char *body, int (*fn)(struct dav_env *, const struct dav_req *,
                                                  struct dav_resp *))
{
    char head[2048];
    snprintf(head, sizeof(head), "%s %s HTTP/1.1\r\n%s\r\n", method, target, extra ? extra : "");
    mf_request(head, body);
    drop_doc();
    int status = mf_run(fn);
    if (status == 207) {
        cr_assert_str_eq(mf.resp.content_type, "application/xml; charset=utf-8");
        doc = read_doc(mf.body.p, mf.body.len);
        cr_assert_not_null(doc, "not well-formed: %s", mf.body.p);
    }
    return status;
}

static int proppatch(const char *target, const char *body)
{
    return run_method("PROPPATCH", target, NULL, body, dav_proppatch);
}

static int propfind(const char *target, const char *body)
{
    return run_method("PROPFIND", target, "Depth: 0\r\n", body, dav_propfind);
}

static int propstat_status(xmlNodePtr propstat)
{
    char *s = (char *)xmlNodeGetContent(find_elem(propstat->children, NS_DAV, "status"));
    int code = 0;
    cr_assert_eq(sscanf(s, "HTTP/1.1 %d", &code), 1, "%s", s);
    xmlFree(s);
    return code;
}

/* Property (ns, local) in a propstat with status, in the only response; NULL if absent. */
static xmlNodePtr prop(int status, const char *ns, const char *local)
{
    xmlNodePtr r = find_elem(xmlDocGetRootElement(doc), NS_DAV, "response");
    cr_assert_not_null(r, "%s", mf.body.p);
    for (xmlNodePtr ps = r->children; ps; ps = ps->next) {
        if (!node_is(ps, NS_DAV, "propstat") || propstat_status(ps) != status)
            continue;
        for (xmlNodePtr c = find_elem(ps->children, NS_DAV, "prop")->children; c; c = c->next) {
            if (node_is(c, ns, local))
                return c;
        }
    }
    return NULL;
}

/* The precondition element in the error of the propstat with status, or NULL. */
static xmlNodePtr propstat_error(int status, const char *local)
{
    xmlNodePtr r = find_elem(xmlDocGetRootElement(doc), NS_DAV, "response");
    for (xmlNodePtr ps = r->children; ps; ps = ps->next) {
        if (!node_is(ps, NS_DAV, "propstat") || propstat_status(ps) != status)
            continue;
        xmlNodePtr err = find_elem(ps->children, NS_DAV, "error");
        return err ? find_elem(err->children, NS_DAV, local) : NULL;
    }
    return NULL;
}

static size_t n_propstats(void)
{
    size_t n = 0;
    xmlNodePtr r = find_elem(xmlDocGetRootElement(doc), NS_DAV, "response");
    for (xmlNodePtr c = r->children; c; c = c->next)
        n += node_is(c, NS_DAV, "propstat");
    return n;
}

static char *href(void)
{
    return (char *)xmlNodeGetContent(find_elem(xmlDocGetRootElement(doc), NS_DAV, "href"));
}

Test(proppatch, set_and_read_back_with_namespaces)
{
    mf_put_file("d/f.txt", "x");
    const char *body =
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
        "<D:propertyupdate xmlns:D=\"DAV:\" xmlns:Z=\"http://ns.example.com/z/\">"
        "<D:set><D:prop>"
        "<Z:Authors xml:lang=\"en\"><Z:Author>Jim &amp; Roy</Z:Author>"
        "<Z:Author xmlns:Q=\"urn:q\" Q:role=\"editor\">Roy<Q:note>n&lt;1</Q:note></Z:Author>"
        "</Z:Authors>"
        "<plain xmlns=\"\">text only</plain>"
        "<D:getcontentlanguage>fr</D:getcontentlanguage>"
        "<Y:empty xmlns:Y=\"urn:y\"/>"
        "</D:prop></D:set></D:propertyupdate>";
    cr_assert_eq(proppatch("/dav/d/f.txt", body), 207);
    char *h = href();
    cr_assert_str_eq(h, "/dav/d/f.txt");
    xmlFree(h);
    cr_assert_eq(n_propstats(), 1);
    cr_assert_not_null(prop(200, "http://ns.example.com/z/", "Authors"));
    cr_assert_null(prop(200, "http://ns.example.com/z/", "Authors")->children);
    cr_assert_not_null(prop(200, "", "plain"));
    cr_assert_not_null(prop(200, NS_DAV, "getcontentlanguage"));
    cr_assert_not_null(prop(200, "urn:y", "empty"));

    xmlDocPtr sent = read_doc(body, strlen(body));
    cr_assert_not_null(sent);
    cr_assert_eq(propfind("/dav/d/f.txt", NULL), 207);
    const char *names[][2] = {{"http://ns.example.com/z/", "Authors"},
                              {"", "plain"},
                              {NS_DAV, "getcontentlanguage"},
                              {"urn:y", "empty"}};
    for (size_t i = 0; i < 4; i++) {
        xmlNodePtr want = find_elem(xmlDocGetRootElement(sent), names[i][0], names[i][1]);
        xmlNodePtr got = prop(200, names[i][0], names[i][1]);
        cr_assert_not_null(got, "%s missing: %s", names[i][1], mf.body.p);
        assert_same_children(want, got);
        xmlChar *lw = xmlNodeGetLang(want), *lg = xmlNodeGetLang(got);
        cr_assert_eq(!lw, !lg, "xml:lang of %s", names[i][1]);
        if (lw)
            cr_assert_str_eq((char *)lw, (char *)lg);
        xmlFree(lw);
        xmlFree(lg);
    }
    xmlFreeDoc(sent);
}

Test(proppatch, on_a_folder_and_remove)
{
    mf_mkdir("d");
    const char *set = "<propertyupdate xmlns=\"DAV:\"><set><prop>"
                      "<a xmlns=\"urn:x\">1</a><b xmlns=\"urn:x\">2</b></prop></set>"
                      "</propertyupdate>";
    cr_assert_eq(proppatch("/dav/d/", set), 207);
    char *h = href();
    cr_assert_str_eq(h, "/dav/d/");
    xmlFree(h);
    const char *rm = "<propertyupdate xmlns=\"DAV:\"><remove><prop>"
                     "<a xmlns=\"urn:x\"/><never xmlns=\"urn:x\"/></prop></remove>"
                     "</propertyupdate>";
    cr_assert_eq(proppatch("/dav/d", rm), 207);
    cr_assert_not_null(prop(200, "urn:x", "a"));
    cr_assert_not_null(prop(200, "urn:x", "never")); /* §9.2: not there is not an error */
    const char *ask = "<propfind xmlns=\"DAV:\"><prop><a xmlns=\"urn:x\"/><b xmlns=\"urn:x\"/>"
                      "</prop></propfind>";
    cr_assert_eq(propfind("/dav/d", ask), 207);
    cr_assert_not_null(prop(404, "urn:x", "a"));
    char *t = (char *)xmlNodeGetContent(prop(200, "urn:x", "b"));
    cr_assert_str_eq(t, "2");
    xmlFree(t);
}

Test(proppatch, document_order)
{
    mf_put_file("f", "x");
    const char *body = "<D:propertyupdate xmlns:D=\"DAV:\" xmlns:x=\"urn:x\">"
                       "<D:set><D:prop><x:a>first</x:a><x:b>b</x:b></D:prop></D:set>"
                       "<D:remove><D:prop><x:a/></D:prop></D:remove>"
                       "<D:remove><D:prop><x:b/></D:prop></D:remove>"
                       "<D:set><D:prop><x:b>again</x:b></D:prop></D:set>"
                       "</D:propertyupdate>";
    cr_assert_eq(proppatch("/dav/f", body), 207);
    cr_assert_eq(propfind("/dav/f", NULL), 207);
    cr_assert_null(prop(200, "urn:x", "a"));
    char *t = (char *)xmlNodeGetContent(prop(200, "urn:x", "b"));
    cr_assert_str_eq(t, "again");
    xmlFree(t);
}

Test(proppatch, protected_live_property)
{
    mf_put_file("f", "x");
    const char *body = "<D:propertyupdate xmlns:D=\"DAV:\" xmlns:x=\"urn:x\">"
                       "<D:set><D:prop><x:a>1</x:a><D:getetag>\"forged\"</D:getetag>"
                       "</D:prop></D:set>"
                       "<D:remove><D:prop><D:displayname/></D:prop></D:remove>"
                       "</D:propertyupdate>";
    cr_assert_eq(proppatch("/dav/f", body), 207);
    cr_assert_eq(n_propstats(), 2);
    cr_assert_not_null(prop(403, NS_DAV, "getetag"));
    cr_assert_not_null(prop(403, NS_DAV, "displayname"));
    cr_assert_not_null(propstat_error(403, "cannot-modify-protected-property"), "%s",
                       mf.body.p);
    cr_assert_null(propstat_error(424, "cannot-modify-protected-property"));
    cr_assert_not_null(prop(424, "urn:x", "a"));
    cr_assert_null(prop(200, "urn:x", "a"));
    /* Nothing applied. */
    struct dav_entry e;
    cr_assert_eq(dav_index_lookup(mf.ix, mf.uid, "f", &e), 0);
    char buf[16];
    size_t len;
    cr_assert_eq(dav_index_prop_get(mf.ix, e.id, "urn:x", "a", buf, sizeof(buf), &len), -ENOENT);
    cr_assert_eq(propfind("/dav/f", NULL), 207);
    char *t = (char *)xmlNodeGetContent(prop(200, NS_DAV, "getetag"));
    cr_assert_str_eq(t, e.etag);
    xmlFree(t);
    cr_assert_null(prop(200, "urn:x", "a"));
}

Test(proppatch, value_too_large_is_507)
{
    mf_put_file("f", "x");
    size_t big = 70000; /* over the index's 64 KiB per value */
    char *body = malloc(big + 512);
    int n = sprintf(body, "<D:propertyupdate xmlns:D=\"DAV:\" xmlns:x=\"urn:x\"><D:set><D:prop>"
                          "<x:ok>fine</x:ok><x:big>");
    memset(body + n, 'v', big);
    strcpy(body + n + big, "</x:big><x:after>1</x:after></D:prop></D:set></D:propertyupdate>");
    cr_assert_eq(proppatch("/dav/f", body), 207);
    free(body);
    cr_assert_not_null(prop(507, "urn:x", "big"));
    cr_assert_not_null(prop(424, "urn:x", "ok"));
    cr_assert_not_null(prop(424, "urn:x", "after"));
    cr_assert_eq(propfind("/dav/f", NULL), 207);
    cr_assert_null(prop(200, "urn:x", "ok"));
}

Test(proppatch, too_many_properties_is_507)
{
    mf_put_file("f", "x");
    size_t cap = 64 * 1024;
    char *body = malloc(cap);
    size_t n = (size_t)sprintf(body, "<D:propertyupdate xmlns:D=\"DAV:\" xmlns:x=\"urn:x\">"
                                     "<D:set><D:prop>");
    for (int i = 0; i < 300; i++)
        n += (size_t)sprintf(body + n, "<x:p%d>v</x:p%d>", i, i);
    strcpy(body + n, "</D:prop></D:set></D:propertyupdate>");
    cr_assert_eq(proppatch("/dav/f", body), 207);
    free(body);
    cr_assert_not_null(prop(507, "urn:x", "p256"), "%.400s", mf.body.p);
    cr_assert_not_null(prop(424, "urn:x", "p0"));
    struct dav_entry e;
    cr_assert_eq(dav_index_lookup(mf.ix, mf.uid, "f", &e), 0);
    char buf[16];
    size_t len;
    cr_assert_eq(dav_index_prop_get(mf.ix, e.id, "urn:x", "p0", buf, sizeof(buf), &len), -ENOENT);
}

Test(proppatch, locked_resource)
{
    mf_put_file("f", "x");
    cr_assert_eq(propfind("/dav/f", NULL), 207);
    int64_t now = (int64_t)time(NULL);
    struct dav_lock lk = {.user_id = mf.uid, .scope = DAV_LOCK_EXCLUSIVE, .expires = now + 600};
    strcpy(lk.token, "urn:uuid:aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee");
    strcpy(lk.path, "f");
    cr_assert_eq(dav_index_lock_create(mf.ix, &lk, now, NULL), 0);
    const char *body = "<propertyupdate xmlns=\"DAV:\"><set><prop><a xmlns=\"urn:x\">1</a>"
                       "</prop></set></propertyupdate>";
    cr_assert_eq(proppatch("/dav/f", body), 423);
    cr_assert_eq(run_method("PROPPATCH", "/dav/f",
                            "If: (<urn:uuid:aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee>)\r\n", body,
                            dav_proppatch),
                 207);
    cr_assert_not_null(prop(200, "urn:x", "a"));
    cr_assert_eq(run_method("PROPPATCH", "/dav/f", "If: (<urn:uuid:nope>)\r\n", body,
                            dav_proppatch),
                 412);
}

Test(proppatch, refusals)
{
    mf_put_file("f", "x");
    const char *ok = "<propertyupdate xmlns=\"DAV:\"><set><prop><a xmlns=\"urn:x\">1</a>"
                     "</prop></set></propertyupdate>";
    cr_assert_eq(proppatch("/dav/missing", ok), 404);
    cr_assert_eq(proppatch("/dav/f/below", ok), 404);
    cr_assert_eq(proppatch("/dav/f", "<propertyupdate xmlns=\"DAV:\"><set>"), 400);
    cr_assert_eq(proppatch("/dav/f", "<propfind xmlns=\"DAV:\"/>"), 400);
    cr_assert_eq(proppatch("/dav/f", "<propertyupdate xmlns=\"DAV:\"/>"), 400);
    cr_assert_eq(proppatch("/dav/f", NULL), 400);
    size_t n = DAV_XML_BODY_MAX + 10;
    char *big = malloc(n + 1);
    memset(big, 'x', n);
    big[n] = 0;
    cr_assert_eq(proppatch("/dav/f", big), 413);
    free(big);
}
