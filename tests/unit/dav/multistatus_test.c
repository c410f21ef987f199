/* SPDX-License-Identifier: MIT */
/*
 * Tests for dav/multistatus.c: exact output for a small document, well-formedness checked by
 * reading every output back with libxml2, escaping of text, names and hrefs, refused names,
 * the lock XML, a failing sink, and constant memory over 100,000 responses.
 */
#include <errno.h>
#include <malloc.h>

#include "davtest.h"

static const struct dav_xml_name getetag = {IOV_LIT("DAV:"), IOV_LIT("getetag")};

static struct dav_xml_name name(const char *ns, const char *local)
{
    return (struct dav_xml_name){iov_make(ns, strlen(ns)), iov_make(local, strlen(local))};
}

static xmlDocPtr read_back(const struct membuf *m)
{
    xmlDocPtr doc = read_doc(m->p, m->len);
    cr_assert_not_null(doc, "not well-formed: %s", m->p);
    return doc;
}

static char *text_of(xmlNodePtr n)
{
    return (char *)xmlNodeGetContent(n);
}

Test(multistatus, exact_document)
{
    struct membuf m = {0};
    struct dav_ms ms;
    dav_ms_init(&ms, membuf_write, &m);
    cr_assert_eq(dav_ms_begin(&ms), 0);
    cr_assert_eq(dav_ms_response_begin(&ms, IOV_LIT("/dir/")), 0);
    cr_assert_eq(dav_ms_propstat_begin(&ms, 200), 0);
    cr_assert_eq(dav_ms_prop_text(&ms, &getetag, IOV_LIT("\"abc\"")), 0);
    struct dav_xml_name size = name("http://owncloud.org/ns", "size");
    cr_assert_eq(dav_ms_prop_text(&ms, &size, IOV_LIT("42")), 0);
    cr_assert_eq(dav_ms_propstat_end(&ms), 0);
    cr_assert_eq(dav_ms_propstat_begin(&ms, 404), 0);
    struct dav_xml_name other = name("urn:x", "y"), bare = name("", "z");
    cr_assert_eq(dav_ms_prop_empty(&ms, &other), 0);
    cr_assert_eq(dav_ms_prop_empty(&ms, &bare), 0);
    cr_assert_eq(dav_ms_propstat_end(&ms), 0);
    cr_assert_eq(dav_ms_response_end(&ms), 0);
    cr_assert_eq(dav_ms_response_begin(&ms, IOV_LIT("/dir/locked")), 0);
    cr_assert_eq(dav_ms_response_status(&ms, 423, "lock-token-submitted", IOV_LIT("/dir/")), 0);
    cr_assert_eq(dav_ms_response_end(&ms), 0);
    cr_assert_eq(dav_ms_response_begin(&ms, IOV_LIT("/dir/deep")), 0);
    cr_assert_eq(dav_ms_response_status(&ms, 403, "propfind-finite-depth", iov_make(NULL, 0)), 0);
    cr_assert_eq(dav_ms_response_end(&ms), 0);
    cr_assert_eq(dav_ms_response_begin(&ms, IOV_LIT("/dir/x")), 0);
    cr_assert_eq(dav_ms_response_status(&ms, 424, NULL, iov_make(NULL, 0)), 0);
    cr_assert_eq(dav_ms_response_end(&ms), 0);
    cr_assert_eq(dav_ms_end(&ms), 0);
    cr_assert_str_eq(
        m.p,
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
        "<D:multistatus xmlns:D=\"DAV:\" xmlns:oc=\"http://owncloud.org/ns\" "
        "xmlns:nc=\"http://nextcloud.org/ns\">"
        "<D:response><D:href>/dir/</D:href>"
        "<D:propstat><D:prop><D:getetag>&quot;abc&quot;</D:getetag><oc:size>42</oc:size></D:prop>"
        "<D:status>HTTP/1.1 200 OK</D:status></D:propstat>"
        "<D:propstat><D:prop><x:y xmlns:x=\"urn:x\"/><z/></D:prop>"
        "<D:status>HTTP/1.1 404 Not Found</D:status></D:propstat></D:response>"
        "<D:response><D:href>/dir/locked</D:href><D:status>HTTP/1.1 423 Locked</D:status>"
        "<D:error><D:lock-token-submitted><D:href>/dir/</D:href></D:lock-token-submitted>"
        "</D:error></D:response>"
        "<D:response><D:href>/dir/deep</D:href><D:status>HTTP/1.1 403 Forbidden</D:status>"
        "<D:error><D:propfind-finite-depth/></D:error></D:response>"
        "<D:response><D:href>/dir/x</D:href>"
        "<D:status>HTTP/1.1 424 Failed Dependency</D:status></D:response>"
        "</D:multistatus>");
    xmlFreeDoc(read_back(&m));
    free(m.p);
}

