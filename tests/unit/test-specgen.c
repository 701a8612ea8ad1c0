/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>

#include <check.h>

#include "base.h"
#include "image/image.h"
#include "runtime/specgen.h"

#define ID        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ALL_CAPS  ((2ull << 40) - 1)
#define NO_SYSRES (ALL_CAPS & ~(1ull << 24))
#define DEF_CAPS                                                                                  \
        "[\"CAP_CHOWN\",\"CAP_DAC_OVERRIDE\",\"CAP_FOWNER\",\"CAP_FSETID\",\"CAP_KILL\","         \
        "\"CAP_NET_BIND_SERVICE\",\"CAP_SETFCAP\",\"CAP_SETGID\",\"CAP_SETPCAP\",\"CAP_SETUID\"," \
        "\"CAP_SYS_CHROOT\"]"

static char tmpdir[64];
static char rootfs[128];

static char *write_file(const char *name, const char *text)
{
        _cleanup_error_ struct pea_error *err = NULL;
        char *p = xasprintf("%s/%s", tmpdir, name);
        _cleanup_free_ char *dir = xstrdup(p);
        *strrchr(dir, '/') = '\0';
        ck_assert_int_eq(pea_mkdir_p(dir, 0755, &err), 0);
        ck_assert_int_eq(pea_write_file_atomic_at(AT_FDCWD, p, text, strlen(text), 0644, &err), 0);
        return p;
}

