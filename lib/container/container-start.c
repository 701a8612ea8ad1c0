/* SPDX-License-Identifier: Apache-2.0 */
/* lib/container: start (built-in or external OCI runtime), cleanup and remove. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/signalfd.h>
#include <sys/wait.h>

#include <jansson.h>

#include "base.h"
#include "container/container.h"
#include "runtime/runtime.h"
#include "state/state.h"
#include "storage/storage.h"

static int64_t now_ns(void)
{
        struct timespec ts;
        (void)clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};

static _noreturn_ void exec_runtime(char **argv, const sigset_t *old)
{
        (void)sigprocmask(SIG_SETMASK, old, NULL);
        execv(argv[0], argv);
        _exit(errno == ENOENT ? 127 : 126);
}

/* Forwards signals to pid until it exits; returns its wait status. */
static int forward_until_exit(pid_t pid, int sfd)
{
        for (;;) {
                int st = 0;
                pid_t w = waitpid(pid, &st, WNOHANG);
                if (w == pid)
                        return st;
                struct signalfd_siginfo si;
                ssize_t n = read(sfd, &si, sizeof(si));
                if (n != (ssize_t)sizeof(si))
                        continue;
                if (si.ssi_signo != SIGCHLD)
                        (void)kill(pid, (int)si.ssi_signo);
        }
}

static int spawn_wait(char **argv, int *ret_status, struct pea_error **err)
{
        sigset_t mask, old;
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        for (size_t i = 0; i < ELEMENTSOF(forwarded); i++)
                sigaddset(&mask, forwarded[i]);
        if (sigprocmask(SIG_BLOCK, &mask, &old) < 0)
                return pea_error_syscall(err, errno, "blocking signals");
        _cleanup_close_ int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
        int r = 0;
        pid_t pid = sfd < 0 ? -1 : fork();
        if (pid == 0)
                exec_runtime(argv, &old);
        if (sfd < 0 || pid < 0)
                r = pea_error_syscall(err, errno, "starting '%s'", argv[0]);
        else
                *ret_status = forward_until_exit(pid, sfd);
        (void)sigprocmask(SIG_SETMASK, &old, NULL);
        return r;
}

/* Maps what runc logged (json lines) to the errors of the built-in runtime. */
static int runc_error(const char *log_path, const char *runtime, struct pea_error **err)
{
        _cleanup_free_ char *text = NULL;
        if (pea_read_file_at(AT_FDCWD, log_path, 1u << 20, &text, NULL, NULL) < 0
            || !strstr(text, "\"level\":\"error\""))
                return 0;
        const char *m = strstr(text, "\"level\":\"error\"");
        _cleanup_free_ char *line = xstrndup(text, strcspn(m, "\n") + (size_t)(m - text));
        const char *start = strrchr(line, '\n');
        _cleanup_json_ json_t *j = json_loads(start ? start + 1 : line, 0, NULL);
        const char *msg = json_string_value(json_object_get(j, "msg"));
        if (!msg)
                msg = "unknown error";
        if (strstr(msg, "no such file or directory") || strstr(msg, "not found"))
                return pea_error_set(err, ENOENT,
                                     "%s: OCI runtime attempted to invoke a command that was not "
                                     "found: %s",
                                     runtime, msg);
        if (strstr(msg, "permission denied") || strstr(msg, "exec format error"))
                return pea_error_set(err, EACCES, "%s: %s: OCI permission denied", runtime, msg);
        return pea_error_set(err, EIO, "%s: %s: OCI runtime error", runtime, msg);
}

static int run_external(const struct pea_container_ctx *ctx, const char *runtime, const char *id,
                        const char *bundle, int *ret_status, struct pea_error **err)
{
        _cleanup_free_ char *root = xasprintf("%s/runc", ctx->run_root);
        _cleanup_free_ char *log = xasprintf("%s/runtime.log", bundle);
        _cleanup_free_ char *pidf = xasprintf("%s/pidfile", bundle);
        int r = pea_mkdir_p(root, 0700, err);
        if (r < 0)
                return r;
        (void)unlink(log);
        char *argv[] = {
                (char *)runtime,
                (char *)"--root",
                root,
                (char *)"--log",
                log,
                (char *)"--log-format",
                (char *)"json",
                (char *)"run",
                (char *)"--bundle",
                (char *)bundle,
                (char *)"--pid-file",
                pidf,
                (char *)id,
                NULL,
        };
        int st = 0;
        r = spawn_wait(argv, &st, err);
        if (r < 0)
                return r;
        r = runc_error(log, runtime, err);
        if (r < 0)
                return r;
        *ret_status = pea_runtime_exit_status(st);
        return 0;
}