/* RFC 4918 §14.22: propstat is prop, status, then an optional error. */
Test(multistatus, propstat_error)
{
    struct membuf m = {0};
    struct dav_ms ms;
    dav_ms_init(&ms, membuf_write, &m);
    dav_ms_begin(&ms);
    dav_ms_response_begin(&ms, IOV_LIT("/f"));
    cr_assert_eq(dav_ms_propstat_begin_error(&ms, 403, "not a name"), -EINVAL);
    cr_assert_eq(dav_ms_propstat_begin_error(&ms, 403, "cannot-modify-protected-property"), 0);
    cr_assert_eq(dav_ms_prop_empty(&ms, &getetag), 0);
    cr_assert_eq(dav_ms_propstat_end(&ms), 0);
    cr_assert_eq(dav_ms_propstat_begin(&ms, 424), 0);
    cr_assert_eq(dav_ms_propstat_end(&ms), 0);
    cr_assert_eq(dav_ms_response_end(&ms), 0);
    cr_assert_eq(dav_ms_end(&ms), 0);
    cr_assert_not_null(strstr(m.p, "<D:propstat><D:prop><D:getetag/></D:prop>"
                                   "<D:status>HTTP/1.1 403 Forbidden</D:status>"
                                   "<D:error><D:cannot-modify-protected-property/></D:error>"
                                   "</D:propstat><D:propstat><D:prop></D:prop>"
                                   "<D:status>HTTP/1.1 424 Failed Dependency</D:status>"
                                   "</D:propstat>"),
                       "%s", m.p);
    xmlFreeDoc(read_back(&m));
    free(m.p);
}

Test(multistatus, href_encoding)
{
    struct membuf m = {0};
    struct dav_ms ms;
    dav_ms_init(&ms, membuf_write, &m);
    dav_ms_begin(&ms);
    static const char path[] = "/a b/\xc3\xbc/%/?#&<>\"'+;=:@[]~-._AZaz09/\x01\x7f\xff";
    dav_ms_response_begin(&ms, iov_make(path, sizeof(path) - 1));
    dav_ms_response_status(&ms, 200, NULL, iov_make(NULL, 0));
    /* The writer hands over a response at its end. */
    cr_assert_null(m.p);
    cr_assert_eq(dav_ms_response_end(&ms), 0);
    cr_assert_not_null(strstr(m.p, "<D:href>/a%20b/%C3%BC/%25/%3F%23%26%3C%3E%22%27%2B%3B%3D"
                                   "%3A%40%5B%5D~-._AZaz09/%01%7F%FF</D:href>"),
                       "%s", m.p);
    free(m.p);
}

/* Paths longer than the encoder's stack buffer are written in pieces, all of them. */
Test(multistatus, long_href)
{
    struct membuf m = {0};
    struct dav_ms ms;
    dav_ms_init(&ms, membuf_write, &m);
    char path[5000];
    for (size_t i = 0; i < sizeof(path); i++)
        path[i] = i % 3 ? 'a' : ' ';
    dav_ms_begin(&ms);
    dav_ms_response_begin(&ms, iov_make(path, sizeof(path)));
    dav_ms_response_status(&ms, 200, NULL, iov_make(NULL, 0));
    dav_ms_response_end(&ms);
    dav_ms_end(&ms);
    xmlDocPtr doc = read_back(&m);
    char *href = text_of(find_elem(xmlDocGetRootElement(doc), "DAV:", "href"));
    cr_assert_eq(strlen(href), sizeof(path) / 3 * 3 + 2 + 2 * 1667);
    xmlFree(href);
    xmlFreeDoc(doc);
    free(m.p);
}