static void setup(void)
{
        snprintf(tmpdir, sizeof(tmpdir), "/tmp/pea-test-specgen-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(tmpdir));
        snprintf(rootfs, sizeof(rootfs), "%s/rootfs", tmpdir);
        free(write_file("rootfs/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"
                                             "# a comment\n"
                                             "bob:x:1000:1000::/home/bob:/bin/sh\n"
                                             "alice:x:1001:1001::/home/alice:/bin/sh\n"));
        free(write_file("rootfs/etc/group", "root:x:0:root\nwheel:x:10:root,bob\n"
                                            "bob:x:1000:\nusers:x:100:bob,alice\n"));
}

static void teardown(void)
{
        _cleanup_error_ struct pea_error *err = NULL;
        (void)pea_rm_rf(tmpdir, &err);
}

/* Options every test starts from: root, cgroup v1, all caps available, amd64. */
static struct pea_spec_opts opts(void)
{
        static char *cmd[] = {"/bin/true", NULL};
        return (struct pea_spec_opts){.rootfs = rootfs,
                                      .id = ID,
                                      .command = cmd,
                                      .cgroup_version = 1,
                                      .cap_bounding = ALL_CAPS,
                                      .arch = "amd64",
                                      .host_env = (char *[]){NULL}};
}

static json_t *gen(const struct pea_spec_opts *o)
{
        _cleanup_error_ struct pea_error *err = NULL;
        json_t *spec = NULL;
        int r = pea_spec_generate(o, &spec, &err);
        ck_assert_msg(r == 0, "generate failed: %s", err ? err->msg : "?");
        return spec;
}

/* The error message of a failing generate. */
static char *gen_err(const struct pea_spec_opts *o)
{
        _cleanup_error_ struct pea_error *err = NULL;
        json_t *spec = NULL;
        ck_assert_int_lt(pea_spec_generate(o, &spec, &err), 0);
        ck_assert_ptr_null(spec);
        return xstrdup(err->msg);
}

static void assert_json(json_t *j, const char *expected)
{
        _cleanup_json_ json_t *e = json_loads(expected, JSON_DECODE_ANY, NULL);
        ck_assert_msg(e, "bad expected json %s", expected);
        _cleanup_free_ char *got = pea_json_dumps(j, 0);
        ck_assert_msg(json_equal(j, e), "got %s, expected %s", got, expected);
}

static void assert_json_eq(json_t *j, json_t *e)
{
        _cleanup_free_ char *got = pea_json_dumps(j, 0), *want = pea_json_dumps(e, 0);
        ck_assert_msg(json_equal(j, e), "got %s, expected %s", got, want);
}

static void assert_path(json_t *spec, const char *path, const char *expected)
{
        json_t *j = pea_json_path(spec, path);
        ck_assert_msg(j != NULL, "%s missing", path);
        assert_json(j, expected);
}

static json_t *mount_at(json_t *spec, const char *dest)
{
        size_t i;
        json_t *m;
        json_array_foreach(json_object_get(spec, "mounts"), i, m)
                if (streq(json_string_value(json_object_get(m, "destination")), dest))
                        return m;
        return NULL;
}

static bool strv_json_has(json_t *a, const char *s)
{
        size_t i;
        json_t *x;
        json_array_foreach(a, i, x)
                if (streq(json_string_value(x), s))
                        return true;
        return false;
}

#define ERR_IS(o, msg)                                \
        do {                                          \
                _cleanup_free_ char *_m = gen_err(o); \
                ck_assert_str_eq(_m, msg);            \
        } while (0)

/* ---- capabilities -------------------------------------------------------- */

START_TEST(caps_default)
{
        struct pea_spec_opts o = opts();
        _cleanup_json_ json_t *s = gen(&o);
        assert_path(s, "process.capabilities.bounding", DEF_CAPS);
        assert_path(s, "process.capabilities.effective", DEF_CAPS);
        assert_path(s, "process.capabilities.permitted", DEF_CAPS);
        assert_path(s, "process.capabilities.inheritable", "[]");
        assert_path(s, "process.capabilities.ambient", "[]");
        assert_path(s, "process.noNewPrivileges", "false");
}

END_TEST

START_TEST(caps_add_drop)
{
        struct pea_spec_opts o = opts();
        o.cap_add = (char *[]){"net_admin", "CAP_sys_admin", NULL};
        o.cap_drop = (char *[]){"chown", "CAP_KILL", "setpcap", NULL};
        _cleanup_json_ json_t *s = gen(&o);
        assert_path(s, "process.capabilities.bounding",
                    "[\"CAP_DAC_OVERRIDE\",\"CAP_FOWNER\",\"CAP_FSETID\",\"CAP_NET_ADMIN\","
                    "\"CAP_NET_BIND_SERVICE\",\"CAP_SETFCAP\",\"CAP_SETGID\",\"CAP_SETUID\","
                    "\"CAP_SYS_ADMIN\",\"CAP_SYS_CHROOT\"]");
        /* ALL is the bounding set pea may use (here: without CAP_SYS_RESOURCE). */
        o = opts();
        o.cap_bounding = NO_SYSRES;
        o.cap_add = (char *[]){"all", NULL};
        o.cap_drop = (char *[]){"mknod", NULL};
        _cleanup_json_ json_t *s2 = gen(&o);
        json_t *b = pea_json_path(s2, "process.capabilities.bounding");
        ck_assert_int_eq(json_array_size(b), 39);
        ck_assert(!strv_json_has(b, "CAP_SYS_RESOURCE") && !strv_json_has(b, "CAP_MKNOD"));
        ck_assert(strv_json_has(b, "CAP_CHECKPOINT_RESTORE") && strv_json_has(b, "CAP_BPF"));
        o = opts();
        o.cap_drop = (char *[]){"ALL", NULL};
        o.cap_add = (char *[]){"kill", NULL};
        _cleanup_json_ json_t *s3 = gen(&o);
        assert_path(s3, "process.capabilities.bounding", "[\"CAP_KILL\"]");
        o.cap_add = NULL;
        _cleanup_json_ json_t *s4 = gen(&o);
        assert_path(s4, "process.capabilities.effective", "[]");
}

END_TEST

START_TEST(caps_errors)
{
        struct pea_spec_opts o = opts();
        o.cap_add = (char *[]){"foo", NULL};
        ERR_IS(&o, "unknown capability \"CAP_FOO\"");
        o.cap_add = (char *[]){"cap_bar", NULL};
        ERR_IS(&o, "unknown capability \"CAP_BAR\"");
        o.cap_add = (char *[]){"ALL", NULL};
        o.cap_drop = (char *[]){"all", NULL};
        ERR_IS(&o, "adding all caps and removing all caps not allowed");
        o.cap_add = (char *[]){"NET_RAW", NULL};
        o.cap_drop = (char *[]){"net_raw", NULL};
        ERR_IS(&o, "capability \"CAP_NET_RAW\" cannot be dropped and added");
        ck_assert_int_eq(pea_spec_cap_from_name("Sys_Admin"), 21);
        ck_assert_str_eq(pea_spec_cap_to_name(40), "CAP_CHECKPOINT_RESTORE");
}

END_TEST

START_TEST(caps_non_root_user)
{
        struct pea_spec_opts o = opts();
        o.user = "bob";
        _cleanup_json_ json_t *s = gen(&o);
        assert_path(s, "process.capabilities.bounding", DEF_CAPS);
        assert_path(s, "process.capabilities.effective", "[]");
        assert_path(s, "process.capabilities.permitted", "[]");
        o.cap_add = (char *[]){"NET_ADMIN", NULL};
        _cleanup_json_ json_t *s2 = gen(&o);
        assert_path(s2, "process.capabilities.effective", "[\"CAP_NET_ADMIN\"]");
        assert_path(s2, "process.capabilities.permitted", "[\"CAP_NET_ADMIN\"]");
        assert_path(s2, "process.capabilities.ambient", "[\"CAP_NET_ADMIN\"]");
        /* "root:wheel" and "0" are root. */
        o.user = "root:wheel";
        _cleanup_json_ json_t *s3 = gen(&o);
        ck_assert_int_eq(json_array_size(pea_json_path(s3, "process.capabilities.effective")), 12);
}

END_TEST

START_TEST(privileged)
{
        struct pea_spec_opts o = opts();
        o.privileged = true;
        o.cap_bounding = NO_SYSRES;
        _cleanup_json_ json_t *s = gen(&o);
        json_t *b = pea_json_path(s, "process.capabilities.bounding");
        ck_assert_int_eq(json_array_size(b), 40);
        ck_assert(!strv_json_has(b, "CAP_SYS_RESOURCE"));
        assert_json_eq(pea_json_path(s, "process.capabilities.effective"), b);
        ck_assert_ptr_null(pea_json_path(s, "linux.seccomp"));
        assert_path(s, "linux.maskedPaths", "[]");
        assert_path(s, "linux.readonlyPaths", "[]");
        assert_json(json_object_get(mount_at(s, "/sys"), "options"),
                    "[\"rprivate\",\"nosuid\",\"noexec\",\"nodev\",\"rw\"]");
        ck_assert(strv_json_has(json_object_get(mount_at(s, "/sys/fs/cgroup"), "options"), "rw"));
        assert_path(s, "linux.resources.devices", "[{\"allow\":true,\"access\":\"rwm\"}]");
}

END_TEST

/* ---- command ------------------------------------------------------------- */

static char *img_ep[] = {"/ep", "-x", NULL};
static char *img_cmd[] = {"c1", "c2", NULL};
static char *empty_ep[] = {"", NULL};
static char *cmd_ls[] = {"ls", "-l", NULL};

static const struct {
        char **ep, **cmd;    /* the image's */
        const char *user_ep; /* --entrypoint */
        char **command;
        const char *expected; /* JSON, or an error */
} cmd_table[] = {
        {img_ep, img_cmd, NULL, NULL, "[\"/ep\",\"-x\",\"c1\",\"c2\"]"},
        {img_ep, img_cmd, NULL, cmd_ls, "[\"/ep\",\"-x\",\"ls\",\"-l\"]"},
        {img_ep, img_cmd, "/bin/sh", NULL, "[\"/bin/sh\"]"},
        {img_ep, img_cmd, "/bin/sh", cmd_ls, "[\"/bin/sh\",\"ls\",\"-l\"]"},
        {img_ep, img_cmd, "[\"/bin/sh\",\"-c\"]", cmd_ls, "[\"/bin/sh\",\"-c\",\"ls\",\"-l\"]"},
        {img_ep, img_cmd, "[]", NULL, "[\"c1\",\"c2\"]"},
        {img_ep, img_cmd, "", cmd_ls, "[\"ls\",\"-l\"]"},
        {img_ep, img_cmd, "", NULL,
         "!no command or entrypoint provided, and no CMD or "
         "ENTRYPOINT from image"},
        {NULL, img_cmd, NULL, NULL, "[\"c1\",\"c2\"]"},
        {NULL, img_cmd, NULL, cmd_ls, "[\"ls\",\"-l\"]"},
        {empty_ep, img_cmd, NULL, NULL, "[\"c1\",\"c2\"]"},
        {NULL, NULL, NULL, NULL,
         "!no command or entrypoint provided, and no CMD or "
         "ENTRYPOINT from image"},
        {NULL, NULL, "[\"a b\"]", NULL, "[\"a b\"]"},
};

START_TEST(command_table)
{
        struct pea_image_config img = {.entrypoint = cmd_table[_i].ep, .cmd = cmd_table[_i].cmd};
        struct pea_spec_opts o = opts();
        o.image = &img;
        o.entrypoint = cmd_table[_i].user_ep;
        o.command = cmd_table[_i].command;
        const char *exp = cmd_table[_i].expected;
        if (exp[0] == '!') {
                ERR_IS(&o, exp + 1);
                return;
        }
        _cleanup_json_ json_t *s = gen(&o);
        assert_path(s, "process.args", exp);
}

END_TEST

START_TEST(init_binary)
{
        struct pea_spec_opts o = opts();
        o.init = true;
        o.init_path = "/bin/sh";
        _cleanup_json_ json_t *s = gen(&o);
        assert_path(s, "process.args", "[\"/run/pea-init\",\"--\",\"/bin/true\"]");
        json_t *m = mount_at(s, "/run/pea-init");
        ck_assert_ptr_nonnull(m);
        ck_assert_str_eq(json_string_value(json_object_get(m, "source")), "/bin/sh");
        ck_assert(strv_json_has(json_object_get(m, "options"), "ro"));
}

END_TEST

/* ---- environment, user, cwd ---------------------------------------------- */

START_TEST(env_merge)
{
        struct pea_image_config img = {.env = (char *[]){"A=1", "PATH=/img", "bad", NULL}};
        struct pea_spec_opts o = opts();
        _cleanup_free_ char *f = write_file("env", "# comment\n\n  C=3\nD=4 with spaces\n"
                                                   "A=fromfile\nHOSTKEY\n");
        o.image = &img;
        o.terminal = true;
        o.user = "bob";
        o.env_files = (char *[]){f, NULL};
        o.env = (char *[]){"B=2", "A=override", "MISSING", "PFX_*", "E=", NULL};
        o.host_env = (char *[]){"HOSTKEY=hv", "PFX_A=1", "PFX_B=x=y", "OTHER=1", NULL};
        _cleanup_json_ json_t *s = gen(&o);
        assert_path(s, "process.env",
                    "[\"A=override\",\"PATH=/img\",\"container=pea\",\"TERM=xterm\",\"C=3\","
                    "\"D=4 with spaces\",\"HOSTKEY=hv\",\"B=2\",\"PFX_A=1\",\"PFX_B=x=y\",\"E=\","
                    "\"HOSTNAME=0123456789ab\",\"HOME=/home/bob\"]");
        o = opts();
        o.hostname = "box";
        _cleanup_json_ json_t *s2 = gen(&o);
        assert_path(s2, "process.env",
                    "[\"PATH=" PEA_SPEC_DEFAULT_PATH "\",\"container=pea\",\"HOSTNAME=box\","
                    "\"HOME=/root\"]");
        assert_path(s2, "hostname", "\"box\"");
        o.env = (char *[]){"=A", NULL};
        ERR_IS(&o, "invalid environment variable: '=A'");
        o.env = (char *[]){"A B=1", NULL};
        ERR_IS(&o, "name 'A B' has white spaces, poorly formatted name");
}

END_TEST

static const struct {
        const char *spec;
        unsigned uid, gid;
        const char *home, *groups, *error;
} user_table[] = {
        {"", 0, 0, "/root", "[0,10]", NULL},
        {"bob", 1000, 1000, "/home/bob", "[10,100]", NULL},
        {"1001", 1001, 1001, "/home/alice", "[100]", NULL},
        {"1000:100", 1000, 100, "/home/bob", "[]", NULL},
        {"bob:wheel", 1000, 10, "/home/bob", "[]", NULL},
        {"5000", 5000, 0, "/", "[]", NULL},
        {"5000:5001", 5000, 5001, "/", "[]", NULL},
        {"carol", 0, 0, NULL, NULL,
         "unable to find user carol: no matching entries in passwd file"},
        {"bob:nogroup", 0, 0, NULL, NULL,
         "unable to find group nogroup: no matching entries in group file"},
        {"9999999999", 0, 0, NULL, NULL, "uids and gids must be in range 0-2147483647"},
};

START_TEST(user_resolve)
{
        _cleanup_error_ struct pea_error *err = NULL;
        struct pea_userdb_user u = {0};
        int r = pea_userdb_resolve_path(rootfs, user_table[_i].spec, &u, &err);
        if (user_table[_i].error) {
                ck_assert_int_lt(r, 0);
                ck_assert_str_eq(err->msg, user_table[_i].error);
                return;
        }
        ck_assert_int_eq(r, 0);
        ck_assert_uint_eq(u.uid, user_table[_i].uid);
        ck_assert_uint_eq(u.gid, user_table[_i].gid);
        ck_assert_str_eq(u.home, user_table[_i].home);
        _cleanup_json_ json_t *g = json_array();
        for (size_t i = 0; i < u.n_additional_gids; i++)
                json_array_append_new(g, json_integer(u.additional_gids[i]));
        assert_json(g, user_table[_i].groups);
        pea_userdb_user_done(&u);
}

END_TEST

START_TEST(user_in_spec)
{
        struct pea_image_config img = {.user = "alice", .working_dir = "app/../srv"};
        struct pea_spec_opts o = opts();
        o.image = &img;
        _cleanup_json_ json_t *s = gen(&o);
        assert_path(s, "process.user",
                    "{\"uid\":1001,\"gid\":1001,\"umask\":18,"
                    "\"additionalGids\":[100]}");
        assert_path(s, "process.cwd", "\"/srv\"");
        o.user = "bob";
        o.workdir = "/data";
        o.umask = "0077";
        _cleanup_json_ json_t *s2 = gen(&o);
        assert_path(s2, "process.user",
                    "{\"uid\":1000,\"gid\":1000,\"umask\":63,"
                    "\"additionalGids\":[10,100]}");
        assert_path(s2, "process.cwd", "\"/data\"");
        /* The brief's example: no bob in this rootfs. */
        free(write_file("rootfs/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"));
        ERR_IS(&o, "unable to find user bob: no matching entries in passwd file");
        o.user = NULL;
        o.image = NULL;
        o.workdir = "rel";
        ERR_IS(&o, "invalid --workdir 'rel': must be an absolute path");
}

END_TEST

/* Symlinks in the image resolve inside the rootfs, never on the host. */
START_TEST(user_symlink_in_root)
{
        _cleanup_error_ struct pea_error *err = NULL;
        char *fake = write_file("rootfs/host/passwd", "inside:x:4242:4242::/in:/bin/sh\n");
        free(fake);
        _cleanup_free_ char *p = xasprintf("%s/etc/passwd", rootfs);
        ck_assert_int_eq(unlink(p), 0);
        ck_assert_int_eq(symlink("/../../../host/passwd", p), 0);
        struct pea_userdb_user u = {0};
        ck_assert_int_eq(pea_userdb_resolve_path(rootfs, "inside", &u, &err), 0);
        ck_assert_uint_eq(u.uid, 4242);
        pea_userdb_user_done(&u);
        /* Without openat2 no symlink is followed at all. */
        setenv("PEA_NO_OPENAT2", "1", 1);
        ck_assert_int_eq(pea_userdb_resolve_path(rootfs, "inside", &u, &err), -ELOOP);
        unsetenv("PEA_NO_OPENAT2");
}

END_TEST

/* ---- user namespaces ----------------------------------------------------- */

START_TEST(keep_id)
{
        struct pea_spec_opts o = opts();
        o.rootless = true;
        o.userns = "keep-id";
        o.rootless_uid = 1000;
        o.rootless_gid = 1000;
        o.outer_uids = o.outer_gids = 65537;
        _cleanup_json_ json_t *s = gen(&o);
        const char *map = "[{\"containerID\":0,\"hostID\":1,\"size\":1000},"
                          "{\"containerID\":1000,\"hostID\":0,\"size\":1},"
                          "{\"containerID\":1001,\"hostID\":1001,\"size\":64536}]";
        assert_path(s, "linux.uidMappings", map);
        assert_path(s, "linux.gidMappings", map);
        assert_path(s, "process.user", "{\"uid\":1000,\"gid\":1000,\"umask\":18}");
        json_t *ns = pea_json_path(s, "linux.namespaces");
        assert_json(json_array_get(ns, json_array_size(ns) - 1), "{\"type\":\"user\"}");
        assert_path(s, "process.capabilities.effective", "[]");
        ck_assert_ptr_null(pea_json_path(s, "process.rlimits"));
        /* Without subordinate ids, and for uid 0. */
        o.outer_uids = 1;
        o.rootless_gid = 0;
        _cleanup_json_ json_t *s2 = gen(&o);
        assert_path(s2, "linux.uidMappings", "[{\"containerID\":1000,\"hostID\":0,\"size\":1}]");
        assert_path(s2, "linux.gidMappings",
                    "[{\"containerID\":0,\"hostID\":0,\"size\":1},"
                    "{\"containerID\":1,\"hostID\":1,\"size\":65536}]");
        o.rootless = false;
        ERR_IS(&o, "keep-id is only supported in rootless mode");
}

END_TEST

/* ---- mounts -------------------------------------------------------------- */

/* The nosuid/nodev/noexec a bind of source inherits. */
static json_t *bind_opts(const char *source, const char *first)
{
        struct statvfs sv;
        ck_assert_int_eq(statvfs(source, &sv), 0);
        _cleanup_json_ json_t *a = json_loads(first, 0, NULL);
        json_t *out = json_deep_copy(a);
        if (sv.f_flag & ST_NOEXEC)
                json_array_append_new(out, json_string("noexec"));
        if (sv.f_flag & ST_NOSUID)
                json_array_append_new(out, json_string("nosuid"));
        if (sv.f_flag & ST_NODEV)
                json_array_append_new(out, json_string("nodev"));
        return out;
}

START_TEST(default_mounts)
{
        struct pea_spec_opts o = opts();
        _cleanup_free_ char *hosts = write_file("hosts", "127.0.0.1 localhost\n");
        o.hosts_path = hosts;
        o.resolv_path = hosts;
        _cleanup_json_ json_t *s = gen(&o);
        const char *order[] = {"/proc",         "/dev",     "/sys",       "/dev/pts",
                               "/dev/mqueue",   "/dev/shm", "/etc/hosts", "/etc/resolv.conf",
                               "/sys/fs/cgroup"};
        json_t *m = json_object_get(s, "mounts");
        ck_assert_int_eq(json_array_size(m), ELEMENTSOF(order));
        for (size_t i = 0; i < ELEMENTSOF(order); i++)
                ck_assert_str_eq(pea_json_path_string(json_array_get(m, i), "destination", ""),
                                 order[i]);
        assert_json(mount_at(s, "/dev/pts"),
                    "{\"destination\":\"/dev/pts\",\"type\":\"devpts\",\"source\":\"devpts\","
                    "\"options\":[\"nosuid\",\"noexec\",\"newinstance\",\"ptmxmode=0666\","
                    "\"mode=0620\",\"gid=5\"]}");
        assert_json(json_object_get(mount_at(s, "/dev/shm"), "options"),
                    "[\"nosuid\",\"noexec\",\"nodev\",\"mode=1777\",\"size=67108864\"]");
        _cleanup_json_ json_t *e = bind_opts(hosts, "[\"bind\",\"rprivate\",\"rw\"]");
        assert_json_eq(json_object_get(mount_at(s, "/etc/hosts"), "options"), e);
        /* Rootless on cgroup v1: no cgroup mount, and gid=5 needs 5 gids. */
        o.rootless = true;
        o.outer_gids = 3;
        _cleanup_json_ json_t *s2 = gen(&o);
        ck_assert_ptr_null(mount_at(s2, "/sys/fs/cgroup"));
        ck_assert(!strv_json_has(json_object_get(mount_at(s2, "/dev/pts"), "options"), "gid=5"));
        ck_assert_ptr_null(pea_json_path(s2, "linux.resources"));
}

END_TEST

START_TEST(volumes_and_tmpfs)
{
        struct pea_spec_opts o = opts();
        _cleanup_free_ char *v1 = xasprintf("%s:/data//x/:ro,z,U", tmpdir);
        _cleanup_free_ char *v2 = xasprintf("%s:/etc/hosts:rshared,noexec", tmpdir);
        _cleanup_free_ char *hosts = write_file("hosts", "");
        o.volumes = (char *[]){v1, v2, NULL};
        o.tmpfs = (char *[]){"/scratch:size=64m,mode=1777", "/dev/shm:exec,notmpcopyup", NULL};
        o.hosts_path = hosts;
        _cleanup_json_ json_t *s = gen(&o);
        json_t *m = mount_at(s, "/data/x");
        ck_assert_ptr_nonnull(m);
        ck_assert_str_eq(pea_json_path_string(m, "type", ""), "bind");
        ck_assert_str_eq(pea_json_path_string(m, "source", ""), tmpdir);
        _cleanup_json_ json_t *e = bind_opts(tmpdir, "[\"ro\",\"rprivate\"]");
        json_array_append_new(e, json_string("rbind"));
        assert_json_eq(json_object_get(m, "options"), e);
        /* The user's /etc/hosts supersedes --hosts' file. */
        ck_assert_str_eq(pea_json_path_string(mount_at(s, "/etc/hosts"), "source", ""), tmpdir);
        assert_json(json_object_get(mount_at(s, "/scratch"), "options"),
                    "[\"size=64m\",\"mode=1777\",\"rw\",\"rprivate\",\"noexec\",\"nosuid\","
                    "\"nodev\",\"tmpcopyup\"]");
        assert_json(mount_at(s, "/dev/shm"),
                    "{\"destination\":\"/dev/shm\",\"type\":\"tmpfs\",\"source\":\"tmpfs\","
                    "\"options\":[\"exec\",\"rw\",\"rprivate\",\"nosuid\",\"nodev\"]}");
        struct pea_spec_volume v = {0};
        _cleanup_error_ struct pea_error *err = NULL;
        ck_assert_int_eq(pea_spec_parse_volume("myvol:/d:U,nocopy", &v, &err), 0);
        ck_assert(v.named && v.chown);
        ck_assert_str_eq(v.source, "myvol");
        pea_spec_volume_done(&v);
}

END_TEST

static const struct {
        const char *volume, *tmpfs, *error;
} mount_errors[] = {
        {"/tmp:rel", NULL, "invalid container path 'rel', must be an absolute path"},
        {"/tmp:/a:ro,rw", NULL, "only one of 'rw' and 'ro' can be used"},
        {"/tmp:/a:foo", NULL, "invalid option type 'foo'"},
        {"/tmp:/a:size=1m", NULL, "the 'size=1m' option is only allowed with tmpfs mounts"},
        {"/tmp:/a:ro:x", NULL,
         "incorrect volume format '/tmp:/a:ro:x', should be "
         "[host-dir:]ctr-dir[:option]"},
        {"/nonexistent-pea:/a", NULL, "stat '/nonexistent-pea': No such file or directory"},
        {":/a", NULL, "host directory cannot be empty"},
        {"vol:/a", NULL,
         "volume 'vol:/a': named and anonymous volumes must be resolved to a "
         "host path first"},
        {"/tmp:/a", "/a", "'/a': duplicate mount destination"},
        {NULL, "/t:bind", "the 'bind' option is only allowed with bind mounts"},
        {NULL, "/t:foo", "unknown mount option 'foo': invalid mount option"},
        {NULL, "/t:size=1,size=2", "only one tmpfs size can be specified"},
        {NULL, "t", "invalid container path 't', must be an absolute path"},
};

START_TEST(mount_errors_table)
{
        struct pea_spec_opts o = opts();
        char *v[] = {(char *)mount_errors[_i].volume, NULL};
        char *t[] = {(char *)mount_errors[_i].tmpfs, NULL};
        o.volumes = v;
        o.tmpfs = t;
        ERR_IS(&o, mount_errors[_i].error);
}

END_TEST

START_TEST(read_only)
{
        struct pea_spec_opts o = opts();
        _cleanup_free_ char *hosts = write_file("hosts", "");
        o.read_only = true;
        o.hosts_path = hosts;
        o.tmpfs = (char *[]){"/tmp:size=1m", NULL};
        _cleanup_json_ json_t *s = gen(&o);
        assert_path(s, "root.readonly", "true");
        assert_json(json_object_get(mount_at(s, "/run"), "options"),
                    "[\"rw\",\"rprivate\",\"nosuid\",\"nodev\",\"tmpcopyup\"]");
        ck_assert_ptr_nonnull(mount_at(s, "/var/tmp"));
        ck_assert(strv_json_has(json_object_get(mount_at(s, "/tmp"), "options"), "size=1m"));
        assert_json(json_object_get(mount_at(s, "/etc/hosts"), "options"),
                    "[\"bind\",\"rprivate\",\"ro\",\"nosuid\",\"noexec\",\"nodev\"]");
        o.no_read_only_tmpfs = true;
        _cleanup_json_ json_t *s2 = gen(&o);
        ck_assert_ptr_null(mount_at(s2, "/run"));
}

END_TEST

/* ---- sizes and ulimits --------------------------------------------------- */

static const struct {
        const char *in;
        uint64_t out;
} size_table[] = {
        {"64m", 67108864}, {"1g", 1073741824},  {"1024", 1024},
        {"1.5k", 1536},    {"64MiB", 67108864}, {"64 mb", 67108864},
        {"2B", 2},         {"1T", 1ull << 40},  {"", 0},
        {"m", 0},          {"64x", 0},          {"-1", 0},
        {"1.2.3", 0},      {"1e3", 0},          {"0x10", 0},
};

START_TEST(sizes)
{
        _cleanup_error_ struct pea_error *err = NULL;
        uint64_t v = 0;
        int r = pea_spec_parse_size(size_table[_i].in, &v, &err);
        if (size_table[_i].out == 0) {
                ck_assert_int_eq(r, -EINVAL);
                _cleanup_free_ char *m = xasprintf("invalid size: '%s'", size_table[_i].in);
                ck_assert_str_eq(err->msg, m);
                return;
        }
        ck_assert_int_eq(r, 0);
        ck_assert_uint_eq(v, size_table[_i].out);
}

END_TEST

START_TEST(shm_size)
{
        struct pea_spec_opts o = opts();
        o.shm_size = "1g";
        _cleanup_json_ json_t *s = gen(&o);
        ck_assert(strv_json_has(json_object_get(mount_at(s, "/dev/shm"), "options"),
                                "size=1073741824"));
        o.shm_size = "0";
        ERR_IS(&o, "invalid --shm-size '0': must be greater than 0");
        o.shm_size = "lots";
        ERR_IS(&o, "invalid size: 'lots'");
}

END_TEST

static const struct {
        const char *in;
        const char *type;
        uint64_t soft, hard;
        const char *error;
} ulimit_table[] = {
        {"nofile=1024:2048", "RLIMIT_NOFILE", 1024, 2048, NULL},
        {"nproc=50", "RLIMIT_NPROC", 50, 50, NULL},
        {"core=-1", "RLIMIT_CORE", UINT64_MAX, UINT64_MAX, NULL},
        {"memlock=1:unlimited", "RLIMIT_MEMLOCK", 1, UINT64_MAX, NULL},
        {"nofile", NULL, 0, 0, "invalid --ulimit format 'nofile': expected name=soft[:hard]"},
        {"nofile=1:2:3", NULL, 0, 0,
         "invalid --ulimit format 'nofile=1:2:3': expected name=soft[:hard]"},
        {"nofile=a", NULL, 0, 0, "invalid --ulimit format 'nofile=a': expected name=soft[:hard]"},
        {"foo=1", NULL, 0, 0, "invalid --ulimit type 'foo'"},
        {"nofile=2:1", NULL, 0, 0,
         "ulimit soft limit must be less than or equal to hard limit: "
         "2 > 1"},
        {"nofile=-1:5", NULL, 0, 0,
         "ulimit soft limit must be less than or equal to hard "
         "limit: -1 > 5"},
};

START_TEST(ulimits)
{
        _cleanup_error_ struct pea_error *err = NULL;
        struct pea_spec_rlimit rl = {0};
        int r = pea_spec_parse_ulimit(ulimit_table[_i].in, &rl, &err);
        if (ulimit_table[_i].error) {
                ck_assert_int_eq(r, -EINVAL);
                ck_assert_str_eq(err->msg, ulimit_table[_i].error);
                return;
        }
        ck_assert_int_eq(r, 0);
        ck_assert_str_eq(rl.type, ulimit_table[_i].type);
        ck_assert_uint_eq(rl.soft, ulimit_table[_i].soft);
        ck_assert_uint_eq(rl.hard, ulimit_table[_i].hard);
}

END_TEST

static uint64_t clamp_hard(int resource, uint64_t def)
{
        struct rlimit rl;
        ck_assert_int_eq(getrlimit(resource, &rl), 0);
        return rl.rlim_max != RLIM_INFINITY && rl.rlim_max < def ? rl.rlim_max : def;
}

START_TEST(rlimits_in_spec)
{
        struct pea_spec_opts o = opts();
        _cleanup_json_ json_t *s = gen(&o);
        _cleanup_free_ char *exp =
                xasprintf("[{\"type\":\"RLIMIT_NOFILE\",\"hard\":%llu,\"soft\":%llu},"
                          "{\"type\":\"RLIMIT_NPROC\",\"hard\":%llu,\"soft\":%llu}]",
                          (unsigned long long)clamp_hard(RLIMIT_NOFILE, 1048576),
                          (unsigned long long)clamp_hard(RLIMIT_NOFILE, 1048576),
                          (unsigned long long)clamp_hard(RLIMIT_NPROC, 4194304),
                          (unsigned long long)clamp_hard(RLIMIT_NPROC, 4194304));
        assert_path(s, "process.rlimits", exp);
        o.ulimits = (char *[]){"nproc=10:20", "core=-1", NULL};
        o.rootless = true;
        _cleanup_json_ json_t *s2 = gen(&o);
        assert_path(s2, "process.rlimits",
                    "[{\"type\":\"RLIMIT_NPROC\",\"hard\":20,\"soft\":10},"
                    "{\"type\":\"RLIMIT_CORE\",\"hard\":-1,\"soft\":-1}]");
        /* config.json has uint64 max, and reads back. */
        _cleanup_error_ struct pea_error *err = NULL;
        ck_assert_int_eq(pea_spec_write(tmpdir, s2, &err), 0);
        _cleanup_free_ char *path = xasprintf("%s/config.json", tmpdir), *text = NULL;
        ck_assert_int_eq(pea_read_file_at(AT_FDCWD, path, 1 << 22, &text, NULL, &err), 0);
        ck_assert_ptr_nonnull(strstr(text, "\"hard\": 18446744073709551615"));
        struct stat st;
        ck_assert_int_eq(stat(path, &st), 0);
        ck_assert_uint_eq(st.st_mode & 0777, 0600);
        _cleanup_json_ json_t *back = NULL;
        ck_assert_int_eq(pea_spec_read(tmpdir, &back, &err), 0);
        ck_assert(json_equal(back, s2));
}

END_TEST

/* ---- namespaces and paths ------------------------------------------------ */

static bool has_ns(json_t *s, const char *type, const char *path)
{
        size_t i;
        json_t *n;
        json_array_foreach(pea_json_path(s, "linux.namespaces"), i, n)
                if (streq(pea_json_path_string(n, "type", ""), type))
                        return streq_ptr(json_string_value(json_object_get(n, "path")), path);
        return false;
}

START_TEST(namespaces)
{
        struct pea_spec_opts o = opts();
        o.network = "none";
        _cleanup_json_ json_t *s = gen(&o);
        assert_path(s, "linux.namespaces",
                    "[{\"type\":\"pid\"},{\"type\":\"network\"},"
                    "{\"type\":\"ipc\"},{\"type\":\"uts\"},"
                    "{\"type\":\"mount\"}]");
        assert_path(s, "linux.sysctl", "{\"net.ipv4.ping_group_range\":\"0 0\"}");
        o.network = "host";
        o.pid = "ns:/proc/1/ns/pid";
        o.ipc = "host";
        o.uts = "host";
        o.cgroup_version = 2;
        _cleanup_json_ json_t *s2 = gen(&o);
        assert_path(s2, "linux.namespaces",
                    "[{\"type\":\"pid\",\"path\":\"/proc/1/ns/pid\"},"
                    "{\"type\":\"mount\"},{\"type\":\"cgroup\"}]");
        ck_assert_ptr_null(pea_json_path(s2, "linux.sysctl"));
        ck_assert_ptr_null(json_object_get(s2, "hostname"));
        ck_assert_str_eq(pea_json_path_string(mount_at(s2, "/dev/shm"), "source", ""), "/dev/shm");
        ck_assert_str_eq(pea_json_path_string(mount_at(s2, "/sys"), "type", ""), "sysfs");
        o.hostname = "h";
        ERR_IS(&o, "cannot set hostname when running in the host UTS namespace");
        o.network = "bogus";
        ERR_IS(&o, "unrecognized namespace mode 'bogus' passed to --network");
        /* Rootless in the host netns: /sys is a bind, /sys/kernel masked. */
        o = opts();
        o.rootless = true;
        o.network = "host";
        o.pid = "host";
        o.ipc = "none";
        _cleanup_json_ json_t *s3 = gen(&o);
        ck_assert(has_ns(s3, "ipc", NULL) && !has_ns(s3, "network", NULL));
        ck_assert_str_eq(pea_json_path_string(mount_at(s3, "/sys"), "type", ""), "bind");
        ck_assert_str_eq(pea_json_path_string(mount_at(s3, "/proc"), "type", ""), "bind");
        ck_assert_ptr_null(mount_at(s3, "/dev/shm"));
        ck_assert(strv_json_has(pea_json_path(s3, "linux.maskedPaths"), "/sys/kernel"));
}

END_TEST

START_TEST(masked_paths)
{
        struct pea_spec_opts o = opts();
        _cleanup_json_ json_t *s = gen(&o);
        assert_path(s, "linux.maskedPaths",
                    "[\"/proc/acpi\",\"/proc/kcore\",\"/proc/keys\",\"/proc/latency_stats\","
                    "\"/proc/timer_list\",\"/proc/timer_stats\",\"/proc/sched_debug\","
                    "\"/proc/scsi\",\"/sys/firmware\",\"/sys/fs/selinux\",\"/sys/dev/block\"]");
        assert_path(s, "linux.readonlyPaths",
                    "[\"/proc/asound\",\"/proc/bus\",\"/proc/fs\",\"/proc/irq\",\"/proc/sys\","
                    "\"/proc/sysrq-trigger\"]");
        o.security_opts = (char *[]){"unmask=/proc/k*:/sys/firmware", "mask=/opt/secret", NULL};
        _cleanup_json_ json_t *s2 = gen(&o);
        json_t *m = pea_json_path(s2, "linux.maskedPaths");
        ck_assert(!strv_json_has(m, "/proc/kcore") && !strv_json_has(m, "/proc/keys"));
        ck_assert(!strv_json_has(m, "/sys/firmware") && strv_json_has(m, "/opt/secret"));
        ck_assert_int_eq(json_array_size(m), 9);
        o.security_opts = (char *[]){"unmask=ALL", "no-new-privileges", NULL};
        _cleanup_json_ json_t *s3 = gen(&o);
        assert_path(s3, "linux.maskedPaths", "[]");
        assert_path(s3, "linux.readonlyPaths", "[]");
        assert_path(s3, "process.noNewPrivileges", "true");
        o.security_opts = (char *[]){"bogus", NULL};
        ERR_IS(&o, "invalid --security-opt 'bogus'");
}

END_TEST

/* ---- seccomp ------------------------------------------------------------- */

/* The action of the first rule naming syscall, or NULL. */
static const char *rule_action(json_t *seccomp, const char *syscall)
{
        size_t i;
        json_t *r;
        json_array_foreach(json_object_get(seccomp, "syscalls"), i, r)
                if (strv_json_has(json_object_get(r, "names"), syscall))
                        return json_string_value(json_object_get(r, "action"));
        return NULL;
}

START_TEST(seccomp_default)
{
        struct pea_spec_opts o = opts();
        _cleanup_json_ json_t *s = gen(&o);
        json_t *sc = pea_json_path(s, "linux.seccomp");
        ck_assert_str_eq(pea_json_path_string(sc, "defaultAction", ""), "SCMP_ACT_ERRNO");
        assert_path(sc, "defaultErrnoRet", "38");
        assert_path(sc, "architectures",
                    "[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\",\"SCMP_ARCH_X32\"]");
        ck_assert_str_eq(rule_action(sc, "read"), "SCMP_ACT_ALLOW");
        ck_assert_str_eq(rule_action(sc, "arch_prctl"), "SCMP_ACT_ALLOW");
        ck_assert_str_eq(rule_action(sc, "kexec_load"), "SCMP_ACT_ERRNO");
        ck_assert_str_eq(rule_action(sc, "bpf"), "SCMP_ACT_ERRNO");
        ck_assert_ptr_null(rule_action(sc, "arm_fadvise64_64"));
        /* CAP_SYS_ADMIN-conditioned syscalls are allowed only with it. */
        o.cap_add = (char *[]){"SYS_ADMIN", NULL};
        _cleanup_json_ json_t *s2 = gen(&o);
        sc = pea_json_path(s2, "linux.seccomp");
        ck_assert_str_eq(rule_action(sc, "bpf"), "SCMP_ACT_ALLOW");
        ck_assert_str_eq(rule_action(sc, "setns"), "SCMP_ACT_ALLOW");
        ck_assert_str_eq(rule_action(sc, "kexec_load"), "SCMP_ACT_ERRNO");
        o.arch = "arm64";
        _cleanup_json_ json_t *s3 = gen(&o);
        sc = pea_json_path(s3, "linux.seccomp");
        assert_path(sc, "architectures", "[\"SCMP_ARCH_AARCH64\",\"SCMP_ARCH_ARM\"]");
        ck_assert_str_eq(rule_action(sc, "arm_fadvise64_64"), "SCMP_ACT_ALLOW");
        ck_assert_ptr_null(rule_action(sc, "arch_prctl"));
        o.security_opts = (char *[]){"seccomp=unconfined", NULL};
        _cleanup_json_ json_t *s4 = gen(&o);
        ck_assert_ptr_null(pea_json_path(s4, "linux.seccomp"));
}

END_TEST

/* The C table is containers-common's seccomp.json, rule for rule. */
START_TEST(seccomp_table_matches_installed)
{
        const char *path = "/usr/share/containers/seccomp.json";
        if (access(path, R_OK) < 0) {
                printf("SKIP: %s not installed\n", path);
                return;
        }
        _cleanup_json_ json_t *file = json_load_file(path, 0, NULL);
        _cleanup_json_ json_t *mine = pea_seccomp_default_profile();
        ck_assert_ptr_nonnull(file);
        ck_assert(json_equal(file, mine));
}

END_TEST

START_TEST(seccomp_custom)
{
        _cleanup_free_ char *p = write_file(
                "profile.json",
                "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
                "{\"names\":[\"mkdir\"],\"action\":\"SCMP_ACT_ERRNO\",\"errno\":\"EACCES\","
                "\"args\":[{\"index\":1,\"value\":448,\"op\":\"SCMP_CMP_EQ\"}]},"
                "{\"name\":\"chmod\",\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":13,"
                "\"includes\":{\"caps\":[\"CAP_SYS_ADMIN\"]}},"
                "{\"names\":[\"uname\"],\"action\":\"SCMP_ACT_LOG\","
                "\"excludes\":{\"arches\":[\"arm64\"]}}]}");
        _cleanup_free_ char *opt = xasprintf("seccomp=%s", p);
        struct pea_spec_opts o = opts();
        o.security_opts = (char *[]){opt, NULL};
        _cleanup_json_ json_t *s = gen(&o);
        assert_path(s, "linux.seccomp",
                    "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
                    "{\"names\":[\"mkdir\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":13,"
                    "\"args\":[{\"index\":1,\"value\":448,\"op\":\"SCMP_CMP_EQ\"}]},"
                    "{\"names\":[\"uname\"],\"action\":\"SCMP_ACT_LOG\"}]}");
        /* --privileged keeps an explicit profile. */
        o.privileged = true;
        _cleanup_json_ json_t *s2 = gen(&o);
        ck_assert_str_eq(rule_action(pea_json_path(s2, "linux.seccomp"), "chmod"),
                         "SCMP_ACT_ERRNO");
        _cleanup_free_ char *bad =
                write_file("bad.json", "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":"
                                       "[{\"name\":\"a\",\"names\":[\"b\"],\"action\":\"X\"}]}");
        _cleanup_free_ char *bopt = xasprintf("seccomp=%s", bad);
        o.security_opts = (char *[]){bopt, NULL};
        _cleanup_free_ char *m = gen_err(&o);
        ck_assert_ptr_nonnull(strstr(m, "'name' and 'names' were specified"));
        _cleanup_free_ char *garbage = write_file("garbage.json", "{nope");
        _cleanup_free_ char *gopt = xasprintf("seccomp=%s", garbage);
        o.security_opts = (char *[]){gopt, NULL};
        _cleanup_free_ char *m2 = gen_err(&o);
        ck_assert_ptr_nonnull(strstr(m2, "decoding seccomp profile"));
}

END_TEST

START_TEST(annotations)
{
        struct pea_image_config img = {.stop_signal = "SIGKILL", .cmd = (char *[]){"x", NULL}};
        struct pea_spec_opts o = opts();
        o.image = &img;
        o.annotations = (char *[]){"a=b=c", NULL};
        _cleanup_json_ json_t *s = gen(&o);
        assert_path(s, "annotations",
                    "{\"io.container.manager\":\"pea\","
                    "\"org.opencontainers.image.stopSignal\":\"9\","
                    "\"a\":\"b=c\"}");
        img.stop_signal = "RTMIN+1";
        _cleanup_json_ json_t *s2 = gen(&o);
        _cleanup_free_ char *rt = xasprintf("\"%d\"", SIGRTMIN + 1);
        _cleanup_json_ json_t *want = json_loads(rt, JSON_DECODE_ANY, NULL);
        json_t *ann = json_object_get(s2, "annotations");
        assert_json_eq(json_object_get(ann, "org.opencontainers.image.stopSignal"), want);
}

END_TEST

/* ---- runc ---------------------------------------------------------------- */

START_TEST(runc_runs_default_spec)
{
        _cleanup_free_ char *runc = pea_find_executable("runc");
        if (!runc || geteuid() != 0 || access("/bin/busybox", X_OK) < 0) {
                printf("SKIP: runc_runs_default_spec needs root, runc and /bin/busybox\n");
                return;
        }
        _cleanup_error_ struct pea_error *err = NULL;
        _cleanup_free_ char *bin = xasprintf("%s/bin", rootfs), *bb = xasprintf("%s/busybox", bin);
        ck_assert_int_eq(pea_mkdir_p(bin, 0755, &err), 0);
        _cleanup_free_ char *cp = xasprintf("cp /bin/busybox %s && ln -s busybox %s/echo", bb, bin);
        ck_assert_int_eq(system(cp), 0);
        struct pea_spec_opts o = opts();
        o.command = (char *[]){"echo", "hi", NULL};
        o.cgroup_version = 0;
        o.cap_bounding = 0;
        o.arch = NULL;
        _cleanup_json_ json_t *s = gen(&o);
        ck_assert_int_eq(pea_spec_write(tmpdir, s, &err), 0);
        _cleanup_free_ char *cmd =
                xasprintf("cd %s && %s --root %s/runc run pea-specgen-%d </dev/null "
                          "2>&1",
                          tmpdir, runc, tmpdir, (int)getpid());
        FILE *f = popen(cmd, "r");
        ck_assert_ptr_nonnull(f);
        char out[256] = "";
        size_t n = fread(out, 1, sizeof(out) - 1, f);
        out[n] = '\0';
        int status = pclose(f);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "runc failed: %s", out);
        ck_assert_str_eq(out, "hi\n");
}

