/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <glob.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "base.h"

#define MAX_BYTES (4u * 1024u * 1024u)

struct error_case {
        const char *text;
        unsigned line;
        const char *what;
};

static json_t *parse_ok(const char *text)
{
        _cleanup_error_ struct pea_error *err = NULL;
        json_t *j = NULL;
        int r = pea_toml_parse(text, "test.toml", &j, &err);
        ck_assert_msg(r >= 0, "parse failed: %s\n--- input ---\n%s", err ? err->msg : "(none)",
                      text);
        ck_assert_ptr_null(err);
        ck_assert_ptr_nonnull(j);
        return j;
}

/* expected is JSON written with ' for " so the cases stay readable. */
static void assert_toml(const char *text, const char *expected)
{
        _cleanup_json_ json_t *got = parse_ok(text);
        _cleanup_free_ char *want_text = xstrdup(expected);
        for (char *p = want_text; *p; p++)
                if (*p == '\'')
                        *p = '"';
        json_error_t jerr;
        _cleanup_json_ json_t *want = json_loads(want_text, 0, &jerr);
        ck_assert_msg(want, "bad expected JSON '%s': %s", want_text, jerr.text);
        _cleanup_free_ char *dump = json_dumps(got, JSON_SORT_KEYS | JSON_COMPACT);
        ck_assert_msg(json_equal(got, want), "got %s\nwant %s\n--- input ---\n%s", dump, want_text,
                      text);
}

static void assert_error_code(const char *text, int code, unsigned line, const char *what)
{
        _cleanup_error_ struct pea_error *err = NULL;
        _cleanup_json_ json_t *sentinel = json_object();
        json_t *j = sentinel;
        int r = pea_toml_parse(text, "test.toml", &j, &err);
        ck_assert_msg(r == -code, "expected %d, got %d for input:\n%s", -code, r, text);
        ck_assert_ptr_nonnull(err);
        ck_assert_int_eq(err->code, code);
        ck_assert_ptr_eq(j, sentinel);
        _cleanup_free_ char *prefix = xasprintf("'test.toml' line %u: ", line);
        ck_assert_msg(startswith(err->msg, prefix),
                      "'%s' does not start with \"%s\" for input:\n%s", err->msg, prefix, text);
        ck_assert_msg(strstr(err->msg, what), "'%s' does not mention '%s' for input:\n%s", err->msg,
                      what, text);
}

static void assert_errors(const struct error_case *cases, size_t n)
{
        for (size_t i = 0; i < n; i++)
                assert_error_code(cases[i].text, EBADMSG, cases[i].line, cases[i].what);
}

static void assert_string(json_t *root, const char *path, const char *want)
{
        json_t *v = pea_json_path(root, path);
        ck_assert_msg(json_is_string(v), "'%s' is not a string", path);
        ck_assert_str_eq(json_string_value(v), want);
}

START_TEST(test_comments_and_keys)
{
        assert_toml("# a comment\n"
                    "a = 1 # trailing comment\n"
                    "\n"
                    "   \t\n"
                    "bare_key-1 = \"x\"\n"
                    "\"quoted key\" = 'v'\n"
                    "'literal key' = 2\n"
                    "\"\" = 3\n"
                    "1234 = 4\n"
                    "\"a.b\" = 5\n"
                    "\t spaced\t=\t6\t# comment\n"
                    "\"\\u00e9t\\u00e9\" = 7\n"
                    "#last line without newline",
                    "{'a': 1, 'bare_key-1': 'x', 'quoted key': 'v', 'literal key': 2, '': 3,"
                    " '1234': 4, 'a.b': 5, 'spaced': 6, '\u00e9t\u00e9': 7}");
        assert_toml("", "{}");
        assert_toml("\n\n# only comments\n", "{}");
        assert_toml("\xEF\xBB\xBF"
                    "a = 1\r\nb = 2\r\n# c\r\n",
                    "{'a': 1, 'b': 2}");
}

END_TEST

START_TEST(test_tables)
{
        assert_toml("top = 0\n"
                    "[server]\n"
                    "host = \"x\"\n"
                    "\n"
                    "[a.b.c]\n"
                    "d = 1\n"
                    "[a]\n"
                    "e = 2\n"
                    "[ x . \"y z\" . 'w' ]\n"
                    "k = true\n"
                    "[empty]\n"
                    "[a.f] # comment\n",
                    "{'top': 0, 'server': {'host': 'x'}, 'a': {'b': {'c': {'d': 1}}, 'e': 2,"
                    " 'f': {}}, 'x': {'y z': {'w': {'k': true}}}, 'empty': {}}");
        /* Sub-tables of a table defined by dotted keys are fine. */
        assert_toml("[fruit]\n"
                    "apple.color = 'red'\n"
                    "apple.taste.sweet = true\n"
                    "[fruit.apple.texture]\n"
                    "smooth = true\n",
                    "{'fruit': {'apple': {'color': 'red', 'taste': {'sweet': true},"
                    " 'texture': {'smooth': true}}}}");
}

END_TEST

START_TEST(test_array_of_tables)
{
        assert_toml("[[registry]]\n"
                    "prefix = \"a\"\n"
                    "[[registry.mirror]]\n"
                    "location = \"m1\"\n"
                    "[[registry.mirror]]\n"
                    "location = \"m2\"\n"
                    "insecure = true\n"
                    "[[registry]]\n"
                    "prefix = \"b\"\n"
                    "[registry.sub]\n"
                    "x = 1\n"
                    "[[ registry ]]\n"
                    "[[x.y]]\n"
                    "[x]\n"
                    "z = 1\n",
                    "{'registry': [{'prefix': 'a', 'mirror': [{'location': 'm1'},"
                    " {'location': 'm2', 'insecure': true}]}, {'prefix': 'b', 'sub': {'x': 1}},"
                    " {}], 'x': {'y': [{}], 'z': 1}}");
}

