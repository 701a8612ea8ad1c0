/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/syscall.h>
#include <sys/wait.h>

#include <jansson.h>

#include "base.h"
#include "network/network-internal.h"
#include "network/network.h"

#ifndef SYS_pidfd_open
#        define SYS_pidfd_open 434
#endif

static const struct pea_network_backend *const backends[] = {
        &pea_network_slirp4netns,
        &pea_network_pasta,
};

static const struct pea_network_backend *backend_find(const char *name)
{
        for (size_t i = 0; i < ELEMENTSOF(backends); i++)
                if (streq_ptr(backends[i]->name, name))
                        return backends[i];
        return NULL;
}

const char *pea_network_host_address(const char *backend)
{
        return streq_ptr(backend, "slirp4netns") ? "10.0.2.2" : NULL;
}

const char *pea_network_container_address(const char *backend)
{
        return streq_ptr(backend, "slirp4netns") ? "10.0.2.100" : NULL;
}

void pea_network_state_done(struct pea_network_state *s)
{
        free(s->backend);
        free(s->netns_path);
        free(s->pid_file);
        free(s->api_socket);
        free(s->log_file);
        pea_ports_done(&s->ports);
        *s = (struct pea_network_state){0};
}

void network_state_init(struct pea_network_state *s, const char *backend, const char *netns_path,
                        const struct pea_network_opts *o)
{
        const char *prefix = o->state_prefix ? o->state_prefix : netns_path;
        *s = (struct pea_network_state){0};
        s->backend = xstrdup(backend);
        s->netns_path = xstrdup(netns_path);
        s->pid_file = xasprintf("%s.%s.pid", prefix, backend);
        s->log_file = xasprintf("%s.%s.log", prefix, backend);
        if (streq(backend, "slirp4netns"))
                s->api_socket = xasprintf("%s.%s.sock", prefix, backend);
}

void network_state_unlink(const struct pea_network_state *s)
{
        const char *files[] = {s->pid_file, s->api_socket, s->log_file};
        for (size_t i = 0; i < ELEMENTSOF(files); i++)
                if (files[i])
                        (void)unlink(files[i]);
}

int pea_network_setup(const char *backend, const char *netns_path, const struct pea_network_opts *o,
                      struct pea_network_state *ret, struct pea_error **err)
{
        const struct pea_network_backend *b = backend_find(backend);
        struct pea_network_opts none = {0};
        if (!b)
                return pea_error_set(err, EINVAL, "unknown network backend '%s'",
                                     backend ? backend : "");
        for (size_t i = 0; o && o->ports && i < o->ports->n; i++)
                if (o->ports->v[i].host_port == 0)
                        return pea_error_set(err, EINVAL, "port %u has no host port",
                                             o->ports->v[i].container_port);
        return b->setup(netns_path, o ? o : &none, ret, err);
}

int pea_network_add_port(struct pea_network_state *s, const struct pea_port_mapping *m,
                         struct pea_error **err)
{
        const struct pea_network_backend *b = backend_find(s->backend);
        if (!b)
                return pea_error_set(err, EINVAL, "unknown network backend '%s'", s->backend);
        if (m->host_port == 0)
                return pea_error_set(err, EINVAL, "port %u has no host port", m->container_port);
        return b->add_port(s, m, err);
}

int pea_network_teardown(struct pea_network_state *s, struct pea_error **err)
{
        const struct pea_network_backend *b = backend_find(s->backend);
        if (!b)
                return pea_error_set(err, EINVAL, "unknown network backend '%s'", s->backend);
        return b->teardown(s, err);
}

int pea_network_state_save(const struct pea_network_state *s, const char *path,
                           struct pea_error **err)
{
        _cleanup_json_ json_t *j = json_pack(
                "{s:s, s:s, s:i, s:s, s:s?, s:s?, s:o}", "backend", s->backend, "netns",
                s->netns_path, "pid", (int)s->pid, "pid_file", s->pid_file, "api_socket",
                s->api_socket, "log_file", s->log_file, "ports", pea_ports_to_json(&s->ports));
        _cleanup_free_ char *text = NULL;
        if (!j)
                return pea_error_set(err, EINVAL, "incomplete network state");
        text = pea_json_dumps(j, 0);
        return pea_write_file_replace_at(AT_FDCWD, path, text, strlen(text), 0600, err);
}

