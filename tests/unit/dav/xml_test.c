/* SPDX-License-Identifier: MIT */
/*
 * Tests for dav/xml.c: PROPFIND, PROPPATCH and LOCK bodies as real clients send them (prefixes,
 * default namespaces, whitespace, comments, CDATA, xml:lang), the attacks and malformed input
 * that must be refused, the limits, and dead property values that must read back the same after
 * a trip through the multistatus writer.
 */
#include <errno.h>
#include <stdio.h>

#include "davtest.h"

static int propfind(struct dav_xml_propfind *pf, const char *s)
{
    return dav_xml_propfind_parse(pf, (const uint8_t *)s, strlen(s));
}

static int proppatch(struct dav_xml_proppatch *pp, const char *s)
{
    return dav_xml_proppatch_parse(pp, (const uint8_t *)s, strlen(s));
}

static int lockinfo(struct dav_xml_lockinfo *li, const char *s)
{
    return dav_xml_lockinfo_parse(li, (const uint8_t *)s, strlen(s));
}

static void assert_iov(struct iov v, const char *s)
{
    cr_assert_eq(v.len, strlen(s), "length %zu, want %zu (\"%.*s\" vs \"%s\")", v.len, strlen(s),
                 (int)v.len, v.base, s);
    cr_assert(v.len == 0 || memcmp(v.base, s, v.len) == 0, "\"%.*s\" vs \"%s\"", (int)v.len, v.base,
              s);
}

static void assert_name(const struct dav_xml_name *n, const char *ns, const char *local)
{
    assert_iov(n->ns, ns);
    assert_iov(n->local, local);
}

/* Every parser must refuse body with err (a root that none of them expects, since a wrong root
 * is refused as soon as it is seen), and leave a result that is safe to release. */
static void assert_all_refuse(const char *body, int err)
{
    struct dav_xml_propfind pf;
    struct dav_xml_proppatch pp;
    struct dav_xml_lockinfo li;
    cr_assert_eq(propfind(&pf, body), err, "propfind: %s", body);
    cr_assert_eq(proppatch(&pp, body), err, "proppatch: %s", body);
    cr_assert_eq(lockinfo(&li, body), err, "lockinfo: %s", body);
    dav_xml_propfind_release(&pf);
    dav_xml_proppatch_release(&pp);
    dav_xml_lockinfo_release(&li);
}

/* ---- PROPFIND ---- */

Test(propfind, empty_body_is_allprop)
{
    struct dav_xml_propfind pf;
    cr_assert_eq(dav_xml_propfind_parse(&pf, NULL, 0), 0);
    cr_assert_eq(pf.kind, DAV_XML_ALLPROP);
    cr_assert_eq(pf.n_names, 0);
    dav_xml_propfind_release(&pf);
    cr_assert_eq(propfind(&pf, " \r\n\t"), 0);
    cr_assert_eq(pf.kind, DAV_XML_ALLPROP);
    dav_xml_propfind_release(&pf);
}

Test(propfind, allprop)
{
    struct dav_xml_propfind pf;
    cr_assert_eq(propfind(&pf, "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n"
                               "<D:propfind xmlns:D=\"DAV:\"><D:allprop/></D:propfind>"),
                 0);
    cr_assert_eq(pf.kind, DAV_XML_ALLPROP);
    cr_assert_eq(pf.n_names, 0);
    dav_xml_propfind_release(&pf);
}

Test(propfind, allprop_include)
{
    struct dav_xml_propfind pf;
    cr_assert_eq(propfind(&pf, "<D:propfind xmlns:D='DAV:' xmlns:C='urn:ietf:params:xml:ns:caldav'>"
                               "<D:allprop/><D:include><D:supported-live-property-set/>"
                               "<C:calendar-description/></D:include></D:propfind>"),
                 0);
    cr_assert_eq(pf.kind, DAV_XML_ALLPROP);
    cr_assert_eq(pf.n_names, 2);
    assert_name(&pf.names[0], "DAV:", "supported-live-property-set");
    assert_name(&pf.names[1], "urn:ietf:params:xml:ns:caldav", "calendar-description");
    dav_xml_propfind_release(&pf);
}

Test(propfind, propname)
{
    struct dav_xml_propfind pf;
    cr_assert_eq(propfind(&pf, "<propfind xmlns=\"DAV:\"><propname/></propfind>"), 0);
    cr_assert_eq(pf.kind, DAV_XML_PROPNAME);
    dav_xml_propfind_release(&pf);
}

