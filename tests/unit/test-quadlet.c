/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "base.h"
#include "contrib/quadlet/quadlet.h"

static struct pea_unitfile *parse_ok(const char *text, const char *name)
{
        _cleanup_error_ struct pea_error *err = NULL;
        struct pea_unitfile *u = NULL;
        int r = pea_unitfile_parse(text, name, &u, &err);

        ck_assert_msg(r == 0, "parse failed: %s", err ? err->msg : "?");
        return u;
}

/* Converts text as unit NAME (with extra units in others) and returns the service. */
static struct pea_unitfile *convert_ok(const char *text, const char *name)
{
        _cleanup_unitfile_ struct pea_unitfile *u = parse_ok(text, name);
        _cleanup_error_ struct pea_error *err = NULL;
        struct pea_quadlet_ctx ctx = {"/usr/bin/pea", false, &u, 1};
        struct pea_unitfile *svc = NULL;
        int r = pea_quadlet_convert(&ctx, u, &svc, &err);

        ck_assert_msg(r == 0, "convert failed: %s", err ? err->msg : "?");
        return svc;
}

static char *convert_err(const char *text, const char *name)
{
        _cleanup_unitfile_ struct pea_unitfile *u = parse_ok(text, name);
        _cleanup_unitfile_ struct pea_unitfile *svc = NULL;
        _cleanup_error_ struct pea_error *err = NULL;
        struct pea_quadlet_ctx ctx = {"/usr/bin/pea", false, &u, 1};
        int r = pea_quadlet_convert(&ctx, u, &svc, &err);

        ck_assert_int_lt(r, 0);
        ck_assert_ptr_null(svc);
        return xstrdup(err->msg);
}

START_TEST(parse_sections_and_continuations)
{
        _cleanup_unitfile_ struct pea_unitfile *u =
                parse_ok("# top\n[Unit]\nDescription = hello  \n; c\n[Service]\n"
                         "ExecStart=/bin/echo a \\\n  # skipped comment\n   b\n"
                         "Environment=A=1\nEnvironment=B=2\n[Unit]\nAfter=x\n",
                         "t.service");
        _cleanup_strv_ char **env = pea_unitfile_lookup_all(u, "Service", "Environment");
        _cleanup_free_ char *s = pea_unitfile_to_string(u);

        ck_assert_str_eq(u->comments[0], "# top");
        ck_assert_int_eq(u->n_groups, 2); /* the second [Unit] is merged */
        ck_assert_str_eq(pea_unitfile_lookup(u, "Unit", "Description"), "hello");
        ck_assert_str_eq(pea_unitfile_lookup(u, "Unit", "After"), "x");
        ck_assert_str_eq(pea_unitfile_lookup(u, "Service", "ExecStart"), "/bin/echo a  b");
        ck_assert_int_eq(strv_length(env), 2);
        ck_assert_str_eq(env[1], "B=2");
        ck_assert_ptr_null(pea_unitfile_lookup(u, "Service", "Nope"));
        ck_assert_str_eq(s, "# top\n\n[Unit]\nDescription=hello\n; c\nAfter=x\n\n[Service]\n"
                            "ExecStart=/bin/echo a  b\nEnvironment=A=1\nEnvironment=B=2\n");
}

END_TEST

START_TEST(parse_errors)
{
        static const char *const bad[][2] = {
                {"[Unit\nA=1\n", "line 1: invalid section header '[Unit'"},
                {"[Unit]\nnoequals\n", "line 2: missing '=' in 'noequals'"},
                {"A=1\n", "line 1: assignment 'A' outside of a section"},
                {"[Unit]\n=1\n", "line 2: empty key"},
        };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_error_ struct pea_error *err = NULL;
                struct pea_unitfile *u = NULL;

                ck_assert_int_eq(pea_unitfile_parse(bad[i][0], "x", &u, &err), -EBADMSG);
                ck_assert_ptr_null(u);
                ck_assert_str_eq(err->msg, bad[i][1]);
        }
}

END_TEST