END_TEST

START_TEST(test_dotted_keys)
{
        assert_toml(
                "a.b = 1\n"
                "a.c.d = \"x\"\n"
                "\"q.k\".z = 2\n"
                "site.\"google.com\" = true\n"
                "3.14159 = 'pi'\n"
                "[t]\n"
                "p . q = 3\n"
                "p.r = 4\n"
                "[[l]]\n"
                "m.n = 5\n"
                "[[l]]\n"
                "m.n = 6\n",
                "{'a': {'b': 1, 'c': {'d': 'x'}}, 'q.k': {'z': 2}, 'site': {'google.com': true},"
                " '3': {'14159': 'pi'}, 't': {'p': {'q': 3, 'r': 4}},"
                " 'l': [{'m': {'n': 5}}, {'m': {'n': 6}}]}");
}

END_TEST

START_TEST(test_basic_strings)
{
        _cleanup_json_ json_t *j =
                parse_ok("s = \"tab\\there \\\"q\\\" back\\\\slash\\nnl \\u00e9 \\U0001F600"
                         " \\b\\f\\r end\"\n"
                         "empty = \"\"\n"
                         "nul = \"a\\u0000b\"\n"
                         "hash = \"# not a comment\"\n"
                         "utf8 = \"\xc3\xa9\xe2\x82\xac\"\n"
                         "tab = \"a\tb\"\n");
        assert_string(j, "s",
                      "tab\there \"q\" back\\slash\nnl \xc3\xa9 \xf0\x9f\x98\x80 \b\f\r end");
        assert_string(j, "empty", "");
        json_t *nul = json_object_get(j, "nul");
        ck_assert_int_eq(json_string_length(nul), 3);
        ck_assert_int_eq(memcmp(json_string_value(nul), "a\0b", 3), 0);
        assert_string(j, "hash", "# not a comment");
        assert_string(j, "utf8", "\xc3\xa9\xe2\x82\xac");
        assert_string(j, "tab", "a\tb");
}

END_TEST

START_TEST(test_literal_strings)
{
        _cleanup_json_ json_t *j = parse_ok("winpath = 'C:\\Users\\nodejs\\templates'\n"
                                            "quoted = 'Tom \"Dubs\" Preston-Werner'\n"
                                            "regex = '<\\i\\c*\\s*>'\n"
                                            "empty = ''\n");
        assert_string(j, "winpath", "C:\\Users\\nodejs\\templates");
        assert_string(j, "quoted", "Tom \"Dubs\" Preston-Werner");
        assert_string(j, "regex", "<\\i\\c*\\s*>");
        assert_string(j, "empty", "");
}

END_TEST

START_TEST(test_multiline_basic_strings)
{
        _cleanup_json_ json_t *j =
                parse_ok("s1 = \"\"\"\n"
                         "Roses are red\n"
                         "Violets are blue\"\"\"\n"
                         "s2 = \"\"\"\\\n"
                         "       The quick brown \\\n"
                         "\n"
                         "       fox jumps over \\   \n"
                         "       the lazy dog.\\\n"
                         "       \"\"\"\n"
                         "s3 = \"\"\"Two quotes: \"\". Escaped: \\\"\\\"\\\".\"\"\"\n"
                         "s4 = \"\"\"\"This,\" she said, \"is pointless.\"\"\"\"\"\n"
                         "s5 = \"\"\"tab\\t\\u00e9\"\"\"\n"
                         "crlf = \"\"\"\r\nx\r\ny\"\"\"\r\n"
                         "empty = \"\"\"\"\"\"\n");
        assert_string(j, "s1", "Roses are red\nViolets are blue");
        assert_string(j, "s2", "The quick brown fox jumps over the lazy dog.");
        assert_string(j, "s3", "Two quotes: \"\". Escaped: \"\"\".");
        assert_string(j, "s4", "\"This,\" she said, \"is pointless.\"\"");
        assert_string(j, "s5", "tab\t\xc3\xa9");
        assert_string(j, "crlf", "x\ny");
        assert_string(j, "empty", "");
}

END_TEST

START_TEST(test_multiline_literal_strings)
{
        _cleanup_json_ json_t *j =
                parse_ok("regex = '''I [dw]on't need \\d{2} apples'''\n"
                         "lines = '''\n"
                         "The first newline is\n"
                         "trimmed in raw strings.\n"
                         "   All other whitespace\n"
                         "   is preserved.\n"
                         "'''\n"
                         "quot15 = '''fifteen: \"\"\"\"\"\"\"\"\"\"\"\"\"\"\"'''\n"
                         "apos = ''''That,' she said, 'is pointless.''''\n"
                         "noescape = '''a\\\n"
                         "b'''\n");
        assert_string(j, "regex", "I [dw]on't need \\d{2} apples");
        assert_string(j, "lines",
                      "The first newline is\ntrimmed in raw strings.\n"
                      "   All other whitespace\n   is preserved.\n");
        assert_string(j, "quot15", "fifteen: \"\"\"\"\"\"\"\"\"\"\"\"\"\"\"");
        assert_string(j, "apos", "'That,' she said, 'is pointless.'");
        assert_string(j, "noescape", "a\\\nb");
}

END_TEST