/* Prefixes, a default namespace, no namespace, whitespace, comments and a PI. */
Test(propfind, prop_names_by_namespace_not_prefix)
{
    static const char body[] =
        "\xef\xbb\xbf<?xml version='1.0' encoding='UTF-8'?>\n"
        "<!-- a client comment -->\n"
        "<a:propfind xmlns:a=\"DAV:\" xmlns:oc=\"http://owncloud.org/ns\">\n"
        "  <a:prop>\n"
        "    <a:getlastmodified/> <a:getcontentlength></a:getcontentlength>\n"
        "    <oc:fileid/>\n"
        "    <?pi ignored?>\n"
        "    <getetag xmlns=\"DAV:\"/>\n"
        "    <nc:has-preview xmlns:nc=\"http://nextcloud.org/ns\"/>\n"
        "    <plain xmlns=\"\"/>\n"
        "    <D:resourcetype xmlns:D=\"urn:not-dav\"/>\n"
        "  </a:prop>\n"
        "</a:propfind>\n";
    struct dav_xml_propfind pf;
    cr_assert_eq(propfind(&pf, body), 0);
    cr_assert_eq(pf.kind, DAV_XML_PROP);
    cr_assert_eq(pf.n_names, 7);
    assert_name(&pf.names[0], "DAV:", "getlastmodified");
    assert_name(&pf.names[1], "DAV:", "getcontentlength");
    assert_name(&pf.names[2], "http://owncloud.org/ns", "fileid");
    assert_name(&pf.names[3], "DAV:", "getetag");
    assert_name(&pf.names[4], "http://nextcloud.org/ns", "has-preview");
    assert_name(&pf.names[5], "", "plain");
    assert_name(&pf.names[6], "urn:not-dav", "resourcetype");
    dav_xml_propfind_release(&pf);
}

Test(propfind, unknown_elements_ignored)
{
    struct dav_xml_propfind pf;
    cr_assert_eq(propfind(&pf, "<D:propfind xmlns:D='DAV:' xmlns:x='urn:x'><x:hint a='1'>"
                               "<D:prop><D:nope/></D:prop></x:hint><D:future/>"
                               "<D:prop><D:displayname><x:child/></D:displayname></D:prop>"
                               "stray text</D:propfind>"),
                 0);
    cr_assert_eq(pf.kind, DAV_XML_PROP);
    cr_assert_eq(pf.n_names, 1);
    assert_name(&pf.names[0], "DAV:", "displayname");
    dav_xml_propfind_release(&pf);
}

Test(propfind, not_a_propfind)
{
    static const char *const bodies[] = {
        "<propfind><prop><getetag/></prop></propfind>", /* no namespace */
        "<D:propfind xmlns:D='urn:x'><D:allprop/></D:propfind>",
        "<D:lockinfo xmlns:D='DAV:'/>",
        "<D:propfind xmlns:D='DAV:'/>",
        "<D:propfind xmlns:D='DAV:'><D:allprop/><D:propname/></D:propfind>",
        "<D:propfind xmlns:D='DAV:'><D:prop/><D:allprop/></D:propfind>",
        "<D:propfind xmlns:D='DAV:'><D:propname/><D:include/></D:propfind>",
    };
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        struct dav_xml_propfind pf;
        cr_assert_eq(propfind(&pf, bodies[i]), -EPROTO, "%s", bodies[i]);
        dav_xml_propfind_release(&pf);
    }
}

Test(propfind, empty_prop_is_allowed)
{
    struct dav_xml_propfind pf;
    cr_assert_eq(propfind(&pf, "<D:propfind xmlns:D='DAV:'><D:prop/></D:propfind>"), 0);
    cr_assert_eq(pf.kind, DAV_XML_PROP);
    cr_assert_eq(pf.n_names, 0);
    dav_xml_propfind_release(&pf);
}

/* ---- refused input ---- */

Test(refuse, malformed)
{
    static const char *const bodies[] = {
        "<a><b/>",
        "<a><b></a>",
        "<a/><a/>",
        "<D:propfind><D:allprop/></D:propfind>", /* unbound prefix */
        "<D:propfind xmlns:D='DAV:' a='1' a='2'/>",
        "just text",
        "<a>&nbsp;</a>",
        "<a>&#0;</a>",
        "<a>\x01</a>",
        "<a b=\"<\"/>",
        "<?xml version='1.0'?>",
        "<a xmlns:p=''/>",
        "<a>]]></a>",
        "<1a/>",
    };
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
        assert_all_refuse(bodies[i], -EBADMSG);
}

