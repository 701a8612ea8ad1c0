/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "base.h"
#include "pods/pods.h"
#include "state/state.h"

static unsigned share_ok(const char *arg)
{
        _cleanup_error_ struct pea_error *err = NULL;
        unsigned m = 0xffff;
        ck_assert_msg(pea_pod_share_parse(arg, &m, &err) == 0, "%s: %s", arg, err ? err->msg : "?");
        return m;
}

START_TEST(test_share_parse)
{
        ck_assert_uint_eq(share_ok("net,ipc,uts"), PEA_POD_SHARE_DEFAULT);
        ck_assert_uint_eq(share_ok("ipc"), PEA_POD_SHARE_IPC);
        ck_assert_uint_eq(share_ok("cgroup,pid"), PEA_POD_SHARE_CGROUP | PEA_POD_SHARE_PID);
        ck_assert_uint_eq(share_ok("+pid"), PEA_POD_SHARE_DEFAULT | PEA_POD_SHARE_PID);
        ck_assert_uint_eq(share_ok("none"), 0);
        ck_assert_uint_eq(share_ok(""), 0);

        _cleanup_error_ struct pea_error *err = NULL;
        unsigned m = 7;
        ck_assert_int_eq(pea_pod_share_parse("net,mnt", &m, &err), -EINVAL);
        ck_assert_ptr_nonnull(strstr(err->msg, "mnt"));
        ck_assert_uint_eq(m, 7); /* left alone on failure */
}

END_TEST

START_TEST(test_share_json)
{
        _cleanup_json_ json_t *a = pea_pod_share_to_json(PEA_POD_SHARE_DEFAULT);
        _cleanup_free_ char *s = json_dumps(a, JSON_COMPACT);
        ck_assert_str_eq(s, "[\"ipc\",\"net\",\"uts\"]");
        ck_assert_uint_eq(pea_pod_share_from_json(a), PEA_POD_SHARE_DEFAULT);
        _cleanup_json_ json_t *b = json_pack("[s, s, i]", "pid", "bogus", 3);
        ck_assert_uint_eq(pea_pod_share_from_json(b), PEA_POD_SHARE_PID);
        ck_assert_uint_eq(pea_pod_share_from_json(NULL), 0);
}

END_TEST

START_TEST(test_status)
{
        const char *none[] = {NULL};
        ck_assert_str_eq(pea_pod_status(none, 0), "Created");
        const char *created[] = {"created", "created"};
        ck_assert_str_eq(pea_pod_status(created, 2), "Created");
        const char *running[] = {"running", "running"};
        ck_assert_str_eq(pea_pod_status(running, 2), "Running");
        const char *degraded[] = {"running", "exited"};
        ck_assert_str_eq(pea_pod_status(degraded, 2), "Degraded");
        const char *exited[] = {"exited", "stopped"};
        ck_assert_str_eq(pea_pod_status(exited, 2), "Exited");
        const char *paused[] = {"paused", "paused"};
        ck_assert_str_eq(pea_pod_status(paused, 2), "Paused");
        const char *mixed[] = {"created", "exited"};
        ck_assert_str_eq(pea_pod_status(mixed, 2), "Created");
        const char *bad[] = {"exited", "removing"};
        ck_assert_str_eq(pea_pod_status(bad, 2), "Error");
}

END_TEST

static char *write_tmp(const char *text)
{
        char *path = xstrdup("/tmp/pea-test-pods-XXXXXX");
        int fd = mkstemp(path);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
        close(fd);
        return path;
}

START_TEST(test_refresh_namespaces)
{
        _cleanup_free_ char *path =
                write_tmp("{\"linux\": {\"namespaces\": [{\"type\": \"pid\"},"
                          "{\"type\": \"network\", \"path\": \"/run/pea/netns/abc\"},"
                          "{\"type\": \"ipc\", \"path\": \"/proc/123/ns/ipc\"},"
                          "{\"type\": \"uts\", \"path\": \"/proc/123/ns/uts\"},"
                          "{\"type\": \"mount\", \"path\": \"/proc/self/ns/mnt\"}]}}");
        _cleanup_error_ struct pea_error *err = NULL;
        ck_assert_int_eq(pea_pod_refresh_namespaces(path, 4567, &err), 1);
        _cleanup_json_ json_t *j = json_load_file(path, 0, NULL);
        json_t *ns = json_object_get(json_object_get(j, "linux"), "namespaces");
        ck_assert_ptr_null(json_object_get(json_array_get(ns, 0), "path"));
        ck_assert_str_eq(json_string_value(json_object_get(json_array_get(ns, 1), "path")),
                         "/run/pea/netns/abc");
        ck_assert_str_eq(json_string_value(json_object_get(json_array_get(ns, 2), "path")),
                         "/proc/4567/ns/ipc");
        ck_assert_str_eq(json_string_value(json_object_get(json_array_get(ns, 3), "path")),
                         "/proc/4567/ns/uts");
        /* /proc/self is not a pid: left alone */
        ck_assert_str_eq(json_string_value(json_object_get(json_array_get(ns, 4), "path")),
                         "/proc/self/ns/mnt");
        /* already pointing there: nothing to rewrite */
        ck_assert_int_eq(pea_pod_refresh_namespaces(path, 4567, &err), 0);
        unlink(path);
        ck_assert_int_eq(pea_pod_refresh_namespaces(path, 1, &err), -EBADMSG);
        ck_assert_ptr_nonnull(err);
}