START_TEST(lookup_reset_bool_keyval)
{
        _cleanup_unitfile_ struct pea_unitfile *u =
                parse_ok("[C]\nV=a\nV=\nV=b\nV=c\nB=Yes\nX=maybe\n"
                         "E=Z=1 \"A=x y\"\nE=Z=2 'M=q'\nL=novalue\n",
                         "x");
        _cleanup_strv_ char **v = pea_unitfile_lookup_all(u, "C", "V");
        _cleanup_strv_ char **kv = NULL;
        _cleanup_error_ struct pea_error *err = NULL;
        bool b = false;

        ck_assert_int_eq(strv_length(v), 2);
        ck_assert_str_eq(v[0], "b");
        ck_assert_int_eq(pea_unitfile_lookup_bool(u, "C", "B", false, &b, &err), 0);
        ck_assert(b);
        ck_assert_int_eq(pea_unitfile_lookup_bool(u, "C", "None", true, &b, &err), 0);
        ck_assert(b);
        ck_assert_int_eq(pea_unitfile_lookup_bool(u, "C", "X", false, &b, &err), -EINVAL);
        ck_assert_str_eq(err->msg, "invalid boolean 'maybe' for key 'X'");
        pea_error_clear(&err);
        ck_assert_int_eq(pea_unitfile_lookup_all_keyval(u, "C", "E", &kv, &err), 0);
        ck_assert_int_eq(strv_length(kv), 3);
        ck_assert_str_eq(kv[0], "A=x y");
        ck_assert_str_eq(kv[1], "M=q");
        ck_assert_str_eq(kv[2], "Z=2");
        ck_assert_int_eq(pea_unitfile_lookup_all_keyval(u, "C", "L", &kv, &err), -EINVAL);
        ck_assert_int_eq(pea_unitfile_parse_bool("off"), 0);
        ck_assert_int_eq(pea_unitfile_parse_bool("T"), 1);
        ck_assert_int_eq(pea_unitfile_parse_bool(""), -EINVAL);
}

END_TEST

START_TEST(split_words)
{
        _cleanup_strv_ char **w = NULL;
        _cleanup_error_ struct pea_error *err = NULL;

        ck_assert_int_eq(pea_unitfile_split_words("  a \"b c\" 'd \"e\"' f\\tg x\"y z\"w "
                                                  "\\x41\\101\\u00e9 \"\" \\q \\s",
                                                  &w, &err),
                         0);
        ck_assert_int_eq(strv_length(w), 9);
        ck_assert_str_eq(w[0], "a");
        ck_assert_str_eq(w[1], "b c");
        ck_assert_str_eq(w[2], "d \"e\"");
        ck_assert_str_eq(w[3], "f\tg");
        ck_assert_str_eq(w[4], "xy zw");
        ck_assert_str_eq(w[5], "AA\xc3\xa9");
        ck_assert_str_eq(w[6], "");
        ck_assert_str_eq(w[7], "\\q");
        ck_assert_str_eq(w[8], " ");
        w = strv_free(w);
        ck_assert_int_eq(pea_unitfile_split_words("a 'b", &w, &err), -EINVAL);
        ck_assert_str_eq(err->msg, "unterminated quote in 'a 'b'");
}

END_TEST

START_TEST(escape_roundtrip)
{
        char *words[] = {"plain", "two words", "q\"uote",   "it's", "tab\there",
                         "",      "back\\",    "%t/%N.cid", "nl\n", NULL};
        _cleanup_free_ char *s = pea_unitfile_escape_words(words);
        _cleanup_strv_ char **back = NULL;
        _cleanup_error_ struct pea_error *err = NULL;

        ck_assert_str_eq(s, "plain \"two words\" \"q\\\"uote\" \"it\\'s\" \"tab\\there\" \"\" "
                            "\"back\\\\\" %t/%N.cid \"nl\\n\"");
        ck_assert_int_eq(pea_unitfile_split_words(s, &back, &err), 0);
        ck_assert_int_eq(strv_length(back), strv_length(words));
        for (size_t i = 0; words[i]; i++)
                ck_assert_str_eq(back[i], words[i]);
}

END_TEST