Test(refuse, billion_laughs)
{
    static const char body[] =
        "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol \"lol\">\n"
        "<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
        "<!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
        "<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
        "<!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
        "<!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">\n"
        "<!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">\n"
        "<!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">\n"
        "<!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">\n"
        "<!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">\n"
        "]>\n<D:propertyupdate xmlns:D=\"DAV:\"><D:set><D:prop><x xmlns=\"urn:x\">&lol9;</x>"
        "</D:prop></D:set></D:propertyupdate>";
    assert_all_refuse(body, -EBADMSG);
}

Test(refuse, external_entities_and_dtds)
{
    static const char *const bodies[] = {
        /* XXE: file and network */
        "<?xml version='1.0'?><!DOCTYPE d [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>"
        "<D:propertyupdate xmlns:D='DAV:'><D:set><D:prop><a xmlns='urn:a'>&x;</a></D:prop>"
        "</D:set></D:propertyupdate>",
        "<!DOCTYPE d [<!ENTITY x SYSTEM 'http://127.0.0.1:1/x'>]><d>&x;</d>",
        /* parameter entities, external DTD, a bare DOCTYPE */
        "<!DOCTYPE d [<!ENTITY % p SYSTEM 'http://127.0.0.1:1/p.dtd'> %p;]><d/>",
        "<!DOCTYPE d SYSTEM 'http://127.0.0.1:1/d.dtd'><d/>",
        "<!DOCTYPE d PUBLIC '-//x//y' 'file:///etc/passwd'><d/>",
        "<!DOCTYPE D:propfind><D:propfind xmlns:D='DAV:'><D:allprop/></D:propfind>",
        /* an attribute default from the internal subset */
        "<!DOCTYPE d [<!ATTLIST d a CDATA 'x'>]><d/>",
        /* an entity reference with no DTD is undefined */
        "<a>&ent;</a>",
    };
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
        assert_all_refuse(bodies[i], -EBADMSG);
}

Test(refuse, not_utf8)
{
    static const char *const bodies[] = {
        "<?xml version='1.0' encoding='ISO-8859-1'?><D:propfind xmlns:D='DAV:'><D:allprop/>"
        "</D:propfind>",
        "<?xml version=\"1.0\" encoding = \"windows-1252\" ?><a/>",
        "<?xml version='1.0' encoding='UTF-16'?><a/>",
        "<a>caf\xe9</a>",          /* Latin-1 byte */
        "<a>\xc0\xaf</a>",         /* overlong */
        "<a>\xed\xa0\x80</a>",     /* surrogate */
        "<a>\xf4\x90\x80\x80</a>", /* above U+10FFFF */
        "\xff\xfe<\0a\0/\0>\0",    /* UTF-16LE with BOM */
    };
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
        assert_all_refuse(bodies[i], -EBADMSG);
    /* NUL bytes, which strlen would hide */
    static const char nul[] = "<D:propfind xmlns:D='DAV:'><D:allprop/>\0</D:propfind>";
    struct dav_xml_propfind pf;
    cr_assert_eq(dav_xml_propfind_parse(&pf, (const uint8_t *)nul, sizeof(nul) - 1), -EBADMSG);
    dav_xml_propfind_release(&pf);
}

Test(refuse, utf8_declarations_accepted)
{
    static const char *const bodies[] = {
        "<?xml version='1.0' encoding='utf-8'?><D:propfind "
        "xmlns:D='DAV:'><D:allprop/></D:propfind>",
        "<?xml version='1.0' encoding=\"UTF-8\" standalone='yes'?><D:propfind xmlns:D='DAV:'>"
        "<D:allprop/></D:propfind>",
        "<?xml version='1.0'?><D:propfind xmlns:D='DAV:'><D:prop><D:caf\xc3\xa9/></D:prop>"
        "</D:propfind>",
    };
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        struct dav_xml_propfind pf;
        cr_assert_eq(propfind(&pf, bodies[i]), 0, "%s", bodies[i]);
        dav_xml_propfind_release(&pf);
    }
}

/* ---- limits ---- */

/* A PROPFIND whose allprop sits beside an ignored branch nested depth elements deep. */
static char *nested(unsigned depth)
{
    size_t cap = 128 + depth * 16;
    char *s = malloc(cap);
    size_t n = (size_t)sprintf(s, "<D:propfind xmlns:D='DAV:'><D:allprop/>");
    for (unsigned i = 2; i <= depth; i++)
        n += (size_t)sprintf(s + n, "<x>");
    for (unsigned i = 2; i <= depth; i++)
        n += (size_t)sprintf(s + n, "</x>");
    sprintf(s + n, "</D:propfind>");
    return s;
}

