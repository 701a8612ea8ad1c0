/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <check.h>
#include <jansson.h>

#include "base.h"
#include "monitor/monitor-internal.h"
#include "monitor/monitor.h"
#include "runtime/runtime.h"
#include "state/state.h"

/*
 * The monitor, end to end (as root): each test builds a busybox bundle as
 * test-runtime does, adds a container row to a fresh state store, spawns a
 * monitor (the pea-monitor helper when it is built, else in-process) and
 * checks the log, the state row, the exit file, attach and healthchecks.
 */

#define BUSYBOX "/bin/busybox"

static char tmpdir[64];
static char *run_root, *db_path, *log_path, *id;

static const char *const applets[] = {
        "sh", "cat", "echo", "sleep", "test", "[", "printf", "touch", "hostname", "tty",
};

static const char base_config[] =
        "{\"ociVersion\": \"1.0.2\","
        " \"process\": {\"terminal\": false, \"user\": {\"uid\": 0, \"gid\": 0},"
        "   \"args\": [\"sh\"], \"env\": [\"PATH=/bin\"], \"cwd\": \"/\"},"
        " \"root\": {\"path\": \"rootfs\", \"readonly\": false},"
        " \"hostname\": \"pea-test\","
        " \"mounts\": ["
        "   {\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"},"
        "   {\"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\","
        "    \"options\": [\"nosuid\", \"mode=755\"]},"
        "   {\"destination\": \"/dev/pts\", \"type\": \"devpts\", \"source\": \"devpts\","
        "    \"options\": [\"nosuid\", \"noexec\", \"newinstance\", \"ptmxmode=0666\","
        "                  \"mode=0620\"]},"
        "   {\"destination\": \"/tmp\", \"type\": \"tmpfs\", \"source\": \"tmpfs\","
        "    \"options\": [\"nosuid\", \"nodev\", \"mode=1777\"]}],"
        " \"linux\": {"
        "   \"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"network\"}, {\"type\": \"ipc\"},"
        "                  {\"type\": \"uts\"}, {\"type\": \"mount\"}]}}";

/* ---- fixtures ------------------------------------------------------------ */

static char *tpath(const char *rel)
{
        return xasprintf("%s/%s", tmpdir, rel);
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
}

static void make_rootfs(void)
{
        _cleanup_free_ char *rootfs = tpath("rootfs");
        ck_assert_int_eq(mkdir(rootfs, 0755), 0);
        const char *dirs[] = {"bin", "proc", "dev", "tmp", "etc"};
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                _cleanup_free_ char *p = xasprintf("%s/%s", rootfs, dirs[i]);
                ck_assert_int_eq(mkdir(p, 0755), 0);
        }
        _cleanup_free_ char *bb = xasprintf("%s/bin/busybox", rootfs);
        copy_file(BUSYBOX, bb, 0755);
        for (size_t i = 0; i < ELEMENTSOF(applets); i++) {
                _cleanup_free_ char *l = xasprintf("%s/bin/%s", rootfs, applets[i]);
                ck_assert_int_eq(symlink("busybox", l), 0);
        }
}

static void add_row(void)
{
        _cleanup_error_ struct pea_error *err = NULL;
        struct pea_state *s = NULL;
        ck_assert_int_eq(pea_state_open(db_path, &s, &err), 0);
        struct pea_container_row row = {
                .id = id, .name = (char *)"mon", .state = (char *)"created"};
        ck_assert_msg(pea_state_container_add(s, &row, &err) == 0, "%s", err ? err->msg : "");
        pea_state_close(s);
}

