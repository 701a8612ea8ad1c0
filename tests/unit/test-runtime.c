/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <check.h>
#include <jansson.h>

#include "base.h"
#include "runtime/runtime-internal.h"
#include "runtime/runtime.h"

/*
 * The built-in runtime, end to end: each container test builds a rootfs from
 * the host's static busybox, writes config.json and runs it. Those need root
 * (CI runs unit tests as root); the rootless case drops to nobody in a user
 * namespace of its own, as pea does when it runs rootless.
 */

#define BUSYBOX "/bin/busybox"

static char tmpdir[64];
static char *rootfs;

static const char *const applets[] = {
        "sh",   "cat",   "id",    "ls",  "hostname", "echo", "sleep", "mount",
        "grep", "touch", "mkdir", "tty", "pwd",      "wc",   "kill",
};

static const char base_config[] =
        "{\"ociVersion\": \"1.0.2\","
        " \"process\": {\"terminal\": false, \"user\": {\"uid\": 0, \"gid\": 0},"
        "   \"args\": [\"sh\"], \"env\": [\"PATH=/bin\", \"TERM=xterm\"], \"cwd\": \"/\","
        "   \"capabilities\": {"
        "     \"bounding\": [\"CAP_CHOWN\", \"CAP_DAC_OVERRIDE\", \"CAP_FOWNER\", \"CAP_KILL\","
        "                  \"CAP_SETGID\", \"CAP_SETUID\", \"CAP_SETPCAP\", \"CAP_SYS_CHROOT\"],"
        "     \"effective\": [\"CAP_CHOWN\", \"CAP_DAC_OVERRIDE\", \"CAP_FOWNER\", \"CAP_KILL\","
        "                  \"CAP_SETGID\", \"CAP_SETUID\", \"CAP_SETPCAP\", \"CAP_SYS_CHROOT\"],"
        "     \"permitted\": [\"CAP_CHOWN\", \"CAP_DAC_OVERRIDE\", \"CAP_FOWNER\", \"CAP_KILL\","
        "                  \"CAP_SETGID\", \"CAP_SETUID\", \"CAP_SETPCAP\", \"CAP_SYS_CHROOT\"]},"
        "   \"noNewPrivileges\": false},"
        " \"root\": {\"path\": \"rootfs\", \"readonly\": false},"
        " \"hostname\": \"pea-test\","
        " \"mounts\": ["
        "   {\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\","
        "    \"options\": [\"nosuid\", \"noexec\", \"nodev\"]},"
        "   {\"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\","
        "    \"options\": [\"nosuid\", \"strictatime\", \"mode=755\", \"size=65536k\"]},"
        "   {\"destination\": \"/dev/pts\", \"type\": \"devpts\", \"source\": \"devpts\","
        "    \"options\": [\"nosuid\", \"noexec\", \"newinstance\", \"ptmxmode=0666\","
        "                  \"mode=0620\", \"gid=5\"]},"
        "   {\"destination\": \"/dev/shm\", \"type\": \"tmpfs\", \"source\": \"shm\","
        "    \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"mode=1777\", \"size=65536k\"]},"
        "   {\"destination\": \"/dev/mqueue\", \"type\": \"mqueue\", \"source\": \"mqueue\","
        "    \"options\": [\"nosuid\", \"noexec\", \"nodev\"]},"
        "   {\"destination\": \"/sys\", \"type\": \"sysfs\", \"source\": \"sysfs\","
        "    \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"ro\"]},"
        "   {\"destination\": \"/tmp\", \"type\": \"tmpfs\", \"source\": \"tmpfs\","
        "    \"options\": [\"nosuid\", \"nodev\", \"mode=1777\"]}],"
        " \"linux\": {"
        "   \"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"network\"}, {\"type\": \"ipc\"},"
        "                  {\"type\": \"uts\"}, {\"type\": \"mount\"}],"
        "   \"maskedPaths\": [\"/proc/kcore\", \"/proc/keys\", \"/proc/timer_list\","
        "                   \"/proc/acpi\", \"/proc/scsi\"],"
        "   \"readonlyPaths\": [\"/proc/sys\", \"/proc/sysrq-trigger\", \"/proc/irq\","
        "                     \"/proc/bus\"]}}";

/* ---- fixtures ------------------------------------------------------------ */

static char *tpath(const char *rel)
{
        return xasprintf("%s/%s", tmpdir, rel);
}

static void write_text(const char *path, const char *text, mode_t mode)
{
        _cleanup_error_ struct pea_error *err = NULL;
        ck_assert_int_eq(pea_write_file_atomic_at(AT_FDCWD, path, text, strlen(text), mode, &err),
                         0);
}

static void copy_file(const char *src, const char *dst, mode_t mode)
{
        _cleanup_close_ int in = open(src, O_RDONLY | O_CLOEXEC);
        _cleanup_close_ int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        ck_assert_int_ge(in, 0);
        ck_assert_int_ge(out, 0);
        ssize_t n;
        while ((n = copy_file_range(in, NULL, out, NULL, 1 << 20, 0)) > 0)
                ;
        ck_assert_int_eq(n, 0);
        ck_assert_int_eq(fchmod(out, mode), 0);
}

static void mkdir_in(const char *dir, const char *name)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", dir, name);
        ck_assert_int_eq(mkdir(p, 0755), 0);
}

static void setup(void)
{
        snprintf(tmpdir, sizeof(tmpdir), "/tmp/pea-test-runtime-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(tmpdir));
        ck_assert_int_eq(chmod(tmpdir, 0755), 0);
        pea_log_set_level(PEA_LOG_ERROR);
        unsetenv("PEA_NO_OPENAT2");
        rootfs = tpath("rootfs");
        ck_assert_int_eq(mkdir(rootfs, 0755), 0);
        const char *dirs[] = {"bin", "proc", "dev", "sys", "tmp", "etc"};
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++)
                mkdir_in(rootfs, dirs[i]);
        _cleanup_free_ char *bb = xasprintf("%s/bin/busybox", rootfs);
        copy_file(BUSYBOX, bb, 0755);
        for (size_t i = 0; i < ELEMENTSOF(applets); i++) {
                _cleanup_free_ char *l = xasprintf("%s/bin/%s", rootfs, applets[i]);
                ck_assert_int_eq(symlink("busybox", l), 0);
        }
}

static void teardown(void)
{
        _cleanup_error_ struct pea_error *err = NULL;
        ck_assert_int_eq(pea_rm_rf(tmpdir, &err), 0);
        free(rootfs);
        rootfs = NULL;
}

/* ---- configs and runs ---------------------------------------------------- */

static json_t *config_sh(const char *script)
{
        json_error_t jerr;
        json_t *c = json_loads(base_config, 0, &jerr);
        ck_assert_msg(c != NULL, "base config: %s", jerr.text);
        json_object_set_new(pea_json_path(c, "process"), "args",
                            json_pack("[sss]", "sh", "-c", script));
        return c;
}

static void config_set(json_t *c, const char *path, json_t *value)
{
        _cleanup_free_ char *parent = xstrdup(path);
        char *dot = strrchr(parent, '.');
        json_t *obj = c;
        if (dot) {
                *dot = '\0';
                obj = pea_json_path(c, parent);
        }
        ck_assert_ptr_nonnull(obj);
        json_object_set_new(obj, dot ? dot + 1 : path, value);
}

static void add_mount(json_t *c, const char *dest, const char *type, const char *source,
                      json_t *options)
{
        json_array_append_new(json_object_get(c, "mounts"),
                              json_pack("{s:s, s:s, s:s, s:o}", "destination", dest, "type", type,
                                        "source", source, "options", options));
}