Test(limits, depth)
{
    struct dav_xml_propfind pf;
    char *ok = nested(DAV_XML_DEPTH_MAX), *deep = nested(DAV_XML_DEPTH_MAX + 1);
    cr_assert_eq(propfind(&pf, ok), 0);
    dav_xml_propfind_release(&pf);
    cr_assert_eq(propfind(&pf, deep), -E2BIG);
    dav_xml_propfind_release(&pf);
    free(ok);
    free(deep);
}

static char *many_props(unsigned props)
{
    char *s = malloc(64 + props * 6);
    size_t n = (size_t)sprintf(s, "<D:propfind xmlns:D='DAV:'><D:prop>");
    for (unsigned i = 0; i < props; i++)
        n += (size_t)sprintf(s + n, "<D:x/>");
    sprintf(s + n, "</D:prop></D:propfind>");
    return s;
}

Test(limits, elements)
{
    struct dav_xml_propfind pf;
    char *ok = many_props(DAV_XML_ELEMENTS_MAX - 2), *over = many_props(DAV_XML_ELEMENTS_MAX - 1);
    cr_assert_eq(propfind(&pf, ok), 0);
    cr_assert_eq(pf.n_names, DAV_XML_ELEMENTS_MAX - 2);
    dav_xml_propfind_release(&pf);
    cr_assert_eq(propfind(&pf, over), -E2BIG);
    dav_xml_propfind_release(&pf);
    free(ok);
    free(over);
}

Test(limits, namespaces_in_scope)
{
    char s[8192];
    size_t n = (size_t)sprintf(s, "<D:propfind xmlns:D='DAV:'");
    for (int i = 1; i < DAV_XML_NS_MAX; i++)
        n += (size_t)sprintf(s + n, " xmlns:p%d='urn:%d'", i, i);
    sprintf(s + n, "><D:allprop/></D:propfind>");
    struct dav_xml_propfind pf;
    cr_assert_eq(propfind(&pf, s), 0);
    dav_xml_propfind_release(&pf);
    sprintf(s + n, " xmlns:one_more='urn:x'><D:allprop/></D:propfind>");
    cr_assert_eq(propfind(&pf, s), -E2BIG);
    dav_xml_propfind_release(&pf);
}

Test(limits, body_size)
{
    size_t len = DAV_XML_BODY_MAX + 1;
    uint8_t *body = malloc(len);
    memset(body, ' ', len);
    struct dav_xml_proppatch pp;
    cr_assert_eq(dav_xml_proppatch_parse(&pp, body, len), -EMSGSIZE);
    dav_xml_proppatch_release(&pp);
    free(body);
}

/* Inherited namespace declarations repeated on many value elements must not blow up memory. */
Test(limits, value_amplification)
{
    size_t cap = 1 << 20;
    char *s = malloc(cap);
    size_t n = (size_t)sprintf(s, "<D:propertyupdate xmlns:D='DAV:'");
    for (int i = 0; i < 40; i++) {
        n += (size_t)sprintf(s + n, " xmlns:p%d='urn:", i);
        memset(s + n, 'u', 2000);
        n += 2000;
        s[n++] = '\'';
    }
    n += (size_t)sprintf(s + n, "><D:set><D:prop><v xmlns='urn:v'>");
    for (int i = 0; i < 2000; i++)
        n += (size_t)sprintf(s + n, "<e/>");
    sprintf(s + n, "</v></D:prop></D:set></D:propertyupdate>");
    struct dav_xml_proppatch pp;
    cr_assert_eq(proppatch(&pp, s), -E2BIG);
    dav_xml_proppatch_release(&pp);
    free(s);
}

Test(limits, long_names)
{
    size_t len = 40000;
    char *s = malloc(2 * len + 256);
    size_t n = (size_t)sprintf(s, "<D:propfind xmlns:D='DAV:'><D:prop><x:");
    memset(s + n, 'n', len);
    n += len;
    n += (size_t)sprintf(s + n, " xmlns:x='urn:");
    memset(s + n, 'u', len);
    n += len;
    sprintf(s + n, "'/></D:prop></D:propfind>");
    struct dav_xml_propfind pf;
    cr_assert_eq(propfind(&pf, s), 0);
    cr_assert_eq(pf.n_names, 1);
    cr_assert_eq(pf.names[0].local.len, len);
    cr_assert_eq(pf.names[0].ns.len, len + 4);
    dav_xml_propfind_release(&pf);
    free(s);
}