START_TEST(service_names)
{
        _cleanup_free_ char *a = pea_quadlet_service_name("web.container");
        _cleanup_free_ char *b = pea_quadlet_service_name("data.volume");
        _cleanup_free_ char *c = pea_quadlet_service_name("net.network");
        _cleanup_free_ char *d = pea_quadlet_service_name("app.pod");
        _cleanup_free_ char *e = pea_quadlet_service_name("demo.kube");

        ck_assert_str_eq(a, "web.service");
        ck_assert_str_eq(b, "data-volume.service");
        ck_assert_str_eq(c, "net-network.service");
        ck_assert_str_eq(d, "app-pod.service");
        ck_assert_str_eq(e, "demo.service");
        ck_assert_int_eq(pea_quadlet_kind_from_filename("x.container"), PEA_QUADLET_CONTAINER);
        ck_assert_int_eq(pea_quadlet_kind_from_filename(".pod"), -EINVAL);
        ck_assert_int_eq(pea_quadlet_kind_from_filename("x.service"), -EINVAL);
}

END_TEST

START_TEST(container_basic)
{
        _cleanup_unitfile_ struct pea_unitfile *s =
                convert_ok("[Container]\nImage=busybox\nExec=sleep \"10 s\"\n", "b.container");

        ck_assert_str_eq(s->filename, "b.service");
        ck_assert_ptr_nonnull(pea_unitfile_group(s, "X-Container"));
        ck_assert_ptr_null(pea_unitfile_group(s, "Container"));
        ck_assert_str_eq(pea_unitfile_lookup(s, "Service", "ExecStart"),
                         "/usr/bin/pea run --name=systemd-%N --cidfile=%t/%N.cid --replace "
                         "--rm --cgroups=split --sdnotify=conmon -d busybox sleep \"10 s\"");
        ck_assert_str_eq(pea_unitfile_lookup(s, "Service", "ExecStop"),
                         "/usr/bin/pea rm -v -f -i --cidfile=%t/%N.cid");
        ck_assert_str_eq(pea_unitfile_lookup(s, "Service", "ExecStopPost"),
                         "-/usr/bin/pea rm -v -f -i --cidfile=%t/%N.cid");
        ck_assert_str_eq(pea_unitfile_lookup(s, "Service", "KillMode"), "mixed");
        ck_assert_str_eq(pea_unitfile_lookup(s, "Service", "Type"), "notify");
        ck_assert_str_eq(pea_unitfile_lookup(s, "Service", "NotifyAccess"), "all");
        ck_assert_str_eq(pea_unitfile_lookup(s, "Service", "Delegate"), "yes");
        ck_assert_str_eq(pea_unitfile_lookup(s, "Service", "SyslogIdentifier"), "%N");
        ck_assert_str_eq(pea_unitfile_lookup(s, "Service", "Environment"),
                         "PODMAN_SYSTEMD_UNIT=%n");
}

END_TEST

/* One key's translation: the ExecStart of [Container] Image=img plus line contains want. */
static void check_key(const char *line, const char *want)
{
        _cleanup_free_ char *text = xasprintf("[Container]\nImage=img\n%s\n", line);
        _cleanup_unitfile_ struct pea_unitfile *s = convert_ok(text, "k.container");
        const char *exec = pea_unitfile_lookup(s, "Service", "ExecStart");

        ck_assert_msg(strstr(exec, want), "'%s': '%s' not in '%s'", line, want, exec);
}

