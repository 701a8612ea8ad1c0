/* SPDX-License-Identifier: Apache-2.0 */
/* lib/events: the journal format, concurrent appends, filters, times and durations. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/wait.h>

#include <check.h>
#include <jansson.h>

#include "base.h"
#include "events/events.h"
#include "units.h"

static char *tmpdir;

static void setup(void)
{
        tmpdir = xstrdup("/tmp/pea-test-events-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void)
{
        ck_assert_int_eq(pea_rm_rf(tmpdir, NULL), 0);
        free(tmpdir);
        tmpdir = NULL;
}

/* Every line of the journal, parsed. */
static size_t read_all(struct pea_event **ret)
{
        _cleanup_free_ char *path = pea_event_log_path(tmpdir);
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        ck_assert_ptr_nonnull(f);
        _cleanup_free_ char *line = NULL;
        size_t cap = 0, n = 0;
        struct pea_event *evs = NULL;
        while (getline(&line, &cap, f) > 0) {
                ck_assert_int_eq(line[strlen(line) - 1], '\n');
                evs = xrealloc(evs, (n + 1) * sizeof(*evs));
                ck_assert_int_eq(pea_event_from_json(line, &evs[n], NULL), 0);
                n++;
        }
        *ret = evs;
        return n;
}

static void free_all(struct pea_event *evs, size_t n)
{
        for (size_t i = 0; i < n; i++)
                pea_event_done(&evs[i]);
        free(evs);
}

START_TEST(write_and_read_back)
{
        _cleanup_json_ json_t *attrs = json_pack("{s:s}", "app", "web");
        int64_t before = pea_now_ns();
        ck_assert_int_eq(pea_event_write(tmpdir, "container", "create", "abc123", "web",
                                         "busybox:latest", attrs, NULL),
                         0);
        ck_assert_int_eq(
                pea_event_write(tmpdir, "image", "pull", NULL, "busybox", NULL, NULL, NULL), 0);
        struct pea_event *evs = NULL;
        size_t n = read_all(&evs);
        ck_assert_uint_eq(n, 2);
        ck_assert_str_eq(evs[0].type, "container");
        ck_assert_str_eq(evs[0].status, "create");
        ck_assert_str_eq(evs[0].id, "abc123");
        ck_assert_str_eq(evs[0].image, "busybox:latest");
        ck_assert_str_eq(json_string_value(json_object_get(evs[0].attrs, "app")), "web");
        ck_assert(evs[0].time >= before && evs[0].time <= pea_now_ns());
        ck_assert_ptr_null(evs[1].id);
        ck_assert_str_eq(evs[1].name, "busybox");
        free_all(evs, n);
}

END_TEST

START_TEST(json_shape)
{
        struct pea_event e = {
                .time = INT64_C(1700000000500000000),
                .type = "container",
                .status = "died",
                .id = "abc",
                .name = "n",
                .has_exit_code = true,
                .exit_code = 3,
        };
        _cleanup_free_ char *s = pea_event_to_json(&e);
        ck_assert_str_eq(s, "{\"ContainerExitCode\":3,\"ID\":\"abc\",\"Name\":\"n\",\"Status\":"
                            "\"died\",\"Time\":\"2023-11-14T22:13:20.5Z\",\"Type\":"
                            "\"container\",\"Attributes\":null}");
        struct pea_event back = {};
        ck_assert_int_eq(pea_event_from_json(s, &back, NULL), 0);
        ck_assert(back.has_exit_code);
        ck_assert_int_eq(back.exit_code, 3);
        ck_assert_int_eq(back.time, e.time);
        pea_event_done(&back);
        ck_assert_int_eq(pea_event_from_json("{\"Status\":\"x\"}", &back, NULL), -EBADMSG);
        ck_assert_int_eq(pea_event_from_json("garbage", &back, NULL), -EBADMSG);
}

END_TEST