/* libxml2 caps names at 50,000 bytes unless XML_PARSE_HUGE, which we never set. */
Test(limits, too_long_name)
{
    size_t len = 60000;
    char *s = malloc(len + 64);
    size_t n = (size_t)sprintf(s, "<D:propfind xmlns:D='DAV:'><D:prop><D:");
    memset(s + n, 'n', len);
    sprintf(s + n + len, "/></D:prop></D:propfind>");
    struct dav_xml_propfind pf;
    cr_assert_eq(propfind(&pf, s), -EBADMSG);
    dav_xml_propfind_release(&pf);
    free(s);
}

/* ---- PROPPATCH ---- */

/* compat(windows): Explorer (MiniRedir) sets its Win32 times and attributes after each upload. */
Test(proppatch, windows_explorer)
{
    static const char body[] =
        "<?xml version=\"1.0\" encoding=\"utf-8\" ?><D:propertyupdate xmlns:D=\"DAV:\" "
        "xmlns:Z=\"urn:schemas-microsoft-com:\"><D:set><D:prop>"
        "<Z:Win32CreationTime>Wed, 04 Jun 2025 10:11:12 GMT</Z:Win32CreationTime>"
        "<Z:Win32LastAccessTime>Wed, 04 Jun 2025 10:11:13 GMT</Z:Win32LastAccessTime>"
        "<Z:Win32LastModifiedTime>Wed, 04 Jun 2025 10:11:14 GMT</Z:Win32LastModifiedTime>"
        "<Z:Win32FileAttributes>00000020</Z:Win32FileAttributes>"
        "</D:prop></D:set></D:propertyupdate>";
    struct dav_xml_proppatch pp;
    cr_assert_eq(proppatch(&pp, body), 0);
    cr_assert_eq(pp.n_ops, 4);
    for (size_t i = 0; i < 4; i++) {
        cr_assert_eq(pp.ops[i].op, DAV_XML_SET);
        assert_iov(pp.ops[i].name.ns, "urn:schemas-microsoft-com:");
        cr_assert_null(pp.ops[i].value.lang.base);
    }
    assert_iov(pp.ops[0].name.local, "Win32CreationTime");
    assert_iov(pp.ops[0].value.xml, "Wed, 04 Jun 2025 10:11:12 GMT");
    assert_iov(pp.ops[3].name.local, "Win32FileAttributes");
    assert_iov(pp.ops[3].value.xml, "00000020");
    dav_xml_proppatch_release(&pp);
}

Test(proppatch, order_of_set_and_remove)
{
    static const char body[] =
        "<propertyupdate xmlns='DAV:' xmlns:a='urn:a'>\n"
        " <set><prop><a:one>1</a:one></prop></set>\n"
        " <remove><prop><a:two/><a:three>ignored<b/></a:three></prop></remove>\n"
        " <set><prop><a:four>  spaced  \n</a:four><a:five/></prop></set>\n"
        "</propertyupdate>";
    struct dav_xml_proppatch pp;
    cr_assert_eq(proppatch(&pp, body), 0);
    cr_assert_eq(pp.n_ops, 5);
    static const char *const names[] = {"one", "two", "three", "four", "five"};
    static const enum dav_xml_patch_op ops[] = {DAV_XML_SET, DAV_XML_REMOVE, DAV_XML_REMOVE,
                                                DAV_XML_SET, DAV_XML_SET};
    for (size_t i = 0; i < 5; i++) {
        cr_assert_eq(pp.ops[i].op, ops[i]);
        assert_name(&pp.ops[i].name, "urn:a", names[i]);
    }
    assert_iov(pp.ops[0].value.xml, "1");
    assert_iov(pp.ops[3].value.xml, "  spaced  \n");
    assert_iov(pp.ops[4].value.xml, "");
    cr_assert_not_null(pp.ops[4].value.xml.base);
    dav_xml_proppatch_release(&pp);
}

