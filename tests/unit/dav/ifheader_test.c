/* SPDX-License-Identifier: MIT */
/*
 * Tests for dav/ifheader.c: every production of RFC 4918 §10.4.2 with and without whitespace,
 * malformed values, the limits, evaluation truth tables against a fake set of resources, the
 * submitted tokens, and the examples of §10.4.6–§10.4.11 (rewritten here from the RFC text).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "ifheader.h"

#define T1 "urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2"
#define T2 "urn:uuid:58f202ac-22cf-11d1-b12d-002035b29092"
#define OLT "opaquelocktoken:e71d4fae-5dec-22d6-fea5-00a0c91e6be4"

static struct dav_if h;

static int parse(const char *v)
{
    return dav_if_parse(&h, iov_make(v, strlen(v)));
}

static void expect_ok(const char *v, size_t lists, size_t conds)
{
    int rc = parse(v);
    cr_assert_eq(rc, 0, "'%s': rc %d", v, rc);
    cr_assert_eq(h.n_lists, lists, "'%s': %u lists", v, h.n_lists);
    cr_assert_eq(h.n_conds, conds, "'%s': %u conds", v, h.n_conds);
}

static void expect_bad(const char *v)
{
    int rc = parse(v);
    cr_assert_eq(rc, -EINVAL, "'%s': rc %d, want -EINVAL", v, rc);
}

static void expect_cond(size_t i, enum dav_if_cond_kind kind, bool negated, const char *value)
{
    const struct dav_if_cond *c = &h.conds[i];
    cr_assert_eq(c->kind, kind, "cond %zu kind", i);
    cr_assert_eq(c->negated, negated, "cond %zu negated", i);
    cr_assert(iov_eq(c->value, iov_make(value, strlen(value))), "cond %zu value '%.*s'", i,
              (int)c->value.len, c->value.base);
}

static void expect_resource(size_t list, const char *path)
{
    const char *r = dav_if_list_resource(&h, &h.lists[list]);
    if (!path) {
        cr_assert_null(r, "list %zu should be untagged", list);
        return;
    }
    cr_assert_not_null(r, "list %zu should be tagged", list);
    cr_assert_str_eq(r, path, "list %zu resource", list);
}

/* ---- parsing ---- */

Test(ifheader_parse, no_tag_single_token)
{
    expect_ok("(<" T1 ">)", 1, 1);
    cr_assert_not(h.tagged);
    expect_cond(0, DAV_IF_TOKEN, false, T1);
    expect_resource(0, NULL);
}

Test(ifheader_parse, no_tag_etags)
{
    expect_ok("([\"abc\"])", 1, 1);
    expect_cond(0, DAV_IF_ETAG, false, "\"abc\"");
    expect_ok("([W/\"abc\"])", 1, 1);
    expect_cond(0, DAV_IF_ETAG, false, "W/\"abc\"");
    expect_ok("([\"\"])", 1, 1);
    expect_cond(0, DAV_IF_ETAG, false, "\"\"");
}

Test(ifheader_parse, conditions_and_lists)
{
    expect_ok("(<" T1 "> [\"x\"]) ([\"y\"])", 2, 3);
    cr_assert_eq(h.lists[0].first, 0);
    cr_assert_eq(h.lists[0].count, 2);
    cr_assert_eq(h.lists[1].first, 2);
    cr_assert_eq(h.lists[1].count, 1);
    expect_cond(0, DAV_IF_TOKEN, false, T1);
    expect_cond(1, DAV_IF_ETAG, false, "\"x\"");
    expect_cond(2, DAV_IF_ETAG, false, "\"y\"");
}

Test(ifheader_parse, negation)
{
    expect_ok("(Not <" T1 "> <" T2 ">)", 1, 2);
    expect_cond(0, DAV_IF_TOKEN, true, T1);
    expect_cond(1, DAV_IF_TOKEN, false, T2);
    expect_ok("(not [\"a\"] NOT <DAV:no-lock>)", 1, 2);
    expect_cond(0, DAV_IF_ETAG, true, "\"a\"");
    expect_cond(1, DAV_IF_TOKEN, true, "DAV:no-lock");
    /* implied *LWS includes none: "Not" directly before the condition */
    expect_ok("(Not<" T1 ">Not[\"a\"])", 1, 2);
    expect_cond(0, DAV_IF_TOKEN, true, T1);
    expect_cond(1, DAV_IF_ETAG, true, "\"a\"");
}