START_TEST(text_lines)
{
        _cleanup_json_ json_t *attrs = json_pack("{s:s}", "a", "b");
        struct pea_event c = {
                .time = INT64_C(1700000000000000000),
                .type = "container",
                .status = "start",
                .id = "0123456789abcdef",
                .name = "web",
                .image = "busybox",
                .attrs = attrs,
        };
        _cleanup_free_ char *s = pea_event_to_text(&c, false);
        ck_assert_str_eq(s, "2023-11-14 22:13:20 +0000 UTC container start 0123456789abcdef "
                            "(image=busybox, name=web, a=b)");
        _cleanup_free_ char *t = pea_event_to_text(&c, true);
        ck_assert_ptr_nonnull(strstr(t, " 0123456789ab (image="));
        struct pea_event i = {.time = c.time, .type = "image", .status = "pull", .name = "bb"};
        _cleanup_free_ char *u = pea_event_to_text(&i, false);
        ck_assert_str_eq(u, "2023-11-14 22:13:20 +0000 UTC image pull  bb");
        struct pea_event v = {.time = c.time, .type = "volume", .status = "create", .name = "v"};
        _cleanup_free_ char *w = pea_event_to_text(&v, false);
        ck_assert_str_eq(w, "2023-11-14 22:13:20 +0000 UTC volume create v");
}

END_TEST

START_TEST(long_line_stays_atomic)
{
        _cleanup_json_ json_t *attrs = json_object();
        _cleanup_free_ char *big = xmalloc(3000);
        memset(big, 'x', 2999);
        big[2999] = '\0';
        json_object_set_new(attrs, "a", json_string(big));
        json_object_set_new(attrs, "b", json_string(big));
        ck_assert_int_eq(
                pea_event_write(tmpdir, "container", "create", "id", big, big, attrs, NULL), 0);
        _cleanup_free_ char *path = pea_event_log_path(tmpdir);
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        ck_assert_int_eq(pea_read_file_at(AT_FDCWD, path, 1 << 20, &text, &len, NULL), 0);
        ck_assert_uint_lt(len, PIPE_BUF);
        struct pea_event *evs = NULL;
        size_t n = read_all(&evs);
        ck_assert_uint_eq(n, 1);
        ck_assert_str_eq(evs[0].status, "create");
        free_all(evs, n);
}

END_TEST

START_TEST(concurrent_writers)
{
        enum { PROCS = 20, EACH = 50 };

        for (int p = 0; p < PROCS; p++) {
                pid_t pid = fork();
                ck_assert_int_ge(pid, 0);
                if (pid == 0) {
                        _cleanup_free_ char *big = xmalloc(2000);
                        memset(big, 'a' + p, 1999);
                        big[1999] = '\0';
                        for (int i = 0; i < EACH; i++)
                                if (pea_event_write(tmpdir, "container", "start", "id", big, NULL,
                                                    NULL, NULL)
                                    < 0)
                                        _exit(1);
                        _exit(0);
                }
        }
        for (int p = 0; p < PROCS; p++) {
                int status = 0;
                ck_assert_int_gt(wait(&status), 0);
                ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        }
        struct pea_event *evs = NULL;
        size_t n = read_all(&evs);
        ck_assert_uint_eq(n, PROCS * EACH);
        for (size_t i = 0; i < n; i++) {
                ck_assert_uint_eq(strlen(evs[i].name), 1999);
                ck_assert_uint_eq(strspn(evs[i].name, (char[]){evs[i].name[0], 0}), 1999);
        }
        free_all(evs, n);
}

END_TEST