START_TEST(test_integers)
{
        assert_toml("a = +99\nb = 42\nc = 0\nd = -17\ne = 1_000\nf = 5_349_221\n"
                    "g = 0xDEADBEEF\nh = 0xdead_beef\ni = 0o755\nj = 0b1101_0110\n"
                    "k = 9223372036854775807\nl = -9223372036854775808\nm = -0\nn = +0\n"
                    "o = 0x7FFFFFFFFFFFFFFF\np = 0o0\nq = 0x00ff\n",
                    "{'a': 99, 'b': 42, 'c': 0, 'd': -17, 'e': 1000, 'f': 5349221,"
                    " 'g': 3735928559, 'h': 3735928559, 'i': 493, 'j': 214,"
                    " 'k': 9223372036854775807, 'l': -9223372036854775808, 'm': 0, 'n': 0,"
                    " 'o': 9223372036854775807, 'p': 0, 'q': 255}");
        static const struct error_case bad[] = {
                {"a = 01\n", 1, "leading zero in '01'"},
                {"a = -007\n", 1, "leading zero"},
                {"a = 1__0\n", 1, "invalid number '1__0'"},
                {"a = _1\n", 1, "expected a value"},
                {"a = 1_\n", 1, "invalid number"},
                {"a = 0x\n", 1, "invalid number '0x'"},
                {"a = 0xG\n", 1, "invalid number"},
                {"a = 0o8\n", 1, "invalid number"},
                {"a = 0b2\n", 1, "invalid number"},
                {"a = 0X10\n", 1, "invalid number"},
                {"a = +0x10\n", 1, "sign not allowed in '+0x10'"},
                {"\na = 9223372036854775808\n", 2, "integer '9223372036854775808' out of range"},
                {"a = -9223372036854775809\n", 1, "out of range"},
                {"a = 0x8000000000000000\n", 1, "out of range"},
                {"a = 1 2\n", 1, "unexpected '2', expected the end of the line"},
                {"a = +\n", 1, "invalid number '+'"},
                {"a = 12abc\n", 1, "invalid number"},
        };
        assert_errors(bad, ELEMENTSOF(bad));
}

END_TEST

START_TEST(test_floats)
{
        assert_toml("a = +1.0\nb = 3.1415\nc = -0.01\nd = 5e+22\ne = 1e06\nf = -2E-2\n"
                    "g = 6.626e-34\nh = 224_617.445_991_228\ni = 0.5e1_0\nj = 1E3\n",
                    "{'a': 1.0, 'b': 3.1415, 'c': -0.01, 'd': 5e22, 'e': 1e6, 'f': -0.02,"
                    " 'g': 6.626e-34, 'h': 224617.445991228, 'i': 5e9, 'j': 1000.0}");
        /* JSON has no inf and nan: they are kept as strings. */
        assert_toml("i = inf\nj = +inf\nk = -inf\nl = nan\nm = -nan\nn = +nan\no = 1e400\n"
                    "p = -1e400\n",
                    "{'i': 'inf', 'j': 'inf', 'k': '-inf', 'l': 'nan', 'm': 'nan', 'n': 'nan',"
                    " 'o': 'inf', 'p': '-inf'}");
        _cleanup_json_ json_t *j = parse_ok("z = -0.0\nr = 1.5\n");
        json_t *z = json_object_get(j, "z");
        ck_assert(json_is_real(z));
        ck_assert(json_real_value(z) == 0.0 && signbit(json_real_value(z)));
        ck_assert(json_is_real(json_object_get(j, "r")));
        static const struct error_case bad[] = {
                {"a = 1.\n", 1, "invalid number '1.'"},
                {"a = .5\n", 1, "unexpected '.', expected a value"},
                {"a = 1e\n", 1, "invalid number"},
                {"a = 1.e5\n", 1, "invalid number"},
                {"a = 01.5\n", 1, "invalid number"},
                {"a = 1._5\n", 1, "invalid number"},
                {"a = 1.5_\n", 1, "invalid number"},
                {"a = 1e5.0\n", 1, "invalid number"},
                {"a = infinity\n", 1, "invalid number"},
                {"a = NaN\n", 1, "expected a value"},
        };
        assert_errors(bad, ELEMENTSOF(bad));
}

END_TEST

START_TEST(test_booleans)
{
        assert_toml("t = true\nf = false\narr = [true,false]\ninl = {x=true}\n",
                    "{'t': true, 'f': false, 'arr': [true, false], 'inl': {'x': true}}");
        static const struct error_case bad[] = {
                {"a = truex\n", 1, "unexpected 't', expected a value"},
                {"a = True\n", 1, "expected a value"},
                {"a = fals\n", 1, "expected a value"},
        };
        assert_errors(bad, ELEMENTSOF(bad));
}

END_TEST

