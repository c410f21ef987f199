/* SPDX-License-Identifier: MIT */
/*
 * Tests for dav/propfind.c (and the live properties of dav/liveprop.c) against a real data
 * folder and index: Depth 0/1/infinity listings and their hrefs, percent-encoding, the Depth 1
 * reconcile with what was changed on disk behind the index's back, allprop / propname / prop,
 * 404 groups, quota, lockdiscovery, the depth-infinity limit and the refusals. Every 207 is read
 * back with libxml2.
 */
#include <regex.h>
#include <sys/time.h>

#include "liveprop.h"
#include "methodfix.h"

#define NS_DAV "DAV:"

TestSuite(propfind, .init = mf_setup);

static xmlDocPtr doc;

static void drop_doc(void)
{
    xmlFreeDoc(doc);
    doc = NULL;
}

/* PROPFIND target with Depth (NULL: none) and body (NULL: none); returns the status. */
static int propfind(const char *target, const char *depth, const char *body)
{
    static char head[DAV_INDEX_PATH_MAX + 256];
    snprintf(head, sizeof(head), "PROPFIND %s HTTP/1.1\r\n%s%s%s\r\n", target,
             depth ? "Depth: " : "", depth ? depth : "", depth ? "\r\n" : "");
    mf_request(head, body);
    drop_doc();
    int status = mf_run(dav_propfind);
    if (status == 207) {
        cr_assert_str_eq(mf.resp.content_type, "application/xml; charset=utf-8");
        doc = read_doc(mf.body.p, mf.body.len);
        cr_assert_not_null(doc, "not well-formed: %s", mf.body.p);
        cr_assert(node_is(xmlDocGetRootElement(doc), NS_DAV, "multistatus"));
    }
    return status;
}

static char *text(xmlNodePtr n)
{
    return (char *)xmlNodeGetContent(n);
}

static size_t n_responses(void)
{
    size_t n = 0;
    for (xmlNodePtr c = xmlDocGetRootElement(doc)->children; c; c = c->next)
        n += node_is(c, NS_DAV, "response");
    return n;
}

/* The href of the i-th response. */
static void href_at(size_t i, char *out, size_t cap)
{
    for (xmlNodePtr c = xmlDocGetRootElement(doc)->children; c; c = c->next) {
        if (!node_is(c, NS_DAV, "response") || i--)
            continue;
        char *h = text(find_elem(c->children, NS_DAV, "href"));
        snprintf(out, cap, "%s", h);
        xmlFree(h);
        return;
    }
    cr_assert_fail("no response %zu", i);
}

static xmlNodePtr response_for(const char *href)
{
    for (xmlNodePtr c = xmlDocGetRootElement(doc)->children; c; c = c->next) {
        if (!node_is(c, NS_DAV, "response"))
            continue;
        char *h = text(find_elem(c->children, NS_DAV, "href"));
        bool same = strcmp(h, href) == 0;
        xmlFree(h);
        if (same)
            return c;
    }
    return NULL;
}

static int propstat_status(xmlNodePtr propstat)
{
    char *s = text(find_elem(propstat->children, NS_DAV, "status"));
    int code = 0;
    cr_assert_eq(sscanf(s, "HTTP/1.1 %d", &code), 1, "%s", s);
    xmlFree(s);
    return code;
}

/* Property (ns, local) of the response for href, in a propstat with status; NULL if absent. */
static xmlNodePtr prop(const char *href, int status, const char *ns, const char *local)
{
    xmlNodePtr r = response_for(href);
    cr_assert_not_null(r, "no response for %s in %s", href, mf.body.p);
    for (xmlNodePtr ps = r->children; ps; ps = ps->next) {
        if (!node_is(ps, NS_DAV, "propstat") || propstat_status(ps) != status)
            continue;
        xmlNodePtr p = find_elem(ps->children, NS_DAV, "prop");
        for (xmlNodePtr c = p ? p->children : NULL; c; c = c->next) {
            if (node_is(c, ns, local))
                return c;
        }
    }
    return NULL;
}