START_TEST(filters)
{
        _cleanup_json_ json_t *attrs = json_pack("{s:s}", "app", "web");
        struct pea_event c = {
                .type = "container",
                .status = "start",
                .id = "abcdef0123",
                .name = "web1",
                .image = "busybox:latest",
                .attrs = attrs,
        };
        char *none[] = {NULL};
        ck_assert(pea_event_match(&c, none));
        char *f1[] = {"type=container", "event=start", NULL};
        ck_assert(pea_event_match(&c, f1));
        char *f2[] = {"event=stop", "event=start", NULL};
        ck_assert(pea_event_match(&c, f2));
        char *f3[] = {"type=image", NULL};
        ck_assert(!pea_event_match(&c, f3));
        char *f4[] = {"container=abcd", NULL};
        ck_assert(pea_event_match(&c, f4));
        char *f5[] = {"container=web1", "label=app=web", "image=busybox:latest", NULL};
        ck_assert(pea_event_match(&c, f5));
        char *f6[] = {"label=app=db", NULL};
        ck_assert(!pea_event_match(&c, f6));
        char *f7[] = {"label=app", NULL};
        ck_assert(pea_event_match(&c, f7));
        char *f8[] = {"container=web", NULL};
        ck_assert(!pea_event_match(&c, f8));
        ck_assert_int_eq(pea_event_filters_check(f5, NULL), 0);
        char *bad[] = {"colour=red", NULL};
        ck_assert_int_eq(pea_event_filters_check(bad, NULL), -EINVAL);
        char *bad2[] = {"type", NULL};
        ck_assert_int_eq(pea_event_filters_check(bad2, NULL), -EINVAL);
}

END_TEST

START_TEST(durations)
{
        int64_t ns = 0;
        ck_assert_int_eq(pea_duration_parse("250ms", &ns, NULL), 0);
        ck_assert_int_eq(ns, 250000000);
        ck_assert_int_eq(pea_duration_parse("1h30m", &ns, NULL), 0);
        ck_assert_int_eq(ns, INT64_C(5400000000000));
        ck_assert_int_eq(pea_duration_parse("1.5s", &ns, NULL), 0);
        ck_assert_int_eq(ns, 1500000000);
        ck_assert_int_eq(pea_duration_parse("0", &ns, NULL), 0);
        ck_assert_int_eq(ns, 0);
        ck_assert_int_eq(pea_duration_parse("10", &ns, NULL), -EINVAL);
        ck_assert_int_eq(pea_duration_parse("", &ns, NULL), -EINVAL);
        ck_assert_int_eq(pea_duration_parse("5x", &ns, NULL), -EINVAL);
        ck_assert_int_eq(pea_duration_parse("-5s", &ns, NULL), -EINVAL);
}

END_TEST

START_TEST(times)
{
        int64_t now = INT64_C(1700000000000000000), t = 0;
        ck_assert_int_eq(pea_event_parse_time("10m", now, &t, NULL), 0);
        ck_assert_int_eq(t, now - INT64_C(600000000000));
        ck_assert_int_eq(pea_event_parse_time("1700000000", now, &t, NULL), 0);
        ck_assert_int_eq(t, now);
        ck_assert_int_eq(pea_event_parse_time("1700000000.25", now, &t, NULL), 0);
        ck_assert_int_eq(t, now + 250000000);
        ck_assert_int_eq(pea_event_parse_time("2023-11-14T22:13:20Z", now, &t, NULL), 0);
        ck_assert_int_eq(t, now);
        ck_assert_int_eq(pea_event_parse_time("2023-11-14T23:13:20+01:00", now, &t, NULL), 0);
        ck_assert_int_eq(t, now);
        ck_assert_int_eq(pea_event_parse_time("2023-11-14", now, &t, NULL), 0);
        ck_assert_int_eq(t, INT64_C(1699920000000000000));
        ck_assert_int_eq(pea_event_parse_time("yesterday", now, &t, NULL), -EINVAL);
}

END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("events");
        TCase *tc = tcase_create("events");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 30);
        tcase_add_test(tc, write_and_read_back);
        tcase_add_test(tc, json_shape);
        tcase_add_test(tc, text_lines);
        tcase_add_test(tc, long_line_stays_atomic);
        tcase_add_test(tc, concurrent_writers);
        tcase_add_test(tc, filters);
        tcase_add_test(tc, durations);
        tcase_add_test(tc, times);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(suite());
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed != 0;
}