int pea_network_state_load(const char *path, struct pea_network_state *ret, struct pea_error **err)
{
        _cleanup_free_ char *text = NULL;
        _cleanup_json_ json_t *j = NULL;
        const char *backend = NULL, *netns = NULL, *pidf = NULL, *sock = NULL, *log = NULL;
        json_t *ports = NULL;
        struct pea_network_state s = {0};
        int pid = 0, r;

        r = pea_read_file_at(AT_FDCWD, path, 1 << 20, &text, NULL, err);
        if (r < 0)
                return r;
        j = json_loads(text, 0, NULL);
        if (!j
            || json_unpack(j, "{s:s, s:s, s:i, s:s, s?s, s?s, s:o}", "backend", &backend, "netns",
                           &netns, "pid", &pid, "pid_file", &pidf, "api_socket", &sock, "log_file",
                           &log, "ports", &ports)
                       < 0)
                return pea_error_set(err, EBADMSG, "malformed network state '%s'", path);
        r = pea_ports_from_json(ports, &s.ports, err);
        if (r < 0)
                return pea_error_wrap(err, "network state '%s'", path);
        s.backend = xstrdup(backend);
        s.netns_path = xstrdup(netns);
        s.pid = pid;
        s.pid_file = xstrdup(pidf);
        s.api_socket = sock ? xstrdup(sock) : NULL;
        s.log_file = log ? xstrdup(log) : NULL;
        *ret = s;
        return 0;
}

/* The grandchild: detaches and runs argv; never returns. */
static _noreturn_ void spawn_exec(char *const *argv, int keep_fd, const char *log_path)
{
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        int log = log_path ? open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600) : -1;
        sigset_t all;
        if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0
            || dup2(log >= 0 ? log : null, 2) < 0)
                _exit(127);
        if (keep_fd >= 0 && fcntl(keep_fd, F_SETFD, 0) < 0)
                _exit(127);
        sigemptyset(&all);
        (void)sigprocmask(SIG_SETMASK, &all, NULL);
        for (int s = 1; s < NSIG; s++)
                (void)signal(s, SIG_DFL);
        execv(argv[0], argv);
        _exit(127);
}

int network_spawn_detached(char *const *argv, int keep_fd, const char *log_path, pid_t *ret_pid,
                           struct pea_error **err)
{
        int p[2] = {-1, -1}, status = 0;
        pid_t child = 0, grandchild = 0;
        ssize_t n = 0;

        if (pipe2(p, O_CLOEXEC) < 0)
                return pea_error_syscall(err, errno, "creating a pipe");
        child = fork();
        if (child < 0) {
                int e = errno;
                (void)close(p[0]);
                (void)close(p[1]);
                return pea_error_syscall(err, e, "forking '%s'", argv[0]);
        }
        if (child == 0) {
                (void)setsid();
                grandchild = fork();
                if (grandchild == 0)
                        spawn_exec(argv, keep_fd, log_path);
                _exit(write(p[1], &grandchild, sizeof(grandchild)) == sizeof(grandchild) ? 0 : 1);
        }
        (void)close(p[1]);
        n = read(p[0], &grandchild, sizeof(grandchild));
        (void)close(p[0]);
        (void)waitpid(child, &status, 0);
        if (n != sizeof(grandchild) || grandchild <= 0)
                return pea_error_set(err, EIO, "starting '%s' failed", argv[0]);
        *ret_pid = grandchild;
        return 0;
}

int network_run(char *const *argv, const char *log_path, struct pea_error **err)
{
        int status = 0;
        pid_t pid = fork();
        if (pid < 0)
                return pea_error_syscall(err, errno, "forking '%s'", argv[0]);
        if (pid == 0)
                spawn_exec(argv, -1, log_path);
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return pea_error_syscall(err, errno, "waiting for '%s'", argv[0]);
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        return 128 + WTERMSIG(status);
}

