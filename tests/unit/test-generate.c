/* SPDX-License-Identifier: Apache-2.0 */
/* cmd/generate-unit.c: the text of `pea generate systemd` units (escaping, --new argv, units). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "base.h"
#include "cmd/generate.h"

/* The number of lines of text that equal line. */
static int count_lines(const char *text, const char *line)
{
        int n = 0;
        size_t len = strlen(line);
        for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
                if (strncmp(p, line, len) == 0 && (p[len] == '\n' || p[len] == '\0'))
                        n++;
        return n;
}

START_TEST(escape)
{
        const struct {
                const char *in, *out;
        } t[] = {
                {"plain", "plain"},
                {"a b", "\"a b\""},
                {"", "\"\""},
                {"100%", "100%%"},
                {"$HOME", "$$HOME"},
                {"say \"hi\"", "\"say \\\"hi\\\"\""},
                {"back\\slash", "\"back\\\\slash\""},
                {"two\nlines", "\"two\\nlines\""},
                {"a;b", "\"a;b\""},
        };

        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                _cleanup_free_ char *got = pea_gen_escape(t[i].in);
                ck_assert_str_eq(got, t[i].out);
        }
}

END_TEST

START_TEST(command_index)
{
        char *a[] = {"pea", "create", "busybox", NULL};
        ck_assert_uint_eq(pea_gen_command_index(a), 1);
        char *b[] = {"pea", "--root", "/r", "--runroot=/rr", "run", "-d", "busybox", NULL};
        ck_assert_uint_eq(pea_gen_command_index(b), 4);
        char *c[] = {"pea", "--storage-driver", "vfs", "pod", "create", NULL};
        ck_assert_uint_eq(pea_gen_command_index(c), 3);
}

END_TEST

START_TEST(new_argv)
{
        char *cmd[] = {"pea",       "--root", "/my root",         "create", "--rm",
                       "--cidfile", "/x.cid", "--restart=always", "--name", "web",
                       "-e",        "A=b c",  "busybox",          "sh",     "-c",
                       "echo 50%",  NULL};
        struct pea_gen_cmdline c = {.argv = cmd, .cmd_index = 3, .image_index = 12, .name = true};
        _cleanup_strv_ char **got = pea_gen_new_argv(&c, "/usr/bin/pea", false);
        _cleanup_free_ char *s = strv_join(got, " ");
        ck_assert_str_eq(s, "/usr/bin/pea --root \"/my root\" run --cidfile=%t/%n.ctr-id --rm "
                            "--sdnotify=conmon -d --replace --name web -e \"A=b c\" busybox sh "
                            "-c \"echo 50%%\"");

        /* -d, --replace and --sdnotify given: not added twice */
        char *cmd2[] = {"pea",      "run",     "-d", "--replace", "--sdnotify=ignore",
                        "--name=x", "busybox", NULL};
        struct pea_gen_cmdline c2 = {.argv = cmd2,
                                     .cmd_index = 1,
                                     .image_index = 6,
                                     .detach = true,
                                     .name = true,
                                     .replace = true,
                                     .sdnotify = true};
        _cleanup_strv_ char **got2 = pea_gen_new_argv(&c2, "pea", true);
        _cleanup_free_ char *s2 = strv_join(got2, " ");
        ck_assert_str_eq(s2, "pea run --cidfile=%t/%n.ctr-id --rm -d --replace "
                             "--sdnotify=ignore --name=x-%i busybox");
}

END_TEST

START_TEST(new_argv_pod_member)
{
        char *cmd[] = {"pea",    "create", "--pod",   "p1", "--pod-id-file=/old",
                       "--name", "a",      "busybox", NULL};
        struct pea_gen_cmdline c = {.argv = cmd,
                                    .cmd_index = 1,
                                    .image_index = 7,
                                    .name = true,
                                    .pod_id_file = "%t/pod-p1.pod-id"};
        _cleanup_strv_ char **got = pea_gen_new_argv(&c, "pea", false);
        _cleanup_free_ char *s = strv_join(got, " ");
        ck_assert_str_eq(s, "pea run --cidfile=%t/%n.ctr-id --rm --sdnotify=conmon -d --replace "
                            "--pod-id-file %t/pod-p1.pod-id --name a busybox");
}

