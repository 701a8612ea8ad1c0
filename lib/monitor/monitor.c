/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/wait.h>

#include "base.h"
#include "events/events.h"
#include "monitor-internal.h"
#include "runtime/runtime.h"
#include "state/state.h"
#include "units.h"

/*
 * The monitor's loop: one epoll set over a signalfd (SIGCHLD, forwarded
 * signals), the container's output (pipes or the pty master), the attach
 * socket and its clients, and two timerfds (healthchecks, restart backoff).
 */

struct monitor {
        const struct pea_monitor_config *cfg;
        char *dir;
        char **env; /* the container's process.env and cwd, for healthchecks */
        char *cwd;
        int ep, sfd, health_tfd, restart_tfd;
        struct monitor_log log;
        struct monitor_attach attach;
        struct monitor_health health;
        struct pea_runtime_container *ctr;
        pid_t pid;                 /* the container, 0 when not running */
        int out_fd, err_fd, in_fd; /* output ends, stdin's write end (-1: none) */
        bool terminal;             /* out_fd == in_fd is the pty master */
        int64_t started_at, oom_before;
        unsigned restarts;
        bool force_restart, done;
};

/* Signals the monitor itself gets (a shutdown) go on to the container. */
static const int forwarded[] = {SIGTERM, SIGQUIT, SIGUSR1, SIGUSR2, SIGINT, SIGHUP};

static void watch(struct monitor *m, int fd)
{
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
        if (epoll_ctl(m->ep, EPOLL_CTL_ADD, fd, &ev) < 0)
                syslog(LOG_ERR, "watching fd %d: %m", fd);
}

static void close_fd(struct monitor *m, int *fd)
{
        if (*fd < 0)
                return;
        (void)epoll_ctl(m->ep, EPOLL_CTL_DEL, *fd, NULL);
        (void)close(*fd);
        *fd = -1;
}