static void remove_ns(json_t *c, const char *type)
{
        json_t *ns = pea_json_path(c, "linux.namespaces");
        for (size_t i = 0; i < json_array_size(ns); i++)
                if (streq(json_string_value(json_object_get(json_array_get(ns, i), "type")),
                          type)) {
                        json_array_remove(ns, i);
                        return;
                }
        ck_abort_msg("namespace '%s' not in the config", type);
}

static void remove_mount(json_t *c, const char *dest)
{
        json_t *m = json_object_get(c, "mounts");
        for (size_t i = 0; i < json_array_size(m); i++)
                if (streq(json_string_value(json_object_get(json_array_get(m, i), "destination")),
                          dest)) {
                        json_array_remove(m, i);
                        return;
                }
        ck_abort_msg("mount '%s' not in the config", dest);
}

static void write_config(json_t *c)
{
        _cleanup_free_ char *text = pea_json_dumps(c, 2);
        _cleanup_free_ char *p = tpath("config.json");
        write_text(p, text, 0644);
}

struct run {
        int r;
        int status;
        char *out;
        struct pea_error *err;
};

static void run_done(struct run *r)
{
        free(r->out);
        pea_error_clear(&r->err);
}

static char *read_all(int fd)
{
        size_t len = 0, cap = 4096;
        char *buf = xmalloc(cap);
        for (;;) {
                if (len + 1 >= cap)
                        buf = xrealloc(buf, cap *= 2);
                ssize_t n = read(fd, buf + len, cap - len - 1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                len += (size_t)n;
        }
        buf[len] = '\0';
        return buf;
}

/* Runs the bundle in the foreground; stdout and stderr are captured. */
static void run_opts(json_t *c, struct pea_runtime_opts *opts, struct run *ret)
{
        write_config(c);
        int p[2];
        ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
        _cleanup_close_ int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
        opts->stdio[0] = devnull;
        opts->stdio[1] = p[1];
        opts->stdio[2] = p[1];
        *ret = (struct run){0};
        ret->r = pea_runtime_run(tmpdir, opts, &ret->status, &ret->err);
        (void)close(p[1]);
        ret->out = read_all(p[0]);
        (void)close(p[0]);
}

static void run(json_t *c, struct run *ret)
{
        struct pea_runtime_opts opts;
        pea_runtime_opts_init(&opts);
        run_opts(c, &opts, ret);
}

/* Runs a script and checks it exits 0 with exactly the output wanted. */
static void check_script(json_t *c, const char *want)
{
        struct run r;
        run(c, &r);
        ck_assert_msg(r.r == 0, "run failed: %s", r.err ? r.err->msg : "?");
        ck_assert_msg(r.status == 0, "status %d, output '%s'", r.status, r.out);
        ck_assert_str_eq(r.out, want);
        run_done(&r);
        json_decref(c);
}

/* ---- containers ---------------------------------------------------------- */

START_TEST(echo_output)
{
        json_t *c = config_sh("echo hello");
        check_script(c, "hello\n");
}

END_TEST

START_TEST(exit_code)
{
        json_t *c = config_sh("exit 7");
        struct run r;
        run(c, &r);
        ck_assert_int_eq(r.r, 0);
        ck_assert_int_eq(r.status, 7);
        run_done(&r);
        json_decref(c);
}

END_TEST

START_TEST(not_found)
{
        json_t *c = config_sh("");
        config_set(c, "process.args", json_pack("[s]", "nosuch"));
        struct run r;
        run(c, &r);
        ck_assert_int_eq(r.r, -ENOENT);
        ck_assert_ptr_nonnull(strstr(r.err->msg, "executable file 'nosuch' not found in $PATH"));
        ck_assert_int_eq(pea_runtime_error_exit_code(r.err), 127);
        run_done(&r);
        /* Found, but not executable: 126. */
        _cleanup_free_ char *p = xasprintf("%s/bin/noexec", rootfs);
        write_text(p, "#!/bin/sh\n", 0644);
        config_set(c, "process.args", json_pack("[s]", "/bin/noexec"));
        run(c, &r);
        ck_assert_int_eq(r.r, -EACCES);
        ck_assert_int_eq(pea_runtime_error_exit_code(r.err), 126);
        run_done(&r);
        json_decref(c);
}

END_TEST

START_TEST(hostname_and_pid1)
{
        json_t *c = config_sh("hostname; echo $$");
        check_script(c, "pea-test\n1\n");
}

END_TEST

START_TEST(only_own_processes)
{
        json_t *c = config_sh("ls /proc");
        struct run r;
        run(c, &r);
        ck_assert_int_eq(r.status, 0);
        _cleanup_strv_ char **l = strv_split(r.out, "\n ");
        unsigned n = 0;
        STRV_FOREACH(e, l) {
                long long pid;
                if (safe_atoll(*e, &pid) < 0)
                        continue;
                n++;
                ck_assert_msg(pid < 10, "pid %lld of another namespace is visible", pid);
        }
        ck_assert_uint_ge(n, 1);
        ck_assert_uint_le(n, 2); /* sh, and ls unless sh exec'd it */
        run_done(&r);
        json_decref(c);
}

END_TEST

START_TEST(masked_paths)
{
        _cleanup_free_ char *secret = xasprintf("%s/etc/secret", rootfs);
        write_text(secret, "secret\n", 0644);
        json_t *c = config_sh("cat /proc/keys; ls -A /etc; echo end");
        json_array_append_new(pea_json_path(c, "linux.maskedPaths"), json_string("/etc"));
        json_array_append_new(pea_json_path(c, "linux.maskedPaths"), json_string("/nonexistent"));
        check_script(c, "end\n");
}

END_TEST

START_TEST(readonly_paths)
{
        const char *script = "echo x > /proc/sys/kernel/hostname && echo wrote || echo failed";
        json_t *c = config_sh(script);
        struct run r;
        run(c, &r);
        ck_assert_int_eq(r.status, 0);
        ck_assert_ptr_nonnull(strstr(r.out, "Read-only file system"));
        ck_assert_ptr_nonnull(strstr(r.out, "failed\n"));
        run_done(&r);
        json_decref(c);
        /* Without readonlyPaths the same write works (root in its uts namespace). */
        c = config_sh(script);
        config_set(c, "linux.readonlyPaths", json_array());
        check_script(c, "wrote\n");
}

END_TEST

START_TEST(capabilities)
{
        json_t *c = config_sh("grep -E '^Cap(Eff|Prm|Bnd|Amb)' /proc/self/status");
        json_t *caps = json_pack("[sss]", "CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE");
        config_set(c, "process.capabilities",
                   json_pack("{s:O, s:O, s:O, s:[]}", "bounding", caps, "effective", caps,
                             "permitted", caps, "ambient"));
        json_decref(caps);
        /* CAP_CHOWN 0, CAP_KILL 5, CAP_NET_BIND_SERVICE 10 */
        check_script(c, "CapPrm:\t0000000000000421\nCapEff:\t0000000000000421\n"
                        "CapBnd:\t0000000000000421\nCapAmb:\t0000000000000000\n");
}

END_TEST

START_TEST(no_new_privileges)
{
        json_t *c = config_sh("grep NoNewPrivs /proc/self/status");
        check_script(c, "NoNewPrivs:\t0\n");
        c = config_sh("grep NoNewPrivs /proc/self/status");
        config_set(c, "process.noNewPrivileges", json_true());
        check_script(c, "NoNewPrivs:\t1\n");
}

END_TEST

static json_t *mkdir_filter(void)
{
        return json_pack("{s:s, s:[s], s:[{s:[ss], s:s, s:i}]}", "defaultAction", "SCMP_ACT_ALLOW",
                         "architectures", "SCMP_ARCH_X86_64", "syscalls", "names", "mkdir",
                         "mkdirat", "action", "SCMP_ACT_ERRNO", "errnoRet", EPERM);
}

START_TEST(seccomp_filter)
{
        const char *script = "grep Seccomp: /proc/self/status; "
                             "mkdir /tmp/x && echo made || echo blocked";
        json_t *c = config_sh(script);
        config_set(c, "linux.seccomp", mkdir_filter());
        config_set(c, "process.noNewPrivileges", json_true());
        struct run r;
        run(c, &r);
        ck_assert_int_eq(r.status, 0);
        ck_assert_ptr_nonnull(strstr(r.out, "Seccomp:\t2\n"));
        ck_assert_ptr_nonnull(strstr(r.out, "Operation not permitted"));
        ck_assert_ptr_nonnull(strstr(r.out, "blocked\n"));
        run_done(&r);
        json_decref(c);
        /* Without no_new_privs and as a user without CAP_SYS_ADMIN: loaded before the drop. */
        c = config_sh(script);
        config_set(c, "linux.seccomp", mkdir_filter());
        config_set(c, "process.user", json_pack("{s:i, s:i}", "uid", 1000, "gid", 1000));
        run(c, &r);
        ck_assert_msg(r.status == 0, "%s", r.err ? r.err->msg : r.out);
        ck_assert_ptr_nonnull(strstr(r.out, "Seccomp:\t2\n"));
        ck_assert_ptr_nonnull(strstr(r.out, "blocked\n"));
        run_done(&r);
        json_decref(c);
}

END_TEST

START_TEST(seccomp_invalid)
{
        json_t *c = config_sh("true");
        config_set(c, "linux.seccomp", json_pack("{s:s}", "defaultAction", "SCMP_ACT_BOGUS"));
        struct run r;
        run(c, &r);
        ck_assert_int_eq(r.r, -EOPNOTSUPP);
        ck_assert_ptr_nonnull(strstr(r.err->msg, "unsupported seccomp action 'SCMP_ACT_BOGUS'"));
        ck_assert_int_eq(pea_runtime_error_exit_code(r.err), 125);
        run_done(&r);
        json_decref(c);
}

END_TEST

START_TEST(rlimits)
{
        json_t *c = config_sh("ulimit -n; ulimit -Hn");
        config_set(
                c, "process.rlimits",
                json_pack("[{s:s, s:i, s:i}]", "type", "RLIMIT_NOFILE", "soft", 512, "hard", 1024));
        check_script(c, "512\n1024\n");
        /* soft above hard: the error names the resource */
        c = config_sh("true");
        config_set(c, "process.rlimits",
                   json_pack("[{s:s, s:i, s:i}]", "type", "RLIMIT_NOFILE", "soft", 2048, "hard",
                             1024));
        struct run r;
        run(c, &r);
        ck_assert_int_lt(r.r, 0);
        ck_assert_ptr_nonnull(strstr(r.err->msg, "setting rlimit 'RLIMIT_NOFILE'"));
        ck_assert_int_eq(pea_runtime_error_exit_code(r.err), 125);
        run_done(&r);
        json_decref(c);
}

END_TEST

START_TEST(env_and_cwd)
{
        ck_assert_int_eq(setenv("PEA_TEST_LEAK", "leaked", 1), 0);
        json_t *c = config_sh("echo \"$FOO\"; pwd; echo \"${PEA_TEST_LEAK-clean}\"");
        config_set(c, "process.env", json_pack("[ss]", "PATH=/bin", "FOO=bar baz"));
        config_set(c, "process.cwd", json_string("/etc"));
        check_script(c, "bar baz\n/etc\nclean\n");
        /* A cwd that does not exist is an error (125). */
        c = config_sh("true");
        config_set(c, "process.cwd", json_string("/nonexistent"));
        struct run r;
        run(c, &r);
        ck_assert_int_eq(r.r, -ENOENT);
        ck_assert_ptr_nonnull(strstr(r.err->msg, "cwd '/nonexistent'"));
        ck_assert_int_eq(pea_runtime_error_exit_code(r.err), 125);
        run_done(&r);
        json_decref(c);
}

END_TEST

START_TEST(bind_mounts)
{
        _cleanup_free_ char *ro = tpath("ro"), *rw = tpath("rw"), *f = tpath("ro/f");
        ck_assert_int_eq(mkdir(ro, 0755), 0);
        ck_assert_int_eq(mkdir(rw, 0755), 0);
        write_text(f, "data\n", 0644);
        json_t *c = config_sh("cat /mnt/ro/f /etc/f; touch /mnt/ro/new 2>/dev/null && echo ro-bad;"
                              " touch /mnt/rw/new && echo rw-ok;"
                              " grep -c ' /mnt/ro .*ro,' /proc/mounts");
        add_mount(c, "/mnt/ro", "bind", ro, json_pack("[sss]", "rbind", "ro", "nosuid"));
        add_mount(c, "/mnt/rw", "bind", rw, json_pack("[s]", "bind"));
        add_mount(c, "/etc/f", "none", f, json_pack("[ss]", "bind", "ro"));
        check_script(c, "data\ndata\nrw-ok\n1\n");
        _cleanup_free_ char *made = tpath("rw/new"), *notmade = tpath("ro/new");
        ck_assert(pea_path_exists(made));
        ck_assert(!pea_path_exists(notmade));
        /* /mnt/ro and the file /etc/f were created inside the rootfs */
        _cleanup_free_ char *etcf = xasprintf("%s/etc/f", rootfs);
        struct stat st;
        ck_assert_int_eq(lstat(etcf, &st), 0);
        ck_assert(S_ISREG(st.st_mode));
        /* A missing source is the runtime's error: 125, not 127. */
        c = config_sh("true");
        add_mount(c, "/mnt/x", "bind", "/nonexistent-source", json_pack("[s]", "bind"));
        struct run r;
        run(c, &r);
        ck_assert_int_eq(r.r, -ENOENT);
        ck_assert_int_eq(pea_runtime_error_exit_code(r.err), 125);
        run_done(&r);
        json_decref(c);
}

END_TEST

START_TEST(tmpfs_mount)
{
        json_t *c = config_sh("grep ' /scratch ' /proc/mounts");
        add_mount(c, "/scratch", "tmpfs", "tmpfs",
                  json_pack("[ssss]", "nosuid", "size=1m", "mode=0710", "noexec"));
        struct run r;
        run(c, &r);
        ck_assert_int_eq(r.status, 0);
        ck_assert_ptr_nonnull(strstr(r.out, "tmpfs /scratch tmpfs rw,nosuid,noexec"));
        ck_assert_ptr_nonnull(strstr(r.out, "size=1024k"));
        ck_assert_msg(strstr(r.out, "mode=710"), "output '%s'", r.out);
        run_done(&r);
        json_decref(c);
}

END_TEST

START_TEST(user_switch)
{
        json_t *c = config_sh("id -u; id -g; id -G");
        config_set(
                c, "process.user",
                json_pack("{s:i, s:i, s:[i]}", "uid", 1000, "gid", 1000, "additionalGids", 2000));
        check_script(c, "1000\n1000\n1000 2000\n");
}

END_TEST

START_TEST(readonly_root_and_sysctl)
{
        json_t *c =
                config_sh("touch /new 2>/dev/null && echo root-rw; touch /tmp/ok && echo tmp-rw;"
                          " cat /proc/sys/kernel/domainname");
        config_set(c, "root.readonly", json_true());
        config_set(c, "linux.sysctl", json_pack("{s:s}", "kernel.domainname", "pea.test"));
        check_script(c, "tmp-rw\npea.test\n");
}

END_TEST

START_TEST(devices)
{
        json_t *c = config_sh("echo x > /dev/mynull && echo ok; cat /dev/mynull;"
                              " ls /dev/null /dev/zero /dev/full /dev/tty /dev/random /dev/urandom"
                              " /dev/fd/0 /dev/ptmx >/dev/null && echo present");
        config_set(c, "linux.devices",
                   json_pack("[{s:s, s:s, s:i, s:i, s:i}]", "path", "/dev/mynull", "type", "c",
                             "major", 1, "minor", 3, "fileMode", 0666));
        check_script(c, "ok\npresent\n");
}

END_TEST

/* A destination through a symlink to "/" (or to "..") stays inside the rootfs. */
static void check_path_escape(void)
{
        _cleanup_free_ char *src = tpath("src"), *file = tpath("src/bindfile"),
                            *host = tpath("hostside");
        (void)mkdir(src, 0755);
        write_text(file, "x", 0644);
        (void)mkdir(host, 0755);
        _cleanup_free_ char *evil = xasprintf("%s/evil", rootfs), *up = xasprintf("%s/up", rootfs);
        (void)unlink(evil);
        (void)unlink(up);
        ck_assert_int_eq(symlink(tmpdir, evil), 0); /* absolute: the host's tmpdir */
        ck_assert_int_eq(symlink("../../../../../..", up), 0);
        _cleanup_free_ char *dest1 = xasprintf("/evil/hostside");
        _cleanup_free_ char *dest2 = xasprintf("/up%s/hostside2", tmpdir);
        json_t *c = config_sh("ls /evil/hostside; ls -d /up/tmp");
        remove_mount(c, "/tmp"); /* the names must land in the rootfs, visible from here */
        add_mount(c, dest1, "bind", src, json_pack("[s]", "bind"));
        add_mount(c, dest2, "tmpfs", "tmpfs", json_array());
        check_script(c, "bindfile\n/up/tmp\n");
        /* Created inside the rootfs, under the host's path name */
        _cleanup_free_ char *inside = xasprintf("%s%s/hostside2", rootfs, tmpdir);
        ck_assert(pea_path_exists(inside));
        _cleanup_free_ char *hostside2 = tpath("hostside2");
        ck_assert(!pea_path_exists(hostside2));
}

START_TEST(path_escape)
{
        check_path_escape();
        ck_assert_int_eq(setenv("PEA_NO_OPENAT2", "1", 1), 0);
        check_path_escape();
        unsetenv("PEA_NO_OPENAT2");
}

END_TEST

START_TEST(create_then_start)
{
        json_t *c = config_sh("exit 3");
        write_config(c);
        json_decref(c);
        _cleanup_free_ char *pidfile = tpath("pid");
        struct pea_runtime_opts opts;
        pea_runtime_opts_init(&opts);
        opts.pid_file = pidfile;
        _cleanup_error_ struct pea_error *err = NULL;
        struct pea_runtime_container *ct = NULL;
        ck_assert_int_eq(pea_runtime_create(tmpdir, &opts, &ct, &err), 0);
        ck_assert_int_gt(ct->pid, 0);
        _cleanup_free_ char *text = NULL;
        ck_assert_int_eq(pea_read_file_at(AT_FDCWD, pidfile, 64, &text, NULL, &err), 0);
        _cleanup_free_ char *want = xasprintf("%d", (int)ct->pid);
        ck_assert_str_eq(text, want);
        /* Blocked before execve: still our binary, but in its own pid namespace. */
        _cleanup_free_ char *exe = xasprintf("/proc/%d/exe", (int)ct->pid);
        _cleanup_free_ char *ns = xasprintf("/proc/%d/ns/pid", (int)ct->pid);
        char a[256] = "", b[256] = "";
        ck_assert_int_gt(readlink(ns, a, sizeof(a) - 1), 0);
        ck_assert_int_gt(readlink("/proc/self/ns/pid", b, sizeof(b) - 1), 0);
        ck_assert_str_ne(a, b);
        struct stat st_exe, st_self;
        ck_assert_int_eq(stat(exe, &st_exe), 0);
        ck_assert_int_eq(stat("/proc/self/exe", &st_self), 0);
        ck_assert(st_exe.st_ino == st_self.st_ino);
        ck_assert_int_eq(pea_runtime_start(ct, &err), 0);
        ck_assert_int_lt(pea_runtime_start(ct, &err), 0); /* once only */
        pea_error_clear(&err);
        int status = -1;
        ck_assert_int_eq(pea_runtime_wait(ct, &status, &err), 0);
        ck_assert_int_eq(status, 3);
        ct = pea_runtime_container_free(ct);
}

END_TEST

START_TEST(create_then_free)
{
        json_t *c = config_sh("true");
        write_config(c);
        json_decref(c);
        _cleanup_error_ struct pea_error *err = NULL;
        struct pea_runtime_container *ct = NULL;
        ck_assert_int_eq(pea_runtime_create(tmpdir, NULL, &ct, &err), 0);
        pid_t pid = ct->pid;
        ct = pea_runtime_container_free(ct); /* never started: killed and reaped */
        ck_assert_int_eq(kill(pid, 0), -1);
        ck_assert_int_eq(errno, ESRCH);
}

END_TEST

static char *read_console(int fd)
{
        /* Until the slave side is gone (EIO). */
        _cleanup_free_ char *out = xstrdup("");
        char buf[512];
        ssize_t n;
        while ((n = read(fd, buf, sizeof(buf) - 1)) > 0) {
                buf[n] = '\0';
                char *t = xasprintf("%s%s", out, buf);
                free(out);
                out = t;
        }
        return TAKE_PTR(out);
}

/* give: the console socket passed to the runtime (-1: none); mine: its other end. */
static void check_terminal(int give, int mine)
{
        json_t *c = config_sh("tty; test -t 0 && test -t 2 && echo is-a-tty; ls -l /dev/console");
        config_set(c, "process.terminal", json_true());
        write_config(c);
        json_decref(c);
        struct pea_runtime_opts opts;
        pea_runtime_opts_init(&opts);
        opts.console_socket = give;
        _cleanup_error_ struct pea_error *err = NULL;
        struct pea_runtime_container *ct = NULL;
        ck_assert_msg(pea_runtime_create(tmpdir, &opts, &ct, &err) == 0, "%s", err ? err->msg : "");
        _cleanup_close_ int received = -EBADF;
        int master = ct->console_fd;
        if (give >= 0) {
                ck_assert_int_lt(master, 0);
                struct runtime_sync_msg m;
                ck_assert_int_eq(runtime_sync_recv(mine, &m, &err), 0);
                received = master = m.fd;
        }
        ck_assert_int_ge(master, 0);
        ck_assert_int_eq(pea_runtime_start(ct, &err), 0);
        _cleanup_free_ char *out = read_console(master);
        int status = -1;
        ck_assert_int_eq(pea_runtime_wait(ct, &status, &err), 0);
        ck_assert_int_eq(status, 0);
        ck_assert_msg(startswith(out, "/dev/pts/0\r\nis-a-tty\r\n"), "output '%s'", out);
        ck_assert_ptr_nonnull(strstr(out, "/dev/console"));
        ct = pea_runtime_container_free(ct);
}

START_TEST(terminal)
{
        check_terminal(-1, -1);
}

END_TEST

START_TEST(terminal_console_socket)
{
        int sv[2];
        ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
        check_terminal(sv[1], sv[0]);
        (void)close(sv[0]);
        (void)close(sv[1]);
}

END_TEST

START_TEST(user_namespace)
{
        json_t *c = config_sh("cat /proc/self/uid_map /proc/self/gid_map; id -u");
        json_array_append_new(pea_json_path(c, "linux.namespaces"),
                              json_pack("{s:s}", "type", "user"));
        json_t *map =
                json_pack("[{s:i, s:i, s:i}]", "containerID", 0, "hostID", 100000, "size", 65536);
        config_set(c, "linux.uidMappings", json_deep_copy(map));
        config_set(c, "linux.gidMappings", map);
        struct run r;
        run(c, &r);
        ck_assert_msg(r.r == 0 && r.status == 0, "%s", r.err ? r.err->msg : r.out);
        _cleanup_strv_ char **words = strv_split(r.out, " \n");
        ck_assert_uint_eq(strv_length(words), 7);
        const char *want[] = {"0", "100000", "65536", "0", "100000", "65536", "0"};
        for (size_t i = 0; i < ELEMENTSOF(want); i++)
                ck_assert_str_eq(words[i], want[i]);
        run_done(&r);
        json_decref(c);
}

END_TEST

/*
 * Runs the bundle in a forked child after prepare(); returns the child's
 * exit code (the container's status, or 200 + error code % 50 when the
 * runtime failed). *ret_out gets what was written to stdout and stderr.
 */
static int run_in_child(json_t *c, int (*prepare)(struct pea_runtime_opts *), char **ret_out)
{
        write_config(c);
        int p[2];
        ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                struct pea_runtime_opts opts;
                pea_runtime_opts_init(&opts);
                opts.stdio[1] = opts.stdio[2] = p[1];
                if (prepare(&opts) < 0) {
                        dprintf(p[1], "prepare: %s\n", strerror(errno));
                        _exit(199);
                }
                struct pea_error *err = NULL;
                int status = 0;
                if (pea_runtime_run(tmpdir, &opts, &status, &err) < 0) {
                        dprintf(p[1], "error: %s\n", err->msg);
                        _exit(200 + err->code % 50);
                }
                _exit(status);
        }
        (void)close(p[1]);
        *ret_out = read_all(p[0]);
        (void)close(p[0]);
        int ws = 0;
        ck_assert_int_eq(waitpid(pid, &ws, 0), pid);
        ck_assert(WIFEXITED(ws));
        return WEXITSTATUS(ws);
}