Test(multistatus, text_escaping)
{
    struct membuf m = {0};
    struct dav_ms ms;
    dav_ms_init(&ms, membuf_write, &m);
    dav_ms_begin(&ms);
    dav_ms_response_begin(&ms, IOV_LIT("/"));
    dav_ms_propstat_begin(&ms, 200);
    static const char text[] =
        "a&b<c>d\"e'f]]>g\r\n\th\x01i\x1fj\x7fk\xffl\xef\xbf\xbem\xc3\xa9n\xc3";
    struct dav_xml_name dn = name("DAV:", "displayname");
    cr_assert_eq(dav_ms_prop_text(&ms, &dn, iov_make(text, sizeof(text) - 1)), 0);
    dav_ms_propstat_end(&ms);
    dav_ms_response_end(&ms);
    dav_ms_end(&ms);
    cr_assert(strstr(m.p, "<D:displayname>a&amp;b&lt;c&gt;d&quot;e'f]]&gt;g&#13;\n\th"));
    xmlDocPtr doc = read_back(&m);
    char *got = text_of(find_elem(xmlDocGetRootElement(doc), "DAV:", "displayname"));
    cr_assert_str_eq(got, "a&b<c>d\"e'f]]>g\r\n\th\xef\xbf\xbdi\xef\xbf\xbdj\x7fk\xef\xbf\xbdl"
                          "\xef\xbf\xbdm\xc3\xa9n\xef\xbf\xbd");
    xmlFree(got);
    xmlFreeDoc(doc);
    free(m.p);
}

Test(multistatus, empty_values)
{
    struct membuf m = {0};
    struct dav_ms ms;
    dav_ms_init(&ms, membuf_write, &m);
    dav_ms_begin(&ms);
    dav_ms_response_begin(&ms, iov_make(NULL, 0));
    dav_ms_propstat_begin(&ms, 200);
    struct dav_xml_value empty = {iov_make(NULL, 0), iov_make(NULL, 0)};
    struct dav_xml_name dn = name("DAV:", "displayname"), dead = name("urn:x", "dead");
    cr_assert_eq(dav_ms_prop_text(&ms, &dn, iov_make(NULL, 0)), 0);
    cr_assert_eq(dav_ms_prop_xml(&ms, &dead, &empty), 0);
    dav_ms_propstat_end(&ms);
    dav_ms_response_end(&ms);
    dav_ms_end(&ms);
    cr_assert(strstr(m.p, "<D:href></D:href><D:propstat><D:prop><D:displayname></D:displayname>"
                          "<x:dead xmlns:x=\"urn:x\"/></D:prop>"),
              "%s", m.p);
    xmlFreeDoc(read_back(&m));
    free(m.p);
}

Test(multistatus, names_are_validated)
{
    struct membuf m = {0};
    struct dav_ms ms;
    dav_ms_init(&ms, membuf_write, &m);
    dav_ms_begin(&ms);
    dav_ms_response_begin(&ms, IOV_LIT("/"));
    dav_ms_propstat_begin(&ms, 404);
    size_t before = m.len;
    static const char *const bad_local[] = {"", "1a", "a:b", "a b", "a>", "a\"", "a\xff", "-x"};
    for (size_t i = 0; i < sizeof(bad_local) / sizeof(bad_local[0]); i++) {
        struct dav_xml_name n = name("urn:x", bad_local[i]);
        cr_assert_eq(dav_ms_prop_empty(&ms, &n), -EINVAL, "%s", bad_local[i]);
        cr_assert_eq(dav_ms_prop_text(&ms, &n, IOV_LIT("v")), -EINVAL);
    }
    static const char *const bad_ns[] = {"urn:\x01", "urn:\xc3", "urn:\xef\xbf\xbf"};
    for (size_t i = 0; i < sizeof(bad_ns) / sizeof(bad_ns[0]); i++) {
        struct dav_xml_name n = name(bad_ns[i], "ok");
        cr_assert_eq(dav_ms_prop_empty(&ms, &n), -EINVAL);
    }
    struct dav_xml_value v = {IOV_LIT("x"), IOV_LIT("en\x02")};
    struct dav_xml_name ok = name("urn:x", "ok");
    cr_assert_eq(dav_ms_prop_xml(&ms, &ok, &v), -EINVAL);
    cr_assert_eq(m.len, before, "a refused name wrote something");
    /*
     * Odd but valid: quotes and '<' in a namespace URI are escaped. ('&' too, but libxml2 2.9's
     * tree parser, used to read back, keeps "&#38;" for it in namespace names.)
     */
    struct dav_xml_name odd = name("urn:a\"b<d>", "ok");
    cr_assert_eq(dav_ms_prop_empty(&ms, &odd), 0);
    dav_ms_propstat_end(&ms);
    dav_ms_response_end(&ms);
    dav_ms_end(&ms);
    xmlDocPtr doc = read_back(&m);
    cr_assert_not_null(find_elem(xmlDocGetRootElement(doc), "urn:a\"b<d>", "ok"));
    xmlFreeDoc(doc);
    free(m.p);
}