START_TEST(test_arrays)
{
        assert_toml("integers = [ 1, 2, 3 ]\n"
                    "colors = [ \"red\", \"yellow\", \"green\", ]\n"
                    "nested = [ [ 1, 2 ], [\"a\", 'b'] ]\n"
                    "mixed = [ 0.5, \"x\", true, { a = 1 }, [], 1979-05-27 ]\n"
                    "multi = [\n"
                    "  # comment\n"
                    "  \"a\",   # after a\n"
                    "\n"
                    "  \"b\"\n"
                    "  ,\n"
                    "  # end\n"
                    "]\n"
                    "empty = []\n"
                    "empty2 = [ # c\n"
                    "]\n"
                    "crlf = [\r\n1,\r\n2\r\n]\r\n"
                    "tables = [ { x = 1 }, { x = 2, y.z = 3 } ]\n",
                    "{'integers': [1, 2, 3], 'colors': ['red', 'yellow', 'green'],"
                    " 'nested': [[1, 2], ['a', 'b']], 'mixed': [0.5, 'x', true, {'a': 1}, [],"
                    " '1979-05-27'], 'multi': ['a', 'b'], 'empty': [], 'empty2': [],"
                    " 'crlf': [1, 2], 'tables': [{'x': 1}, {'x': 2, 'y': {'z': 3}}]}");
        static const struct error_case bad[] = {
                {"a = [1, 2\nb = 3\n", 2, "unexpected 'b', expected ',' or ']' in array"},
                {"a = [1,,2]\n", 1, "unexpected ',', expected a value"},
                {"a = [,]\n", 1, "expected a value"},
                {"a = [1\n", 2, "unexpected end of file, expected ',' or ']' in array"},
                {"a = [\n1,\n# c\n2 3]\n", 4, "unexpected '3'"},
                {"a = [1] 2\n", 1, "expected the end of the line"},
        };
        assert_errors(bad, ELEMENTSOF(bad));
}

END_TEST

START_TEST(test_inline_tables)
{
        assert_toml("name = { first = \"Tom\", last = \"Preston-Werner\" }\n"
                    "point = {x=1,y=2}\n"
                    "animal = { type.name = \"pug\", type.size = 's' }\n"
                    "nested = { a = { b = { c = 1 } }, d = [ { e = 1 } ] }\n"
                    "empty = {}\n"
                    "spaced = {   }\n"
                    "[t]\n"
                    "pull_options = {enable_partial_images = \"false\", ostree_repos=\"\"}\n",
                    "{'name': {'first': 'Tom', 'last': 'Preston-Werner'},"
                    " 'point': {'x': 1, 'y': 2}, 'animal': {'type': {'name': 'pug', 'size': 's'}},"
                    " 'nested': {'a': {'b': {'c': 1}}, 'd': [{'e': 1}]}, 'empty': {},"
                    " 'spaced': {}, 't': {'pull_options': {'enable_partial_images': 'false',"
                    " 'ostree_repos': ''}}}");
        static const struct error_case bad[] = {
                {"a = { b = 1, }\n", 1, "trailing comma in inline table"},
                {"a = { b = 1\n}\n", 1, "unexpected end of line, expected ',' or '}'"},
                {"a = {\nb = 1 }\n", 1, "unexpected end of line, expected a key"},
                {"a = { b = 1 c = 2 }\n", 1, "unexpected 'c', expected ',' or '}'"},
                {"a = { b }\n", 1, "unexpected '}', expected '=' after a key"},
                {"a = { b = 1 }}\n", 1, "unexpected '}', expected the end of the line"},
        };
        assert_errors(bad, ELEMENTSOF(bad));
}

END_TEST

START_TEST(test_datetimes)
{
        assert_toml("odt1 = 1979-05-27T07:32:00Z\n"
                    "odt2 = 1979-05-27T00:32:00-07:00\n"
                    "odt3 = 1979-05-27T00:32:00.999999+05:30\n"
                    "odt4 = 1979-05-27 07:32:00z\n"
                    "ldt1 = 1979-05-27t07:32:00\n"
                    "ld1 = 1979-05-27\n"
                    "ld2 = 1979-05-27 # comment\n"
                    "leap = 2024-02-29\n"
                    "lt1 = 07:32:00\n"
                    "lt2 = 00:32:00.999999\n"
                    "arr = [1979-05-27, 07:32:00,2000-01-01T00:00:00Z]\n",
                    "{'odt1': '1979-05-27T07:32:00Z', 'odt2': '1979-05-27T00:32:00-07:00',"
                    " 'odt3': '1979-05-27T00:32:00.999999+05:30', 'odt4': '1979-05-27 07:32:00z',"
                    " 'ldt1': '1979-05-27t07:32:00', 'ld1': '1979-05-27', 'ld2': '1979-05-27',"
                    " 'leap': '2024-02-29', 'lt1': '07:32:00', 'lt2': '00:32:00.999999',"
                    " 'arr': ['1979-05-27', '07:32:00', '2000-01-01T00:00:00Z']}");
        static const struct error_case bad[] = {
                {"d = 1979-13-01\n", 1, "invalid date or time"},
                {"d = 1979-00-01\n", 1, "invalid date or time"},
                {"d = 2023-02-29\n", 1, "invalid date or time"},
                {"d = 1979-04-31\n", 1, "invalid date or time"},
                {"d = 1979-5-27\n", 1, "invalid"},
                {"\nt = 25:00:00\n", 2, "invalid date or time"},
                {"t = 07:60:00\n", 1, "invalid date or time"},
                {"t = 07:32\n", 1, "invalid date or time"},
                {"t = 07:32:00.\n", 1, "invalid date or time"},
                {"d = 1979-05-27T07:32:00+7:00\n", 1, "invalid date or time"},
                {"d = 1979-05-27T\n", 1, "invalid date or time"},
                {"d = 1979-05-27X\n", 1, "invalid date or time"},
        };
        assert_errors(bad, ELEMENTSOF(bad));
}

END_TEST