static int write_self_map(const char *name, const char *text)
{
        _cleanup_free_ char *p = xasprintf("/proc/self/%s", name);
        _cleanup_close_ int fd = open(p, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, text, strlen(text)) < 0)
                return -errno;
        return 0;
}

/* What pea does rootless: become an unprivileged user that is root in its own namespace. */
static int become_rootless(struct pea_runtime_opts *opts)
{
        (void)opts;
        if (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0
            || setresuid(65534, 65534, 65534) < 0)
                return -errno;
        /* Changing uid made us non-dumpable: /proc/self would belong to root. */
        if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0 || unshare(CLONE_NEWUSER) < 0)
                return -errno;
        if (write_self_map("uid_map", "0 65534 1\n") < 0 || write_self_map("setgroups", "deny") < 0
            || write_self_map("gid_map", "0 65534 1\n") < 0)
                return -errno;
        return 0;
}

START_TEST(rootless)
{
        /* No network namespace: sysfs cannot be mounted, /sys is bound read-only instead;
           gid 5 is not mapped: devpts is mounted without gid=5. */
        json_t *c = config_sh("id -u; cat /proc/self/uid_map; hostname; echo $$;"
                              " grep -c '^sysfs /sys sysfs ro,' /proc/mounts;"
                              " ls /sys/kernel >/dev/null && echo sys-ok;"
                              " grep -c '^devpts /dev/pts devpts' /proc/mounts;"
                              " echo x > /dev/null && echo null-ok;"
                              " cat /proc/keys; echo masked");
        remove_ns(c, "network");
        _cleanup_free_ char *out = NULL;
        int code = run_in_child(c, become_rootless, &out);
        json_decref(c);
        ck_assert_msg(code == 0, "exit %d: %s", code, out);
        _cleanup_strv_ char **l = strv_split(out, "\n");
        ck_assert_msg(strv_length(l) == 9, "output '%s'", out);
        ck_assert_str_eq(l[0], "0");
        _cleanup_strv_ char **map = strv_split(l[1], " ");
        ck_assert_uint_eq(strv_length(map), 3);
        ck_assert_str_eq(map[1], "65534");
        ck_assert_str_eq(l[2], "pea-test");
        ck_assert_str_eq(l[3], "1");
        ck_assert_str_eq(l[4], "1");
        ck_assert_str_eq(l[5], "sys-ok");
        ck_assert_str_eq(l[6], "1");
        ck_assert_str_eq(l[7], "null-ok");
        ck_assert_str_eq(l[8], "masked");
}