/* The exact fragment: inherited bindings on top-level children, escapes, CDATA as text. */
Test(proppatch, value_fragment)
{
    static const char body[] = "<D:propertyupdate xmlns:D='DAV:' xmlns:Z='urn:z'><D:set><D:prop>"
                               "<Z:authors xmlns:x='urn:x'>text &amp; <![CDATA[<raw> & ]]>"
                               "<Z:a x:k=\"v&amp;&lt;&#34;&#38;'\"><x:b xmlns:x='urn:x2'/></Z:a>"
                               "<!-- dropped --><c xmlns='urn:c'>&#13;\t</c></Z:authors>"
                               "</D:prop></D:set></D:propertyupdate>";
    struct dav_xml_proppatch pp;
    cr_assert_eq(proppatch(&pp, body), 0);
    cr_assert_eq(pp.n_ops, 1);
    assert_iov(pp.ops[0].value.xml,
               "text &amp; &lt;raw&gt; &amp; "
               "<Z:a xmlns:x=\"urn:x\" xmlns:Z=\"urn:z\" xmlns:D=\"DAV:\" "
               "x:k=\"v&amp;&lt;&quot;&amp;'\"><x:b xmlns:x=\"urn:x2\"/></Z:a>"
               "<c xmlns=\"urn:c\" xmlns:x=\"urn:x\" xmlns:Z=\"urn:z\" xmlns:D=\"DAV:\">"
               "&#13;\t</c>");
    dav_xml_proppatch_release(&pp);
}

Test(proppatch, xml_lang)
{
    static const char body[] =
        "<D:propertyupdate xmlns:D='DAV:' xml:lang='en'><D:set><D:prop>"
        "<x:a xmlns:x='urn:x'>inherited</x:a>"
        "<x:b xmlns:x='urn:x' xml:lang='de-CH'>own</x:b>"
        "</D:prop></D:set><D:set xml:lang=''><D:prop><x:c xmlns:x='urn:x'>none</x:c></D:prop>"
        "</D:set><D:set><D:prop xml:lang='fr'><x:d xmlns:x='urn:x'>"
        "<x:e xml:lang='it'>inner</x:e></x:d></D:prop></D:set></D:propertyupdate>";
    struct dav_xml_proppatch pp;
    cr_assert_eq(proppatch(&pp, body), 0);
    cr_assert_eq(pp.n_ops, 4);
    assert_iov(pp.ops[0].value.lang, "en");
    assert_iov(pp.ops[1].value.lang, "de-CH");
    assert_iov(pp.ops[2].value.lang, "");
    cr_assert_not_null(pp.ops[2].value.lang.base);
    assert_iov(pp.ops[3].value.lang, "fr");
    assert_iov(pp.ops[3].value.xml, "<x:e xmlns:x=\"urn:x\" xmlns:D=\"DAV:\" xml:lang=\"it\">"
                                    "inner</x:e>");
    dav_xml_proppatch_release(&pp);
}

Test(proppatch, not_a_propertyupdate)
{
    struct dav_xml_proppatch pp;
    cr_assert_eq(proppatch(&pp, "<D:propfind xmlns:D='DAV:'><D:allprop/></D:propfind>"), -EPROTO);
    dav_xml_proppatch_release(&pp);
    cr_assert_eq(proppatch(&pp, ""), -EBADMSG);
    dav_xml_proppatch_release(&pp);
    cr_assert_eq(proppatch(&pp, "<D:propertyupdate xmlns:D='DAV:'/>"), 0);
    cr_assert_eq(pp.n_ops, 0);
    dav_xml_proppatch_release(&pp);
}

/* ---- round trip through the multistatus writer ---- */

/*
 * Parse body as a PROPPATCH, write each set value with dav_ms_prop_xml, read the multistatus
 * back with libxml2 and compare each property element's children and xml:lang with the
 * request's, found with libxml2's own tree parser.
 */