START_TEST(test_string_errors)
{
        static const struct error_case bad[] = {
                {"a = \"unterminated\nb = 1\n", 1, "unterminated string"},
                {"a = 'unterminated\n", 1, "unterminated string"},
                {"x = 1\ny = \"\\q\"\n", 2, "invalid escape sequence '\\q'"},
                {"y = \"\\ \"\n", 1, "invalid escape sequence"},
                {"a = \"\\uD800\"\n", 1, "unicode escape is not a scalar value"},
                {"a = \"\\U00110000\"\n", 1, "not a scalar value"},
                {"a = \"\\u12\"\n", 1, "invalid unicode escape, expected 4 hex digits"},
                {"a = \"\\U1234567\"\n", 1, "expected 8 hex digits"},
                {"a = \"x\x01\"\n", 1, "control character in string"},
                {"a = 'x\x7f'\n", 1, "control character in string"},
                {"a = '''x\x01'''\n", 1, "control character in string"},
                {"a = 1\nb = \"\"\"\nunterminated\n\n", 2, "unterminated multi-line string"},
                {"a = '''\nunterminated\n", 1, "unterminated multi-line string"},
                {"a = \"\"\"x\"\"\"\"\"\"\n", 1, "too many quotes"},
                {"a = 1\nb = \"\xff\"\n", 2, "invalid UTF-8"},
                {"a = \"\xed\xa0\x80\"\n", 1, "invalid UTF-8"},
                {"a = \"\xc0\xaf\"\n", 1, "invalid UTF-8"},
                {"# \xfe\n", 1, "invalid UTF-8"},
                {"\n\n# bad \x7f\n", 3, "control character in comment"},
                {"# bad \x01\n", 1, "control character in comment"},
                {"a = \"x\" \"y\"\n", 1, "unexpected '\"', expected the end of the line"},
        };
        assert_errors(bad, ELEMENTSOF(bad));
}

END_TEST

START_TEST(test_syntax_errors)
{
        static const struct error_case bad[] = {
                {"a = 1\nb = \n", 2, "unexpected end of line, expected a value"},
                {"a = 1\nb =", 2, "unexpected end of file, expected a value"},
                {"a = 1\n\n[tbl\n", 3, "unexpected end of line, expected ']'"},
                {"[[a]\n", 1, "expected ']]'"},
                {"[[a] ]\n", 1, "expected ']]'"},
                {"[]\n", 1, "unexpected ']', expected a key"},
                {"[a.]\n", 1, "expected a key"},
                {"[a]b = 1\n", 1, "expected the end of the line"},
                {"= 1\n", 1, "unexpected '=', expected a key"},
                {"a b = 1\n", 1, "unexpected 'b', expected '=' after a key"},
                {"a\n= 1\n", 1, "unexpected end of line, expected '=' after a key"},
                {"a.b. = 1\n", 1, "expected a key"},
                {"a..b = 1\n", 1, "expected a key"},
                {"\"\"\"k\"\"\" = 1\n", 1, "multi-line string used as a key"},
                {"\"a\\u0000\" = 1\n", 1, "key contains a NUL character"},
                {"a = 1\r\nb = 2\rc = 3\n", 2, "carriage return not followed by a newline"},
                {"a = @\n", 1, "unexpected '@', expected a value"},
                {"a = \x01\n", 1, "unexpected byte 0x01, expected a value"},
                {"k\xc3\xa9y = 1\n", 1, "unexpected byte 0xc3, expected '=' after a key"},
                {"a = 1\n b = 2\n\t\t[x]\n  c  \n", 4, "expected '=' after a key"},
        };
        assert_errors(bad, ELEMENTSOF(bad));
}

END_TEST

START_TEST(test_redefinition)
{
        static const struct error_case bad[] = {
                {"a = 1\na = 2\n", 2, "key 'a' is already defined"},
                {"a = 1\n\"a\" = 2\n", 2, "key 'a' is already defined"},
                {"[a]\n[a]\n", 2, "table 'a' is already defined"},
                {"[a.b]\n[a]\nx = 1\n[a]\n", 4, "table 'a' is already defined"},
                {"[a]\nb.c = 1\n[a.b]\n", 3, "table 'a.b' is already defined"},
                {"[a.b.c]\n[a]\nb.c.d = 1\n", 3, "table 'b' is already defined"},
                {"[a.b.c.d]\n[a]\nb.c.d.k = 1\n", 3, "table 'b' is already defined"},
                {"a = 1\n[a]\n", 2, "key 'a' is already defined"},
                {"a = 1\n[a.b]\n", 2, "key 'a' is already defined"},
                {"a = [1]\n[[a]]\n", 2, "array 'a' is already defined"},
                {"a = [{b = 1}]\n[a.c]\n", 2, "array 'a' is already defined"},
                {"[[a]]\n[a]\n", 2, "array 'a' is already defined"},
                {"[a]\n[[a]]\n", 2, "table 'a' is already defined"},
                {"a = {b = 1}\n[a]\n", 2, "inline table 'a' is already defined"},
                {"a = {b = 1}\n[a.c]\n", 2, "inline table 'a' is already defined"},
                {"a = {b = 1}\na.c = 2\n", 2, "inline table 'a' is already defined"},
                {"a = {b = {c = 1}}\n[a.b]\n", 2, "inline table 'a' is already defined"},
                {"a = {b = 1, b = 2}\n", 1, "key 'b' is already defined"},
                {"a = {b.c = 1, b = 2}\n", 1, "table 'b' is already defined"},
                {"a.b = 1\na.b.c = 2\n", 2, "key 'a.b' is already defined"},
                {"a.b = 1\na = 2\n", 2, "table 'a' is already defined"},
                {"[t]\nx.y = 1\n[t.x]\n", 3, "table 't.x' is already defined"},
                {"[t]\nx.y = 1\n[[t.x]]\n", 3, "table 't.x' is already defined"},
                {"[[a]]\nb = 1\n[a.b]\n", 3, "key 'a.b' is already defined"},
                {"[x]\n[x.y]\n[x.y]\n", 3, "table 'x.y' is already defined"},
        };
        assert_errors(bad, ELEMENTSOF(bad));
        /* Tables first created on the way to another may be defined once, later. */
        assert_toml("[a.b.c]\n[a]\nx = 1\n[a.b]\ny = 2\n[[p.q]]\n[p]\nz = 3\n",
                    "{'a': {'b': {'c': {}, 'y': 2}, 'x': 1}, 'p': {'q': [{}], 'z': 3}}");
}