Test(multistatus, precondition_name_validated)
{
    struct membuf m = {0};
    struct dav_ms ms;
    dav_ms_init(&ms, membuf_write, &m);
    dav_ms_begin(&ms);
    dav_ms_response_begin(&ms, IOV_LIT("/"));
    size_t before = m.len;
    cr_assert_eq(dav_ms_response_status(&ms, 403, "bad name", iov_make(NULL, 0)), -EINVAL);
    cr_assert_eq(m.len, before);
    free(m.p);
}

Test(multistatus, namespaces_read_back)
{
    struct membuf m = {0};
    struct dav_ms ms;
    dav_ms_init(&ms, membuf_write, &m);
    dav_ms_begin(&ms);
    dav_ms_response_begin(&ms, IOV_LIT("/f"));
    dav_ms_propstat_begin(&ms, 200);
    static const char *const nss[] = {"DAV:",
                                      "http://owncloud.org/ns",
                                      "http://nextcloud.org/ns",
                                      "urn:schemas-microsoft-com:",
                                      "",
                                      "x"};
    for (size_t i = 0; i < sizeof(nss) / sizeof(nss[0]); i++) {
        char local[16];
        snprintf(local, sizeof(local), "p%zu", i);
        struct dav_xml_name n = name(nss[i], local);
        cr_assert_eq(dav_ms_prop_text(&ms, &n, IOV_LIT("v")), 0);
    }
    dav_ms_propstat_end(&ms);
    dav_ms_response_end(&ms);
    dav_ms_end(&ms);
    xmlDocPtr doc = read_back(&m);
    xmlNodePtr root = xmlDocGetRootElement(doc);
    for (size_t i = 0; i < sizeof(nss) / sizeof(nss[0]); i++) {
        char local[16];
        snprintf(local, sizeof(local), "p%zu", i);
        cr_assert_not_null(find_elem(root, nss[i], local), "%s %s in %s", nss[i], local, m.p);
    }
    xmlFreeDoc(doc);
    free(m.p);
}

static struct dav_xml_lockinfo owner_lock(void)
{
    static const char body[] =
        "<D:lockinfo xmlns:D='DAV:' xmlns:o='urn:o'><D:lockscope><D:shared/></D:lockscope>"
        "<D:locktype><D:write/></D:locktype><D:owner xml:lang='en'><D:href>mailto:a@b</D:href>"
        "<o:who o:a='1'>A &amp; B</o:who></D:owner></D:lockinfo>";
    struct dav_xml_lockinfo li;
    cr_assert_eq(dav_xml_lockinfo_parse(&li, (const uint8_t *)body, sizeof(body) - 1), 0);
    return li;
}

Test(lock, lock_body)
{
    struct dav_xml_lockinfo li = owner_lock();
    struct dav_ms_lock lk = {
        .exclusive = li.exclusive,
        .depth_infinity = true,
        .owner = &li.owner,
        .timeout = 3600,
        .token = IOV_LIT("urn:uuid:e71d4fae-5dec-22d6-fea5-00a0c91e6be4"),
        .root = IOV_LIT("/my docs/"),
    };
    struct membuf m = {0};
    struct dav_ms ms;
    dav_ms_init(&ms, membuf_write, &m);
    cr_assert_eq(dav_ms_lock_body(&ms, &lk), 0);
    cr_assert(strstr(m.p, "<D:prop xmlns:D=\"DAV:\"><D:lockdiscovery><D:activelock>"
                          "<D:locktype><D:write/></D:locktype><D:lockscope><D:shared/>"
                          "</D:lockscope><D:depth>infinity</D:depth><D:owner xml:lang=\"en\">"),
              "%s", m.p);
    cr_assert(strstr(m.p, "</D:owner><D:timeout>Second-3600</D:timeout><D:locktoken><D:href>"
                          "urn:uuid:e71d4fae-5dec-22d6-fea5-00a0c91e6be4</D:href></D:locktoken>"
                          "<D:lockroot><D:href>/my%20docs/</D:href></D:lockroot></D:activelock>"
                          "</D:lockdiscovery></D:prop>"),
              "%s", m.p);
    xmlDocPtr doc = read_back(&m);
    xmlDocPtr req = read_doc("<D:lockinfo xmlns:D='DAV:' xmlns:o='urn:o'><D:owner xml:lang='en'>"
                             "<D:href>mailto:a@b</D:href><o:who o:a='1'>A &amp; B</o:who>"
                             "</D:owner></D:lockinfo>",
                             strlen("<D:lockinfo xmlns:D='DAV:' xmlns:o='urn:o'><D:owner "
                                    "xml:lang='en'><D:href>mailto:a@b</D:href><o:who o:a='1'>"
                                    "A &amp; B</o:who></D:owner></D:lockinfo>"));
    assert_same_children(find_elem(xmlDocGetRootElement(req), "DAV:", "owner"),
                         find_elem(xmlDocGetRootElement(doc), "DAV:", "owner"));
    xmlFreeDoc(req);
    xmlFreeDoc(doc);
    free(m.p);
    dav_xml_lockinfo_release(&li);
}