static void setup(void)
{
        snprintf(tmpdir, sizeof(tmpdir), "/tmp/pea-test-monitor-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(tmpdir));
        ck_assert_int_eq(chmod(tmpdir, 0755), 0);
        pea_log_set_level(PEA_LOG_ERROR);
        make_rootfs();
        run_root = tpath("run");
        db_path = tpath("state.db");
        log_path = tpath("ctr.log");
        id = pea_generate_id();
        add_row();
}

static void teardown(void)
{
        _cleanup_error_ struct pea_error *err = NULL;
        ck_assert_int_eq(pea_rm_rf(tmpdir, &err), 0);
        run_root = mfree(run_root);
        db_path = mfree(db_path);
        log_path = mfree(log_path);
        id = mfree(id);
}

static void write_config(json_t *args, bool terminal)
{
        _cleanup_error_ struct pea_error *err = NULL;
        _cleanup_json_ json_t *c = json_loads(base_config, 0, NULL);
        ck_assert_ptr_nonnull(c);
        json_object_set_new(pea_json_path(c, "process"), "args", args);
        json_object_set_new(pea_json_path(c, "process"), "terminal", json_boolean(terminal));
        _cleanup_free_ char *text = pea_json_dumps(c, 2);
        _cleanup_free_ char *p = tpath("config.json");
        ck_assert_int_eq(pea_write_file_atomic_at(AT_FDCWD, p, text, strlen(text), 0644, &err), 0);
}

static const char *helper(void)
{
        static char path[4096];
        const char *env = getenv("PEA_MONITOR_HELPER");
        const char *b = getenv("PEA_TEST_BUILDDIR");
        if (env)
                return env;
        if (b && snprintf(path, sizeof(path), "%s/../../pea-monitor", b) > 0
            && access(path, X_OK) == 0)
                return path;
        return NULL;
}

static void config(struct pea_monitor_config *cfg, const char *script)
{
        write_config(json_pack("[sss]", "sh", "-c", script), false);
        pea_monitor_config_init(cfg);
        cfg->id = id;
        cfg->bundle_dir = tmpdir;
        cfg->run_root = run_root;
        cfg->db_path = db_path;
        cfg->log_path = log_path;
        cfg->helper = helper();
}

static void spawn(const struct pea_monitor_config *cfg, pid_t *mon, pid_t *ctr)
{
        _cleanup_error_ struct pea_error *err = NULL;
        int r = pea_monitor_spawn(cfg, mon, ctr, &err);
        ck_assert_msg(r == 0, "spawn: %s", err ? err->msg : "?");
        ck_assert_int_gt(*mon, 0);
        ck_assert_int_gt(*ctr, 0);
        ck_assert_int_ne(*mon, *ctr);
}

static void msleep(int ms)
{
        struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

/* Gone, or a zombie of someone else: never a child of ours (the double fork). */
static bool process_gone(pid_t pid)
{
        _cleanup_free_ char *p = xasprintf("/proc/%d/stat", (int)pid);
        _cleanup_free_ char *text = NULL;
        if (pea_read_file_at(AT_FDCWD, p, 4096, &text, NULL, NULL) < 0)
                return true;
        const char *rp = strrchr(text, ')');
        return rp && rp[1] == ' ' && rp[2] == 'Z';
}

static void wait_gone(pid_t pid, int ms)
{
        int st;
        ck_assert_int_eq(waitpid(pid, &st, WNOHANG), -1);
        ck_assert_int_eq(errno, ECHILD);
        for (int i = 0; i < ms / 20 && !process_gone(pid); i++)
                msleep(20);
        ck_assert_msg(process_gone(pid), "process %d still runs", (int)pid);
}

static void get_row(struct pea_container_row *row)
{
        _cleanup_error_ struct pea_error *err = NULL;
        struct pea_state *s = NULL;
        ck_assert_int_eq(pea_state_open(db_path, &s, &err), 0);
        ck_assert_int_eq(pea_state_container_get_by_id(s, id, row, &err), 0);
        pea_state_close(s);
}

static char *read_log(void)
{
        char *text = NULL;
        if (pea_read_file_at(AT_FDCWD, log_path, 1 << 20, &text, NULL, NULL) < 0)
                return xstrdup("");
        return text;
}

static int count(const char *hay, const char *needle)
{
        int n = 0;
        for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
                n++;
        return n;
}

static void assert_line(const char *log, const char *stream, const char *flag, const char *text)
{
        regex_t re;
        _cleanup_free_ char *pat = xasprintf(
                "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{9}[+-][0-9]{2}:[0-9]{2} "
                "%s %s %s$",
                stream, flag, text);
        ck_assert_int_eq(regcomp(&re, pat, REG_EXTENDED | REG_NEWLINE | REG_NOSUB), 0);
        int r = regexec(&re, log, 0, NULL, 0);
        regfree(&re);
        ck_assert_msg(r == 0, "no line '%s' in log:\n%s", pat, log);
}

/* ---- tests ---------------------------------------------------------------- */

START_TEST(run_and_exit)
{
        struct pea_monitor_config cfg;
        pid_t mon = 0, ctr = 0;
        config(&cfg, "echo out; echo err >&2; sleep 0.2; exit 3");
        spawn(&cfg, &mon, &ctr);
        struct pea_container_row row = {0};
        get_row(&row);
        ck_assert_str_eq(row.state, "running");
        ck_assert_int_eq(row.pid, ctr);
        pea_container_row_done(&row);
        wait_gone(mon, 5000);
        ck_assert(process_gone(ctr));
        _cleanup_free_ char *log = read_log();
        assert_line(log, "stdout", "F", "out");
        assert_line(log, "stderr", "F", "err");
        ck_assert_int_eq(count(log, "\n"), 2);
        get_row(&row);
        ck_assert_str_eq(row.state, "exited");
        ck_assert_int_eq(row.exit_code, 3);
        ck_assert_int_eq(row.pid, 0);
        ck_assert_int_gt(row.started_at, 0);
        ck_assert_int_ge(row.finished_at, row.started_at + 200000000);
        int code = 0;
        int64_t at = 0;
        bool oom = true;
        ck_assert_int_eq(pea_monitor_read_exit(run_root, id, &code, &at, &oom, NULL), 0);
        ck_assert_int_eq(code, 3);
        ck_assert_int_eq(at, row.finished_at);
        ck_assert(!oom);
        pea_container_row_done(&row);
        /* The attach socket is gone with the monitor. */
        _cleanup_free_ char *sock = pea_monitor_attach_path(run_root, id);
        ck_assert(!pea_path_exists(sock));
        ck_assert_int_eq(pea_monitor_is_alive(run_root, id, NULL, NULL), 0);
}

END_TEST

START_TEST(partial_line)
{
        struct pea_monitor_config cfg;
        pid_t mon = 0, ctr = 0;
        config(&cfg, "printf abc; sleep 0.2; printf 'def\\n'; printf tail");
        spawn(&cfg, &mon, &ctr);
        wait_gone(mon, 5000);
        _cleanup_free_ char *log = read_log();
        assert_line(log, "stdout", "P", "abc");
        assert_line(log, "stdout", "F", "def");
        assert_line(log, "stdout", "P", "tail");
}

END_TEST

START_TEST(max_size)
{
        struct pea_monitor_config cfg;
        pid_t mon = 0, ctr = 0;
        config(&cfg, "i=0; while [ $i -lt 40 ]; do echo line$i; i=$((i+1)); done");
        cfg.log_max_size = 300;
        spawn(&cfg, &mon, &ctr);
        wait_gone(mon, 5000);
        _cleanup_free_ char *log = read_log();
        ck_assert_int_le(strlen(log), 300);
        assert_line(log, "stdout", "F", "line39");
        ck_assert_ptr_null(strstr(log, " line0\n"));
}

END_TEST

START_TEST(log_none)
{
        struct pea_monitor_config cfg;
        pid_t mon = 0, ctr = 0;
        config(&cfg, "echo quiet");
        cfg.log_driver = PEA_MONITOR_LOG_NONE;
        spawn(&cfg, &mon, &ctr);
        wait_gone(mon, 5000);
        ck_assert(!pea_path_exists(log_path));
}

END_TEST

START_TEST(restart_on_failure)
{
        struct pea_monitor_config cfg;
        pid_t mon = 0, ctr = 0;
        config(&cfg, "echo run; exit 1");
        cfg.restart = PEA_MONITOR_RESTART_ON_FAILURE;
        cfg.restart_max = 2;
        spawn(&cfg, &mon, &ctr);
        wait_gone(mon, 8000);
        _cleanup_free_ char *log = read_log();
        ck_assert_int_eq(count(log, " stdout F run\n"), 3);
        struct pea_container_row row = {0};
        get_row(&row);
        ck_assert_str_eq(row.state, "exited");
        ck_assert_int_eq(row.exit_code, 1);
        /* inspect's RestartCount */
        ck_assert_int_eq(json_integer_value(json_object_get(row.config, "RestartCount")), 2);
        pea_container_row_done(&row);
}

END_TEST

START_TEST(restart_always_until_stop)
{
        struct pea_monitor_config cfg;
        pid_t mon = 0, ctr = 0;
        config(&cfg, "echo run; sleep 0.1");
        cfg.restart = PEA_MONITOR_RESTART_ALWAYS;
        spawn(&cfg, &mon, &ctr);
        for (int i = 0; i < 100; i++) {
                _cleanup_free_ char *log = read_log();
                if (count(log, " run\n") >= 3)
                        break;
                msleep(50);
        }
        ck_assert_int_eq(pea_monitor_request_stop(run_root, id, NULL), 0);
        wait_gone(mon, 8000);
        _cleanup_free_ char *log = read_log();
        int runs = count(log, " run\n");
        ck_assert_int_ge(runs, 3);
        msleep(300);
        _cleanup_free_ char *again = read_log();
        ck_assert_int_eq(count(again, " run\n"), runs);
}

END_TEST

static json_t *health_of_row(void)
{
        _cleanup_error_ struct pea_error *err = NULL;
        struct pea_state *s = NULL;
        json_t *h = NULL;
        ck_assert_int_eq(pea_state_open(db_path, &s, &err), 0);
        ck_assert_int_eq(pea_state_container_get_health(s, id, &h, &err), 0);
        pea_state_close(s);
        return h;
}

static json_t *wait_health(const char *status)
{
        for (int i = 0; i < 150; i++) {
                json_t *h = health_of_row();
                if (h && streq_ptr(json_string_value(json_object_get(h, "Status")), status))
                        return h;
                json_decref(h);
                msleep(50);
        }
        ck_abort_msg("health never became '%s'", status);
        return NULL;
}

START_TEST(healthcheck)
{
        struct pea_monitor_config cfg;
        pid_t mon = 0, ctr = 0;
        _cleanup_error_ struct pea_error *err = NULL;
        config(&cfg, "sleep 30");
        ck_assert_int_eq(pea_monitor_health_cmd_parse("test -f /tmp/ok", &cfg.health.test, NULL),
                         0);
        cfg.health.interval_ns = 200 * 1000000;
        cfg.health.retries = 2;
        cfg.health.timeout_ns = 2 * INT64_C(1000000000);
        spawn(&cfg, &mon, &ctr);
        _cleanup_json_ json_t *h = wait_health("unhealthy");
        ck_assert_int_ge(json_integer_value(json_object_get(h, "FailingStreak")), 2);
        json_t *last = json_array_get(json_object_get(h, "Log"), 0);
        ck_assert_int_eq(json_integer_value(json_object_get(last, "ExitCode")), 1);
        ck_assert_ptr_nonnull(json_string_value(json_object_get(last, "Start")));
        /* exec_in runs in the container: its hostname, its /tmp. */
        char *argv_host[] = {"hostname", NULL}, *argv_touch[] = {"touch", "/tmp/ok", NULL};
        int code = -1;
        _cleanup_free_ char *out = NULL;
        ck_assert_int_eq(pea_monitor_exec_in(ctr, argv_host, NULL, NULL, INT64_C(5000000000), &code,
                                             &out, &err),
                         0);
        ck_assert_int_eq(code, 0);
        ck_assert_str_eq(out, "pea-test\n");
        ck_assert_int_eq(pea_monitor_exec_in(ctr, argv_touch, NULL, NULL, 0, &code, NULL, &err), 0);
        ck_assert_int_eq(code, 0);
        _cleanup_json_ json_t *ok = wait_health("healthy");
        ck_assert_int_eq(json_integer_value(json_object_get(ok, "FailingStreak")), 0);
        ck_assert_int_le(json_array_size(json_object_get(ok, "Log")), HEALTH_LOG_MAX);
        ck_assert_int_eq(kill(ctr, SIGKILL), 0);
        wait_gone(mon, 5000);
        strv_free(cfg.health.test);
}

END_TEST

START_TEST(health_on_failure_kill)
{
        struct pea_monitor_config cfg;
        pid_t mon = 0, ctr = 0;
        config(&cfg, "sleep 30");
        char *test[] = {"false-command-that-is-missing", NULL};
        cfg.health.test = test;
        cfg.health.interval_ns = 100 * 1000000;
        cfg.health.retries = 1;
        cfg.health.on_failure = PEA_MONITOR_HEALTH_ACTION_KILL;
        spawn(&cfg, &mon, &ctr);
        wait_gone(mon, 5000);
        struct pea_container_row row = {0};
        get_row(&row);
        ck_assert_str_eq(row.state, "exited");
        ck_assert_int_eq(row.exit_code, 137);
        pea_container_row_done(&row);
}

END_TEST

static int monitor_unix_socket_dgram(const char *path)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_lt(strlen(path), sizeof(sa.sun_path));
        memcpy(sa.sun_path, path, strlen(path));
        ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        struct timeval tv = {5, 0};
        ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
        return fd;
}

START_TEST(health_timeout)
{
        struct pea_monitor_config cfg;
        pid_t mon = 0, ctr = 0;
        config(&cfg, "sleep 30");
        char *test[] = {"sleep", "5", NULL};
        cfg.health.test = test;
        cfg.health.interval_ns = 100 * 1000000;
        cfg.health.timeout_ns = 200 * 1000000;
        cfg.health.retries = 1;
        spawn(&cfg, &mon, &ctr);
        _cleanup_json_ json_t *h = wait_health("unhealthy");
        json_t *last = json_array_get(json_object_get(h, "Log"), 0);
        ck_assert_str_eq(json_string_value(json_object_get(last, "Output")),
                         "healthcheck command timed out");
        ck_assert_int_eq(kill(ctr, SIGKILL), 0);
        wait_gone(mon, 5000);
}

END_TEST

START_TEST(sd_notify)
{
        struct pea_monitor_config cfg;
        pid_t mon = 0, ctr = 0;
        _cleanup_free_ char *path = tpath("notify");
        _cleanup_close_ int fd = monitor_unix_socket_dgram(path);
        config(&cfg, "sleep 0.2");
        cfg.notify_socket = path;
        spawn(&cfg, &mon, &ctr);
        char buf[256] = "";
        ck_assert_int_gt(recv(fd, buf, sizeof(buf) - 1, 0), 0);
        _cleanup_free_ char *want = xasprintf("READY=1\nMAINPID=%d", (int)ctr);
        ck_assert_str_eq(buf, want);
        wait_gone(mon, 5000);
}

END_TEST

static char *read_all(int fd)
{
        size_t len = 0, cap = 4096;
        char *buf = xmalloc(cap);
        for (;;) {
                if (len + 1 >= cap)
                        buf = xrealloc(buf, cap *= 2);
                ssize_t n = read(fd, buf + len, cap - len - 1);
                if (n <= 0)
                        break;
                len += (size_t)n;
        }
        buf[len] = '\0';
        return buf;
}

/* Attaches with stdin from a pipe holding input (NULL: no stdin); returns the output. */
static char *attach(const char *input, bool close_input, int *ret)
{
        _cleanup_error_ struct pea_error *err = NULL;
        _cleanup_free_ char *sock = pea_monitor_attach_path(run_root, id);
        int in[2] = {-1, -1}, out[2];
        ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
        if (input) {
                ck_assert_int_eq(pipe2(in, O_CLOEXEC), 0);
                ck_assert_int_eq(write(in[1], input, strlen(input)), (ssize_t)strlen(input));
                if (close_input)
                        (void)close(in[1]);
        }
        *ret = pea_monitor_attach(sock, in[0], out[1], out[1], NULL, &err);
        ck_assert_msg(*ret >= 0, "attach: %s", err ? err->msg : "");
        (void)close(out[1]);
        if (in[0] >= 0)
                (void)close(in[0]);
        if (input && !close_input)
                (void)close(in[1]);
        char *text = read_all(out[0]);
        (void)close(out[0]);
        return text;
}

START_TEST(attach_output)
{
        struct pea_monitor_config cfg;
        pid_t mon = 0, ctr = 0;
        config(&cfg, "i=0; while [ $i -lt 12 ]; do echo tick$i; i=$((i+1)); sleep 0.1; done");
        spawn(&cfg, &mon, &ctr);
        /* A second client in a child process: output goes to both. */
        int p[2];
        ck_assert_int_eq(pipe(p), 0);
        pid_t child = fork();
        ck_assert_int_ge(child, 0);
        if (child == 0) {
                int r = 0;
                char *text = attach(NULL, false, &r);
                _exit(r == 0 && strstr(text, "tick11\n") ? 0 : 1);
        }
        int r = -1;
        _cleanup_free_ char *text = attach(NULL, false, &r);
        ck_assert_int_eq(r, 0);
        ck_assert_ptr_nonnull(strstr(text, "tick10\ntick11\n"));
        int st = 0;
        ck_assert_int_eq(waitpid(child, &st, 0), child);
        ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        (void)close(p[0]);
        (void)close(p[1]);
        wait_gone(mon, 5000);
}

END_TEST

START_TEST(attach_input)
{
        struct pea_monitor_config cfg;
        pid_t mon = 0, ctr = 0;
        config(&cfg, "cat");
        cfg.stdin_open = true;
        spawn(&cfg, &mon, &ctr);
        int r = -1;
        _cleanup_free_ char *text = attach("hello monitor\n", true, &r);
        ck_assert_int_eq(r, 0);
        ck_assert_str_eq(text, "hello monitor\n");
        wait_gone(mon, 5000);
        _cleanup_free_ char *log = read_log();
        assert_line(log, "stdout", "F", "hello monitor");
}

END_TEST

START_TEST(attach_detach)
{
        struct pea_monitor_config cfg;
        pid_t mon = 0, ctr = 0;
        config(&cfg, "cat");
        cfg.stdin_open = true;
        spawn(&cfg, &mon, &ctr);
        int r = -1;
        /* ctrl-p then ctrl-q detaches; the keys never reach the container. */
        _cleanup_free_ char *t1 = attach("first\n\x10\x11", false, &r);
        ck_assert_int_eq(r, 1);
        ck_assert(!process_gone(mon));
        ck_assert_int_eq(kill(ctr, 0), 0);
        _cleanup_free_ char *t2 = attach("x\x10y\n", true, &r);
        ck_assert_int_eq(r, 0);
        wait_gone(mon, 5000);
        _cleanup_free_ char *log = read_log();
        assert_line(log, "stdout", "F", "first");
        assert_line(log, "stdout", "F", "x\x10y");
        ck_assert_ptr_null(strstr(log, "\x11"));
}

END_TEST

START_TEST(attach_wait)
{
        struct pea_monitor_config cfg;
        pid_t mon = 0, ctr = 0;
        config(&cfg, "echo first; echo second >&2");
        cfg.attach_wait = true;
        spawn(&cfg, &mon, &ctr);
        /* Created, not started: the row is untouched until the client comes. */
        msleep(200);
        struct pea_container_row row = {0};
        get_row(&row);
        ck_assert_str_eq(row.state, "created");
        pea_container_row_done(&row);
        _cleanup_error_ struct pea_error *err = NULL;
        _cleanup_free_ char *sock = pea_monitor_attach_path(run_root, id);
        int out[2], errp[2];
        ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
        ck_assert_int_eq(pipe2(errp, O_CLOEXEC), 0);
        ck_assert_int_eq(pea_monitor_attach(sock, -1, out[1], errp[1], "", &err), 0);
        (void)close(out[1]);
        (void)close(errp[1]);
        _cleanup_free_ char *o = read_all(out[0]);
        _cleanup_free_ char *e = read_all(errp[0]);
        (void)close(out[0]);
        (void)close(errp[0]);
        ck_assert_str_eq(o, "first\n");
        ck_assert_str_eq(e, "second\n");
        wait_gone(mon, 5000);
        get_row(&row);
        ck_assert_str_eq(row.state, "exited");
        pea_container_row_done(&row);
}

END_TEST

START_TEST(attach_terminal)
{
        struct pea_monitor_config cfg;
        pid_t mon = 0, ctr = 0;
        config(&cfg, "");
        write_config(json_pack("[sss]", "sh", "-c", "sleep 0.3; tty; echo done"), true);
        spawn(&cfg, &mon, &ctr);
        int r = -1;
        _cleanup_free_ char *text = attach(NULL, false, &r);
        ck_assert_int_eq(r, 0);
        ck_assert_ptr_nonnull(strstr(text, "/dev/pts/0\r\ndone\r\n"));
        wait_gone(mon, 5000);
}

END_TEST

static long status_kib(pid_t pid, const char *field)
{
        _cleanup_free_ char *p = xasprintf("/proc/%d/status", (int)pid);
        _cleanup_free_ char *text = NULL;
        long kib = -1;
        ck_assert_int_eq(pea_read_file_at(AT_FDCWD, p, 65536, &text, NULL, NULL), 0);
        const char *l = strstr(text, field);
        ck_assert_ptr_nonnull(l);
        ck_assert_int_eq(sscanf(l + strlen(field), ": %ld", &kib), 1);
        return kib;
}

START_TEST(monitor_killed)
{
        struct pea_monitor_config cfg;
        pid_t mon = 0, ctr = 0;
        config(&cfg, "sleep 30");
        spawn(&cfg, &mon, &ctr);
        msleep(200);
        fprintf(stderr,
                "monitor with a sleeping container: VmRSS %ld KiB (RssAnon %ld, RssFile %ld), %s\n",
                status_kib(mon, "VmRSS"), status_kib(mon, "RssAnon"), status_kib(mon, "RssFile"),
                cfg.helper ? "pea-monitor helper" : "in-process, forked from the test");
        /*
         * kill -9 of the monitor: the container (its child) is reparented and
         * keeps running; the row still says running with its pid, and there is
         * no exit file. `ps`/`rm -f` see a live pid without a monitor.
         */
        pid_t alive = 0;
        ck_assert_int_eq(pea_monitor_is_alive(run_root, id, &alive, NULL), 1);
        ck_assert_int_eq(alive, mon);
        ck_assert_int_eq(kill(mon, SIGKILL), 0);
        wait_gone(mon, 5000);
        ck_assert_int_eq(pea_monitor_is_alive(run_root, id, NULL, NULL), 0);
        msleep(100);
        ck_assert_int_eq(kill(ctr, 0), 0);
        struct pea_container_row row = {0};
        get_row(&row);
        ck_assert_str_eq(row.state, "running");
        ck_assert_int_eq(row.pid, ctr);
        pea_container_row_done(&row);
        int code = 0;
        ck_assert_int_eq(pea_monitor_read_exit(run_root, id, &code, NULL, NULL, NULL), -ENOENT);
        ck_assert_int_eq(kill(ctr, SIGKILL), 0);
        wait_gone(ctr, 5000);
}

END_TEST

START_TEST(spawn_failure)
{
        struct pea_monitor_config cfg;
        _cleanup_error_ struct pea_error *err = NULL;
        pid_t mon = 0, ctr = 0;
        config(&cfg, "");
        write_config(json_pack("[s]", "nosuch"), false);
        ck_assert_int_eq(pea_monitor_spawn(&cfg, &mon, &ctr, &err), -ENOENT);
        ck_assert_ptr_nonnull(strstr(err->msg, "not found"));
        ck_assert_int_eq(mon, 0);
        struct pea_container_row row = {0};
        get_row(&row);
        ck_assert_str_eq(row.state, "created");
        pea_container_row_done(&row);
}

END_TEST

START_TEST(health_run_once)
{
        struct pea_monitor_config cfg;
        pid_t mon = 0, ctr = 0;
        _cleanup_error_ struct pea_error *err = NULL;
        config(&cfg, "sleep 30");
        spawn(&cfg, &mon, &ctr);
        struct pea_monitor_health h = cfg.health;
        char *test[] = {"sh", "-c", "echo checked; test -f /tmp/ok", NULL};
        h.test = test;
        h.retries = 2;
        _cleanup_free_ char *s1 = NULL, *s2 = NULL, *s3 = NULL;
        bool unhealthy = true;
        /* one failure of two allowed: still starting */
        ck_assert_int_eq(pea_monitor_health_run(ctr, &h, NULL, NULL, NULL, monitor_now_ns(), &s1,
                                                &unhealthy, &err),
                         0);
        ck_assert(!unhealthy);
        _cleanup_json_ json_t *j1 = json_loads(s1, 0, NULL);
        ck_assert_str_eq(pea_json_path_string(j1, "Status", ""), "starting");
        ck_assert_int_eq(json_integer_value(json_object_get(j1, "FailingStreak")), 1);
        json_t *log1 = json_array_get(json_object_get(j1, "Log"), 0);
        ck_assert_str_eq(json_string_value(json_object_get(log1, "Output")), "checked\n");
        /* the second, carried on from the first state: unhealthy, the action is due */
        ck_assert_int_eq(pea_monitor_health_run(ctr, &h, NULL, NULL, s1, monitor_now_ns(), &s2,
                                                &unhealthy, &err),
                         0);
        ck_assert(unhealthy);
        _cleanup_json_ json_t *j2 = json_loads(s2, 0, NULL);
        ck_assert_str_eq(pea_json_path_string(j2, "Status", ""), "unhealthy");
        ck_assert_int_eq(json_array_size(json_object_get(j2, "Log")), 2);
        char *touch[] = {"touch", "/tmp/ok", NULL};
        int code = -1;
        ck_assert_int_eq(pea_monitor_exec_in(ctr, touch, NULL, NULL, 0, &code, NULL, &err), 0);
        ck_assert_int_eq(pea_monitor_health_run(ctr, &h, NULL, NULL, s2, monitor_now_ns(), &s3,
                                                &unhealthy, &err),
                         0);
        ck_assert(!unhealthy);
        _cleanup_json_ json_t *j3 = json_loads(s3, 0, NULL);
        ck_assert_str_eq(pea_json_path_string(j3, "Status", ""), "healthy");
        ck_assert_int_eq(json_integer_value(json_object_get(j3, "FailingStreak")), 0);
        ck_assert_int_eq(kill(ctr, SIGKILL), 0);
        wait_gone(mon, 5000);
}

END_TEST

/* pea exec's runtime part: runs argv in the container, returns the exit code and stdout. */
static int exec_capture(pid_t ctr, const struct pea_runtime_exec_opts *base, char **argv,
                        char **ret_out)
{
        _cleanup_error_ struct pea_error *err = NULL;
        int p[2];
        ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
        struct pea_runtime_exec_opts o = *base;
        o.args = argv;
        o.stdio[0] = -1;
        o.stdio[1] = p[1];
        o.stdio[2] = -1;
        pid_t pid = 0;
        int r = pea_runtime_exec(tmpdir, ctr, &o, &pid, NULL, &err);
        (void)close(p[1]);
        if (r < 0) {
                (void)close(p[0]);
                return -pea_runtime_error_exit_code(err);
        }
        char buf[4096];
        ssize_t n = read(p[0], buf, sizeof(buf) - 1);
        (void)close(p[0]);
        buf[n > 0 ? n : 0] = '\0';
        *ret_out = xstrdup(buf);
        int st = 0;
        ck_assert_int_eq(waitpid(pid, &st, 0), pid);
        return pea_runtime_exit_status(st);
}

START_TEST(exec_process)
{
        struct pea_monitor_config cfg;
        pid_t mon = 0, ctr = 0;
        config(&cfg, "sleep 30");
        spawn(&cfg, &mon, &ctr);
        char *env[] = {"FOO=bar", "PATH=/bin:/usr/bin", NULL};
        struct pea_runtime_exec_opts o = {.env = env, .cwd = "/tmp"};
        char *a1[] = {"sh", "-c", "echo $FOO $PATH $(pwd) $(hostname) $$; exit 7", NULL};
        _cleanup_free_ char *out = NULL;
        ck_assert_int_eq(exec_capture(ctr, &o, a1, &out), 7);
        /* not pid 1 nor 2: inside the container's pid namespace, next to its init */
        ck_assert_msg(strncmp(out, "bar /bin:/usr/bin /tmp pea-test ", 32) == 0, "%s", out);
        long long inner = 0;
        ck_assert_int_eq(safe_atoll(strstrip(out + 32), &inner), 0);
        ck_assert_int_gt(inner, 1);
        ck_assert_int_lt(inner, 100);
        char *a2[] = {"no-such-command", NULL}, *a3[] = {"/tmp", NULL};
        ck_assert_int_eq(exec_capture(ctr, &o, a2, &out), -127);
        ck_assert_int_eq(exec_capture(ctr, &o, a3, &out), -126);
        ck_assert_int_eq(kill(ctr, SIGKILL), 0);
        wait_gone(mon, 5000);
}

END_TEST

/* ---- parsers ------------------------------------------------------------ */

START_TEST(durations)
{
        int64_t ns = -1;
        const int64_t s = INT64_C(1000000000);
        ck_assert_int_eq(pea_monitor_duration_parse("30s", &ns, NULL), 0);
        ck_assert_int_eq(ns, 30 * s);
        ck_assert_int_eq(pea_monitor_duration_parse("1m30s", &ns, NULL), 0);
        ck_assert_int_eq(ns, 90 * s);
        ck_assert_int_eq(pea_monitor_duration_parse("1.5h", &ns, NULL), 0);
        ck_assert_int_eq(ns, 5400 * s);
        ck_assert_int_eq(pea_monitor_duration_parse("500ms", &ns, NULL), 0);
        ck_assert_int_eq(ns, s / 2);
        ck_assert_int_eq(pea_monitor_duration_parse("2us3ns", &ns, NULL), 0);
        ck_assert_int_eq(ns, 2003);
        ck_assert_int_eq(pea_monitor_duration_parse("0", &ns, NULL), 0);
        ck_assert_int_eq(ns, 0);
        _cleanup_error_ struct pea_error *err = NULL;
        ck_assert_int_eq(pea_monitor_duration_parse("10", &ns, &err), -EINVAL);
        ck_assert_str_eq(err->msg, "time: invalid duration \"10\"");
        const char *bad[] = {"", "-1s", "1x", "s", "1s2", "+3s", "1e400h", "9999999999h"};
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                ck_assert_msg(pea_monitor_duration_parse(bad[i], &ns, NULL) == -EINVAL,
                              "'%s' parsed", bad[i]);
        ck_assert_int_eq(ns, 0);
}

END_TEST

START_TEST(parse_options)
{
        enum pea_monitor_restart p;
        unsigned max = 9;
        ck_assert_int_eq(pea_monitor_restart_parse("on-failure:4", &p, &max, NULL), 0);
        ck_assert_int_eq(p, PEA_MONITOR_RESTART_ON_FAILURE);
        ck_assert_int_eq(max, 4);
        ck_assert_int_eq(pea_monitor_restart_parse("unless-stopped", &p, &max, NULL), 0);
        ck_assert_int_eq(p, PEA_MONITOR_RESTART_UNLESS_STOPPED);
        ck_assert_int_eq(pea_monitor_restart_parse("sometimes", &p, &max, NULL), -EINVAL);
        ck_assert_int_eq(pea_monitor_restart_parse("on-failure:x", &p, &max, NULL), -EINVAL);
        char **argv = NULL;
        ck_assert_int_eq(pea_monitor_health_cmd_parse("[\"CMD\", \"a\", \"b c\"]", &argv, NULL), 0);
        ck_assert_int_eq(strv_length(argv), 2);
        ck_assert_str_eq(argv[1], "b c");
        argv = strv_free(argv);
        ck_assert_int_eq(pea_monitor_health_cmd_parse("[\"CMD-SHELL\", \"x && y\"]", &argv, NULL),
                         0);
        ck_assert_str_eq(argv[2], "x && y");
        argv = strv_free(argv);
        ck_assert_int_eq(pea_monitor_health_cmd_parse("[\"NONE\"]", &argv, NULL), 0);
        ck_assert_ptr_null(argv);
        char *keys = NULL;
        size_t n = 0;
        ck_assert_int_eq(pea_monitor_detach_keys_parse(NULL, &keys, &n, NULL), 0);
        ck_assert_int_eq(n, 2);
        ck_assert(keys[0] == 0x10 && keys[1] == 0x11);
        keys = mfree(keys);
        ck_assert_int_eq(pea_monitor_detach_keys_parse("ctrl-a,x,ctrl-[", &keys, &n, NULL), 0);
        ck_assert(n == 3 && keys[0] == 1 && keys[1] == 'x' && keys[2] == 27);
        keys = mfree(keys);
        ck_assert_int_eq(pea_monitor_detach_keys_parse("", &keys, &n, NULL), 0);
        ck_assert_int_eq(n, 0);
        keys = mfree(keys);
        ck_assert_int_eq(pea_monitor_detach_keys_parse("ctrl-", &keys, &n, NULL), -EINVAL);
        ck_assert_int_eq(monitor_restart_backoff(0), RESTART_BACKOFF_MIN);
        ck_assert_int_eq(monitor_restart_backoff(3), 8 * RESTART_BACKOFF_MIN);
        ck_assert_int_eq(monitor_restart_backoff(40), RESTART_BACKOFF_MAX);
}

END_TEST

START_TEST(argv_round_trip)
{
        struct pea_monitor_config cfg, back;
        char *test[] = {"/bin/sh", "-c", "true", NULL};
        pea_monitor_config_init(&cfg);
        cfg.id = "abc";
        cfg.bundle_dir = "/b";
        cfg.run_root = "/r";
        cfg.log_path = "/l";
        cfg.log_max_size = 1000;
        cfg.restart = PEA_MONITOR_RESTART_ON_FAILURE;
        cfg.restart_max = 5;
        cfg.health.test = test;
        cfg.health.interval_ns = 7;
        cfg.health.on_failure = PEA_MONITOR_HEALTH_ACTION_STOP;
        cfg.stdin_open = true;
        cfg.attach_wait = true;
        _cleanup_strv_ char **argv = pea_monitor_config_to_argv(&cfg, "/x/pea-monitor", 3);
        _cleanup_strv_ char **owned = NULL;
        int fd = -1;
        ck_assert_int_eq(pea_monitor_config_from_argv((int)strv_length(argv), argv, &back, &fd,
                                                      &owned, NULL),
                         0);
        ck_assert_int_eq(fd, 3);
        ck_assert_str_eq(back.id, "abc");
        ck_assert_str_eq(back.log_path, "/l");
        ck_assert_int_eq(back.log_max_size, 1000);
        ck_assert_int_eq(back.restart, PEA_MONITOR_RESTART_ON_FAILURE);
        ck_assert_int_eq(back.restart_max, 5);
        ck_assert_str_eq(back.health.test[2], "true");
        ck_assert_int_eq(back.health.interval_ns, 7);
        ck_assert_int_eq(back.health.on_failure, PEA_MONITOR_HEALTH_ACTION_STOP);
        ck_assert(back.stdin_open);
        ck_assert(back.attach_wait);
        ck_assert_ptr_null(back.db_path);
}

END_TEST

static Suite *monitor_suite(void)
{
        Suite *s = suite_create("monitor");
        TCase *p = tcase_create("parse");
        tcase_add_test(p, parse_options);
        tcase_add_test(p, argv_round_trip);
        tcase_add_test(p, durations);
        suite_add_tcase(s, p);
        TCase *tc = tcase_create("containers");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 20);
        tcase_add_test(tc, run_and_exit);
        tcase_add_test(tc, partial_line);
        tcase_add_test(tc, max_size);
        tcase_add_test(tc, log_none);
        tcase_add_test(tc, restart_on_failure);
        tcase_add_test(tc, restart_always_until_stop);
        tcase_add_test(tc, healthcheck);
        tcase_add_test(tc, health_on_failure_kill);
        tcase_add_test(tc, health_timeout);
        tcase_add_test(tc, health_run_once);
        tcase_add_test(tc, exec_process);
        tcase_add_test(tc, sd_notify);
        tcase_add_test(tc, attach_output);
        tcase_add_test(tc, attach_input);
        tcase_add_test(tc, attach_detach);
        tcase_add_test(tc, attach_terminal);
        tcase_add_test(tc, attach_wait);
        tcase_add_test(tc, monitor_killed);
        tcase_add_test(tc, spawn_failure);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(monitor_suite());
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