END_TEST

static char *repeat(const char *s, size_t n)
{
        size_t len = strlen(s);
        char *r = xmalloc(len * n + 1);
        for (size_t i = 0; i < n; i++)
                memcpy(r + i * len, s, len);
        r[len * n] = '\0';
        return r;
}

static char *nested_arrays(size_t n)
{
        _cleanup_free_ char *open = repeat("[", n);
        _cleanup_free_ char *close = repeat("]", n);
        return xasprintf("a = %s%s\n", open, close);
}

START_TEST(test_depth)
{
        _cleanup_free_ char *ok = nested_arrays(64);
        _cleanup_free_ char *deep = nested_arrays(65);
        json_decref(parse_ok(ok));
        assert_error_code(deep, EBADMSG, 1, "nesting deeper than 64 levels");

        _cleanup_free_ char *parts = repeat("k.", 63);
        _cleanup_free_ char *hdr_ok = xasprintf("[%sk]\nx = 1\n", parts);
        _cleanup_free_ char *hdr_long = xasprintf("[%sk.k]\n", parts);
        _cleanup_free_ char *hdr_arr = xasprintf("\n[%sk]\nx = [1]\n", parts);
        json_decref(parse_ok(hdr_ok));
        assert_error_code(hdr_long, EBADMSG, 1, "key has more than 64 parts");
        assert_error_code(hdr_arr, EBADMSG, 3, "nesting deeper than 64 levels");

        _cleanup_free_ char *half = repeat("h.", 39);
        _cleanup_free_ char *mixed = xasprintf("[%sh]\n%sx = 1\n", half, half);
        assert_error_code(mixed, EBADMSG, 2, "nesting deeper than 64 levels");

        _cleanup_free_ char *inl_open = repeat("{a=", 65);
        _cleanup_free_ char *inl_close = repeat("}", 65);
        _cleanup_free_ char *inl = xasprintf("x = %s1%s\n", inl_open, inl_close);
        assert_error_code(inl, EBADMSG, 1, "nesting deeper than 64 levels");
}

END_TEST

static char *write_temp(const char *data, size_t len)
{
        char *path = xstrdup("/tmp/test-toml-XXXXXX");
        int fd = mkstemp(path);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
        ck_assert_int_eq(close(fd), 0);
        return path;
}

START_TEST(test_parse_file)
{
        _cleanup_error_ struct pea_error *err = NULL;
        json_t *j = NULL;
        int r = pea_toml_parse_file("/nonexistent/dir/containers.conf", &j, &err);
        ck_assert_int_eq(r, -ENOENT);
        ck_assert_ptr_nonnull(err);
        ck_assert_int_eq(err->code, ENOENT);
        ck_assert_ptr_nonnull(strstr(err->msg, "/nonexistent/dir/containers.conf"));
        ck_assert_ptr_null(j);
        pea_error_clear(&err);

        static const char good[] = "[engine]\nnum_locks = 2048\n";
        _cleanup_free_ char *path = write_temp(good, sizeof(good) - 1);
        r = pea_toml_parse_file(path, &j, &err);
        ck_assert_int_eq(r, 0);
        ck_assert_int_eq(json_integer_value(pea_json_path(j, "engine.num_locks")), 2048);
        json_decref(j);
        j = NULL;
        ck_assert_int_eq(unlink(path), 0);

        static const char bad[] = "[engine]\nnum_locks = = 1\n";
        _cleanup_free_ char *bad_path = write_temp(bad, sizeof(bad) - 1);
        r = pea_toml_parse_file(bad_path, &j, &err);
        ck_assert_int_eq(r, -EBADMSG);
        _cleanup_free_ char *prefix = xasprintf("'%s' line 2: ", bad_path);
        ck_assert_msg(startswith(err->msg, prefix), "'%s' lacks '%s'", err->msg, prefix);
        ck_assert_ptr_null(j);
        pea_error_clear(&err);
        ck_assert_int_eq(unlink(bad_path), 0);

        static const char nul[] = "a = 1\nb = \"x\0y\"\n";
        _cleanup_free_ char *nul_path = write_temp(nul, sizeof(nul) - 1);
        r = pea_toml_parse_file(nul_path, &j, &err);
        ck_assert_int_eq(r, -EBADMSG);
        ck_assert_ptr_nonnull(strstr(err->msg, "line 2: NUL byte"));
        ck_assert_int_eq(unlink(nul_path), 0);
}

END_TEST