END_TEST

START_TEST(cgroup_mount)
{
        /* cgroup2 on a cgroup v2 host, else the host's hierarchy bound read-only */
        json_t *c = config_sh(
                "grep -c ' /sys/fs/cgroup ' /proc/mounts; "
                "touch /sys/fs/cgroup/x 2>/dev/null && echo rw; ls /sys/fs/cgroup | grep -c .");
        add_mount(c, "/sys/fs/cgroup", "cgroup", "cgroup",
                  json_pack("[sssss]", "nosuid", "noexec", "nodev", "relatime", "ro"));
        json_array_append_new(pea_json_path(c, "linux.namespaces"),
                              json_pack("{s:s}", "type", "cgroup"));
        struct run r;
        run(c, &r);
        ck_assert_msg(r.r == 0 && r.status == 0, "%s", r.err ? r.err->msg : r.out);
        /* mounted once, not writable, not empty */
        ck_assert_msg(startswith(r.out, "1\n") && !strstr(r.out, "rw") && !streq(r.out, "1\n0\n"),
                      "output '%s'", r.out);
        run_done(&r);
        json_decref(c);
}

END_TEST

START_TEST(join_namespace)
{
        int ready[2];
        ck_assert_int_eq(pipe2(ready, O_CLOEXEC), 0);
        pid_t holder = fork();
        ck_assert_int_ge(holder, 0);
        if (holder == 0) {
                if (unshare(CLONE_NEWNET | CLONE_NEWUTS) < 0 || sethostname("holder", 6) < 0)
                        _exit(1);
                (void)write(ready[1], "x", 1);
                pause();
                _exit(0);
        }
        (void)close(ready[1]);
        char x;
        ck_assert_int_eq(read(ready[0], &x, 1), 1);
        (void)close(ready[0]);
        _cleanup_free_ char *net = xasprintf("/proc/%d/ns/net", (int)holder);
        _cleanup_free_ char *uts = xasprintf("/proc/%d/ns/uts", (int)holder);
        char want[128] = "";
        ck_assert_int_gt(readlink(net, want, sizeof(want) - 1), 0);
        /* The uts namespace from the spec's path, the network one from the options. */
        json_t *c = config_sh("readlink /proc/self/ns/net; hostname");
        json_t *ns = pea_json_path(c, "linux.namespaces");
        for (size_t i = 0; i < json_array_size(ns); i++)
                if (streq(json_string_value(json_object_get(json_array_get(ns, i), "type")), "uts"))
                        json_object_set_new(json_array_get(ns, i), "path", json_string(uts));
        config_set(c, "hostname", json_string(""));
        struct pea_runtime_ns_path paths[] = {{"network", net}};
        struct pea_runtime_opts opts;
        pea_runtime_opts_init(&opts);
        opts.ns_paths = paths;
        opts.n_ns_paths = ELEMENTSOF(paths);
        struct run r;
        run_opts(c, &opts, &r);
        (void)kill(holder, SIGKILL);
        (void)waitpid(holder, NULL, 0);
        ck_assert_msg(r.r == 0 && r.status == 0, "%s", r.err ? r.err->msg : r.out);
        _cleanup_free_ char *expect = xasprintf("%s\nholder\n", want);
        ck_assert_str_eq(r.out, expect);
        run_done(&r);
        json_decref(c);
}