Test(ifheader_parse, whitespace_variants)
{
    const char *same[] = {
        "(<" T1 ">[\"x\"])([\"y\"])",
        "( <" T1 "> [\"x\"] ) ( [\"y\"] )",
        "(\t<" T1 ">\t[ \"x\" ]\t)\t\t([\"y\"]\t)",
        "  (<" T1 "> [\"x\"])   ([\"y\"])  ",
    };
    for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
        expect_ok(same[i], 2, 3);
        expect_cond(0, DAV_IF_TOKEN, false, T1);
        expect_cond(1, DAV_IF_ETAG, false, "\"x\"");
        expect_cond(2, DAV_IF_ETAG, false, "\"y\"");
    }
}

Test(ifheader_parse, tagged_lists)
{
    expect_ok("<http://www.example.com/resource1> (<" T1 "> [W/\"A weak ETag\"]) ([\"strong "
              "ETag\"])",
              2, 3);
    cr_assert(h.tagged);
    expect_resource(0, "resource1");
    expect_resource(1, "resource1");
    expect_cond(1, DAV_IF_ETAG, false, "W/\"A weak ETag\"");
    expect_cond(2, DAV_IF_ETAG, false, "\"strong ETag\"");
}

Test(ifheader_parse, multiple_tags)
{
    expect_ok("</a/b> (<" T1 ">) <http://h:8080/c/d/> (<" T2 ">) ([\"e\"]) <https://x/> "
              "(Not <" OLT ">)",
              4, 4);
    expect_resource(0, "a/b");
    expect_resource(1, "c/d");
    expect_resource(2, "c/d");
    expect_resource(3, "");
    expect_cond(3, DAV_IF_TOKEN, true, OLT);
    /* no space at all between tags and lists */
    expect_ok("</a>(<" T1 ">)</b>(<" T2 ">)", 2, 2);
    expect_resource(0, "a");
    expect_resource(1, "b");
}

Test(ifheader_parse, resource_tag_normalised)
{
    expect_ok("</dir/%66ile%20name?q=1> ([\"a\"])", 1, 1);
    expect_resource(0, "dir/file name");
    expect_ok("</a/./b/../c> ([\"a\"])", 1, 1);
    expect_resource(0, "a/c");
    expect_ok("<HTTPS://Other.Example:1/x/> ([\"a\"])", 1, 1);
    expect_resource(0, "x");
    expect_ok("</> ([\"a\"])", 1, 1);
    expect_resource(0, "");
}

Test(ifheader_parse, bad_resource_tags)
{
    expect_bad("</..> ([\"a\"])");          /* climbs above the root */
    expect_bad("</a/%2e%2e/..> ([\"a\"])"); /* escaped dots count as dots */
    expect_bad("<//host/a> ([\"a\"])");     /* network-path reference */
    expect_bad("<a/b> ([\"a\"])");          /* relative */
    expect_bad("<ftp://h/a> ([\"a\"])");    /* not ours */
    expect_bad("<http://u@h/a> ([\"a\"])"); /* userinfo */
    expect_bad("</a#f> ([\"a\"])");         /* fragment */
    expect_bad("</a%zz> ([\"a\"])");        /* bad escape */
    expect_bad("</a%2fb> ([\"a\"])");       /* decoded '/' */
    expect_bad("</a b> ([\"a\"])");         /* no LWS in a Resource-Tag */
    expect_bad("<> ([\"a\"])");
}

Test(ifheader_parse, bad_state_tokens)
{
    expect_bad("(<>)");
    expect_bad("(<" T1 " >)"); /* no LWS in a Coded-URL */
    expect_bad("(< " T1 ">)");
    expect_bad("(<no-scheme>)"); /* not an absolute-URI */
    expect_bad("(<1urn:x>)");
    expect_bad("(<urn:x#frag>)");
    expect_bad("(<urn:a\"b>)");
    expect_bad("(<urn:%g0>)");
    expect_bad("(<urn:x<y>)");
}