static void round_trip(const char *body)
{
    struct dav_xml_proppatch pp;
    cr_assert_eq(proppatch(&pp, body), 0, "%s", body);
    struct membuf m = {0};
    struct dav_ms ms;
    dav_ms_init(&ms, membuf_write, &m);
    dav_ms_begin(&ms);
    dav_ms_response_begin(&ms, IOV_LIT("/f"));
    dav_ms_propstat_begin(&ms, 200);
    for (size_t i = 0; i < pp.n_ops; i++) {
        if (pp.ops[i].op == DAV_XML_SET)
            cr_assert_eq(dav_ms_prop_xml(&ms, &pp.ops[i].name, &pp.ops[i].value), 0);
    }
    dav_ms_propstat_end(&ms);
    dav_ms_response_end(&ms);
    cr_assert_eq(dav_ms_end(&ms), 0);

    xmlDocPtr req = read_doc(body, strlen(body));
    xmlDocPtr resp = read_doc(m.p, m.len);
    cr_assert_not_null(req);
    cr_assert_not_null(resp, "not well-formed: %s", m.p);
    xmlNodePtr req_prop = find_elem(xmlDocGetRootElement(req), "DAV:", "set");
    xmlNodePtr resp_prop = find_elem(xmlDocGetRootElement(resp), "DAV:", "prop");
    cr_assert(req_prop && resp_prop);
    /* Pair the request's property elements with the response's, in order. */
    xmlNodePtr b = resp_prop->children;
    for (; req_prop; req_prop = req_prop->next) {
        if (!node_is(req_prop, "DAV:", "set"))
            continue;
        xmlNodePtr props = find_elem(req_prop->children, "DAV:", "prop");
        for (xmlNodePtr a = props->children; a; a = a->next) {
            if (a->type != XML_ELEMENT_NODE)
                continue;
            while (b && b->type != XML_ELEMENT_NODE)
                b = b->next;
            cr_assert_not_null(b, "missing property in %s", m.p);
            cr_assert_str_eq((const char *)a->name, (const char *)b->name);
            cr_assert_eq(!a->ns, !b->ns);
            if (a->ns)
                cr_assert_str_eq((const char *)a->ns->href, (const char *)b->ns->href);
            xmlChar *la = xmlNodeGetLang(a), *lb = xmlNodeGetLang(b);
            cr_assert_eq(!la, !lb, "xml:lang lost on %s", a->name);
            if (la)
                cr_assert_str_eq((const char *)la, (const char *)lb);
            xmlFree(la);
            xmlFree(lb);
            assert_same_children(a, b);
            b = b->next;
        }
    }
    xmlFreeDoc(req);
    xmlFreeDoc(resp);
    free(m.p);
    dav_xml_proppatch_release(&pp);
}

Test(round_trip, dead_properties)
{
    static const char *const bodies[] = {
        /* compat(finder): macOS stores extended attributes as dead properties in its own ns */
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:propertyupdate xmlns:D=\"DAV:\">"
        "<D:set><D:prop><ns0:com.apple.FinderInfo "
        "xmlns:ns0=\"http://www.apple.com/webdav_fs/props/\">"
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=</ns0:com.apple.FinderInfo></D:prop></D:set>"
        "</D:propertyupdate>",
        /* nested values, a default namespace and prefixes bound far up */
        "<propertyupdate xmlns='DAV:' xmlns:z='urn:z' xml:lang='en-US'><set><prop>"
        "<z:author><z:name first='A' z:last=\"B &amp; C\">Ann<z:nick/></z:name>\n  "
        "<email xmlns='mailto:'>a@example.org</email><plain xmlns=''>x</plain></z:author>"
        "<z:empty/><z:lang xml:lang='de'>Grüße <![CDATA[<b>]]> &lt;&gt;&amp;&#x9;&#13;</z:lang>"
        "</prop></set></propertyupdate>",
        /* a value element using the default namespace of the root and redeclared prefixes */
        "<D:propertyupdate xmlns:D='DAV:' xmlns='urn:default'><D:set><D:prop>"
        "<p><q D:attr='1'><D:r xmlns:D='urn:not-dav'/></q></p>"
        "<D:displayname>in DAV:</D:displayname><x:y xmlns:x='urn:x'><!-- c -->a<?pi?>b</x:y>"
        "</D:prop></D:set></D:propertyupdate>",
        /* a prefix that the writer itself uses for other namespaces */
        "<D:propertyupdate xmlns:D='DAV:' xmlns:x='urn:mine'><D:set><D:prop>"
        "<x:p><x:c/><D:prop/></x:p><oc:tags "
        "xmlns:oc='http://owncloud.org/ns'><oc:t>1</oc:t></oc:tags>"
        "</D:prop></D:set></D:propertyupdate>",
    };
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
        round_trip(bodies[i]);
}

/* ---- LOCK ---- */

Test(lockinfo, exclusive_with_href_owner)
{
    static const char body[] =
        "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n<D:lockinfo xmlns:D='DAV:'>\n"
        "  <D:lockscope><D:exclusive/></D:lockscope>\n"
        "  <D:locktype><D:write/></D:locktype>\n"
        "  <D:owner>\n    <D:href>http://example.org/~ejw/contact.html</D:href>\n  </D:owner>\n"
        "</D:lockinfo>";
    struct dav_xml_lockinfo li;
    cr_assert_eq(lockinfo(&li, body), 0);
    cr_assert(li.exclusive);
    cr_assert(li.has_owner);
    assert_iov(li.owner.xml, "\n    <D:href xmlns:D=\"DAV:\">http://example.org/~ejw/contact.html"
                             "</D:href>\n  ");
    dav_xml_lockinfo_release(&li);
}