END_TEST

static struct pea_container_row member(const char *id, const char *name, const char *state,
                                       bool infra)
{
        return (struct pea_container_row){
                .id = (char *)id,
                .name = (char *)name,
                .state = (char *)state,
                .pod_id = (char *)"p",
                .config = infra ? json_pack("{s:b, s:{s:{s:[{s:s, s:s}]}}}", "pod_infra", true,
                                            "network", "ports", "80/tcp", "HostIp", "", "HostPort",
                                            "18080")
                                : json_object(),
        };
}

START_TEST(test_inspect_json)
{
        _cleanup_free_ char *pid = xasprintf("%064d", 1);
        struct pea_pod_row pod = {
                .id = pid,
                .name = (char *)"mypod",
                .infra_id = (char *)"i1",
                .config = json_pack("{s:s, s:[s, s, s], s:{s:s}}", "hostname", "h", "share", "ipc",
                                    "net", "pid", "labels", "a", "b"),
                .created = 1000000000,
        };
        struct pea_container_row ctrs[] = {member("i1", "mypod-infra", "running", true),
                                           member("c1", "web", "exited", false)};
        ck_assert(pea_pod_row_is_infra(&ctrs[0]));
        ck_assert(!pea_pod_row_is_infra(&ctrs[1]));
        _cleanup_json_ json_t *j = pea_pod_inspect_json(&pod, ctrs, 2);
        ck_assert_str_eq(json_string_value(json_object_get(j, "Name")), "mypod");
        ck_assert_str_eq(json_string_value(json_object_get(j, "State")), "Degraded");
        ck_assert_str_eq(json_string_value(json_object_get(j, "Hostname")), "h");
        ck_assert_str_eq(json_string_value(json_object_get(j, "InfraContainerID")), "i1");
        ck_assert_str_eq(json_string_value(json_object_get(j, "Created")), "1970-01-01T00:00:01Z");
        ck_assert_int_eq(json_integer_value(json_object_get(j, "NumContainers")), 2);
        ck_assert_str_eq(pea_json_path_string(j, "Labels.a", ""), "b");
        json_t *c1 = json_array_get(json_object_get(j, "Containers"), 1);
        ck_assert_str_eq(pea_json_path_string(c1, "Name", ""), "web");
        ck_assert_str_eq(pea_json_path_string(c1, "State", ""), "exited");
        ck_assert_str_eq(pea_json_path_string(c1, "Id", ""), "c1");
        ck_assert_str_eq(pea_json_path_string(j, "InfraConfig.pid_ns", ""), "pod");
        json_t *pb = pea_json_path(j, "InfraConfig.PortBindings");
        ck_assert_str_eq(json_string_value(json_object_get(
                                 json_array_get(json_object_get(pb, "80/tcp"), 0), "HostPort")),
                         "18080");
        _cleanup_free_ char *ns = json_dumps(json_object_get(j, "SharedNamespaces"), JSON_COMPACT);
        ck_assert_str_eq(ns, "[\"ipc\",\"net\",\"pid\"]");
        for (size_t i = 0; i < 2; i++)
                json_decref(ctrs[i].config);
        json_decref(pod.config);
}

END_TEST

static Suite *pods_suite(void)
{
        Suite *su = suite_create("pods");
        TCase *tc = tcase_create("core");
        tcase_add_test(tc, test_share_parse);
        tcase_add_test(tc, test_share_json);
        tcase_add_test(tc, test_status);
        tcase_add_test(tc, test_refresh_namespaces);
        tcase_add_test(tc, test_inspect_json);
        suite_add_tcase(su, tc);
        return su;
}

int main(void)
{
        SRunner *sr = srunner_create(pods_suite());
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