bool network_pid_matches(pid_t pid, const char *word1, const char *word2)
{
        _cleanup_free_ char *path = xasprintf("/proc/%d/cmdline", (int)pid);
        _cleanup_free_ char *text = NULL;
        _cleanup_error_ struct pea_error *e = NULL;
        size_t len = 0;
        bool m1 = !word1, m2 = !word2;

        if (pid <= 0 || pea_read_file_at(AT_FDCWD, path, 1 << 16, &text, &len, &e) < 0)
                return false;
        for (char *a = text; a < text + len; a += strlen(a) + 1) {
                const char *base = strrchr(a, '/');
                m1 = m1 || streq(base ? base + 1 : a, word1);
                m2 = m2 || strstr(a, word2) != NULL;
        }
        return m1 && m2;
}

/* Alive and not a zombie (an orphan's parent may reap late). */
static bool pid_alive(pid_t pid)
{
        _cleanup_free_ char *path = xasprintf("/proc/%d/stat", (int)pid);
        _cleanup_free_ char *text = NULL;
        _cleanup_error_ struct pea_error *e = NULL;
        const char *close = NULL;
        if (pea_read_file_at(AT_FDCWD, path, 4096, &text, NULL, &e) < 0)
                return false;
        close = strrchr(text, ')');
        return close && close[1] == ' ' && close[2] != 'Z' && close[2] != 'X';
}

/*
 * Waits up to ms for pid to exit: poll(2) on a pidfd (no sleeping in steps:
 * the helper is usually gone within a millisecond of SIGTERM). 1 when it is
 * gone, 0 when it still runs, -1 without pidfds (the caller polls /proc).
 */
static int wait_exit(pid_t pid, int ms)
{
        _cleanup_close_ int fd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (fd < 0)
                return errno == ESRCH ? 1 : -1;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int r;
        do
                r = poll(&pfd, 1, ms);
        while (r < 0 && errno == EINTR);
        /* Our own child when the caller spawned it without detaching. */
        (void)waitpid(pid, NULL, WNOHANG);
        return r > 0 || !pid_alive(pid);
}

int network_kill_helper(pid_t pid, const char *prog, const char *word, struct pea_error **err)
{
        struct timespec step = {0, 2 * 1000 * 1000};
        if (!network_pid_matches(pid, prog, word))
                return 0;
        if (kill(pid, SIGTERM) < 0 && errno != ESRCH)
                return pea_error_syscall(err, errno, "stopping %s (pid %d)", prog, (int)pid);
        int gone = wait_exit(pid, 2000);
        if (gone == 0) {
                (void)kill(pid, SIGKILL);
                gone = wait_exit(pid, 3000);
        }
        for (int i = 0; gone < 0 && i < 2500 && pid_alive(pid); i++) {
                if (i == 1000)
                        (void)kill(pid, SIGKILL);
                (void)waitpid(pid, NULL, WNOHANG);
                (void)nanosleep(&step, NULL);
        }
        if (pid_alive(pid))
                return pea_error_set(err, ETIMEDOUT, "%s (pid %d) does not stop", prog, (int)pid);
        return 0;
}

char *network_log_tail(const char *log_path)
{
        _cleanup_free_ char *text = NULL;
        _cleanup_error_ struct pea_error *e = NULL;
        char *end = NULL, *start = NULL;
        if (!log_path || pea_read_file_at(AT_FDCWD, log_path, 1 << 20, &text, NULL, &e) < 0)
                return xstrdup("");
        end = text + strlen(text);
        while (end > text && (end[-1] == '\n' || end[-1] == ' '))
                *--end = '\0';
        start = strrchr(text, '\n');
        return xstrdup(start ? start + 1 : text);
}

int network_read_pid(const char *path, pid_t *ret)
{
        _cleanup_free_ char *text = NULL;
        _cleanup_error_ struct pea_error *e = NULL;
        long long v = 0;
        int r = pea_read_file_at(AT_FDCWD, path, 64, &text, NULL, &e);
        if (r < 0)
                return r;
        if (safe_atoll(strstrip(text), &v) < 0 || v <= 0 || v > INT32_MAX)
                return -EBADMSG;
        *ret = (pid_t)v;
        return 0;
}