END_TEST

static int preserve_one(struct pea_runtime_opts *opts)
{
        /* fd 3 is what the container gets; everything above must not leak. */
        int fd = open("/dev/null", O_RDONLY); /* no O_CLOEXEC: the runtime must close it */
        if (fd < 0 || dup2(opts->stdio[1], 3) < 0)
                return -errno;
        opts->preserve_fds = 1;
        return 0;
}

START_TEST(preserve_fds)
{
        json_t *c = config_sh("echo via-fd3 >&3; ls /proc/self/fd");
        _cleanup_free_ char *out = NULL;
        int code = run_in_child(c, preserve_one, &out);
        json_decref(c);
        ck_assert_msg(code == 0, "exit %d: %s", code, out);
        ck_assert_msg(startswith(out, "via-fd3\n0\n1\n2\n3\n"), "output '%s'", out);
        /* ls's own directory fd is 4; nothing else */
        _cleanup_strv_ char **l = strv_split(out, "\n");
        ck_assert_uint_le(strv_length(l), 6);
}

END_TEST

static volatile sig_atomic_t got_term;

static void on_term(int sig)
{
        (void)sig;
        got_term = 1;
}

START_TEST(signal_forwarding)
{
        /* pid 1 ignores signals it has no handler for, so the script traps TERM;
           the killer repeats until the trap is in place. */
        json_t *c = config_sh("trap 'exit 42' TERM; i=0;"
                              " while [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done; exit 3");
        struct sigaction sa = {.sa_handler = on_term};
        ck_assert_int_eq(sigaction(SIGTERM, &sa, NULL), 0);
        pid_t me = getpid();
        pid_t killer = fork();
        ck_assert_int_ge(killer, 0);
        if (killer == 0) {
                for (int i = 0; i < 100; i++) {
                        usleep(100000);
                        (void)kill(me, SIGTERM);
                }
                _exit(0);
        }
        struct run r;
        run(c, &r);
        (void)kill(killer, SIGKILL);
        (void)waitpid(killer, NULL, 0);
        ck_assert_int_eq(r.r, 0);
        ck_assert_int_eq(r.status, 42);
        run_done(&r);
        json_decref(c);
}

