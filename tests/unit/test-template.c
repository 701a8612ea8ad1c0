/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The --format engine. Expected strings follow Go's text/template, fmt and
 * encoding/json, and podman's report package (containers/common), not this
 * implementation's output.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "base.h"
#include "template-internal.h"

static json_t *load(const char *json)
{
        json_error_t e;
        json_t *j = NULL;
        if (!json)
                return NULL;
        j = json_loads(json, JSON_DECODE_ANY, &e);
        ck_assert_msg(j, "bad test JSON '%s': %s", json, e.text);
        return j;
}

/* Renders tmpl over json; an error comes back as "ERR:" and its message. */
static char *render(const char *tmpl, const char *json)
{
        _cleanup_json_ json_t *data = load(json);
        _cleanup_error_ struct pea_error *err = NULL;
        struct pea_template *t = NULL;
        char *buf = NULL;
        size_t size = 0;
        FILE *f = NULL;
        int r = pea_template_parse(tmpl, &t, &err);
        if (r < 0) {
                ck_assert_int_eq(r, -EINVAL);
                return xasprintf("ERR:%s", err->msg);
        }
        f = open_memstream(&buf, &size);
        ck_assert_ptr_nonnull(f);
        r = pea_template_execute(t, data, f, &err);
        fclose(f);
        pea_template_free(t);
        if (r < 0) {
                ck_assert_int_eq(r, -EINVAL);
                free(buf);
                return xasprintf("ERR:%s", err->msg);
        }
        return buf;
}

#define CHECK(tmpl, json, want)                                 \
        do {                                                    \
                _cleanup_free_ char *got_ = render(tmpl, json); \
                ck_assert_str_eq(got_, want);                   \
        } while (0)

/* Runs pea_format_print_full; errors come back as "ERR:" and the message. */
static char *format_print(const char *format, const char *json, bool list, const char *headers,
                          bool no_heading)
{
        _cleanup_json_ json_t *data = load(json), *hdrs = load(headers);
        _cleanup_error_ struct pea_error *err = NULL;
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);
        int r;
        ck_assert_ptr_nonnull(f);
        r = pea_format_print_full(f, format, data, list, hdrs, no_heading, 4, &err);
        fclose(f);
        if (r < 0) {
                ck_assert_int_eq(r, -EINVAL);
                ck_assert_uint_eq(size, 0); /* nothing printed on error */
                free(buf);
                return xasprintf("ERR:%s", err->msg);
        }
        return buf;
}

#define CHECK_PRINT(format, json, list, headers, want)                                        \
        do {                                                                                  \
                _cleanup_free_ char *got_ = format_print(format, json, list, headers, false); \
                ck_assert_str_eq(got_, want);                                                 \
        } while (0)

static const char *host = "{\"Name\":\"web\",\"host\":{\"arch\":\"amd64\",\"os\":\"linux\"},"
                          "\"Count\":3,\"Null\":null,\"List\":[\"a\",\"b\"],\"T\":true}";

START_TEST(test_fields)
{
        CHECK("{{.Name}}", host, "web");
        CHECK("name={{ .Name }}!", host, "name=web!");
        CHECK("{{.Host.Arch}}/{{.HOST.OS}}", host, "amd64/linux");
        CHECK("{{.host.arch}}", host, "amd64");
        CHECK("{{.Count}} {{.T}}", host, "3 true");
        CHECK("{{.Missing}}", host, "<no value>");
        CHECK("{{.Missing.Deeper}}", host, "<no value>");
        CHECK("{{.Null}}", host, "<no value>");
        CHECK("{{.List}}", host, "[a b]");
        CHECK("{{.Host}}", host, "map[arch:amd64 os:linux]");
        /* The exact key wins over a case-insensitive one. */
        CHECK("{{.ID}} {{.Id}}", "{\"id\":\"lower\",\"ID\":\"upper\"}", "upper lower");
        CHECK("{{.}}", "\"plain\"", "plain");
        CHECK("{{$.Name}}", host, "web");
        CHECK("{{.Name.X}}", host,
              "ERR:template: :1:2: executing \"\" at <.Name.X>: can't evaluate field X in type "
              "string");
}

END_TEST