Test(lock, discovery_and_supportedlock)
{
    struct dav_ms_lock locks[] = {
        {.exclusive = true,
         .timeout = DAV_MS_TIMEOUT_INFINITE,
         .token = IOV_LIT("urn:uuid:1"),
         .root = IOV_LIT("/a")},
        {.timeout = (uint64_t)1 << 40,
         .token = IOV_LIT("opaquelocktoken:x-y;z"),
         .root = IOV_LIT("/b")},
    };
    struct membuf m = {0};
    struct dav_ms ms;
    dav_ms_init(&ms, membuf_write, &m);
    dav_ms_begin(&ms);
    dav_ms_response_begin(&ms, IOV_LIT("/a"));
    dav_ms_propstat_begin(&ms, 200);
    cr_assert_eq(dav_ms_prop_lockdiscovery(&ms, locks, 2), 0);
    cr_assert_eq(dav_ms_prop_supportedlock(&ms), 0);
    dav_ms_propstat_end(&ms);
    dav_ms_response_end(&ms);
    dav_ms_response_begin(&ms, IOV_LIT("/b"));
    dav_ms_propstat_begin(&ms, 200);
    cr_assert_eq(dav_ms_prop_lockdiscovery(&ms, NULL, 0), 0);
    dav_ms_propstat_end(&ms);
    dav_ms_response_end(&ms);
    dav_ms_end(&ms);
    cr_assert(strstr(m.p, "<D:exclusive/></D:lockscope><D:depth>0</D:depth>"
                          "<D:timeout>Infinite</D:timeout>"));
    cr_assert(strstr(m.p, "<D:timeout>Second-4294967295</D:timeout>"));
    cr_assert(strstr(m.p, "<D:lockdiscovery/>"));
    cr_assert(strstr(m.p, "<D:supportedlock><D:lockentry><D:lockscope><D:exclusive/>"));
    xmlFreeDoc(read_back(&m));
    free(m.p);
}

Test(lock, bad_token)
{
    struct dav_ms_lock lk = {.token = IOV_LIT("urn:uuid:<x>"), .root = IOV_LIT("/")};
    struct membuf m = {0};
    struct dav_ms ms;
    dav_ms_init(&ms, membuf_write, &m);
    cr_assert_eq(dav_ms_lock_body(&ms, &lk), -EINVAL);
    lk.token = IOV_LIT("");
    cr_assert_eq(dav_ms_lock_body(&ms, &lk), -EINVAL);
    lk.token = IOV_LIT("urn:uuid:a b");
    cr_assert_eq(dav_ms_lock_body(&ms, &lk), -EINVAL);
    cr_assert_eq(m.len, 0);
    free(m.p);
}

/* A sink that fails once it has taken limit bytes. */
struct failing {
    size_t taken, limit, calls_after;
};

static int failing_write(void *ctx, const void *p, size_t n)
{
    struct failing *f = ctx;
    (void)p;
    if (f->taken + n > f->limit) {
        f->calls_after++;
        return -EPIPE;
    }
    f->taken += n;
    return 0;
}

Test(multistatus, sink_error_is_sticky)
{
    struct failing f = {.limit = 200};
    struct dav_ms ms;
    dav_ms_init(&ms, failing_write, &f);
    dav_ms_begin(&ms);
    int rc = 0;
    for (int i = 0; i < 10; i++) {
        dav_ms_response_begin(&ms, IOV_LIT("/some/path"));
        dav_ms_propstat_begin(&ms, 200);
        dav_ms_prop_text(&ms, &getetag, IOV_LIT("\"etag\""));
        dav_ms_propstat_end(&ms);
        rc = dav_ms_response_end(&ms);
    }
    cr_assert_eq(rc, -EPIPE);
    cr_assert_eq(dav_ms_end(&ms), -EPIPE);
    cr_assert_eq(f.calls_after, 1, "the writer kept writing after an error");
}