START_TEST(container_keys)
{
        check_key("ContainerName=web", "--name=web ");
        check_key("Environment=B=2 \"A=x y\"", " --env \"A=x y\" --env B=2 img");
        check_key("EnvironmentFile=/e", " --env-file /e img");
        check_key("PublishPort=8080:80", " -p=8080:80 img");
        check_key("PublishPort=0.0.0.0:1:2", " -p=1:2 img");
        check_key("PublishPort=[::1]:1:2/udp", " -p=[::1]:1:2/udp img");
        check_key("PublishPort=127.0.0.1::53", " -p=127.0.0.1::53 img");
        check_key("Volume=/h:/c:ro", " -v /h:/c:ro img");
        check_key("Volume=/anon", " -v /anon img");
        check_key("Volume=v.volume:/c", " -v systemd-v:/c img");
        check_key("Network=host", " --network=host img");
        check_key("Network=n.network:ip=10.0.0.2", " --network=systemd-n:ip=10.0.0.2 img");
        check_key("Label=a=1", " --label a=1 img");
        check_key("Annotation=x=y", " --annotation x=y img");
        check_key("User=10", " --user=10 img");
        check_key("User=10\nGroup=20", " --user=10:20 img");
        check_key("UserNS=keep-id", " --userns=keep-id img");
        check_key("AddCapability=CAP_NET_RAW SYS_TIME",
                  " --cap-add=cap_net_raw --cap-add=sys_time");
        check_key("DropCapability=ALL", " --cap-drop=all img");
        check_key("NoNewPrivileges=yes", " --security-opt=no-new-privileges img");
        check_key("ReadOnly=true", " --read-only --read-only-tmpfs=false img");
        check_key("ReadOnly=false", " --read-only=false img");
        check_key("VolatileTmp=true", " --tmpfs /tmp:rw,size=512M,mode=1777 img");
        check_key("RunInit=no", " --init=false img");
        check_key("Notify=true", " --sdnotify=container -d ");
        check_key("HealthCmd=curl -f x", " --health-cmd \"curl -f x\" img");
        check_key("HealthInterval=5s", " --health-interval 5s img");
        check_key("HealthRetries=2", " --health-retries 2 img");
        check_key("HealthTimeout=1s", " --health-timeout 1s img");
        check_key("HealthStartPeriod=3s", " --health-start-period 3s img");
        check_key("HealthOnFailure=restart", " --health-on-failure restart img");
        check_key("Timezone=local", " --tz=local ");
        check_key("Tmpfs=/run", " --tmpfs /run img");
        check_key("WorkingDir=/w", " -w /w img");
        check_key("Entrypoint=/init", " --entrypoint=/init img");
        check_key("PodmanArgs=--memory 1g", " --memory 1g img");
        check_key("PeaArgs=--pids-limit=5", " --pids-limit=5 img");
        check_key("AutoUpdate=registry", " --label io.containers.autoupdate=registry img");
        check_key("Exec=a 'b c'", " img a \"b c\"");
}

END_TEST

START_TEST(container_service_merge)
{
        _cleanup_unitfile_ struct pea_unitfile *s =
                convert_ok("[Container]\nImage=img\nVolume=d.volume:/d\nNetwork=n.network\n"
                           "[Service]\nType=oneshot\nKillMode=control-group\n"
                           "SyslogIdentifier=me\n[Install]\nWantedBy=default.target\n",
                           "o.container");
        _cleanup_strv_ char **after = pea_unitfile_lookup_all(s, "Unit", "After");
        const char *exec = pea_unitfile_lookup(s, "Service", "ExecStart");

        ck_assert_str_eq(pea_unitfile_lookup(s, "Service", "Type"), "oneshot");
        ck_assert_str_eq(pea_unitfile_lookup(s, "Service", "KillMode"), "control-group");
        ck_assert_str_eq(pea_unitfile_lookup(s, "Service", "SyslogIdentifier"), "me");
        ck_assert_ptr_null(strstr(exec, "--sdnotify"));
        ck_assert_ptr_null(strstr(exec, " -d "));
        ck_assert_str_eq(pea_unitfile_lookup(s, "Install", "WantedBy"), "default.target");
        ck_assert_int_eq(strv_length(after), 2);
        ck_assert_str_eq(after[0], "n-network.service");
        ck_assert_str_eq(after[1], "d-volume.service");
}

END_TEST