START_TEST(test_values)
{
        CHECK("{{.}}", "[1,null,\"x\",true,{\"b\":2,\"a\":[]}]", "[1 <nil> x true map[a:[] b:2]]");
        CHECK("{{.}}", "1.5", "1.5");
        CHECK("{{.}}", "100.0", "100");
        CHECK("{{.}}", "1000000.0", "1e+06");
        CHECK("{{.}}", "123456.0", "123456");
        CHECK("{{.}}", "0.0001", "0.0001");
        CHECK("{{.}}", "0.00001", "1e-05");
        CHECK("{{.}}", "-2.5e-10", "-2.5e-10");
        CHECK("{{.}}", "0.1", "0.1");
        CHECK("{{.}}", "-7", "-7");
        CHECK("{{.}}", "{}", "map[]");
        CHECK("{{1.5}} {{0x1F}} {{'a'}} {{1e3}} {{-3}} {{true}} {{0o17}} {{1_000}}", NULL,
              "1.5 31 97 1000 -3 true 15 1000");
        CHECK("{{\"a\\tb\\u00e9\\x41\"}}", NULL, "a\tbéA");
        CHECK("{{`raw \"q\"`}}", NULL, "raw \"q\"");
}

END_TEST

START_TEST(test_json_func)
{
        CHECK("{{json .}}",
              "{\"Name\":\"a\\\"b\",\"List\":[1,2.5,true,null],\"Obj\":{\"z\":1,\"a\":{\"b\":[]}}}",
              "{\"Name\":\"a\\\"b\",\"List\":[1,2.5,true,null],\"Obj\":{\"z\":1,\"a\":{\"b\":[]}}}");
        CHECK("{{json .List}}", host, "[\"a\",\"b\"]");
        CHECK("{{json .Name}}", host, "\"web\"");
        CHECK("{{json .Missing}}", host, "null");
        CHECK("{{json .}}", "\"<&>\\u0001\\n/\"", "\"<&>\\u0001\\n/\"");
        CHECK("{{json .}}", "[1e21,1e-7,100.0,0.5,1e20]",
              "[1e+21,1e-7,100,0.5,100000000000000000000]");
        CHECK("{{json .}}", "{}", "{}");
}

END_TEST

START_TEST(test_range)
{
        CHECK("{{range .List}}[{{.}}]{{end}}", host, "[a][b]");
        CHECK("{{range $i, $e := .List}}{{$i}}={{$e}} {{end}}", host, "0=a 1=b ");
        CHECK("{{range $e := .List}}{{$e}}{{end}}", host, "ab");
        CHECK("{{range .Missing}}x{{else}}none{{end}}", host, "none");
        CHECK("{{range .}}x{{else}}empty{{end}}", "[]", "empty");
        CHECK("{{range $k, $v := .}}{{$k}}:{{$v}};{{end}}", "{\"b\":2,\"a\":1,\"c\":3}",
              "a:1;b:2;c:3;");
        CHECK("{{range .}}{{.}}{{end}}", "{\"b\":2,\"a\":1}", "12");
        CHECK("{{range .List}}{{$.Name}}{{end}}", host, "webweb");
        CHECK("{{range .}}{{if eq . 2}}{{continue}}{{end}}{{if eq . 4}}{{break}}{{end}}{{.}}{{end}}",
              "[1,2,3,4,5]", "13");
        CHECK("{{range .}}{{.}}{{end}}", "[1,null]", "1<no value>");
        CHECK("{{range .Name}}x{{end}}", host,
              "ERR:template: :1:8: executing \"\" at <{{range .Name}}x{{en...>: range can't "
              "iterate over web");
}

END_TEST