END_TEST

START_TEST(pod_create_argv)
{
        char *cmd[] = {"pea",   "--root",        "/r",   "create",    "--name", "p1", "-p",
                       "80:80", "--pod-id-file", "/old", "--replace", NULL};
        _cleanup_strv_ char **got = pea_gen_pod_create_argv(cmd, "pea", "%t/pod-p1.pod-id");
        _cleanup_free_ char *s = strv_join(got, " ");
        ck_assert_str_eq(s, "pea --root /r pod create --pod-id-file %t/pod-p1.pod-id --name p1 "
                            "-p 80:80 --replace");
}

END_TEST

START_TEST(unit_names)
{
        struct pea_gen_opts o;
        pea_gen_opts_init(&o);
        _cleanup_free_ char *a = pea_gen_unit_name(&o, false, "web", false);
        ck_assert_str_eq(a, "container-web.service");
        _cleanup_free_ char *b = pea_gen_unit_name(&o, true, "p1", false);
        ck_assert_str_eq(b, "pod-p1.service");
        o.container_prefix = "ctr";
        o.separator = "_";
        _cleanup_free_ char *c = pea_gen_unit_name(&o, false, "web", true);
        ck_assert_str_eq(c, "ctr_web@.service");
        ck_assert(pea_gen_restart_valid("on-abnormal"));
        ck_assert(!pea_gen_restart_valid("unless-stopped"));
}

END_TEST

START_TEST(container_unit_new)
{
        struct pea_gen_opts o;
        pea_gen_opts_init(&o);
        o.new_unit = true;
        char *argv[] = {"/usr/bin/pea", "run", "--cidfile=%t/%n.ctr-id", "-d", "busybox", NULL};
        struct pea_gen_ctr c = {.id = "abc",
                                .name = "web",
                                .exe = "/usr/bin/pea",
                                .run_root = "%t/pea",
                                .stop_timeout = 5,
                                .restart = "unless-stopped",
                                .run_argv = argv};
        _cleanup_free_ char *u = pea_gen_container_unit(&o, &c, "container-web.service", "DATE");
        ck_assert(startswith(u, "# container-web.service\n# autogenerated by pea "));
        ck_assert_int_eq(count_lines(u, "# DATE"), 1);
        ck_assert_int_eq(count_lines(u, "RequiresMountsFor=%t/pea"), 1);
        ck_assert_int_eq(count_lines(u, "Restart=always"), 1);
        ck_assert_int_eq(count_lines(u, "TimeoutStopSec=65"), 1);
        ck_assert_int_eq(count_lines(u, "ExecStartPre=/bin/rm \\"), 1);
        ck_assert_int_eq(count_lines(u, "ExecStart=/usr/bin/pea run \\"), 1);
        ck_assert_int_eq(count_lines(u, "\t-d busybox"), 1);
        ck_assert_int_eq(count_lines(u, "\t--ignore -t 5 \\"), 2);
        ck_assert_int_eq(count_lines(u, "Type=notify"), 1);
        ck_assert_int_eq(count_lines(u, "NotifyAccess=all"), 1);
        ck_assert_int_eq(count_lines(u, "WantedBy=default.target"), 1);
        ck_assert_int_eq(count_lines(u, "BindsTo=pod-p.service"), 0);
        ck_assert_int_eq(count_lines(u, "RestartSec=0"), 0);
}

END_TEST