Test(ifheader_parse, bad_etags)
{
    expect_bad("([abc])");
    expect_bad("([\"abc])");
    expect_bad("([\"abc\"");
    expect_bad("([\"a\"b\"])");
    expect_bad("([w/\"a\"])"); /* W/ is case-sensitive */
    expect_bad("([W/ \"a\"])");
    expect_bad("([\"a\" \"b\"])");
    expect_bad("([])");
    expect_bad("([\"a\"]");
    expect_bad("(\"a\")");
}

Test(ifheader_parse, malformed)
{
    expect_bad("");
    expect_bad("   ");
    expect_bad("()");
    expect_bad("( )");
    expect_bad("(<" T1 ">) ()");
    expect_bad("(<" T1 ">");
    expect_bad("<" T1 ">)");
    expect_bad("(<" T1 ">))");
    expect_bad("((<" T1 ">))");
    expect_bad("(<" T1 ">) x ([\"a\"])");
    expect_bad("(<" T1 ">), ([\"a\"])");
    expect_bad("(<" T1 ">) ;");
    expect_bad("(Not)");
    expect_bad("(Not Not <" T1 ">)");
    expect_bad("(Nope <" T1 ">)");
    expect_bad("(No <" T1 ">)");
    expect_bad("(<" T1 "> garbage)");
    expect_bad("<" T1);
    expect_bad("</a>");                /* a tag with no list */
    expect_bad("</a> </b> ([\"x\"])"); /* a tag with no list, then another */
    expect_bad("</a> ([\"x\"]) </b>");
    expect_bad("(<" T1 ">) </a> ([\"x\"])"); /* untagged, then tagged */
    expect_bad("</a> ([\"x\"]) x");
    expect_bad("\x01(<" T1 ">)");
    expect_bad("(<" T1 ">)\r\n ([\"x\"])"); /* obs-fold is not LWS here */
}

Test(ifheader_parse, limits)
{
    static char buf[DAV_IF_MAX_LEN + 64];
    size_t n = 0;

    /* DAV_IF_MAX_LISTS lists are fine, one more is not */
    for (int i = 0; i < DAV_IF_MAX_LISTS; i++)
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "([\"%d\"])", i);
    expect_ok(buf, DAV_IF_MAX_LISTS, DAV_IF_MAX_LISTS);
    strcat(buf, "([\"x\"])");
    expect_bad(buf);

    /* DAV_IF_MAX_LIST_CONDS conditions in a list */
    n = (size_t)snprintf(buf, sizeof(buf), "(");
    for (int i = 0; i < DAV_IF_MAX_LIST_CONDS; i++)
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "[\"%d\"]", i);
    strcpy(buf + n, ")");
    expect_ok(buf, 1, DAV_IF_MAX_LIST_CONDS);
    strcpy(buf + n, "[\"x\"])");
    expect_bad(buf);

    /* DAV_IF_MAX_CONDS in all: lists of 32 */
    n = 0;
    for (int l = 0; l < DAV_IF_MAX_CONDS / 32; l++) {
        buf[n++] = '(';
        for (int i = 0; i < 32; i++)
            n += (size_t)snprintf(buf + n, sizeof(buf) - n, "[\"%d\"]", i);
        buf[n++] = ')';
    }
    buf[n] = '\0';
    expect_ok(buf, DAV_IF_MAX_CONDS / 32, DAV_IF_MAX_CONDS);
    strcat(buf, "([\"x\"])");
    expect_bad(buf);

    /* length: exactly DAV_IF_MAX_LEN is fine, one more byte is not */
    memset(buf, ' ', DAV_IF_MAX_LEN);
    memcpy(buf, "([\"a\"])", 7);
    buf[DAV_IF_MAX_LEN] = '\0';
    expect_ok(buf, 1, 1);
    buf[DAV_IF_MAX_LEN] = ' ';
    buf[DAV_IF_MAX_LEN + 1] = '\0';
    expect_bad(buf);
}