START_TEST(test_if_with_vars)
{
        const char *cond = "{{if .V}}yes{{else}}no{{end}}";
        CHECK(cond, "{\"V\":true}", "yes");
        CHECK(cond, "{\"V\":false}", "no");
        CHECK(cond, "{\"V\":0}", "no");
        CHECK(cond, "{\"V\":0.0}", "no");
        CHECK(cond, "{\"V\":\"\"}", "no");
        CHECK(cond, "{\"V\":[]}", "no");
        CHECK(cond, "{\"V\":{}}", "no");
        CHECK(cond, "{\"V\":null}", "no");
        CHECK(cond, "{}", "no");
        CHECK(cond, "{\"V\":\"x\"}", "yes");
        CHECK(cond, "{\"V\":[0]}", "yes");
        const char *chain = "{{if eq .N 1}}one{{else if eq .N 2}}two{{else}}many{{end}}";
        CHECK(chain, "{\"N\":1}", "one");
        CHECK(chain, "{\"N\":2}", "two");
        CHECK(chain, "{\"N\":7}", "many");
        CHECK("{{with .Host}}{{.Arch}}{{else}}none{{end}}", host, "amd64");
        CHECK("{{with .Nope}}{{.Arch}}{{else}}none{{end}}", host, "none");
        CHECK("{{with $x := .Name}}{{$x}}{{.}}{{end}}", host, "webweb");
        CHECK("{{$x := .Name}}{{$x}}-{{$x | upper}}", host, "web-WEB");
        CHECK("{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}", NULL, "2");
        CHECK("{{if true}}{{$y := 1}}{{end}}{{$y}}", NULL,
              "ERR:template: :1: undefined variable \"$y\"");
        CHECK("a  {{- .Name -}}  \n b", host, "awebb");
        CHECK("{{/* a comment */}}x{{- /* trimmed */ -}} y", NULL, "xy");
}

END_TEST

START_TEST(test_index_len)
{
        const char *d = "{\"L\":[\"a\",\"b\"],\"M\":{\"k\":\"v\",\"n\":[{\"x\":1}]}}";
        CHECK("{{index .L 1}}", d, "b");
        CHECK("{{index .M \"k\"}}", d, "v");
        CHECK("{{index .M \"n\" 0 \"x\"}}", d, "1");
        CHECK("{{index .M \"nope\"}}", d, "<no value>");
        CHECK("{{(index .M.n 0).x}}", d, "1");
        CHECK("{{index .L 5}}", d,
              "ERR:template: :1:2: executing \"\" at <index .L 5>: error calling index: index "
              "out of range: 5");
        CHECK("{{len .L}} {{len .M}} {{len \"abc\"}}", d, "2 2 3");
        CHECK("{{slice \"abcdef\" 1 3}} {{slice .L 1}}", d, "bc [b]");
}

END_TEST

START_TEST(test_functions)
{
        CHECK("{{upper \"abc\"}} {{lower \"AbC\"}} {{title \"hello world-foo_bar\"}}", NULL,
              "ABC abc Hello World-Foo_bar");
        CHECK("{{println \"a\" 1 2}}", NULL, "a 1 2\n");
        CHECK("{{print \"a\" 1 2 \"b\" \"c\"}}", NULL, "a1 2bc");
        CHECK("{{printf \"%-5s|%5d|%v|%q|%t|%x|%%\" \"ab\" 42 1.5 \"q\\\"\" true 255}}", NULL,
              "ab   |   42|1.5|\"q\\\"\"|true|ff|%");
        CHECK("{{printf \"%05d|%+d|%x|%X|%o|%.2f|%8.3f|%e\" -42 5 \"hi\" 254 8 3.14159 2.5 1500.0}}",
              NULL, "-0042|+5|6869|FE|10|3.14|   2.500|1.500000e+03");
        CHECK("{{printf \"%d\" \"x\"}}", NULL, "%!d(string=x)");
        CHECK("{{printf \"%s\"}}", NULL, "%!s(MISSING)");
        CHECK("{{printf \"%d\" 1 2}}", NULL, "1%!(EXTRA int=2)");
        CHECK("{{printf \"%v %s\" .Missing .List}}", host, "<nil> [a b]");
        CHECK("{{printf \"%10.3v|\" \"abcdef\"}}", NULL, "       abc|");
        CHECK("{{.Name | printf \"%s!\"}}", host, "web!");
        CHECK("{{join .List \", \"}}", host, "a, b");
        CHECK("{{split \"a:b:c\" \":\"}} {{index (split \"a:b\" \":\") 1}}", NULL, "[a b c] b");
        CHECK("{{truncate \"abcdef\" 3}} {{truncate \"ab\" 5}}", NULL, "abc ab");
        CHECK("{{replace \"a-b-c\" \"-\" \"+\"}} {{replace \"a-b-c\" \"-\" \"+\" 1}}", NULL,
              "a+b+c a+b-c");
        CHECK("{{replace \"ab\" \"\" \"-\"}}", NULL, "-a-b-");
        CHECK("{{contains \"abc\" \"b\"}} {{hasPrefix \"abc\" \"ab\"}} {{hasSuffix \"abc\" \"x\"}}",
              NULL, "true true false");
        CHECK("[{{pad \"x\" 2 1}}]", NULL, "[  x ]");
        CHECK("{{and 1 0 2}} {{and 1 2}} {{or 0 \"\" \"x\"}} {{or 0 \"\"}} {{not .T}}", host,
              "0 2 x  false");
        /* and/or stop evaluating once the result is known. */
        CHECK("{{and false (index .List 9)}} {{or true (index .List 9)}}", host, "false true");
        CHECK("{{lt 1 2}} {{le 2 2}} {{gt 1 2}} {{ge \"b\" \"a\"}} {{ne 1 2}} {{eq 1.5 1.5}}", NULL,
              "true true false true true true");
        CHECK("{{eq .Name \"x\" \"web\"}} {{eq .Name \"x\"}}", host, "true false");
        CHECK("{{.List | len}} {{(index .List 0) | upper}}", host, "2 A");
        CHECK("{{eq 1 \"a\"}}", NULL,
              "ERR:template: :1:2: executing \"\" at <eq 1 \"a\">: error calling eq: "
              "incompatible types for comparison");
        CHECK("{{upper .Count}}", host,
              "ERR:template: :1:8: executing \"\" at <.Count>: wrong type for value; expected "
              "string; got int");
        CHECK("{{upper \"a\" \"b\"}}", NULL,
              "ERR:template: :1:2: executing \"\" at <upper>: wrong number of args for upper: "
              "want 1 got 2");
        CHECK("{{.Name 1}}", host,
              "ERR:template: :1:2: executing \"\" at <.Name>: Name is not a method but has "
              "arguments");
        CHECK("{{nil}}", NULL, "ERR:template: :1:2: executing \"\" at <nil>: nil is not a command");
}