END_TEST

int main(void)
{
        Suite *s = suite_create("specgen");
        TCase *tc = tcase_create("core");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 30);
        tcase_add_test(tc, caps_default);
        tcase_add_test(tc, caps_add_drop);
        tcase_add_test(tc, caps_errors);
        tcase_add_test(tc, caps_non_root_user);
        tcase_add_test(tc, privileged);
        tcase_add_loop_test(tc, command_table, 0, ELEMENTSOF(cmd_table));
        tcase_add_test(tc, init_binary);
        tcase_add_test(tc, env_merge);
        tcase_add_loop_test(tc, user_resolve, 0, ELEMENTSOF(user_table));
        tcase_add_test(tc, user_in_spec);
        tcase_add_test(tc, user_symlink_in_root);
        tcase_add_test(tc, keep_id);
        tcase_add_test(tc, default_mounts);
        tcase_add_test(tc, volumes_and_tmpfs);
        tcase_add_loop_test(tc, mount_errors_table, 0, ELEMENTSOF(mount_errors));
        tcase_add_test(tc, read_only);
        tcase_add_loop_test(tc, sizes, 0, ELEMENTSOF(size_table));
        tcase_add_test(tc, shm_size);
        tcase_add_loop_test(tc, ulimits, 0, ELEMENTSOF(ulimit_table));
        tcase_add_test(tc, rlimits_in_spec);
        tcase_add_test(tc, namespaces);
        tcase_add_test(tc, masked_paths);
        tcase_add_test(tc, seccomp_default);
        tcase_add_test(tc, seccomp_table_matches_installed);
        tcase_add_test(tc, seccomp_custom);
        tcase_add_test(tc, annotations);
        tcase_add_test(tc, runc_runs_default_spec);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