END_TEST

/* ---- pieces that need no root -------------------------------------------- */

static void parse_ok(const char *text, struct runtime_spec **ret)
{
        _cleanup_error_ struct pea_error *err = NULL;
        ck_assert_msg(runtime_spec_parse(text, "/bundle", ret, &err) == 0, "%s",
                      err ? err->msg : "");
}

static void parse_fails(const char *text, int code, const char *msg)
{
        _cleanup_error_ struct pea_error *err = NULL;
        struct runtime_spec *s = NULL;
        ck_assert_int_eq(runtime_spec_parse(text, "/bundle", &s, &err), -code);
        ck_assert_ptr_null(s);
        ck_assert_msg(strstr(err->msg, msg), "message '%s' lacks '%s'", err->msg, msg);
}

START_TEST(spec_parse)
{
        _cleanup_spec_ struct runtime_spec *s = NULL;
        parse_ok(base_config, &s);
        ck_assert_str_eq(s->root_path, "/bundle/rootfs");
        ck_assert_str_eq(s->args[0], "sh");
        ck_assert_str_eq(s->cwd, "/");
        ck_assert_str_eq(s->hostname, "pea-test");
        ck_assert_uint_eq(s->n_mounts, 7);
        ck_assert_str_eq(s->mounts[2].type, "devpts");
        ck_assert_uint_eq(s->n_namespaces, 5);
        ck_assert_ptr_nonnull(runtime_spec_ns(s, CLONE_NEWPID));
        ck_assert_ptr_null(runtime_spec_ns(s, CLONE_NEWUSER));
        ck_assert(s->caps.present);
        /* CHOWN 0, DAC_OVERRIDE 1, FOWNER 3, KILL 5, SETGID 6, SETUID 7, SETPCAP 8, SYS_CHROOT 18
         */
        ck_assert_uint_eq(s->caps.bounding, 0x401ebu);
        ck_assert_uint_eq(s->caps.inheritable, 0);
        ck_assert_uint_eq(strv_length(s->masked_paths), 5);
        _cleanup_error_ struct pea_error *err = NULL;
        ck_assert_int_eq(runtime_spec_join_ns(s, "network", "/proc/1/ns/net", &err), 0);
        ck_assert_str_eq(runtime_spec_ns(s, CLONE_NEWNET)->path, "/proc/1/ns/net");
        ck_assert_int_eq(runtime_spec_join_ns(s, "cgroup", "/proc/1/ns/cgroup", &err), 0);
        ck_assert_uint_eq(s->n_namespaces, 6);
        ck_assert_int_eq(runtime_spec_join_ns(s, "bogus", "/x", &err), -EINVAL);
}

END_TEST

START_TEST(spec_errors)
{
        parse_fails("{", EBADMSG, "parsing 'config.json'");
        parse_fails("[]", EBADMSG, "not an object");
        /* RLIM_INFINITY as runc writes it: above INT64_MAX, which jansson alone refuses. */
        _cleanup_spec_ struct runtime_spec *inf = NULL;
        parse_ok("{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\","
                 "\"rlimits\":[{\"type\":\"RLIMIT_CORE\",\"soft\":18446744073709551615,"
                 "\"hard\":18446744073709551615}]},\"root\":{\"path\":\"rootfs\"},"
                 "\"linux\":{\"namespaces\":[{\"type\":\"mount\"}]}}",
                 &inf);
        ck_assert_uint_eq(inf->n_rlimits, 1);
        ck_assert(inf->rlimits[0].soft == UINT64_MAX);
        ck_assert(inf->rlimits[0].hard == UINT64_MAX);
        parse_fails("{\"root\": {\"path\": \"r\"}}", EINVAL, "'process' is missing");
        parse_fails("{\"process\": {\"args\": []}, \"root\": {\"path\": \"r\"}}", EINVAL,
                    "'process.args' must not be empty");
        parse_fails("{\"process\": {\"args\": [1]}, \"root\": {\"path\": \"r\"}}", EINVAL,
                    "'process.args' must be an array of strings");
        const char *head = "{\"process\": {\"args\": [\"sh\"]}, \"root\": {\"path\": \"/r\"}, ";
        _cleanup_free_ char *no_mntns = xasprintf("%s\"linux\": {}}", head);
        parse_fails(no_mntns, EINVAL, "needs a 'mount' namespace");
        _cleanup_free_ char *userns = xasprintf(
                "%s\"linux\": {\"namespaces\": [{\"type\": \"mount\"}, {\"type\": \"user\"}]}}",
                head);
        parse_fails(userns, EINVAL, "needs 'linux.uidMappings'");
        _cleanup_free_ char *badns =
                xasprintf("%s\"linux\": {\"namespaces\": [{\"type\": \"nope\"}]}}", head);
        parse_fails(badns, EINVAL, "unknown namespace type 'nope'");
        _cleanup_free_ char *hostname = xasprintf(
                "%s\"hostname\": \"h\", \"linux\": {\"namespaces\": [{\"type\": \"mount\"}]}}",
                head);
        parse_fails(hostname, EINVAL, "without a private uts namespace");
        _cleanup_free_ char *rlimit = xasprintf(
                "{\"process\": {\"args\": [\"sh\"], \"rlimits\": [{\"type\": \"RLIMIT_BOGUS\","
                " \"soft\": 1, \"hard\": 1}]}, \"root\": {\"path\": \"/r\"}}");
        parse_fails(rlimit, EINVAL, "unknown rlimit 'RLIMIT_BOGUS'");
}