END_TEST

START_TEST(test_parse_errors)
{
        CHECK("{{foo}}", NULL, "ERR:template: :1: function \"foo\" not defined");
        CHECK("{{.Name", NULL, "ERR:template: :1: unclosed action");
        CHECK("{{if .A}}x", NULL, "ERR:template: :1: unexpected EOF");
        CHECK("{{end}}", NULL, "ERR:template: :1: unexpected {{end}}");
        CHECK("{{else}}", NULL, "ERR:template: :1: unexpected {{else}}");
        CHECK("{{}}", NULL, "ERR:template: :1: missing value for command");
        CHECK("{{.A | 3}}", NULL, "ERR:template: :1: non executable command in pipeline stage 2");
        CHECK("{{$x}}", NULL, "ERR:template: :1: undefined variable \"$x\"");
        CHECK("{{\"abc}}", NULL, "ERR:template: :1: unterminated quoted string");
        CHECK("{{/* x }}", NULL, "ERR:template: :1: unclosed comment");
        CHECK("a\nb\n{{foo}}", NULL, "ERR:template: :3: function \"foo\" not defined");
        CHECK("{{break}}", NULL, "ERR:template: :1: {{break}} outside {{range}}");
        CHECK("{{.A}", NULL, "ERR:template: :1: bad character U+007D '}'");
        CHECK("{{(1}}", NULL, "ERR:template: :1: unclosed left paren");
        CHECK("{{define \"x\"}}{{end}}", NULL, "ERR:template: :1: {{define}} is not supported");
}

END_TEST