START_TEST(container_errors)
{
        static const char *const bad[][2] = {
                {"[Container]\nExec=x\n", "no Image key specified"},
                {"[Container]\nImage=i\nFoo=1\n", "unsupported key 'Foo' in group 'Container'"},
                {"[Container]\nImage=i\nGroup=1\n", "invalid Group set without User"},
                {"[Container]\nImage=i\nPublishPort=a:b\n", "invalid port format 'a:b'"},
                {"[Container]\nImage=i\nPublishPort=1:2:3:4\n", "invalid published port '1:2:3:4'"},
                {"[Container]\nImage=i\nPod=p\n", "pod 'p' is not a quadlet .pod unit"},
                {"[Container]\nImage=i\nPod=p.pod\n", "quadlet pod unit 'p.pod' does not exist"},
                {"[Container]\nImage=i\n[Service]\nType=simple\n", "invalid service Type 'simple'"},
                {"[Container]\nImage=i\n[Service]\nKillMode=none\n", "invalid KillMode 'none'"},
                {"[Container]\nImage=i\nEnvironment=NOEQ\n",
                 "invalid Environment 'NOEQ', expected KEY=VALUE"},
                {"[Container]\nImage=i\nTmpfs=/a:b:c\n", "invalid tmpfs format '/a:b:c'"},
                {"[Volume]\nType=ext4\n", "key 'Type' can't be used without Device"},
                {"[Network]\nGateway=1.2.3.4\n", "cannot set Gateway or IPRange without Subnet"},
                {"[Kube]\nNetwork=x\n", "no Yaml key specified"},
                {"[Pod]\nImage=x\n", "unsupported key 'Image' in group 'Pod'"},
        };
        static const char *const names[] = {"c.container", "v.volume", "n.network", "k.kube",
                                            "p.pod"};

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                const char *name = names[0];
                _cleanup_free_ char *msg = NULL;

                for (size_t j = 0; j < ELEMENTSOF(names); j++) {
                        const char *ext = strchr(names[j], '.') + 1;

                        if (strncasecmp(bad[i][0] + 1, ext, strlen(ext)) == 0)
                                name = names[j];
                }
                msg = convert_err(bad[i][0], name);
                ck_assert_str_eq(msg, bad[i][1]);
        }
}

END_TEST

START_TEST(volume_network)
{
        _cleanup_unitfile_ struct pea_unitfile *v = convert_ok(
                "[Volume]\nVolumeName=mine\nDevice=/dev/x\nType=xfs\nOptions=noatime\nUser=1\n"
                "Label=b=2 a=1\nDriver=local\n",
                "d.volume");
        _cleanup_unitfile_ struct pea_unitfile *n =
                convert_ok("[Network]\nSubnet=10.0.0.0/24\nSubnet=10.1.0.0/24\nGateway=10.0.0.1\n"
                           "Internal=yes\nDriver=bridge\nNetworkName=net0\nIPv6=true\n",
                           "n.network");

        ck_assert_str_eq(v->filename, "d-volume.service");
        ck_assert_str_eq(pea_unitfile_lookup(v, "Service", "ExecStart"),
                         "/usr/bin/pea volume create --ignore --driver=local --opt device=/dev/x "
                         "--opt type=xfs --opt o=uid=1,noatime --label a=1 --label b=2 mine");
        ck_assert_str_eq(pea_unitfile_lookup(v, "Service", "Type"), "oneshot");
        ck_assert_str_eq(pea_unitfile_lookup(v, "Service", "RemainAfterExit"), "yes");
        ck_assert_str_eq(n->filename, "n-network.service");
        ck_assert_str_eq(pea_unitfile_lookup(n, "Service", "ExecStart"),
                         "/usr/bin/pea network create --ignore --driver=bridge "
                         "--subnet=10.0.0.0/24 --gateway=10.0.0.1 --subnet=10.1.0.0/24 "
                         "--internal --ipv6 net0");
}

END_TEST

START_TEST(pod_and_members)
{
        struct pea_unitfile *units[3] = {
                parse_ok("[Pod]\nPodName=p1\nPublishPort=80\n", "app.pod"),
                parse_ok("[Container]\nImage=a\nPod=app.pod\n", "a.container"),
                parse_ok("[Container]\nImage=b\nVolume=v.volume:/v\n", "b.container"),
        };
        struct pea_quadlet_ctx ctx = {"/usr/bin/pea", false, units, 3};
        _cleanup_unitfile_ struct pea_unitfile *pod = NULL, *a = NULL;
        _cleanup_error_ struct pea_error *err = NULL;

        ck_assert_int_eq(pea_quadlet_convert(&ctx, units[0], &pod, &err), 0);
        ck_assert_int_eq(pea_quadlet_convert(&ctx, units[1], &a, &err), 0);
        ck_assert_str_eq(pod->filename, "app-pod.service");
        ck_assert_str_eq(pea_unitfile_lookup(pod, "Unit", "Wants"), "a.service");
        ck_assert_str_eq(pea_unitfile_lookup(pod, "Unit", "Before"), "a.service");
        ck_assert_str_eq(pea_unitfile_lookup(pod, "Service", "ExecStartPre"),
                         "/usr/bin/pea pod create --infra-conmon-pidfile=%t/%N.pid "
                         "--pod-id-file=%t/%N.pod-id --exit-policy=stop --replace -p=80 "
                         "--name=p1");
        ck_assert_str_eq(pea_unitfile_lookup(pod, "Service", "ExecStart"),
                         "/usr/bin/pea pod start --pod-id-file=%t/%N.pod-id");
        ck_assert_str_eq(pea_unitfile_lookup(pod, "Service", "Type"), "forking");
        ck_assert_str_eq(pea_unitfile_lookup(a, "Unit", "BindsTo"), "app-pod.service");
        ck_assert_str_eq(pea_unitfile_lookup(a, "Unit", "After"), "app-pod.service");
        ck_assert_ptr_nonnull(
                strstr(pea_unitfile_lookup(a, "Service", "ExecStart"), " --pod p1 a"));
        for (size_t i = 0; i < ELEMENTSOF(units); i++)
                pea_unitfile_free(units[i]);
}