END_TEST

START_TEST(mount_options)
{
        char *opts[] = {"nosuid",   "ro", "rbind",       "mode=755", "size=1m",
                        "rprivate", "z",  "strictatime", "exec",     NULL};
        struct runtime_mount_opts o;
        _cleanup_error_ struct pea_error *err = NULL;
        ck_assert_int_eq(runtime_mount_opts_parse(opts, &o, &err), 0);
        ck_assert_uint_eq(o.flags, MS_NOSUID | MS_RDONLY | MS_REC | MS_STRICTATIME);
        ck_assert(o.bind);
        ck_assert(o.has_atime);
        ck_assert(!o.recursive_ro);
        ck_assert_uint_eq(o.propagation, MS_PRIVATE | MS_REC);
        ck_assert_str_eq(o.data, "mode=755,size=1m");
        runtime_mount_opts_done(&o);
        char *opts2[] = {"noexec", "rw", "rro", "newinstance", NULL};
        ck_assert_int_eq(runtime_mount_opts_parse(opts2, &o, &err), 0);
        ck_assert_uint_eq(o.flags, MS_NOEXEC | MS_RDONLY);
        ck_assert(o.recursive_ro && !o.bind);
        ck_assert_str_eq(o.data, "newinstance");
        runtime_mount_opts_done(&o);
        char *bad[] = {"a,b", NULL};
        ck_assert_int_eq(runtime_mount_opts_parse(bad, &o, &err), -EINVAL);
}

END_TEST

static void check_same(int fd, const char *path)
{
        struct stat a, b;
        ck_assert_int_eq(fstat(fd, &a), 0);
        ck_assert_msg(stat(path, &b) == 0, "'%s' missing", path);
        ck_assert(a.st_dev == b.st_dev && a.st_ino == b.st_ino);
}

static void check_resolve(const char *root)
{
        _cleanup_close_ int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        ck_assert_int_ge(rootfd, 0);
        _cleanup_error_ struct pea_error *err = NULL;
        _cleanup_free_ char *etc = xasprintf("%s/etc", root);
        int fd = runtime_resolve(rootfd, "/abs/new/dir", RESOLVE_KIND_DIR, &err);
        ck_assert_int_ge(fd, 0);
        _cleanup_free_ char *made = xasprintf("%s/etc/new/dir", root);
        check_same(fd, made);
        (void)close(fd);
        fd = runtime_resolve(rootfd, "rel/f", RESOLVE_KIND_FILE, &err);
        _cleanup_free_ char *f = xasprintf("%s/etc/f", root);
        check_same(fd, f);
        (void)close(fd);
        fd = runtime_resolve(rootfd, "../../../etc/./", RESOLVE_KIND_ANY, &err);
        check_same(fd, etc);
        (void)close(fd);
        fd = runtime_resolve(rootfd, "dangling", RESOLVE_KIND_DIR, &err);
        _cleanup_free_ char *dangling = xasprintf("%s/pea-made/here", root);
        check_same(fd, dangling);
        (void)close(fd);
        ck_assert_int_eq(runtime_resolve(rootfd, "loop/x", RESOLVE_KIND_DIR, &err), -ELOOP);
        pea_error_clear(&err);
        ck_assert_int_eq(runtime_resolve(rootfd, "etc/f/x", RESOLVE_KIND_DIR, &err), -ENOTDIR);
        pea_error_clear(&err);
        ck_assert_int_eq(runtime_resolve(rootfd, "missing", RESOLVE_KIND_ANY, &err), -ENOENT);
        ck_assert_ptr_nonnull(strstr(err->msg, "resolving 'missing' in the rootfs"));
}

START_TEST(resolve_in_root)
{
        _cleanup_free_ char *root = tpath("r");
        ck_assert_int_eq(mkdir(root, 0755), 0);
        mkdir_in(root, "etc");
        const char *links[][2] = {
                {"abs", "/etc"},
                {"rel", "../../etc"},
                {"loop", "loop"},
                {"dangling", "/pea-made/here"},
        };
        for (size_t i = 0; i < ELEMENTSOF(links); i++) {
                _cleanup_free_ char *p = xasprintf("%s/%s", root, links[i][0]);
                ck_assert_int_eq(symlink(links[i][1], p), 0);
        }
        bool host_had = pea_path_exists("/pea-made");
        check_resolve(root);
        ck_assert_int_eq(setenv("PEA_NO_OPENAT2", "1", 1), 0);
        _cleanup_error_ struct pea_error *err = NULL;
        _cleanup_free_ char *sub = xasprintf("%s/etc/new", root);
        ck_assert_int_eq(pea_rm_rf(sub, &err), 0);
        _cleanup_free_ char *made = xasprintf("%s/pea-made", root);
        ck_assert_int_eq(pea_rm_rf(made, &err), 0);
        check_resolve(root);
        unsetenv("PEA_NO_OPENAT2");
        ck_assert(host_had || !pea_path_exists("/pea-made"));
}

END_TEST