static void arm(int tfd, int64_t ns)
{
        struct itimerspec its = {.it_value = {ns / 1000000000, ns % 1000000000}};
        if (ns > 0 && its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
                its.it_value.tv_nsec = 1;
        (void)timerfd_settime(tfd, 0, &its, NULL);
}

/* ---- the state store --------------------------------------------------------- */

/* One write to the state store: the runtime columns, or Health, or OOMKilled. */
struct store_op {
        const char *id;
        const char *state; /* NULL: not the runtime columns */
        int code;
        int64_t finished_at;
        const char *health; /* JSON text, or NULL */
        bool oom;
        int restarts; /* RestartCount in the row's config; -1: unchanged */
};

static int restarts_tx(struct pea_state *s, void *userdata, struct pea_error **err)
{
        const struct store_op *op = userdata;
        struct pea_container_row row = {};
        int r = pea_state_container_get_by_id(s, op->id, &row, err);
        if (r < 0)
                return r;
        if (!json_is_object(row.config)) {
                json_decref(row.config);
                row.config = json_object();
        }
        json_object_set_new(row.config, "RestartCount", json_integer(op->restarts));
        r = pea_state_container_update(s, &row, err);
        pea_container_row_done(&row);
        return r;
}

/* The "died" event of podman, with the exit code, for whoever runs `pea events`. */
static void died_event(struct monitor *m, struct pea_state *s, int code)
{
        struct pea_container_row row = {};
        if (!m->cfg->run_root || pea_state_container_get_by_id(s, m->cfg->id, &row, NULL) < 0)
                return;
        json_t *labels = json_object_get(row.config, "labels");
        struct pea_event e = {
                .time = pea_now_ns(),
                .type = "container",
                .status = "died",
                .id = row.id,
                .name = row.name,
                .image = row.image_name,
                .attrs = json_is_object(labels) ? labels : NULL,
                .has_exit_code = true,
                .exit_code = code,
        };
        (void)pea_event_append(m->cfg->run_root, &e, NULL);
        pea_container_row_done(&row);
}

static int store_now(struct monitor *m, const struct store_op *op)
{
        _cleanup_error_ struct pea_error *err = NULL;
        struct pea_state *s = NULL;
        int r = pea_state_open(m->cfg->db_path, &s, &err);
        if (r >= 0 && op->state)
                r = pea_state_container_set_state(s, m->cfg->id, op->state, m->pid, op->code,
                                                  m->started_at, op->finished_at, &err);
        if (r >= 0 && op->state && streq(op->state, "exited"))
                died_event(m, s, op->code);
        if (r >= 0 && op->health)
                r = pea_state_container_set_health(s, m->cfg->id, op->health, &err);
        if (r >= 0 && op->oom)
                r = pea_state_container_set_oom_killed(s, m->cfg->id, true, &err);
        if (r >= 0 && op->restarts >= 0)
                r = pea_state_transaction(s, restarts_tx, (void *)op, &err);
        if (r < 0)
                syslog(LOG_ERR, "updating the state of container %s: %s", m->cfg->id, err->msg);
        pea_state_close(s);
        return r;
}

/*
 * SQLite runs in a short-lived child: its code and page cache are then never
 * mapped into the monitor, which keeps the monitor's RSS small. The child is
 * reaped right here (the SIGCHLD it leaves finds nothing more to reap).
 */
static void store(struct monitor *m, const struct store_op *op)
{
        if (!m->cfg->db_path)
                return;
        pid_t c = fork();
        if (c < 0) {
                syslog(LOG_WARNING, "forking for the state store: %m");
                (void)store_now(m, op);
                return;
        }
        if (c == 0)
                _exit(store_now(m, op) < 0 ? 1 : 0);
        while (waitpid(c, NULL, 0) < 0 && errno == EINTR)
                ;
}

static void record(struct monitor *m, const char *state, int code, int64_t finished_at)
{
        struct store_op op = {.id = m->cfg->id,
                              .state = state,
                              .code = code,
                              .finished_at = finished_at,
                              .restarts = -1};
        /* a restart: the count goes with the running state */
        if (streq(state, "running") && m->restarts > 0)
                op.restarts = (int)m->restarts;
        store(m, &op);
}

static void record_health(struct monitor *m)
{
        _cleanup_free_ char *text = monitor_health_json(&m->health);
        struct store_op op = {.id = m->cfg->id, .health = text, .restarts = -1};
        store(m, &op);
}

static void record_oom(struct monitor *m)
{
        struct store_op op = {.id = m->cfg->id, .oom = true, .restarts = -1};
        store(m, &op);
}

/* ---- starting the container --------------------------------------------------- */

static int make_stdio(struct monitor *m, int child[3], struct pea_error **err)
{
        int in[2] = {-1, -1}, out[2], errp[2];
        if (m->cfg->stdin_open) {
                if (pipe2(in, O_CLOEXEC) < 0)
                        return pea_error_syscall(err, errno, "creating the stdin pipe");
        } else if ((in[0] = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
                return pea_error_syscall(err, errno, "opening '/dev/null'");
        }
        if (pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0)
                return pea_error_syscall(err, errno, "creating the output pipes");
        child[0] = in[0];
        child[1] = out[1];
        child[2] = errp[1];
        m->in_fd = in[1];
        m->out_fd = out[0];
        m->err_fd = errp[0];
        return 0;
}

static void use_console(struct monitor *m)
{
        int fd = fcntl(m->ctr->console_fd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return;
        close_fd(m, &m->out_fd);
        close_fd(m, &m->err_fd);
        close_fd(m, &m->in_fd);
        m->terminal = true;
        m->out_fd = fd;
        m->in_fd = fd;
}

static void drop_container(struct monitor *m)
{
        m->ctr = pea_runtime_container_free(m->ctr);
        close_fd(m, &m->out_fd);
        close_fd(m, &m->err_fd);
        if (m->in_fd >= 0 && !m->terminal)
                close_fd(m, &m->in_fd);
        m->in_fd = -1;
        m->terminal = false;
}

/* runtime create: the container's process waits just before execve. */
static int create_container(struct monitor *m, struct pea_error **err)
{
        int child[3] = {-1, -1, -1};
        struct pea_runtime_opts opts;
        pea_runtime_opts_init(&opts);
        _cleanup_free_ char *cache = pea_runtime_seccomp_cache_dir(m->cfg->run_root);
        opts.seccomp_cache_dir = cache;
        int r = make_stdio(m, child, err);
        if (r >= 0) {
                memcpy(opts.stdio, child, sizeof(child));
                r = pea_runtime_create(m->cfg->bundle_dir, &opts, &m->ctr, err);
        }
        for (int i = 0; i < 3; i++)
                if (child[i] >= 0)
                        (void)close(child[i]);
        if (r < 0) {
                drop_container(m);
                return r;
        }
        if (m->ctr->console_fd >= 0)
                use_console(m);
        return 0;
}

static int begin_container(struct monitor *m, struct pea_error **err)
{
        m->oom_before = monitor_oom_count(m->ctr->pid);
        int r = pea_runtime_start(m->ctr, err);
        if (r < 0) {
                drop_container(m);
                return r;
        }
        m->pid = m->ctr->pid;
        m->started_at = monitor_now_ns();
        int fds[] = {m->out_fd, m->err_fd, m->in_fd};
        for (size_t i = 0; i < ELEMENTSOF(fds); i++)
                if (fds[i] >= 0)
                        (void)fcntl(fds[i], F_SETFL, O_NONBLOCK);
        watch(m, m->out_fd);
        if (m->err_fd >= 0)
                watch(m, m->err_fd);
        return 0;
}

static int start_container(struct monitor *m, struct pea_error **err)
{
        int r = create_container(m, err);
        return r < 0 ? r : begin_container(m, err);
}

static void health_schedule(struct monitor *m, int64_t ns)
{
        if (m->cfg->health.test && m->cfg->health.interval_ns > 0 && m->pid > 0)
                arm(m->health_tfd, ns);
}

/* After every (re)start: the state row, the exit file gone, healthchecks armed. */
static void on_started(struct monitor *m)
{
        _cleanup_free_ char *exit_file = xasprintf("%s/exit", m->dir);
        (void)unlink(exit_file);
        record(m, "running", 0, 0);
        syslog(LOG_INFO, "container %s started, pid %d", m->cfg->id, (int)m->pid);
        if (m->cfg->health.test) {
                monitor_health_done(&m->health);
                monitor_health_init(&m->health, &m->cfg->health);
                record_health(m);
        }
        health_schedule(m, m->cfg->health.interval_ns);
        monitor_trim_memory();
}

/* ---- output and attach ------------------------------------------------------- */

/* 1 when data was read, 0 when the fd is done (closed), -EAGAIN when empty. */
static int pump(struct monitor *m, int *fd)
{
        char buf[ATTACH_PACKET_MAX - 1];
        bool is_err = *fd == m->err_fd && !m->terminal;
        ssize_t n = read(*fd, buf, sizeof(buf));
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return -EAGAIN;
        if (n <= 0) {
                if (*fd == m->in_fd)
                        m->in_fd = -1;
                close_fd(m, fd);
                return 0;
        }
        monitor_log_write(&m->log, is_err ? "stderr" : "stdout", buf, (size_t)n);
        monitor_attach_broadcast(&m->attach, is_err ? ATTACH_STDERR : ATTACH_STDOUT, buf,
                                 (size_t)n);
        return 1;
}

static void drain(struct monitor *m)
{
        while (m->out_fd >= 0 && pump(m, &m->out_fd) > 0)
                ;
        while (m->err_fd >= 0 && pump(m, &m->err_fd) > 0)
                ;
}

static void on_client(struct monitor *m, int fd)
{
        char pkt[ATTACH_PACKET_MAX];
        ssize_t n = recv(fd, pkt, sizeof(pkt), MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return;
        if (n <= 0) {
                monitor_attach_drop(&m->attach, fd);
                return;
        }
        if (pkt[0] == ATTACH_STDIN && m->in_fd >= 0 && n > 1) {
                if (write(m->in_fd, pkt + 1, (size_t)n - 1) < 0)
                        syslog(LOG_WARNING, "writing to the container's stdin: %m");
        } else if (pkt[0] == ATTACH_CLOSE_STDIN && m->in_fd >= 0 && !m->terminal) {
                (void)close(m->in_fd);
                m->in_fd = -1;
        } else if (pkt[0] == ATTACH_RESIZE && m->terminal && n == 5) {
                struct winsize ws = {0};
                memcpy(&ws.ws_row, pkt + 1, 2);
                memcpy(&ws.ws_col, pkt + 3, 2);
                (void)ioctl(m->out_fd, TIOCSWINSZ, &ws);
        }
}

/* ---- exits, restarts, healthchecks --------------------------------------------- */

static void on_container_exit(struct monitor *m, int status)
{
        int code = pea_runtime_exit_status(status);
        int64_t now = monitor_now_ns();
        bool oom = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL && m->oom_before >= 0
                   && monitor_oom_count(getpid()) > m->oom_before;
        drain(m);
        close_fd(m, &m->out_fd);
        close_fd(m, &m->err_fd);
        if (!m->terminal)
                close_fd(m, &m->in_fd);
        m->in_fd = -1;
        m->terminal = false;
        m->ctr->reaped = true;
        m->ctr->exit_status = code;
        m->ctr = pea_runtime_container_free(m->ctr);
        m->pid = 0;
        monitor_health_done(&m->health);
        arm(m->health_tfd, 0);
        (void)monitor_exit_write(m->dir, code, now, oom);
        record(m, "exited", code, now);
        if (oom)
                record_oom(m);
        syslog(LOG_INFO, "container %s exited with %d", m->cfg->id, code);
        bool stopped = monitor_stop_requested(m->dir);
        if (m->force_restart && !stopped) {
                m->force_restart = false;
                arm(m->restart_tfd, RESTART_BACKOFF_MIN);
        } else if (monitor_restart_wanted(m->cfg, code, m->restarts, stopped)) {
                arm(m->restart_tfd, monitor_restart_backoff(m->restarts));
        } else {
                m->done = true;
        }
}

static void on_restart_timer(struct monitor *m)
{
        _cleanup_error_ struct pea_error *err = NULL;
        uint64_t ticks;
        (void)!read(m->restart_tfd, &ticks, sizeof(ticks));
        _cleanup_free_ char *spec = xasprintf("%s/config.json", m->cfg->bundle_dir);
        if (monitor_stop_requested(m->dir) || access(spec, F_OK) < 0) {
                /* stopped, or removed (`pea rm`) while waiting */
                m->done = true;
                return;
        }
        m->restarts++;
        if (start_container(m, &err) < 0) {
                int code = pea_runtime_error_exit_code(err);
                syslog(LOG_ERR, "restarting container %s: %s", m->cfg->id, err->msg);
                (void)monitor_exit_write(m->dir, code, monitor_now_ns(), false);
                record(m, "exited", code, monitor_now_ns());
                if (monitor_restart_wanted(m->cfg, code, m->restarts, false))
                        arm(m->restart_tfd, monitor_restart_backoff(m->restarts));
                else
                        m->done = true;
                return;
        }
        on_started(m);
}

static void health_action(struct monitor *m)
{
        _cleanup_error_ struct pea_error *err = NULL;
        switch (m->cfg->health.on_failure) {
        case PEA_MONITOR_HEALTH_ACTION_RESTART:
                m->force_restart = true;
                break;
        case PEA_MONITOR_HEALTH_ACTION_STOP:
                if (pea_monitor_request_stop(m->cfg->run_root, m->cfg->id, &err) < 0)
                        syslog(LOG_ERR, "%s", err->msg);
                break;
        case PEA_MONITOR_HEALTH_ACTION_KILL:
                break;
        case PEA_MONITOR_HEALTH_ACTION_NONE:
        default:
                return;
        }
        syslog(LOG_NOTICE, "container %s is unhealthy, killing it", m->cfg->id);
        (void)kill(m->pid, SIGKILL);
}

static void health_finish(struct monitor *m, int code)
{
        while (m->health.out_fd >= 0 && monitor_health_read(&m->health) > 0)
                ;
        bool unhealthy = monitor_health_finish(&m->health, code);
        record_health(m);
        if (unhealthy)
                health_action(m);
        health_schedule(m, m->cfg->health.interval_ns);
}

static void on_health_timer(struct monitor *m)
{
        uint64_t ticks;
        (void)!read(m->health_tfd, &ticks, sizeof(ticks));
        if (m->pid <= 0)
                return;
        if (m->health.pid > 0) {
                /* The check ran out of time. */
                (void)kill(m->health.pid, SIGKILL);
                health_finish(m, -ETIMEDOUT);
                return;
        }
        if (monitor_health_start(&m->health, m->pid, m->env, m->cwd) < 0) {
                health_schedule(m, m->cfg->health.interval_ns);
                return;
        }
        (void)fcntl(m->health.out_fd, F_SETFL, O_NONBLOCK);
        watch(m, m->health.out_fd);
        if (m->cfg->health.timeout_ns > 0)
                arm(m->health_tfd, m->cfg->health.timeout_ns);
}

static void on_signal(struct monitor *m)
{
        struct signalfd_siginfo si;
        if (read(m->sfd, &si, sizeof(si)) != (ssize_t)sizeof(si))
                return;
        if (si.ssi_signo != SIGCHLD) {
                if (m->pid > 0)
                        (void)kill(m->pid, (int)si.ssi_signo);
                else if (monitor_stop_requested(m->dir))
                        m->done = true; /* `pea stop` during a restart's backoff */
                return;
        }
        for (;;) {
                int status = 0;
                pid_t p = waitpid(-1, &status, WNOHANG);
                if (p <= 0)
                        return;
                if (p == m->pid)
                        on_container_exit(m, status);
                else if (p == m->health.pid && p > 0)
                        health_finish(m, pea_runtime_exit_status(status));
        }
}

static void dispatch(struct monitor *m, int fd)
{
        if (fd == m->sfd)
                on_signal(m);
        else if (fd == m->restart_tfd)
                on_restart_timer(m);
        else if (fd == m->health_tfd)
                on_health_timer(m);
        else if (fd == m->attach.listen_fd) {
                int c = monitor_attach_accept(&m->attach);
                if (c >= 0)
                        watch(m, c);
        } else if (fd == m->out_fd)
                (void)pump(m, &m->out_fd);
        else if (fd == m->err_fd)
                (void)pump(m, &m->err_fd);
        else if (fd == m->health.out_fd && fd >= 0) {
                if (monitor_health_read(&m->health) == 0)
                        (void)epoll_ctl(m->ep, EPOLL_CTL_DEL, fd, NULL);
        } else
                on_client(m, fd);
}

static int loop(struct monitor *m, struct pea_error **err)
{
        while (!m->done) {
                struct epoll_event evs[16];
                int n = epoll_wait(m->ep, evs, ELEMENTSOF(evs), -1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return pea_error_syscall(err, errno, "waiting for events");
                for (int i = 0; i < n && !m->done; i++)
                        dispatch(m, evs[i].data.fd);
        }
        return 0;
}

/* ---- setup ---------------------------------------------------------------------- */

static int setup_fds(struct monitor *m, struct pea_error **err)
{
        sigset_t mask;
        (void)sigemptyset(&mask);
        (void)sigaddset(&mask, SIGCHLD);
        for (size_t i = 0; i < ELEMENTSOF(forwarded); i++)
                (void)sigaddset(&mask, forwarded[i]);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return pea_error_syscall(err, errno, "blocking signals");
        m->ep = epoll_create1(EPOLL_CLOEXEC);
        m->sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        m->health_tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        m->restart_tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        if (m->ep < 0 || m->sfd < 0 || m->health_tfd < 0 || m->restart_tfd < 0)
                return pea_error_syscall(err, errno, "creating the monitor's fds");
        watch(m, m->sfd);
        watch(m, m->health_tfd);
        watch(m, m->restart_tfd);
        return 0;
}

/* The container's environment and cwd, which healthchecks run with (podman does). */
static void load_process(struct monitor *m)
{
        _cleanup_free_ char *path = xasprintf("%s/config.json", m->cfg->bundle_dir);
        _cleanup_free_ char *text = NULL;
        if (pea_read_file_at(AT_FDCWD, path, 4 << 20, &text, NULL, NULL) < 0)
                return;
        _cleanup_json_ json_t *c = json_loads(text, 0, NULL);
        json_t *env = pea_json_path(c, "process.env");
        for (size_t i = 0; i < json_array_size(env); i++)
                if (json_string_value(json_array_get(env, i)))
                        strv_push(&m->env, json_string_value(json_array_get(env, i)));
        const char *cwd = pea_json_path_string(c, "process.cwd", NULL);
        m->cwd = cwd ? xstrdup(cwd) : NULL;
}

static int setup(struct monitor *m, struct pea_error **err)
{
        (void)signal(SIGINT, SIG_IGN);
        (void)signal(SIGHUP, SIG_IGN);
        (void)signal(SIGPIPE, SIG_IGN);
        (void)signal(SIGCHLD, SIG_DFL);
        if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
                return pea_error_syscall(err, errno, "becoming a subreaper");
        int r = pea_mkdir_p(m->dir, 0700, err);
        if (r < 0)
                return r;
        monitor_stop_clear(m->dir);
        r = monitor_pid_write(m->dir);
        if (r < 0)
                return pea_error_syscall(err, -r, "writing the monitor's pid file");
        if (m->cfg->health.test)
                load_process(m);
        if (m->cfg->log_driver == PEA_MONITOR_LOG_K8S_FILE && m->cfg->log_path) {
                r = monitor_log_open(&m->log, m->cfg->log_path, m->cfg->log_max_size, err);
                if (r < 0)
                        return r;
        }
        r = setup_fds(m, err);
        if (r >= 0)
                r = monitor_attach_listen(&m->attach, m->dir, err);
        if (r >= 0)
                watch(m, m->attach.listen_fd);
        return r;
}

static void report_ready(int fd, pid_t container_pid, const struct pea_error *e)
{
        struct monitor_ready h = {
                .code = e ? e->code : 0,
                .monitor_pid = getpid(),
                .container_pid = container_pid,
                .len = e ? (uint32_t)strlen(e->msg) : 0,
        };
        if (fd < 0)
                return;
        (void)!write(fd, &h, sizeof(h));
        if (e)
                (void)!write(fd, e->msg, h.len);
        (void)close(fd);
}

static void monitor_done(struct monitor *m)
{
        _cleanup_free_ char *sock = xasprintf("%s/attach", m->dir);
        monitor_attach_close(&m->attach);
        (void)unlink(sock);
        monitor_pid_remove(m->dir);
        strv_free(m->env);
        free(m->cwd);
        monitor_health_done(&m->health);
        monitor_log_close(&m->log);
        m->ctr = pea_runtime_container_free(m->ctr);
        int fds[] = {m->out_fd, m->err_fd, m->in_fd, m->sfd, m->health_tfd, m->restart_tfd, m->ep};
        for (size_t i = 0; i < ELEMENTSOF(fds); i++)
                if (fds[i] >= 0 && (i != 2 || fds[2] != fds[0]))
                        (void)close(fds[i]);
        free(m->dir);
        closelog();
}

/* With attach_wait: the first client, so it sees all the output (at most 60 s). */
static void wait_first_client(struct monitor *m)
{
        struct pollfd p = {m->attach.listen_fd, POLLIN, 0};
        int r = 0;
        while ((r = poll(&p, 1, 60000)) < 0 && errno == EINTR)
                ;
        if (r <= 0) {
                syslog(LOG_WARNING, "nobody attached to container %s, starting it", m->cfg->id);
                return;
        }
        int c = monitor_attach_accept(&m->attach);
        if (c >= 0)
                watch(m, c);
}

static int first_start(struct monitor *m, int *ready_fd, struct pea_error **err)
{
        int r = setup(m, err);
        if (r >= 0)
                r = create_container(m, err);
        if (r >= 0 && m->cfg->attach_wait) {
                report_ready(*ready_fd, m->ctr->pid, NULL);
                *ready_fd = -1;
                wait_first_client(m);
        }
        if (r >= 0)
                r = begin_container(m, err);
        if (r < 0 && *ready_fd < 0) {
                /* Already reported as created: the failure goes into the records. */
                int code = pea_runtime_error_exit_code(*err);
                (void)monitor_exit_write(m->dir, code, monitor_now_ns(), false);
                record(m, "exited", code, monitor_now_ns());
        }
        return r;
}

int pea_monitor_run(const struct pea_monitor_config *cfg, int ready_fd, struct pea_error **err)
{
        struct monitor m = {
                .cfg = cfg,
                .dir = pea_monitor_dir(cfg->run_root, cfg->id),
                .ep = -1,
                .sfd = -1,
                .health_tfd = -1,
                .restart_tfd = -1,
                .log = {.fd = -1},
                .attach = {.listen_fd = -1},
                .out_fd = -1,
                .err_fd = -1,
                .in_fd = -1,
        };
        static char ident[32];
        (void)snprintf(ident, sizeof(ident), "pea-monitor[%.12s]", cfg->id);
        openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
        monitor_health_init(&m.health, &cfg->health);
        struct pea_error *e = NULL;
        int r = first_start(&m, &ready_fd, &e);
        if (r < 0) {
                syslog(LOG_ERR, "starting container %s: %s", cfg->id, e->msg);
                report_ready(ready_fd, 0, e);
                monitor_done(&m);
                if (err)
                        *err = e;
                else
                        pea_error_clear(&e);
                return r;
        }
        on_started(&m);
        report_ready(ready_fd, m.pid, NULL);
        if (cfg->notify_socket) {
                _cleanup_free_ char *msg = xasprintf("READY=1\nMAINPID=%d", (int)m.pid);
                (void)monitor_sd_notify(cfg->notify_socket, msg);
        }
        r = loop(&m, err);
        monitor_done(&m);
        return r;
}