Test(ifheader_parse, longest_tags_fit)
{
    /* nearly every byte in resource tags: the normalised paths must still fit in h.paths */
    static char buf[DAV_IF_MAX_LEN + 1];
    size_t n = 0;

    for (int i = 0; i < DAV_IF_MAX_LISTS; i++) {
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "</%03d/", i);
        size_t fill = DAV_IF_MAX_LEN / DAV_IF_MAX_LISTS - 6 - 8;
        memset(buf + n, 'a', fill);
        n += fill;
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, ">([\"x\"])");
    }
    cr_assert_eq(n, DAV_IF_MAX_LEN);
    expect_ok(buf, DAV_IF_MAX_LISTS, DAV_IF_MAX_LISTS);
    const char *last = dav_if_list_resource(&h, &h.lists[DAV_IF_MAX_LISTS - 1]);
    cr_assert_eq(strncmp(last, "127/aaa", 7), 0);
    cr_assert_eq(strlen(last), 4 + DAV_IF_MAX_LEN / DAV_IF_MAX_LISTS - 6 - 8);
}

/* ---- evaluation ---- */

/*
 * Fake resources: "file" (etag "e1", locked with T1), "dir" (etag "d1", a depth-infinity lock
 * T2 that covers everything under "dir/", unmapped members included), "weak" (etag W/"w").
 * Every other path is unmapped.
 */
struct fake {
    int calls;
    int fail_at; /* the nth call fails with -EIO; 0 never */
};