/* Hostile formats hit the caps instead of the stack. */
START_TEST(test_nesting_caps)
{
        _cleanup_tpl_buf_ struct tpl_buf ifs = {}, parens = {}, ok = {};
        _cleanup_free_ char *got = NULL, *got2 = NULL;
        for (int i = 0; i < 5000; i++)
                tpl_buf_puts(&ifs, "{{if 1}}");
        tpl_buf_puts(&ifs, "x");
        got = render(ifs.s, NULL);
        ck_assert_str_eq(got, "ERR:template: :1: max nesting depth exceeded");
        tpl_buf_puts(&parens, "{{");
        tpl_buf_repeat(&parens, '(', 5000);
        tpl_buf_puts(&parens, "1");
        got2 = render(parens.s, NULL);
        ck_assert_str_eq(got2, "ERR:template: :1: max nesting depth exceeded");

        /* 100 levels are fine. */
        for (int i = 0; i < 100; i++)
                tpl_buf_puts(&ok, "{{if 1}}");
        tpl_buf_puts(&ok, "x");
        for (int i = 0; i < 100; i++)
                tpl_buf_puts(&ok, "{{end}}");
        CHECK(ok.s, NULL, "x");

        /* Deep data: printing stops, json fails cleanly. */
        _cleanup_json_ json_t *root = json_array();
        json_t *cur = root;
        for (int i = 0; i < 3000; i++) {
                json_t *next = json_array();
                json_array_append_new(cur, next);
                cur = next;
        }
        _cleanup_error_ struct pea_error *err = NULL;
        struct pea_template *t = NULL;
        ck_assert_int_eq(pea_template_parse("{{json .}}", &t, &err), 0);
        FILE *devnull = fopen("/dev/null", "w");
        ck_assert_int_eq(pea_template_execute(t, root, devnull, &err), -EINVAL);
        ck_assert_ptr_nonnull(strstr(err->msg, "error calling json"));
        pea_template_free(t);
        pea_error_clear(&err);
        ck_assert_int_eq(pea_template_parse("{{.}}", &t, &err), 0);
        ck_assert_int_eq(pea_template_execute(t, root, devnull, &err), 0);
        pea_template_free(t);
        fclose(devnull);
}

END_TEST

START_TEST(test_table_header)
{
        struct pea_template *t = NULL;
        _cleanup_error_ struct pea_error *err = NULL;
        _cleanup_json_ json_t *hdrs = load("{\"ID\":\"container id\",\"Host.Arch\":\"arch\"}");
        char *h;

        ck_assert_int_eq(pea_template_parse("{{.ID}}", &t, &err), 0);
        ck_assert(!pea_template_is_table(t));
        t = pea_template_free(t);

        ck_assert_int_eq(
                pea_template_parse(
                        "table {{.ID}}\t{{.Names}}\t{{.CreatedAt}}\t{{.ImageID}}\t{{.Host.OS}}", &t,
                        &err),
                0);
        ck_assert(pea_template_is_table(t));
        h = pea_template_header(t, NULL);
        ck_assert_str_eq(h, "ID\tNAMES\tCREATED AT\tIMAGE ID\tOS");
        free(h);
        h = pea_template_header(t, hdrs);
        ck_assert_str_eq(h, "CONTAINER ID\tNAMES\tCREATED AT\tIMAGE ID\tOS");
        free(h);
        t = pea_template_free(t);

        /* A typed \t, spaces becoming tabs, and a function around the field. */
        ck_assert_int_eq(
                pea_template_parse("table {{.PodName}}\\t{{.HTTPServer}} {{upper .Version2}}\n", &t,
                                   &err),
                0);
        h = pea_template_header(t, NULL);
        ck_assert_str_eq(h, "POD NAME\tHTTP SERVER\tVERSION 2");
        free(h);
        json_decref(hdrs);
        hdrs = load("{\"PodName\":\"pod\"}");
        h = pea_template_header(t, hdrs);
        ck_assert_str_eq(h, "POD\tHTTP SERVER\tVERSION 2");
        free(h);
        t = pea_template_free(t);
}

END_TEST