START_TEST(sync_messages)
{
        int sv[2];
        ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
        _cleanup_error_ struct pea_error *err = NULL;
        struct runtime_sync_msg m;
        ck_assert_int_eq(runtime_sync_send(sv[1], SYNC_PID, 1234, -EBADF, &err), 0);
        ck_assert_int_eq(runtime_sync_recv(sv[0], &m, &err), 0);
        ck_assert_int_eq(m.type, SYNC_PID);
        ck_assert_int_eq(m.value, 1234);
        ck_assert_int_lt(m.fd, 0);
        /* an fd travels with SYNC_CONSOLE */
        int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
        ck_assert_int_eq(runtime_send_fd(sv[1], devnull, &err), 0);
        (void)close(devnull);
        ck_assert_int_eq(runtime_sync_expect(sv[0], SYNC_CONSOLE, &m, &err), 0);
        ck_assert_int_ge(m.fd, 0);
        ck_assert_int_eq(fcntl(m.fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
        (void)close(m.fd);
        /* an error crosses as {code, len, msg} */
        struct pea_error sent = {.code = EACCES, .msg = (char *)"mounting 'x': denied"};
        runtime_sync_send_error(sv[1], &sent);
        ck_assert_int_eq(runtime_sync_recv(sv[0], &m, &err), -EACCES);
        ck_assert_str_eq(err->msg, "mounting 'x': denied");
        pea_error_clear(&err);
        /* a message of the wrong type; then EOF */
        ck_assert_int_eq(runtime_sync_send(sv[1], SYNC_READY, 0, -EBADF, &err), 0);
        ck_assert_int_eq(runtime_sync_expect(sv[0], SYNC_START, NULL, &err), -EPROTO);
        pea_error_clear(&err);
        (void)close(sv[1]);
        ck_assert_int_eq(runtime_sync_recv(sv[0], &m, &err), 0);
        ck_assert_int_eq(m.type, SYNC_EOF);
        ck_assert_int_eq(runtime_sync_expect(sv[0], SYNC_READY, NULL, &err), -EPIPE);
        (void)close(sv[0]);
}

END_TEST

START_TEST(exit_codes)
{
        struct pea_error *e = NULL;
        ck_assert_int_eq(runtime_exec_error(ENOENT, "nosuch", &e), -ENOENT);
        ck_assert_str_eq(e->msg, "executable file 'nosuch' not found in $PATH: No such file or "
                                 "directory: OCI runtime attempted to invoke a command that was "
                                 "not found");
        ck_assert_int_eq(pea_runtime_error_exit_code(e), 127);
        pea_error_clear(&e);
        ck_assert_int_eq(runtime_exec_error(EACCES, "/bin/x", &e), -EACCES);
        ck_assert_int_eq(pea_runtime_error_exit_code(e), 126);
        pea_error_clear(&e);
        ck_assert_int_eq(runtime_exec_error(ENOEXEC, "/bin/x", &e), -ENOEXEC);
        ck_assert_int_eq(pea_runtime_error_exit_code(e), 126);
        pea_error_clear(&e);
        struct pea_error other = {.code = ENOENT, .msg = (char *)"bind mount source '/x'"};
        ck_assert_int_eq(pea_runtime_error_exit_code(&other), 125);
        ck_assert_int_eq(pea_runtime_error_exit_code(NULL), 125);
        ck_assert_int_eq(pea_runtime_exit_status(7 << 8), 7);
        ck_assert_int_eq(pea_runtime_exit_status(SIGKILL), 128 + SIGKILL);
}

END_TEST

START_TEST(seccomp_build)
{
        void *ctx = NULL;
        _cleanup_error_ struct pea_error *err = NULL;
        json_t *f = mkdir_filter();
        json_array_append_new(json_object_get(f, "syscalls"),
                              json_pack("{s:[s], s:s, s:[{s:i, s:i, s:s}, {s:i, s:i, s:s}]}",
                                        "names", "personality", "action", "SCMP_ACT_KILL", "args",
                                        "index", 0, "value", 8, "op", "SCMP_CMP_NE", "index", 0,
                                        "value", 0, "op", "SCMP_CMP_NE"));
        json_array_append_new(
                json_object_get(f, "syscalls"),
                json_pack("{s:[s], s:s}", "names", "no_such_syscall", "action", "SCMP_ACT_LOG"));
        ck_assert_msg(runtime_seccomp_build(f, NULL, &ctx, &err) == 0, "%s", err ? err->msg : "");
        ck_assert_ptr_nonnull(ctx);
        ctx = runtime_seccomp_free(ctx);
        json_object_set_new(f, "syscalls",
                            json_pack("[{s:[s], s:s, s:[{s:i, s:i, s:s}]}]", "names", "read",
                                      "action", "SCMP_ACT_ERRNO", "args", "index", 0, "value", 0,
                                      "op", "SCMP_CMP_BOGUS"));
        ck_assert_int_eq(runtime_seccomp_build(f, NULL, &ctx, &err), -EINVAL);
        ck_assert_ptr_nonnull(strstr(err->msg, "invalid seccomp operator 'SCMP_CMP_BOGUS'"));
        ck_assert_ptr_null(ctx);
        json_decref(f);
}

END_TEST

/* 0 when mkdir fails with EPERM after loading filter in a child, else 1. */
static int mkdir_blocked_in_child(void *filter)
{
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                _cleanup_free_ char *d = tpath("blocked");
                (void)prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
                if (runtime_seccomp_load(filter, NULL) < 0)
                        _exit(2);
                _exit(mkdir(d, 0755) < 0 && errno == EPERM ? 0 : 1);
        }
        int status = 0;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 3;
}

/* A compiled program is cached by profile; the cached one works the same. */
START_TEST(seccomp_cache)
{
        _cleanup_free_ char *cache = tpath("cache");
        json_t *f = mkdir_filter();
        void *a = NULL, *b = NULL;
        ck_assert_int_eq(runtime_seccomp_build(f, cache, &a, NULL), 0);
        _cleanup_closedir_ DIR *d = opendir(cache);
        ck_assert_ptr_nonnull(d);
        struct dirent *de;
        _cleanup_free_ char *name = NULL;
        while ((de = readdir(d)))
                if (endswith(de->d_name, ".bpf"))
                        name = xstrdup(de->d_name);
        ck_assert_ptr_nonnull(name);
        ck_assert_int_eq(strlen(name), 64 + 4);
        ck_assert_int_eq(runtime_seccomp_build(f, cache, &b, NULL), 0);
        ck_assert_int_eq(mkdir_blocked_in_child(a), 0);
        ck_assert_int_eq(mkdir_blocked_in_child(b), 0);
        /* Another profile, another entry; a corrupt entry is compiled again. */
        _cleanup_free_ char *file = xasprintf("%s/%s", cache, name);
        ck_assert_int_eq(pea_write_file_atomic_at(AT_FDCWD, file, "bad", 3, 0600, NULL), 0);
        b = runtime_seccomp_free(b);
        ck_assert_int_eq(runtime_seccomp_build(f, cache, &b, NULL), 0);
        ck_assert_int_eq(mkdir_blocked_in_child(b), 0);
        json_object_set_new(f, "defaultAction", json_string("SCMP_ACT_LOG"));
        void *c = NULL;
        ck_assert_int_eq(runtime_seccomp_build(f, cache, &c, NULL), 0);
        size_t n = 0;
        rewinddir(d);
        while ((de = readdir(d)))
                n += endswith(de->d_name, ".bpf");
        ck_assert_uint_eq(n, 2);
        runtime_seccomp_free(a);
        runtime_seccomp_free(b);
        runtime_seccomp_free(c);
        json_decref(f);
}

END_TEST

/* ---- main ---------------------------------------------------------------- */

static Suite *runtime_suite(bool root)
{
        Suite *s = suite_create("runtime");
        TCase *tc = tcase_create("pieces");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, spec_parse);
        tcase_add_test(tc, spec_errors);
        tcase_add_test(tc, mount_options);
        tcase_add_test(tc, resolve_in_root);
        tcase_add_test(tc, sync_messages);
        tcase_add_test(tc, exit_codes);
        tcase_add_test(tc, seccomp_build);
        tcase_add_test(tc, seccomp_cache);
        suite_add_tcase(s, tc);
        if (!root)
                return s;
        tc = tcase_create("containers");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 20);
        tcase_add_test(tc, echo_output);
        tcase_add_test(tc, exit_code);
        tcase_add_test(tc, not_found);
        tcase_add_test(tc, hostname_and_pid1);
        tcase_add_test(tc, only_own_processes);
        tcase_add_test(tc, masked_paths);
        tcase_add_test(tc, readonly_paths);
        tcase_add_test(tc, capabilities);
        tcase_add_test(tc, no_new_privileges);
        tcase_add_test(tc, seccomp_filter);
        tcase_add_test(tc, seccomp_invalid);
        tcase_add_test(tc, rlimits);
        tcase_add_test(tc, env_and_cwd);
        tcase_add_test(tc, bind_mounts);
        tcase_add_test(tc, tmpfs_mount);
        tcase_add_test(tc, user_switch);
        tcase_add_test(tc, readonly_root_and_sysctl);
        tcase_add_test(tc, devices);
        tcase_add_test(tc, path_escape);
        tcase_add_test(tc, create_then_start);
        tcase_add_test(tc, create_then_free);
        tcase_add_test(tc, terminal);
        tcase_add_test(tc, terminal_console_socket);
        tcase_add_test(tc, user_namespace);
        tcase_add_test(tc, rootless);
        tcase_add_test(tc, preserve_fds);
        tcase_add_test(tc, cgroup_mount);
        tcase_add_test(tc, join_namespace);
        tcase_add_test(tc, signal_forwarding);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        bool root = geteuid() == 0;
        if (!root)
                printf("SKIP: needs root (container tests)\n");
        SRunner *sr = srunner_create(runtime_suite(root));
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