static int run_builtin(const char *bundle, const char *run_root, int *ret_status,
                       struct pea_error **err)
{
        struct pea_runtime_opts ro;
        pea_runtime_opts_init(&ro);
        _cleanup_free_ char *cache = pea_runtime_seccomp_cache_dir(run_root);
        ro.seccomp_cache_dir = cache;
        return pea_runtime_run(bundle, &ro, ret_status, err);
}

int pea_container_start(const struct pea_container_ctx *ctx, const char *id, int *ret_exit_status,
                        struct pea_error **err)
{
        struct pea_container_row row = {};
        int r = pea_state_container_get_by_id(ctx->state, id, &row, err);
        if (r < 0)
                return r;
        const char *rt = json_string_value(json_object_get(row.config, "runtime"));
        _cleanup_free_ char *runtime = rt ? xstrdup(rt) : NULL;
        pea_container_row_done(&row);
        _cleanup_free_ char *bundle = pea_container_bundle_dir(ctx, id);
        r = pea_storage_mount(ctx->storage, id, NULL, err);
        if (r < 0)
                return r;
        r = pea_container_net_setup(ctx, id, err);
        if (r < 0)
                return r;
        int64_t started = now_ns();
        r = pea_state_container_set_state(ctx->state, id, "running", 0, 0, started, 0, err);
        if (r < 0) {
                (void)pea_container_net_teardown(ctx, id, NULL);
                return r;
        }
        int status = 0;
        if (runtime)
                r = run_external(ctx, runtime, id, bundle, &status, err);
        else
                r = run_builtin(bundle, ctx->run_root, &status, err);
        (void)pea_container_net_teardown(ctx, id, NULL);
        int code = r < 0 ? pea_runtime_error_exit_code(err ? *err : NULL) : status;
        int r2 = pea_state_container_set_state(ctx->state, id, "exited", 0, code, started, now_ns(),
                                               r < 0 ? NULL : err);
        if (r < 0)
                return r;
        if (r2 < 0)
                return r2;
        *ret_exit_status = status;
        return 0;
}

int pea_container_cleanup(const struct pea_container_ctx *ctx, const char *id,
                          struct pea_error **err)
{
        return pea_storage_umount(ctx->storage, id, err);
}

int pea_container_remove(const struct pea_container_ctx *ctx, const char *id, bool force,
                         struct pea_error **err)
{
        struct pea_container_row row = {};
        int r = pea_state_container_get_by_id(ctx->state, id, &row, err);
        if (r < 0)
                return r;
        bool running = streq(row.state, "running") && row.pid > 0 && kill(row.pid, 0) == 0;
        int pid = row.pid;
        pea_container_row_done(&row);
        if (running && !force)
                return pea_error_set(err, EBUSY,
                                     "cannot remove container %s as it is running - running or "
                                     "paused containers cannot be removed without force",
                                     id);
        if (running)
                (void)kill(pid, SIGKILL);
        (void)pea_container_net_teardown(ctx, id, NULL);
        (void)pea_storage_umount(ctx->storage, id, NULL);
        r = pea_storage_remove(ctx->storage, id, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *run_dir = xasprintf("%s/containers/%s", ctx->run_root, id);
        _cleanup_free_ char *data_dir = xasprintf("%s/containers/%s", ctx->graph_root, id);
        r = pea_rm_rf(run_dir, err);
        if (r >= 0)
                r = pea_rm_rf(data_dir, err);
        if (r < 0)
                return r;
        return pea_state_container_remove(ctx->state, id, err);
}

char *pea_container_log_path(const struct pea_container_ctx *ctx, const char *id)
{
        return xasprintf("%s/containers/%s/userdata/ctr.log", ctx->graph_root, id);
}