START_TEST(container_unit_options)
{
        struct pea_gen_opts o;
        pea_gen_opts_init(&o);
        o.no_header = true;
        o.restart_policy = "on-abort";
        o.restart_sec = 3;
        o.start_timeout = 20;
        o.stop_timeout = 2;
        char *after[] = {"a.service", "b.service", NULL}, *env[] = {"X=1", "Y=a b", NULL};
        char *globals[] = {"--root", "/my root", NULL};
        o.after = after;
        o.env = env;
        struct pea_gen_ctr c = {.id = "abc",
                                .name = "web",
                                .exe = "/usr/bin/pea",
                                .globals = globals,
                                .run_root = "/run/pea",
                                .stop_timeout = 10,
                                .pod_unit = "pod-p.service"};
        _cleanup_free_ char *u = pea_gen_container_unit(&o, &c, "container-web.service", "DATE");
        ck_assert(startswith(u, "[Unit]\n"));
        ck_assert_int_eq(count_lines(u, "BindsTo=pod-p.service"), 1);
        ck_assert_int_eq(count_lines(u, "After=pod-p.service"), 1);
        ck_assert_int_eq(count_lines(u, "After=a.service b.service"), 1);
        ck_assert_int_eq(count_lines(u, "Environment=X=1"), 1);
        ck_assert_int_eq(count_lines(u, "Environment=\"Y=a b\""), 1);
        ck_assert_int_eq(count_lines(u, "Restart=on-abort"), 1);
        ck_assert_int_eq(count_lines(u, "RestartSec=3"), 1);
        ck_assert_int_eq(count_lines(u, "TimeoutStartSec=20"), 1);
        ck_assert_int_eq(count_lines(u, "TimeoutStopSec=62"), 1);
        ck_assert_int_eq(count_lines(u, "ExecStart=/usr/bin/pea --root \"/my root\" start web"), 1);
        ck_assert_int_eq(count_lines(u, "ExecStop=/usr/bin/pea --root \"/my root\" stop \\"), 1);
        ck_assert_int_eq(count_lines(u, "\t-t 2 web"), 2);
        ck_assert_int_eq(count_lines(u, "ExecStartPre=/bin/rm \\"), 0);
}

END_TEST

START_TEST(pod_unit)
{
        struct pea_gen_opts o;
        pea_gen_opts_init(&o);
        o.new_unit = true;
        char *members[] = {"container-a.service", "container-b.service", NULL};
        char *create[] = {"pea", "pod", "create", "--pod-id-file", "%t/pod-p.pod-id", NULL};
        struct pea_gen_pod p = {.id = "abc",
                                .name = "p",
                                .exe = "/usr/bin/pea",
                                .run_root = "%t/pea",
                                .pod_id_file = "%t/pod-p.pod-id",
                                .create_argv = create,
                                .members = members};
        _cleanup_free_ char *u = pea_gen_pod_unit(&o, &p, "pod-p.service", NULL);
        ck_assert_int_eq(count_lines(u, "Requires=container-a.service container-b.service"), 1);
        ck_assert_int_eq(count_lines(u, "Before=container-a.service container-b.service"), 1);
        ck_assert_int_eq(count_lines(u, "ExecStartPre=pea pod create \\"), 1);
        ck_assert_int_eq(count_lines(u, "\t--pod-id-file %t/pod-p.pod-id"), 3);
        ck_assert_int_eq(count_lines(u, "ExecStart=/usr/bin/pea pod start \\"), 1);
        ck_assert_int_eq(count_lines(u, "ExecStopPost=/usr/bin/pea pod rm \\"), 1);
        ck_assert_int_eq(count_lines(u, "Type=notify"), 1);
}

END_TEST

static Suite *generate_suite(void)
{
        Suite *s = suite_create("generate");
        TCase *tc = tcase_create("core");
        tcase_add_test(tc, escape);
        tcase_add_test(tc, command_index);
        tcase_add_test(tc, new_argv);
        tcase_add_test(tc, new_argv_pod_member);
        tcase_add_test(tc, pod_create_argv);
        tcase_add_test(tc, unit_names);
        tcase_add_test(tc, container_unit_new);
        tcase_add_test(tc, container_unit_options);
        tcase_add_test(tc, pod_unit);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(generate_suite());
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed != 0;
}