/* A file of exactly max bytes of comments parses; one more byte is refused. */
START_TEST(test_size_cap)
{
        _cleanup_free_ char *data = xmalloc(MAX_BYTES + 2);
        memset(data, '#', MAX_BYTES + 2);
        for (size_t i = 79; i < MAX_BYTES + 1; i += 80)
                data[i] = '\n';
        _cleanup_free_ char *path = write_temp(data, MAX_BYTES);
        _cleanup_error_ struct pea_error *err = NULL;
        json_t *j = NULL;
        ck_assert_int_eq(pea_toml_parse_file(path, &j, &err), 0);
        ck_assert_int_eq(json_object_size(j), 0);
        json_decref(j);
        j = NULL;
        _cleanup_free_ char *big = write_temp(data, MAX_BYTES + 1);
        ck_assert_int_eq(pea_toml_parse_file(big, &j, &err), -EFBIG);
        ck_assert_ptr_nonnull(err);
        ck_assert_ptr_null(j);
        pea_error_clear(&err);
        data[MAX_BYTES] = 'x';
        data[MAX_BYTES + 1] = '\0';
        ck_assert_int_eq(pea_toml_parse(data, "big", &j, &err), -EFBIG);
        ck_assert_ptr_nonnull(err);
        ck_assert_ptr_null(j);
        (void)unlink(path);
        (void)unlink(big);
}

END_TEST

/* The shapes of the three files, as upstream ships them (storage.conf is not on every host). */
static const char storage_conf[] =
        "# This file is the configuration file for all tools\n"
        "[storage]\n"
        "\n"
        "# Default Storage Driver, Must be set for proper operation.\n"
        "driver = \"overlay\"\n"
        "runroot = \"/run/containers/storage\"\n"
        "graphroot = \"/var/lib/containers/storage\"\n"
        "#rootless_storage_path = \"$HOME/.local/share/containers/storage\"\n"
        "\n"
        "[storage.options]\n"
        "additionalimagestores = [\n"
        "]\n"
        "pull_options = {enable_partial_images = \"false\", use_hard_links = \"false\","
        " ostree_repos=\"\"}\n"
        "\n"
        "[storage.options.overlay]\n"
        "#ignore_chown_errors = \"false\"\n"
        "mountopt = \"nodev,metacopy=on\"\n"
        "[storage.options.thinpool]\n"
        "# autoextend_percent = \"20\"\n";

static const char registries_conf[] =
        "unqualified-search-registries = [\"registry.fedoraproject.org\", \"docker.io\"]\n"
        "short-name-mode = \"enforcing\"\n"
        "\n"
        "[[registry]]\n"
        "prefix = \"example.com/foo\"\n"
        "insecure = false\n"
        "blocked = false\n"
        "location = \"internal-registry-for-example.com/bar\"\n"
        "\n"
        "[[registry.mirror]]\n"
        "location = \"example-mirror-0.local/mirror-for-foo\"\n"
        "[[registry.mirror]]\n"
        "location = \"example-mirror-1.local/mirrors/foo\"\n"
        "insecure = true\n"
        "\n"
        "[[registry]]\n"
        "location = \"localhost:5000\"\n"
        "insecure = true\n"
        "\n"
        "[aliases]\n"
        "  # centos\n"
        "  \"centos\" = \"quay.io/centos/centos\"\n"
        "  \"opensuse/leap\" = \"registry.opensuse.org/opensuse/leap\"\n";

static const char containers_conf[] =
        "[containers]\n"
        "default_capabilities = [\n"
        "  \"CHOWN\",\n"
        "  \"DAC_OVERRIDE\",\n"
        "]\n"
        "default_sysctls = [\n"
        "  \"net.ipv4.ping_group_range=0 0\",\n"
        "]\n"
        "default_ulimits = [\n"
        "  \"nofile=1280:2560\",\n"
        "]\n"
        "log_size_max = -1\n"
        "pids_limit = 2048\n"
        "tz = \"\"\n"
        "[secrets]\n"
        "[secrets.opts]\n"
        "[network]\n"
        "network_backend = \"netavark\"\n"
        "default_subnet_pools = [\n"
        "  {\"base\" = \"10.89.0.0/16\", \"size\" = 24},\n"
        "]\n"
        "[engine]\n"
        "cgroup_manager = \"systemd\"\n"
        "conmon_env_vars = [\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin\"]\n"
        "[engine.runtimes]\n"
        "crun = [\n"
        "  \"/usr/bin/crun\",\n"
        "  \"/usr/sbin/crun\",\n"
        "]\n"
        "[engine.service_destinations]\n"
        "  [engine.service_destinations.production]\n"
        "    uri=\"ssh://root@10.10.10.1:22/run/podman/podman.sock\"\n"
        "    identity = \"~/.ssh/id_rsa\"\n"
        "[engine.volume_plugins]\n"
        "[machine]\n"
        "cpus = 1\n"
        "[farms]\n";

START_TEST(test_config_shapes)
{
        _cleanup_json_ json_t *s = parse_ok(storage_conf);
        assert_string(s, "storage.driver", "overlay");
        assert_string(s, "storage.options.overlay.mountopt", "nodev,metacopy=on");
        assert_string(s, "storage.options.pull_options.use_hard_links", "false");
        ck_assert_int_eq(json_array_size(pea_json_path(s, "storage.options.additionalimagestores")),
                         0);
        ck_assert(json_is_object(pea_json_path(s, "storage.options.thinpool")));

        _cleanup_json_ json_t *r = parse_ok(registries_conf);
        json_t *regs = json_object_get(r, "registry");
        ck_assert_int_eq(json_array_size(regs), 2);
        json_t *mirrors = json_object_get(json_array_get(regs, 0), "mirror");
        ck_assert_int_eq(json_array_size(mirrors), 2);
        ck_assert(json_is_true(json_object_get(json_array_get(mirrors, 1), "insecure")));
        assert_string(json_array_get(regs, 1), "location", "localhost:5000");
        ck_assert_str_eq(
                json_string_value(json_object_get(json_object_get(r, "aliases"), "opensuse/leap")),
                "registry.opensuse.org/opensuse/leap");
        ck_assert_int_eq(json_array_size(json_object_get(r, "unqualified-search-registries")), 2);

        _cleanup_json_ json_t *c = parse_ok(containers_conf);
        ck_assert_int_eq(json_array_size(pea_json_path(c, "containers.default_capabilities")), 2);
        ck_assert_int_eq(json_integer_value(pea_json_path(c, "containers.log_size_max")), -1);
        ck_assert_int_eq(json_array_size(pea_json_path(c, "engine.runtimes.crun")), 2);
        assert_string(c, "engine.service_destinations.production.identity", "~/.ssh/id_rsa");
        json_t *pool = json_array_get(pea_json_path(c, "network.default_subnet_pools"), 0);
        ck_assert_int_eq(json_integer_value(json_object_get(pool, "size")), 24);
        ck_assert(json_is_object(pea_json_path(c, "farms")));
}