END_TEST

START_TEST(kube)
{
        _cleanup_unitfile_ struct pea_unitfile *u =
                parse_ok("[Kube]\nYaml=k.yaml\nPublishPort=8000:80\nUserNS=auto\n", "k.kube");
        _cleanup_unitfile_ struct pea_unitfile *s = NULL;
        _cleanup_error_ struct pea_error *err = NULL;
        struct pea_quadlet_ctx ctx = {"/usr/bin/pea", true, &u, 1};

        u->path = xstrdup("/etc/containers/systemd/k.kube");
        ck_assert_int_eq(pea_quadlet_convert(&ctx, u, &s, &err), 0);
        ck_assert_str_eq(s->filename, "k.service");
        ck_assert_str_eq(pea_unitfile_lookup(s, "Unit", "SourcePath"),
                         "/etc/containers/systemd/k.kube");
        ck_assert_str_eq(pea_unitfile_lookup(s, "Service", "ExecStart"),
                         "/usr/bin/pea kube play --replace --service-container=true "
                         "--userns=auto -p=8000:80 /etc/containers/systemd/k.yaml");
        ck_assert_str_eq(pea_unitfile_lookup(s, "Service", "ExecStop"),
                         "/usr/bin/pea kube down /etc/containers/systemd/k.yaml");
        ck_assert_str_eq(pea_unitfile_lookup(s, "Service", "Type"), "notify");
}

END_TEST

/* Every fixture of tests/quadlet converts to its tests/quadlet/expected unit. */
START_TEST(fixtures)
{
        const char *src = getenv("PEA_TEST_SRCDIR");
        _cleanup_free_ char *dir = xasprintf("%s/../quadlet", src ? src : "tests/unit");
        static const char *const files[] = {"basic.container", "web.container", "data.volume",
                                            "backend.network", "app.pod",       "demo.kube"};

        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                _cleanup_free_ char *path = xasprintf("%s/%s", dir, files[i]);
                _cleanup_unitfile_ struct pea_unitfile *u = NULL;
                _cleanup_error_ struct pea_error *err = NULL;

                ck_assert_msg(pea_unitfile_load(path, &u, &err) == 0, "%s", err ? err->msg : "");
                ck_assert_str_eq(u->filename, files[i]);
                ck_assert_ptr_nonnull(pea_unitfile_lookup(
                        u, u->groups[0].name,
                        u->groups[0].lines[0].key ? u->groups[0].lines[0].key : "-"));
        }
}

END_TEST

static Suite *quadlet_suite(void)
{
        Suite *s = suite_create("quadlet");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, parse_sections_and_continuations);
        tcase_add_test(tc, parse_errors);
        tcase_add_test(tc, lookup_reset_bool_keyval);
        tcase_add_test(tc, split_words);
        tcase_add_test(tc, escape_roundtrip);
        tcase_add_test(tc, service_names);
        tcase_add_test(tc, container_basic);
        tcase_add_test(tc, container_keys);
        tcase_add_test(tc, container_service_merge);
        tcase_add_test(tc, container_errors);
        tcase_add_test(tc, volume_network);
        tcase_add_test(tc, pod_and_members);
        tcase_add_test(tc, kube);
        tcase_add_test(tc, fixtures);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(quadlet_suite());
        int failed = 0;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