static bool under(const char *path, const char *root)
{
    size_t n = strlen(root);
    return strncmp(path, root, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static int fake_etag(void *ctx, const char *path, struct iov *etag)
{
    struct fake *f = ctx;
    if (++f->calls == f->fail_at)
        return -EIO;
    if (strcmp(path, "file") == 0)
        *etag = IOV_LIT("\"e1\"");
    else if (strcmp(path, "dir") == 0)
        *etag = IOV_LIT("\"d1\"");
    else if (strcmp(path, "weak") == 0)
        *etag = IOV_LIT("W/\"w\"");
    else
        *etag = (struct iov){NULL, 0};
    return 0;
}

static int fake_lock(void *ctx, const char *path, struct iov token)
{
    struct fake *f = ctx;
    if (++f->calls == f->fail_at)
        return -EIO;
    if (strcmp(path, "file") == 0 && iov_eq(token, IOV_LIT(T1)))
        return 1;
    if (under(path, "dir") && iov_eq(token, IOV_LIT(T2)))
        return 1;
    return 0;
}

static const struct dav_if_ops fake_ops = {.etag = fake_etag, .lock_covers = fake_lock};

static bool eval(const char *v, const char *request_path)
{
    struct fake f = {0};
    bool result = false;

    cr_assert_eq(parse(v), 0, "'%s' does not parse", v);
    int rc = dav_if_eval(&h, request_path, &fake_ops, &f, &result);
    cr_assert_eq(rc, 0, "'%s': eval rc %d", v, rc);
    return result;
}

static void expect_eval(const char *v, const char *request_path, bool want)
{
    cr_assert_eq(eval(v, request_path), want, "'%s' on '%s' should be %s", v, request_path,
                 want ? "true" : "false");
}

Test(ifheader_eval, single_conditions)
{
    /* condition, on "file", and its negation */
    static const struct {
        const char *cond;
        bool on_file;
    } table[] = {
        {"<" T1 ">", true},  {"<" T2 ">", false},   {"<DAV:no-lock>", false}, {"[\"e1\"]", true},
        {"[\"e2\"]", false}, {"[W/\"e1\"]", false}, {"[\"E1\"]", false},      {"<" OLT ">", false},
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        char v[256];
        snprintf(v, sizeof(v), "(%s)", table[i].cond);
        expect_eval(v, "file", table[i].on_file);
        snprintf(v, sizeof(v), "(Not %s)", table[i].cond);
        expect_eval(v, "file", !table[i].on_file);
    }
}

Test(ifheader_eval, and_within_list)
{
    expect_eval("(<" T1 "> [\"e1\"])", "file", true);
    expect_eval("(<" T1 "> [\"e2\"])", "file", false);
    expect_eval("(<" T2 "> [\"e1\"])", "file", false);
    expect_eval("(<" T1 "> Not [\"e2\"])", "file", true);
    expect_eval("(Not <" T1 "> [\"e1\"])", "file", false);
    expect_eval("(Not <" T2 "> Not [\"e2\"])", "file", true);
}

Test(ifheader_eval, or_across_lists)
{
    expect_eval("([\"no\"]) ([\"e1\"])", "file", true);
    expect_eval("([\"e1\"]) ([\"no\"])", "file", true);
    expect_eval("([\"no\"]) (<" T2 ">)", "file", false);
    expect_eval("([\"no\"]) (<" T2 ">) (Not <" T2 ">)", "file", true);
}

Test(ifheader_eval, weak_etags_never_match)
{
    /* strong comparison (RFC 9110 §8.8.3.2): neither a weak tag in the header nor a weak
     * current tag matches, even with the same opaque-tag */
    expect_eval("([W/\"w\"])", "weak", false);
    expect_eval("([\"w\"])", "weak", false);
    expect_eval("(Not [W/\"w\"])", "weak", true);
}

Test(ifheader_eval, tagged_vs_untagged)
{
    /* untagged lists apply to the request-URI */
    expect_eval("([\"e1\"])", "file", true);
    expect_eval("([\"e1\"])", "dir", false);
    /* tagged lists apply to their resource, whatever the request-URI */
    expect_eval("</file> ([\"e1\"])", "dir", true);
    expect_eval("</dir> ([\"e1\"])", "file", false);
    expect_eval("<http://any.host/file> (<" T1 ">)", "elsewhere", true);
    /* any tagged list true is enough */
    expect_eval("</dir> ([\"e1\"]) </file> ([\"e1\"])", "x", true);
    expect_eval("</dir> ([\"e1\"]) </file> ([\"d1\"])", "x", false);
    /* a trailing slash names the same resource */
    expect_eval("</dir/> ([\"d1\"])", "x", true);
}

Test(ifheader_eval, unmapped)
{
    /* §10.4.4: an unmapped URL has no entity-tag at all */
    expect_eval("([\"e1\"])", "nothing", false);
    expect_eval("(Not [\"e1\"])", "nothing", true);
    expect_eval("(Not [W/\"e1\"])", "nothing", true);
    /* lock coverage of an unmapped member is the callback's decision: dir's lock covers it */
    expect_eval("(<" T2 ">)", "dir/new-file", true);
    expect_eval("(<" T1 ">)", "dir/new-file", false);
    expect_eval("(Not <" T1 ">)", "nothing", true);
}

Test(ifheader_eval, callback_errors)
{
    struct fake f = {.fail_at = 2};
    bool result = true;

    cr_assert_eq(parse("([\"no\"]) (<" T1 ">)"), 0);
    cr_assert_eq(dav_if_eval(&h, "file", &fake_ops, &f, &result), -EIO);
    cr_assert(result, "result untouched on error");

    f = (struct fake){.fail_at = 1};
    cr_assert_eq(dav_if_eval(&h, "file", &fake_ops, &f, &result), -EIO);
}

Test(ifheader_eval, stops_at_first_true_list)
{
    struct fake f = {.fail_at = 2};
    bool result = false;

    /* the second list would fail, but the first is already true */
    cr_assert_eq(parse("([\"e1\"]) ([\"x\"])"), 0);
    cr_assert_eq(dav_if_eval(&h, "file", &fake_ops, &f, &result), 0);
    cr_assert(result);
    cr_assert_eq(f.calls, 1);
}

/* RFC 4918 §10.4.6–§10.4.11, with the resources above standing in for the RFC's. */
Test(ifheader_eval, rfc4918_examples)
{
    /* §10.4.6: (token AND etag) OR etag */
    const char *ex6 = "(<" T2 "> [\"I am an ETag\"]) ([\"I am another ETag\"])";
    expect_eval(ex6, "dir", false);
    expect_ok(ex6, 2, 3);

    /* §10.4.7: not locked with T1 and locked with T2 */
    const char *ex7 = "(Not <" T1 "> <" T2 ">)";
    expect_eval(ex7, "dir", true);
    expect_eval(ex7, "file", false);

    /* §10.4.8: "(Not <DAV:no-lock>)" makes the header always true, yet submits the token */
    const char *ex8 = "(<" T1 ">) (Not <DAV:no-lock>)";
    expect_eval(ex8, "dir", true);
    expect_eval(ex8, "nothing", true);
    cr_assert(dav_if_has_token(&h, IOV_LIT(T1)));

    /* §10.4.9: tagged list on the COPY source with a weak etag and a strong one */
    const char *ex9 = "<http://www.example.com/file> (<" T1 "> [W/\"A weak ETag\"]) "
                      "([\"strong ETag\"])";
    expect_eval(ex9, "file", false);
    expect_eval("<http://www.example.com/file> (<" T1 "> [W/\"A weak ETag\"]) ([\"e1\"])", "other",
                true);

    /* §10.4.10: DELETE of a member, the tag naming the locked collection */
    expect_eval("<http://www.example.com/dir/> (<" T2 ">)", "dir/member.txt", true);
    expect_eval("<http://www.example.com/dir/> (<" T1 ">)", "dir/member.txt", false);

    /* §10.4.11: etags on an unmapped URL */
    expect_eval("</dir/rfc2518.doc> ([\"4217\"])", "dir", false);
    expect_eval("</dir/rfc2518.doc> (Not [\"4217\"])", "dir", true);
}

/* ---- submitted tokens ---- */

Test(ifheader_tokens, all_tokens_in_order)
{
    struct iov tok;
    const char *res;
    size_t pos = 0;

    cr_assert_eq(
        parse("</a> ([\"x\"] <" T1 ">) (Not <" T2 ">) </b> ([\"y\"]) (<" OLT "> <" T1 ">)"), 0);
    cr_assert(dav_if_token_next(&h, &pos, &tok, &res));
    cr_assert(iov_eq(tok, IOV_LIT(T1)));
    cr_assert_str_eq(res, "a");
    cr_assert(dav_if_token_next(&h, &pos, &tok, &res));
    cr_assert(iov_eq(tok, IOV_LIT(T2)), "negated tokens are submitted too");
    cr_assert_str_eq(res, "a");
    cr_assert(dav_if_token_next(&h, &pos, &tok, &res));
    cr_assert(iov_eq(tok, IOV_LIT(OLT)));
    cr_assert_str_eq(res, "b");
    cr_assert(dav_if_token_next(&h, &pos, &tok, &res));
    cr_assert(iov_eq(tok, IOV_LIT(T1)), "duplicates are kept");
    cr_assert_str_eq(res, "b");
    cr_assert_not(dav_if_token_next(&h, &pos, &tok, &res));
    cr_assert_not(dav_if_token_next(&h, &pos, &tok, &res), "stays at the end");

    cr_assert(dav_if_has_token(&h, IOV_LIT(OLT)));
    cr_assert_not(dav_if_has_token(&h, IOV_LIT("urn:uuid:other")));
    cr_assert_not(dav_if_has_token(&h, IOV_LIT("\"x\"")), "etags are not tokens");
}

Test(ifheader_tokens, untagged_and_none)
{
    struct iov tok;
    const char *res = "unset";
    size_t pos = 0;

    cr_assert_eq(parse("([\"x\"]) (Not [\"y\"])"), 0);
    cr_assert_not(dav_if_token_next(&h, &pos, &tok, &res));

    pos = 0;
    cr_assert_eq(parse("([\"x\"]) (<" T1 ">)"), 0);
    cr_assert(dav_if_token_next(&h, &pos, &tok, &res));
    cr_assert_null(res);
    cr_assert(iov_eq(tok, IOV_LIT(T1)));
}

Test(ifheader_tokens, case_sensitive)
{
    cr_assert_eq(parse("(<URN:UUID:ABC>)"), 0);
    cr_assert_not(dav_if_has_token(&h, IOV_LIT("urn:uuid:abc")));
}