END_TEST

static const char *const real_files[] = {
        "/usr/share/containers/containers.conf", "/etc/containers/containers.conf",
        "/etc/containers/registries.conf",       "/etc/containers/storage.conf",
        "/usr/share/containers/storage.conf",
};

static const char *const real_globs[] = {
        "/usr/share/containers/*.conf",
        "/etc/containers/*.conf",
        "/etc/containers/registries.conf.d/*.conf",
        "/etc/containers/containers.conf.d/*.conf",
};

static void assert_real_file(const char *path)
{
        _cleanup_error_ struct pea_error *err = NULL;
        _cleanup_json_ json_t *j = NULL;
        int r = pea_toml_parse_file(path, &j, &err);
        if (r == -ENOENT) {
                fprintf(stderr, "SKIP: '%s' is absent, not checked\n", path);
                return;
        }
        ck_assert_msg(r == 0, "parsing '%s' failed: %s", path, err ? err->msg : "(none)");
        ck_assert(json_is_object(j));
        fprintf(stderr, "ok: '%s' parses (%zu top-level keys)\n", path, json_object_size(j));
}

START_TEST(test_real_files)
{
        for (size_t i = 0; i < ELEMENTSOF(real_files); i++)
                assert_real_file(real_files[i]);
        for (size_t i = 0; i < ELEMENTSOF(real_globs); i++) {
                glob_t g = {0};
                if (glob(real_globs[i], 0, NULL, &g) != 0) {
                        fprintf(stderr, "SKIP: nothing matches '%s'\n", real_globs[i]);
                        continue;
                }
                for (size_t k = 0; k < g.gl_pathc; k++)
                        assert_real_file(g.gl_pathv[k]);
                globfree(&g);
        }
}

END_TEST

/* Values the files installed by podman's packages are known to hold. */
START_TEST(test_real_values)
{
        _cleanup_error_ struct pea_error *err = NULL;
        _cleanup_json_ json_t *c = NULL;
        int r = pea_toml_parse_file("/usr/share/containers/containers.conf", &c, &err);
        if (r == -ENOENT) {
                fprintf(stderr, "SKIP: /usr/share/containers/containers.conf is absent\n");
        } else {
                ck_assert_msg(r == 0, "%s", err ? err->msg : "(none)");
                ck_assert(json_is_object(json_object_get(c, "containers")));
                ck_assert(json_is_object(json_object_get(c, "engine")));
        }
        pea_error_clear(&err);
        _cleanup_json_ json_t *s = NULL;
        r = pea_toml_parse_file("/etc/containers/registries.conf.d/shortnames.conf", &s, &err);
        if (r == -ENOENT) {
                fprintf(stderr, "SKIP: /etc/containers/registries.conf.d/shortnames.conf is "
                                "absent\n");
                return;
        }
        ck_assert_msg(r == 0, "%s", err ? err->msg : "(none)");
        json_t *aliases = json_object_get(s, "aliases");
        ck_assert_int_gt(json_object_size(aliases), 10);
        json_t *v = NULL;
        const char *k = NULL;
        json_object_foreach(aliases, k, v)
                ck_assert_msg(json_is_string(v) && strchr(json_string_value(v), '/'),
                              "alias '%s' is not an image reference", k);
}

END_TEST

static Suite *toml_suite(void)
{
        Suite *s = suite_create("toml");
        TCase *tc = tcase_create("core");
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_comments_and_keys);
        tcase_add_test(tc, test_tables);
        tcase_add_test(tc, test_array_of_tables);
        tcase_add_test(tc, test_dotted_keys);
        tcase_add_test(tc, test_basic_strings);
        tcase_add_test(tc, test_literal_strings);
        tcase_add_test(tc, test_multiline_basic_strings);
        tcase_add_test(tc, test_multiline_literal_strings);
        tcase_add_test(tc, test_integers);
        tcase_add_test(tc, test_floats);
        tcase_add_test(tc, test_booleans);
        tcase_add_test(tc, test_arrays);
        tcase_add_test(tc, test_inline_tables);
        tcase_add_test(tc, test_datetimes);
        tcase_add_test(tc, test_string_errors);
        tcase_add_test(tc, test_syntax_errors);
        tcase_add_test(tc, test_redefinition);
        tcase_add_test(tc, test_depth);
        tcase_add_test(tc, test_parse_file);
        tcase_add_test(tc, test_size_cap);
        tcase_add_test(tc, test_config_shapes);
        tcase_add_test(tc, test_real_files);
        tcase_add_test(tc, test_real_values);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(toml_suite());
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
