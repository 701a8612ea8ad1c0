/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What systemd units need from run/create/rm/stop: --cidfile, --replace and
 * --sdnotify, and the command line kept for `pea generate systemd --new`.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/socket.h>
#include <sys/un.h>

#include <jansson.h>

#include "cmd.h"
#include "container/container.h"
#include "fs.h"
#include "monitor/monitor.h"
#include "run.h"
#include "state/state.h"

/* An ID file is one line: 64 hex digits. */
#define CIDFILE_MAX 4096

int pea_cmd_cidfile_open(const char *path, int *ret_fd, struct pea_error **err)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0 && errno == EEXIST)
                return pea_error_set(err, EEXIST,
                                     "container id file exists. Ensure another container is not "
                                     "using it or delete %s",
                                     path);
        if (fd < 0)
                return pea_error_syscall(err, errno, "opening cidfile '%s'", path);
        *ret_fd = fd;
        return 0;
}

int pea_cmd_cidfile_finish(int fd, const char *path, const char *id, struct pea_error **err)
{
        if (fd < 0)
                return 0;
        if (!id) {
                (void)unlink(path);
                return 0;
        }
        size_t len = strlen(id);
        if (write(fd, id, len) != (ssize_t)len)
                return pea_error_syscall(err, errno, "writing cidfile '%s'", path);
        return 0;
}

int pea_cmd_cidfile_read(const char *path, char **ret_id, struct pea_error **err)
{
        _cleanup_free_ char *buf = NULL;
        int r = pea_read_file_at(AT_FDCWD, path, CIDFILE_MAX, &buf, NULL, err);
        if (r < 0)
                return pea_error_wrap(err, "reading CIDFile");
        strstrip(buf);
        if (!*buf)
                return pea_error_set(err, EINVAL, "name or ID cannot be empty");
        *ret_id = TAKE_PTR(buf);
        return 0;
}

int pea_cmd_container_replace(const struct pea_container_ctx *ctx, const char *name,
                              struct pea_error **err)
{
        struct pea_container_row row = {};
        int r = pea_cmd_container_get(ctx, name, &row, err);
        if (r == -ENOENT) {
                pea_error_clear(err);
                return 0;
        }
        if (r < 0)
                return r;
        _cleanup_free_ char *id = xstrdup(row.id);
        bool running = streq(row.state, "running") || streq(row.state, "paused");
        unsigned timeout = pea_cmd_container_stop_timeout(row.config);
        pea_container_row_done(&row);
        if (running) {
                r = pea_cmd_container_stop(ctx, id, 0, timeout, err);
                if (r < 0)
                        return pea_error_wrap(err, "replacing container '%s'", name);
        }
        r = pea_cmd_container_remove(ctx, id, true, false, err);
        if (r < 0)
                return pea_error_wrap(err, "replacing container '%s'", name);
        return 0;
}

static int check_sdnotify(const char *v, struct pea_error **err)
{
        if (!v || streq(v, "conmon") || streq(v, "ignore") || streq(v, "container"))
                return 0;
        return pea_error_set(err, EINVAL,
                             "invalid sdnotify value '%s': must be container, conmon or ignore", v);
}

/* --cgroups: pea keeps the monitor and the container where they are (Quadlet's split is fine). */
static int check_cgroups(const char *v, struct pea_error **err)
{
        if (!v || streq(v, "enabled") || streq(v, "no-conmon") || streq(v, "split"))
                return 0;
        if (streq(v, "disabled"))
                return pea_error_set(err, ENOTSUP, "--cgroups=disabled: not supported yet");
        return pea_error_set(err, EINVAL,
                             "invalid cgroup mode '%s': must be enabled, no-conmon or split", v);
}