static void assert_prop_text(const char *href, const char *local, const char *want)
{
    xmlNodePtr p = prop(href, 200, NS_DAV, local);
    cr_assert_not_null(p, "%s missing on %s: %s", local, href, mf.body.p);
    char *t = text(p);
    cr_assert_str_eq(t, want, "%s on %s", local, href);
    xmlFree(t);
}

static void assert_matches(const char *s, const char *pattern)
{
    regex_t re;
    cr_assert_eq(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB), 0);
    cr_assert_eq(regexec(&re, s, 0, NULL, 0), 0, "'%s' !~ %s", s, pattern);
    regfree(&re);
}

Test(propfind, depth0_file_allprop)
{
    mf_put_file("a.txt", "hello");
    cr_assert_eq(propfind("/dav/a.txt", "0", NULL), 207);
    cr_assert_eq(n_responses(), 1);
    assert_prop_text("/dav/a.txt", "getcontentlength", "5");
    assert_prop_text("/dav/a.txt", "displayname", "a.txt");
    xmlNodePtr ct = prop("/dav/a.txt", 200, NS_DAV, "getcontenttype");
    cr_assert_not_null(ct);
    char *t = text(ct);
    cr_assert(strncmp(t, "text/plain", 10) == 0, "%s", t);
    xmlFree(t);
    struct dav_entry e;
    cr_assert_eq(dav_index_lookup(mf.ix, mf.uid, "a.txt", &e), 0);
    assert_prop_text("/dav/a.txt", "getetag", e.etag);
    t = text(prop("/dav/a.txt", 200, NS_DAV, "getlastmodified"));
    assert_matches(t, "^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} [A-Z][a-z]{2} [0-9]{4} "
                      "[0-9]{2}:[0-9]{2}:[0-9]{2} GMT$");
    xmlFree(t);
    t = text(prop("/dav/a.txt", 200, NS_DAV, "creationdate"));
    assert_matches(t, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$");
    /* Created just now (birth time or mtime, either is this minute). */
    time_t now = time(NULL);
    struct tm tm;
    char year[8];
    gmtime_r(&now, &tm);
    strftime(year, sizeof(year), "%Y", &tm);
    cr_assert(strncmp(t, year, 4) == 0);
    xmlFree(t);
    xmlNodePtr rt = prop("/dav/a.txt", 200, NS_DAV, "resourcetype");
    cr_assert_not_null(rt);
    cr_assert_null(find_elem(rt->children, NS_DAV, "collection"));
    cr_assert_not_null(prop("/dav/a.txt", 200, NS_DAV, "supportedlock"));
    xmlNodePtr ld = prop("/dav/a.txt", 200, NS_DAV, "lockdiscovery");
    cr_assert_not_null(ld);
    cr_assert_null(ld->children);
    /* RFC 4331 §3: not in allprop. */
    cr_assert_null(prop("/dav/a.txt", 200, NS_DAV, "quota-used-bytes"));
    cr_assert_null(prop("/dav/a.txt", 200, NS_DAV, "quota-available-bytes"));
}

Test(propfind, depth_ignored_on_a_file)
{
    mf_put_file("a.txt", "hello");
    cr_assert_eq(propfind("/dav/a.txt", "1", NULL), 207);
    cr_assert_eq(n_responses(), 1);
    cr_assert_eq(propfind("/dav/a.txt", NULL, NULL), 207);
    cr_assert_eq(n_responses(), 1);
    assert_prop_text("/dav/a.txt", "getcontentlength", "5");
}

Test(propfind, depth0_and_1_on_folders)
{
    mf_put_file("d/x.txt", "xx");
    mf_put_file("d/sub/inner.txt", "i");
    mf_put_file("top.bin", "t");
    cr_assert_eq(propfind("/dav/", "0", NULL), 207);
    cr_assert_eq(n_responses(), 1);
    char h[256];
    href_at(0, h, sizeof(h));
    cr_assert_str_eq(h, "/dav/");
    assert_prop_text("/dav/", "displayname", "");
    cr_assert_not_null(find_elem(prop("/dav/", 200, NS_DAV, "resourcetype")->children, NS_DAV,
                                 "collection"));
    cr_assert_null(prop("/dav/", 200, NS_DAV, "getcontentlength"));
    cr_assert_null(prop("/dav/", 200, NS_DAV, "getcontenttype"));

    cr_assert_eq(propfind("/dav/d", "1", NULL), 207);
    cr_assert_eq(n_responses(), 3);
    const char *want[] = {"/dav/d/", "/dav/d/sub/", "/dav/d/x.txt"};
    for (size_t i = 0; i < 3; i++) {
        href_at(i, h, sizeof(h));
        cr_assert_str_eq(h, want[i]);
    }
    assert_prop_text("/dav/d/x.txt", "getcontentlength", "2");
    assert_prop_text("/dav/d/sub/", "displayname", "sub");
    cr_assert_null(response_for("/dav/d/sub/inner.txt"));
    /* The folder's own ETag is the one the index has after the members went in. */
    struct dav_entry e;
    cr_assert_eq(dav_index_lookup(mf.ix, mf.uid, "d", &e), 0);
    assert_prop_text("/dav/d/", "getetag", e.etag);
}

Test(propfind, depth_infinity)
{
    mf_put_file("d/x.txt", "xx");
    mf_put_file("d/sub/inner.txt", "i");
    mf_put_file("top.bin", "t");
    /* Depth infinity does not read the disk below the target: Depth 1 requests index it. */
    cr_assert_eq(propfind("/dav/", "1", NULL), 207);
    cr_assert_eq(propfind("/dav/d", "1", NULL), 207);
    cr_assert_eq(propfind("/dav/d/sub", "1", NULL), 207);
    cr_assert_eq(propfind("/dav/", NULL, NULL), 207); /* no Depth: infinity */
    const char *want[] = {"/dav/", "/dav/d/", "/dav/d/sub/", "/dav/d/sub/inner.txt",
                          "/dav/d/x.txt", "/dav/top.bin"};
    cr_assert_eq(n_responses(), 6, "%s", mf.body.p);
    char h[256];
    for (size_t i = 0; i < 6; i++) {
        href_at(i, h, sizeof(h));
        cr_assert_str_eq(h, want[i]);
    }
    assert_prop_text("/dav/d/sub/inner.txt", "getcontentlength", "1");
    cr_assert_eq(propfind("/dav/d", "infinity", NULL), 207);
    cr_assert_eq(n_responses(), 4);
}

Test(propfind, depth_infinity_limit)
{
    mf_put_file("d/a", "1");
    mf_put_file("d/b", "2");
    mf_put_file("d/c", "3");
    cr_assert_eq(propfind("/dav/d", "1", NULL), 207);
    mf.cfg.depth_infinity_max = 3;
    cr_assert_eq(propfind("/dav/d", "infinity", NULL), 403);
    cr_assert_str_eq(mf.resp.content_type, "application/xml; charset=utf-8");
    xmlDocPtr err = read_doc(mf.body.p, mf.body.len);
    cr_assert_not_null(err);
    xmlNodePtr root = xmlDocGetRootElement(err);
    cr_assert(node_is(root, NS_DAV, "error"));
    cr_assert_not_null(find_elem(root->children, NS_DAV, "propfind-finite-depth"));
    xmlFreeDoc(err);
    mf.cfg.depth_infinity_max = 4;
    cr_assert_eq(propfind("/dav/d", "infinity", NULL), 207);
    cr_assert_eq(n_responses(), 4);
}

Test(propfind, percent_encoded_hrefs)
{
    mf_put_file("my dir/a b.txt", "1");
    mf_put_file("my dir/\xc3\xa9t\xc3\xa9 #1.txt", "22");
    cr_assert_eq(propfind("/dav/my%20dir/", "1", NULL), 207);
    cr_assert_eq(n_responses(), 3);
    cr_assert_not_null(response_for("/dav/my%20dir/"));
    cr_assert_not_null(response_for("/dav/my%20dir/a%20b.txt"));
    const char *utf = "/dav/my%20dir/%C3%A9t%C3%A9%20%231.txt";
    cr_assert_not_null(response_for(utf), "%s", mf.body.p);
    assert_prop_text(utf, "displayname", "\xc3\xa9t\xc3\xa9 #1.txt");
    assert_prop_text(utf, "getcontentlength", "2");
}

Test(propfind, depth1_sees_the_disk)
{
    mf_put_file("d/keep.txt", "k");
    mf_put_file("d/gone.txt", "g");
    mf_put_file("d/grow.txt", "1");
    cr_assert_eq(propfind("/dav/d", "1", NULL), 207);
    cr_assert_eq(n_responses(), 4);
    struct dav_entry before;
    cr_assert_eq(dav_index_lookup(mf.ix, mf.uid, "d/keep.txt", &before), 0);

    /* Behind the server's back. */
    char p[PATH_MAX + 32];
    snprintf(p, sizeof(p), "%s/d/gone.txt", mf.files);
    cr_assert_eq(unlink(p), 0);
    mf_put_file("d/new.txt", "new!");
    mf_mkdir("d/newdir");
    mf_put_file("d/grow.txt", "longer now");

    cr_assert_eq(propfind("/dav/d", "1", NULL), 207);
    cr_assert_eq(n_responses(), 5, "%s", mf.body.p);
    cr_assert_null(response_for("/dav/d/gone.txt"));
    assert_prop_text("/dav/d/new.txt", "getcontentlength", "4");
    cr_assert_not_null(response_for("/dav/d/newdir/"));
    assert_prop_text("/dav/d/grow.txt", "getcontentlength", "10");
    cr_assert_eq(dav_index_lookup(mf.ix, mf.uid, "d/gone.txt", &before), -ENOENT);
    struct dav_entry after;
    cr_assert_eq(dav_index_lookup(mf.ix, mf.uid, "d/keep.txt", &after), 0);
    cr_assert_eq(after.id, before.id);
    cr_assert_str_eq(after.etag, before.etag);
    /* The folder's ETag moved with its members. */
    struct dav_entry d;
    cr_assert_eq(dav_index_lookup(mf.ix, mf.uid, "d", &d), 0);
    assert_prop_text("/dav/d/", "getetag", d.etag);
}

Test(propfind, skips_names_the_index_cannot_hold)
{
    /* A folder whose path is just under DAV_INDEX_PATH_MAX, holding a name that takes it over:
     * made relative to the root, as the absolute path is longer than PATH_MAX. */
    char rel[DAV_INDEX_PATH_MAX + 1] = "d";
    cr_assert_eq(mkdirat(mf.root_fd, rel, 0755), 0);
    while (strlen(rel) < 3900) {
        size_t n = strlen(rel), seg = 3950 - n - 1 < 200 ? 3950 - n - 1 : 200;
        rel[n] = '/';
        memset(rel + n + 1, 'n', seg);
        rel[n + 1 + seg] = 0;
        cr_assert_eq(mkdirat(mf.root_fd, rel, 0755), 0, "%zu", strlen(rel));
    }
    int dir = openat(mf.root_fd, rel, O_RDONLY | O_DIRECTORY);
    cr_assert_geq(dir, 0);
    char name[251];
    memset(name, 'z', 250);
    name[250] = 0;
    int fd = openat(dir, name, O_CREAT | O_WRONLY, 0644);
    cr_assert_geq(fd, 0);
    close(fd);
    fd = openat(dir, "short", O_CREAT | O_WRONLY, 0644);
    cr_assert_geq(fd, 0);
    close(fd);
    close(dir);
    static char url[DAV_INDEX_PATH_MAX + 16];
    snprintf(url, sizeof(url), "/dav/%s/", rel);
    cr_assert_eq(propfind(url, "1", NULL), 207);
    cr_assert_eq(n_responses(), 2, "the folder and the name that fits");
}

Test(propfind, prop_and_404_group)
{
    mf_put_file("d/f.txt", "abc");
    const char *body = "<?xml version=\"1.0\"?><D:propfind xmlns:D=\"DAV:\" xmlns:Z=\"urn:z\">"
                       "<D:prop><D:getcontentlength/><D:getetag/><Z:nothing/>"
                       "<D:quota-used-bytes/></D:prop></D:propfind>";
    cr_assert_eq(propfind("/dav/d", "1", body), 207);
    assert_prop_text("/dav/d/f.txt", "getcontentlength", "3");
    cr_assert_not_null(prop("/dav/d/f.txt", 200, NS_DAV, "getetag"));
    cr_assert_null(prop("/dav/d/f.txt", 200, NS_DAV, "displayname"));
    cr_assert_not_null(prop("/dav/d/f.txt", 404, "urn:z", "nothing"));
    cr_assert_not_null(prop("/dav/d/f.txt", 404, NS_DAV, "quota-used-bytes"));
    /* The folder has no length but has quota figures. */
    cr_assert_not_null(prop("/dav/d/", 404, NS_DAV, "getcontentlength"));
    cr_assert_not_null(prop("/dav/d/", 404, "urn:z", "nothing"));
    assert_prop_text("/dav/d/", "quota-used-bytes", "3");
    cr_assert_null(prop("/dav/d/", 200, "urn:z", "nothing"));
}

Test(propfind, only_missing_props)
{
    mf_put_file("f", "abc");
    const char *body = "<propfind xmlns=\"DAV:\"><prop><nope xmlns=\"urn:q\"/></prop></propfind>";
    cr_assert_eq(propfind("/dav/f", "0", body), 207);
    xmlNodePtr r = response_for("/dav/f");
    size_t groups = 0;
    for (xmlNodePtr c = r->children; c; c = c->next)
        groups += node_is(c, NS_DAV, "propstat");
    cr_assert_eq(groups, 1, "%s", mf.body.p);
    cr_assert_not_null(prop("/dav/f", 404, "urn:q", "nope"));
}

Test(propfind, quota)
{
    mf_put_file("d/f", "12345");
    mf.cfg.quota_bytes = 1000;
    const char *body = "<propfind xmlns=\"DAV:\"><prop><quota-available-bytes/>"
                       "<quota-used-bytes/></prop></propfind>";
    cr_assert_eq(propfind("/dav/d", "1", body), 207);
    assert_prop_text("/dav/d/", "quota-used-bytes", "5");
    assert_prop_text("/dav/d/", "quota-available-bytes", "995");
    cr_assert_not_null(prop("/dav/d/f", 404, NS_DAV, "quota-used-bytes"));
    /* No quota: what the file system has free. */
    mf.cfg.quota_bytes = -1;
    cr_assert_eq(propfind("/dav/d", "0", body), 207);
    char *t = text(prop("/dav/d/", 200, NS_DAV, "quota-available-bytes"));
    cr_assert_gt(strtoll(t, NULL, 10), 0);
    xmlFree(t);
    /* allprop leaves them out unless included (RFC 4918 §9.1 <include>). */
    cr_assert_eq(propfind("/dav/d", "0", NULL), 207);
    cr_assert_null(prop("/dav/d/", 200, NS_DAV, "quota-used-bytes"));
    const char *inc = "<propfind xmlns=\"DAV:\"><allprop/><include><quota-used-bytes/>"
                      "</include></propfind>";
    cr_assert_eq(propfind("/dav/d", "0", inc), 207);
    assert_prop_text("/dav/d/", "quota-used-bytes", "5");
    cr_assert_not_null(prop("/dav/d/", 200, NS_DAV, "getetag"));
    cr_assert_null(prop("/dav/d/", 200, NS_DAV, "quota-available-bytes"));
}

static void set_dead(const char *path, const char *ns, const char *name, const char *xml,
                     const char *lang)
{
    struct dav_entry e;
    cr_assert_eq(dav_index_lookup(mf.ix, mf.uid, path, &e), 0);
    struct dav_xml_value v = {.xml = iov_make(xml, strlen(xml))};
    if (lang)
        v.lang = iov_make(lang, strlen(lang));
    char buf[512];
    cr_assert_lt(dav_prop_value_len(&v), sizeof(buf));
    dav_prop_value_encode(&v, buf);
    struct dav_prop_op op = {.ns = ns, .name = name, .value = buf,
                             .value_len = dav_prop_value_len(&v)};
    cr_assert_eq(dav_index_prop_patch(mf.ix, e.id, &op, 1, NULL), 0);
}

Test(propfind, dead_props_allprop_propname)
{
    mf_put_file("f.txt", "abc");
    cr_assert_eq(propfind("/dav/f.txt", "0", NULL), 207);
    set_dead("f.txt", "urn:a", "color", "red", NULL);
    set_dead("f.txt", "", "bare", "<x>1</x>", "en-GB");
    set_dead("f.txt", "DAV:", "getcontentlanguage", "fr", NULL);
    cr_assert_eq(propfind("/dav/f.txt", "0", NULL), 207);
    xmlNodePtr c = prop("/dav/f.txt", 200, "urn:a", "color");
    cr_assert_not_null(c, "%s", mf.body.p);
    char *t = text(c);
    cr_assert_str_eq(t, "red");
    xmlFree(t);
    xmlNodePtr b = prop("/dav/f.txt", 200, "", "bare");
    cr_assert_not_null(b);
    xmlChar *lang = xmlNodeGetLang(b);
    cr_assert_str_eq((char *)lang, "en-GB");
    xmlFree(lang);
    cr_assert_not_null(find_elem(b->children, "", "x"));
    cr_assert_not_null(prop("/dav/f.txt", 200, NS_DAV, "getcontentlanguage"));

    const char *pn = "<propfind xmlns=\"DAV:\"><propname/></propfind>";
    cr_assert_eq(propfind("/dav/f.txt", "0", pn), 207);
    c = prop("/dav/f.txt", 200, "urn:a", "color");
    cr_assert_not_null(c);
    cr_assert_null(c->children);
    xmlNodePtr len = prop("/dav/f.txt", 200, NS_DAV, "getcontentlength");
    cr_assert_not_null(len);
    cr_assert_null(len->children);
    cr_assert_not_null(prop("/dav/f.txt", 200, NS_DAV, "lockdiscovery"));
    cr_assert_null(prop("/dav/f.txt", 200, NS_DAV, "quota-used-bytes"));
    cr_assert_eq(propfind("/dav/", "0", pn), 207);
    cr_assert_not_null(prop("/dav/", 200, NS_DAV, "quota-used-bytes"));
    cr_assert_null(prop("/dav/", 200, NS_DAV, "getcontentlength"));
    /* Named: only what was asked for. */
    const char *one = "<propfind xmlns=\"DAV:\"><prop><c:color xmlns:c=\"urn:a\"/></prop></propfind>";
    cr_assert_eq(propfind("/dav/f.txt", "0", one), 207);
    cr_assert_not_null(prop("/dav/f.txt", 200, "urn:a", "color"));
    cr_assert_null(prop("/dav/f.txt", 200, "", "bare"));
    cr_assert_null(prop("/dav/f.txt", 200, NS_DAV, "getetag"));
}

Test(propfind, lockdiscovery)
{
    mf_put_file("d/f.txt", "abc");
    cr_assert_eq(propfind("/dav/d", "1", NULL), 207);
    int64_t now = (int64_t)time(NULL);
    struct dav_lock lk = {.user_id = mf.uid, .is_infinite = true, .scope = DAV_LOCK_EXCLUSIVE,
                          .expires = now + 500};
    strcpy(lk.token, "urn:uuid:11111111-2222-3333-4444-555555555555");
    strcpy(lk.path, "d");
    strcpy(lk.owner, "<D:href xmlns:D=\"DAV:\">mailto:alice@example.com</D:href>");
    cr_assert_eq(dav_index_lock_create(mf.ix, &lk, now, NULL), 0);
    const char *body = "<propfind xmlns=\"DAV:\"><prop><lockdiscovery/></prop></propfind>";
    cr_assert_eq(propfind("/dav/d/f.txt", "0", body), 207);
    xmlNodePtr ld = prop("/dav/d/f.txt", 200, NS_DAV, "lockdiscovery");
    cr_assert_not_null(ld, "%s", mf.body.p);
    xmlNodePtr al = find_elem(ld->children, NS_DAV, "activelock");
    cr_assert_not_null(al);
    cr_assert_not_null(find_elem(al->children, NS_DAV, "exclusive"));
    char *t = text(find_elem(al->children, NS_DAV, "depth"));
    cr_assert_str_eq(t, "infinity");
    xmlFree(t);
    t = text(find_elem(find_elem(al->children, NS_DAV, "locktoken"), NS_DAV, "href"));
    cr_assert_str_eq(t, lk.token);
    xmlFree(t);
    t = text(find_elem(find_elem(al->children, NS_DAV, "lockroot"), NS_DAV, "href"));
    cr_assert_str_eq(t, "/dav/d/");
    xmlFree(t);
    t = text(find_elem(find_elem(al->children, NS_DAV, "owner"), NS_DAV, "href"));
    cr_assert_str_eq(t, "mailto:alice@example.com");
    xmlFree(t);
    t = text(find_elem(al->children, NS_DAV, "timeout"));
    int secs = 0;
    cr_assert_eq(sscanf(t, "Second-%d", &secs), 1, "%s", t);
    cr_assert(secs > 490 && secs <= 500, "%d", secs);
    xmlFree(t);
    /* The folder itself shows it too, a sibling outside it does not. */
    mf_put_file("other.txt", "o");
    cr_assert_eq(propfind("/dav/", "1", body), 207);
    cr_assert_not_null(find_elem(prop("/dav/d/", 200, NS_DAV, "lockdiscovery")->children, NS_DAV,
                                 "activelock"));
    cr_assert_null(prop("/dav/other.txt", 200, NS_DAV, "lockdiscovery")->children);
}

Test(propfind, refusals)
{
    mf_put_file("f", "x");
    cr_assert_eq(propfind("/dav/missing", "0", NULL), 404);
    cr_assert_eq(propfind("/dav/f/below", "0", NULL), 404);
    cr_assert_eq(propfind("/dav/nope/below", "1", NULL), 404);
    cr_assert_eq(propfind("/dav/f", "2", NULL), 400);
    cr_assert_eq(propfind("/dav/f", "0", "<propfind xmlns=\"DAV:\"><prop>"), 400);
    cr_assert_eq(propfind("/dav/f", "0", "<other xmlns=\"DAV:\"/>"), 400);
    cr_assert_eq(propfind("/dav/f", "0", "<!DOCTYPE x [<!ENTITY a \"b\">]><x/>"), 400);
}

Test(propfind, body_too_large)
{
    mf_put_file("f", "x");
    size_t n = DAV_XML_BODY_MAX + 10;
    char *big = malloc(n + 1);
    memset(big, 'x', n);
    big[n] = 0;
    cr_assert_eq(propfind("/dav/f", "0", big), 413);
    free(big);
}

/* Milliseconds of the method alone (not reading the 207 back). */
static double timed_propfind(const char *target, const char *body)
{
    char head[256];
    snprintf(head, sizeof(head), "PROPFIND %s HTTP/1.1\r\nDepth: 1\r\n\r\n", target);
    mf_request(head, body);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cr_assert_eq(mf_run(dav_propfind), 207);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
}

Test(propfind, depth1_timing_1000_files)
{
    mf_mkdir("big");
    for (int i = 0; i < 1000; i++) {
        char rel[64];
        snprintf(rel, sizeof(rel), "big/file-%04d.txt", i);
        mf_put_file(rel, "some content");
    }
    double first = timed_propfind("/dav/big", NULL);
    double again = timed_propfind("/dav/big", NULL);
    size_t bytes = mf.body.len;
    const char *pf = "<propfind xmlns=\"DAV:\"><prop><getetag/><getcontentlength/>"
                     "<resourcetype/><getlastmodified/></prop></propfind>";
    double named = timed_propfind("/dav/big", pf);
    /* One file changed behind the index's back: one sync, not a thousand. */
    mf_put_file("big/file-0500.txt", "changed");
    double one = timed_propfind("/dav/big", pf);
    cr_assert_eq(propfind("/dav/big", "1", NULL), 207);
    cr_assert_eq(n_responses(), 1001);
    assert_prop_text("/dav/big/file-0500.txt", "getcontentlength", "7");
    fprintf(stderr,
            "propfind depth 1, 1000 files: first (indexes all) %.1f ms, allprop %.1f ms "
            "(%zu bytes), 4 live props %.1f ms, after one change %.1f ms\n",
            first, again, bytes, named, one);
}