/* compat(windows): MiniRedir and Office send the user name as text. */
Test(lockinfo, shared_text_owner)
{
    static const char body[] =
        "<a:lockinfo xmlns:a=\"DAV:\"><a:locktype><a:write/></a:locktype>"
        "<a:lockscope><a:shared/></a:lockscope><a:owner xml:lang='en'>DOMAIN\\user</a:owner>"
        "</a:lockinfo>";
    struct dav_xml_lockinfo li;
    cr_assert_eq(lockinfo(&li, body), 0);
    cr_assert_not(li.exclusive);
    cr_assert(li.has_owner);
    assert_iov(li.owner.xml, "DOMAIN\\user");
    assert_iov(li.owner.lang, "en");
    dav_xml_lockinfo_release(&li);
}

Test(lockinfo, no_owner)
{
    struct dav_xml_lockinfo li;
    cr_assert_eq(lockinfo(&li, "<lockinfo xmlns='DAV:'><lockscope><exclusive/></lockscope>"
                               "<locktype><write/></locktype></lockinfo>"),
                 0);
    cr_assert(li.exclusive);
    cr_assert_not(li.has_owner);
    dav_xml_lockinfo_release(&li);
}

Test(lockinfo, empty_is_refresh)
{
    struct dav_xml_lockinfo li;
    cr_assert_eq(dav_xml_lockinfo_parse(&li, NULL, 0), -ENODATA);
    dav_xml_lockinfo_release(&li);
    cr_assert_eq(lockinfo(&li, "\r\n"), -ENODATA);
    dav_xml_lockinfo_release(&li);
}

Test(lockinfo, incomplete)
{
    static const char *const bodies[] = {
        "<D:lockinfo xmlns:D='DAV:'><D:locktype><D:write/></D:locktype></D:lockinfo>",
        "<D:lockinfo xmlns:D='DAV:'><D:lockscope><D:exclusive/></D:lockscope></D:lockinfo>",
        "<D:lockinfo xmlns:D='DAV:'><D:lockscope><D:exclusive/></D:lockscope>"
        "<D:locktype><D:read/></D:locktype></D:lockinfo>",
        "<D:lockinfo xmlns:D='DAV:'><D:lockscope><D:exclusive/></D:lockscope>"
        "<D:locktype><D:write/></D:locktype><D:owner>a</D:owner><D:owner>b</D:owner></D:lockinfo>",
        "<D:propfind xmlns:D='DAV:'><D:allprop/></D:propfind>",
    };
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        struct dav_xml_lockinfo li;
        cr_assert_eq(lockinfo(&li, bodies[i]), -EPROTO, "%s", bodies[i]);
        dav_xml_lockinfo_release(&li);
    }
}

/* ---- character helpers ---- */

Test(chars, ncname)
{
    cr_assert(dav_xml_is_ncname(IOV_LIT("getetag")));
    cr_assert(dav_xml_is_ncname(IOV_LIT("_a-b.c9")));
    cr_assert(dav_xml_is_ncname(IOV_LIT("caf\xc3\xa9")));
    cr_assert(dav_xml_is_ncname(IOV_LIT("com.apple.FinderInfo")));
    cr_assert_not(dav_xml_is_ncname(IOV_LIT("")));
    cr_assert_not(dav_xml_is_ncname(IOV_LIT("a:b")));
    cr_assert_not(dav_xml_is_ncname(IOV_LIT("1a")));
    cr_assert_not(dav_xml_is_ncname(IOV_LIT("-a")));
    cr_assert_not(dav_xml_is_ncname(IOV_LIT("a b")));
    cr_assert_not(dav_xml_is_ncname(IOV_LIT("a>")));
    cr_assert_not(dav_xml_is_ncname(IOV_LIT("a\xff")));
    cr_assert_not(dav_xml_is_ncname(iov_make("a\0b", 3)));
}

Test(chars, text)
{
    cr_assert(dav_xml_is_text(IOV_LIT("any <text> & \t\r\n \xf0\x9f\x98\x80")));
    cr_assert_not(dav_xml_is_text(IOV_LIT("\x01")));
    cr_assert_not(dav_xml_is_text(iov_make("\0", 1)));
    cr_assert_not(dav_xml_is_text(IOV_LIT("\xef\xbf\xbe"))); /* U+FFFE */
    cr_assert_not(dav_xml_is_text(IOV_LIT("\xc3")));
}