START_TEST(test_tabwriter)
{
        const char *rows = "[{\"ID\":\"abc\",\"Names\":\"web\"},"
                           "{\"ID\":\"0123456789abcdef\",\"Names\":\"db\"}]";
        /* One column block: its width is the widest cell plus 2. */
        CHECK_PRINT("table {{.ID}}\t{{.Names}}", rows, true, NULL,
                    "ID                NAMES\n"
                    "abc               web\n"
                    "0123456789abcdef  db\n");
        /* minwidth 12 */
        CHECK_PRINT("table {{.ID}}\\t{{.Names}}", "[{\"ID\":\"a\",\"Names\":\"b\"}]", true,
                    "{\"ID\":\"container id\"}",
                    "CONTAINER ID  NAMES\n"
                    "a             b\n");
        CHECK_PRINT("table {{.ID}} {{.Names}}", "[{\"ID\":\"a\",\"Names\":\"b\"}]", true, NULL,
                    "ID          NAMES\n"
                    "a           b\n");
        /* An empty list still gets its header. */
        CHECK_PRINT("table {{.ID}}\t{{.Names}}", "[]", true, NULL, "ID          NAMES\n");
        /* A trailing tab makes a padded cell; the last cell is never padded. */
        CHECK_PRINT("table {{.A}}\t{{.B}}\t", "[{\"A\":\"x\",\"B\":\"y\"}]", true, NULL,
                    "A           B           \n"
                    "x           y           \n");
        _cleanup_free_ char *noh =
                format_print("table {{.ID}}\t{{.Names}}", rows, true, NULL, true);
        ck_assert_str_eq(noh, "abc               web\n0123456789abcdef  db\n");

        /* Blocks: a column is aligned only over consecutive lines having it. */
        struct tpl_buf b = {};
        const char *text = "a\tb\tc\naaaa\tb\n\nx\ty\nlonger\tz";
        tpl_tabwrite(&b, text, strlen(text), 0, 1, ' ');
        ck_assert_str_eq(b.s, "a    b c\naaaa b\n\nx      y\nlonger z");
        tpl_buf_done(&b);
        text = "ab\tc\n\xc3\xa9\tc\n";
        tpl_tabwrite(&b, text, strlen(text), 0, 1, '.');
        ck_assert_str_eq(b.s, "ab.c\n\xc3\xa9..c\n");
        tpl_buf_done(&b);
}

END_TEST

START_TEST(test_format_print)
{
        const char *items = "[{\"Name\":\"a\",\"N\":1},{\"Name\":\"b\",\"N\":2}]";
        CHECK_PRINT("{{.Name}}", items, true, NULL, "a\nb\n");
        CHECK_PRINT("{{.Name}}\n", items, true, NULL, "a\nb\n");
        CHECK_PRINT("{{.Name}}\\n", items, true, NULL, "a\nb\n");
        CHECK_PRINT("{{.Name}}\\t{{.N}}", items, true, NULL, "a\t1\nb\t2\n");
        CHECK_PRINT("{{.Name}}", "[]", true, NULL, "");
        CHECK_PRINT("{{.Name}}", "{\"Name\":\"x\"}", false, NULL, "x\n");
        CHECK_PRINT("{{range .}}{{.Name}} {{end}}", items, true, NULL, "a b \n");
        CHECK_PRINT("{{json .}}", items, true, NULL,
                    "{\"Name\":\"a\",\"N\":1}\n{\"Name\":\"b\",\"N\":2}\n");
        CHECK_PRINT("json", "[]", true, NULL, "[]\n");
        CHECK_PRINT(" json ", "[{\"a\":1}]", true, NULL, "[\n    {\n        \"a\": 1\n    }\n]\n");
        CHECK_PRINT("{{ json. }}", "{\"a\":1}", false, NULL, "{\n    \"a\": 1\n}\n");
        CHECK_PRINT("table", items, true, "{\"Name\":\"name\",\"N\":\"number\"}",
                    "NAME        NUMBER\na           1\nb           2\n");
        CHECK_PRINT("{{.Name | foo}}", items, true, NULL,
                    "ERR:template: :1: function \"foo\" not defined");
        CHECK_PRINT("{{index .N 1}}", items, true, NULL,
                    "ERR:template: :1:2: executing \"\" at <index .N 1>: error calling index: "
                    "can't index item of type int");
}

END_TEST

static Suite *template_suite(void)
{
        Suite *s = suite_create("template");
        TCase *tc = tcase_create("core");
        tcase_add_test(tc, test_fields);
        tcase_add_test(tc, test_values);
        tcase_add_test(tc, test_json_func);
        tcase_add_test(tc, test_range);
        tcase_add_test(tc, test_if_with_vars);
        tcase_add_test(tc, test_index_len);
        tcase_add_test(tc, test_functions);
        tcase_add_test(tc, test_parse_errors);
        tcase_add_test(tc, test_nesting_caps);
        tcase_add_test(tc, test_table_header);
        tcase_add_test(tc, test_tabwriter);
        tcase_add_test(tc, test_format_print);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(template_suite());
        int failed;
        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