int pea_cmd_systemd_prepare(const struct pea_container_ctx *ctx, struct pea_run_opts *o,
                            int *ret_cidfd, struct pea_error **err)
{
        int r = check_sdnotify(o->sdnotify, err);
        if (r >= 0)
                r = check_cgroups(o->cgroups, err);
        if (r < 0)
                return r;
        if (o->replace && !o->name)
                return pea_error_set(err, EINVAL,
                                     "cannot replace container without --name being set");
        /* the unit a container runs in: what `pea auto-update` restarts */
        const char *unit = getenv("PODMAN_SYSTEMD_UNIT");
        if (unit && *unit) {
                _cleanup_free_ char *l = xasprintf("PODMAN_SYSTEMD_UNIT=%s", unit);
                strv_push(&o->labels, l);
        }
        if (o->sdnotify && streq(o->sdnotify, "container")) {
                r = pea_cmd_notify_proxy_setup(ctx->run_root, o, err);
                if (r < 0)
                        return r;
        }
        if (o->cidfile) {
                r = pea_cmd_cidfile_open(o->cidfile, ret_cidfd, err);
                if (r < 0)
                        return r;
        }
        if (o->replace) {
                r = pea_cmd_container_replace(ctx, o->name, err);
                if (r < 0 && o->cidfile)
                        (void)unlink(o->cidfile);
        }
        return r;
}

char **pea_cmd_create_command(const struct pea_cli *cli, int argc, char **argv)
{
        char **l = NULL;
        strv_push(&l, "pea");

        const struct {
                const char *flag, *value;
        } g[] = {
                {"--root", cli->overrides.root},
                {"--runroot", cli->overrides.runroot},
                {"--storage-driver", cli->overrides.storage_driver},
        };

        for (size_t i = 0; i < ELEMENTSOF(g); i++)
                if (g[i].value) {
                        strv_push(&l, g[i].flag);
                        strv_push(&l, g[i].value);
                }
        for (int i = 0; i < argc; i++)
                strv_push(&l, argv[i]);
        return l;
}

int pea_cmd_systemd_store(const struct pea_run_opts *o, json_t **life)
{
        if (!*life)
                *life = json_object();
        if (o->sdnotify)
                json_object_set_new(*life, "sdnotify", json_string(o->sdnotify));
        if (o->notify_dir)
                json_object_set_new(*life, "sdnotify_dir", json_string(o->notify_dir));
        if (o->create_command) {
                json_t *a = json_array();
                STRV_FOREACH(s, o->create_command)
                        json_array_append_new(a, json_string(*s));
                json_object_set_new(*life, "create_command", a);
        }
        return 0;
}

/* sd_notify(3): one datagram to path ('@': an abstract socket). */
static int sd_notify_send(const char *path, const char *text)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        size_t len = strlen(path);
        if (len == 0 || len >= sizeof(sa.sun_path))
                return -EINVAL;
        memcpy(sa.sun_path, path, len);
        if (sa.sun_path[0] == '@')
                sa.sun_path[0] = '\0';
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        socklen_t sl = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
        if (sendto(fd, text, strlen(text), MSG_NOSIGNAL, (struct sockaddr *)&sa, sl) < 0)
                return -errno;
        return 0;
}

void pea_cmd_sd_notify_ready(json_t *config, pid_t mainpid, int proxy_fd)
{
        if (proxy_fd >= 0) {
                pea_cmd_notify_proxy_start(proxy_fd, mainpid);
                return;
        }
        const char *mode = json_string_value(json_object_get(config, "sdnotify"));
        const char *sock = getenv("NOTIFY_SOCKET");
        if (!sock || !*sock || (mode && streq(mode, "ignore")))
                return;
        _cleanup_free_ char *msg = xasprintf("MAINPID=%d\nREADY=1", (int)mainpid);
        int r = sd_notify_send(sock, msg);
        if (r < 0)
                pea_log(PEA_LOG_WARN, "notifying '%s': %s, ignoring", sock, strerror(-r));
}

void pea_cmd_sd_notify_running(const struct pea_container_ctx *ctx, const char *id)
{
        pid_t mon = 0;
        struct pea_container_row row = {};
        if (!getenv("NOTIFY_SOCKET") || pea_monitor_is_alive(ctx->run_root, id, &mon, NULL) <= 0)
                return;
        if (pea_state_container_get_by_id(ctx->state, id, &row, NULL) < 0)
                return;
        pea_cmd_sd_notify_ready(row.config, mon, -1);
        pea_container_row_done(&row);
}