struct counter {
    size_t bytes, calls;
};

static int count_write(void *ctx, const void *p, size_t n)
{
    struct counter *c = ctx;
    (void)p;
    c->bytes += n;
    c->calls++;
    return 0;
}

static void one_response(struct dav_ms *ms, const struct dav_xml_value *dead)
{
    struct dav_xml_name dn = name("DAV:", "displayname");
    struct dav_xml_name dp = name("urn:x", "dead");
    struct dav_xml_name missing = name("urn:y", "missing");
    dav_ms_response_begin(ms, IOV_LIT("/remote.php/dav/files/user/some file.txt"));
    dav_ms_propstat_begin(ms, 200);
    dav_ms_prop_text(ms, &dn, IOV_LIT("some file.txt"));
    dav_ms_prop_text(ms, &getetag, IOV_LIT("\"0123456789abcdef\""));
    dav_ms_prop_xml(ms, &dp, dead);
    dav_ms_propstat_end(ms);
    dav_ms_propstat_begin(ms, 404);
    dav_ms_prop_empty(ms, &missing);
    dav_ms_propstat_end(ms);
    dav_ms_response_end(ms);
}

/*
 * Streaming: output grows by the same number of bytes per response and the heap does not grow
 * at all while 100,000 responses are written (the writer never allocates; mallinfo2 sees
 * glibc's heap, and reads zero under ASan, where the byte count still holds).
 */
Test(multistatus, constant_memory)
{
    struct dav_xml_value dead = {IOV_LIT("<a xmlns=\"urn:a\">v</a>"), IOV_LIT("en")};
    struct counter c = {0};
    struct dav_ms ms;
    dav_ms_init(&ms, count_write, &c);
    dav_ms_begin(&ms);
    /* Each response reaches the sink at its end, with the document's start before the first. */
    one_response(&ms, &dead);
    size_t start = c.bytes;
    one_response(&ms, &dead);
    size_t per = c.bytes - start;
    cr_assert_gt(per, 0);
    struct mallinfo2 before = mallinfo2();
    for (int i = 2; i < 100000; i++)
        one_response(&ms, &dead);
    struct mallinfo2 after = mallinfo2();
    cr_assert_eq(dav_ms_end(&ms), 0);
    cr_assert_eq(c.bytes - start, per * 99999 + strlen("</D:multistatus>"));
    cr_assert_eq(after.uordblks, before.uordblks, "heap grew while streaming");
    cr_assert_eq(after.hblkhd, before.hblkhd);
    cr_assert(sizeof(struct dav_ms) <= 64 + DAV_MS_BUF, "a few words and the buffer");
}

/* Namespaces in XML §3: the XML namespace is written with its own prefix, never declared; the
 * xmlns namespace names no element. (Found by the davxml fuzzer: <xml:foo/> asked for.) */
Test(multistatus, reserved_namespaces)
{
    struct membuf m = {0};
    struct dav_ms ms;
    dav_ms_init(&ms, membuf_write, &m);
    dav_ms_begin(&ms);
    dav_ms_response_begin(&ms, IOV_LIT("/"));
    dav_ms_propstat_begin(&ms, 404);
    struct dav_xml_name x = name("http://www.w3.org/XML/1998/namespace", "lanbleheader");
    struct dav_xml_name ns = name("http://www.w3.org/2000/xmlns/", "a");
    cr_assert_eq(dav_ms_prop_empty(&ms, &x), 0);
    size_t before = m.len;
    cr_assert_eq(dav_ms_prop_empty(&ms, &ns), -EINVAL);
    cr_assert_eq(m.len, before, "nothing written for a refused name");
    dav_ms_propstat_end(&ms);
    dav_ms_response_end(&ms);
    dav_ms_end(&ms);
    cr_assert(strstr(m.p, "<xml:lanbleheader/>"), "%s", m.p);
    cr_assert_null(strstr(m.p, "xmlns:x=\"http://www.w3.org/XML"), "%s", m.p);
    xmlDocPtr doc = read_back(&m);
    cr_assert_not_null(doc);
    xmlFreeDoc(doc);
    free(m.p);
}
