/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pea pause and unpause: the cgroup freezer. pea does not put containers in
 * cgroups of their own, so pause makes one for the container's processes
 * (every process of its pid namespace): on cgroup v2 a child of the
 * container's cgroup (cgroup.freeze), on v1 a child of pea's own freezer
 * cgroup (freezer.state). unpause thaws it, moves the processes back to the
 * cgroup they came from and removes it. <run_root>/containers/<id>/freezer
 * records "<version> <frozen cgroup> <original cgroup>" meanwhile.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include <jansson.h>

#include "cmd.h"
#include "container/container.h"
#include "monitor/monitor.h"
#include "run.h"
#include "state/state.h"

#define CGROUP_ROOT "/sys/fs/cgroup"
#define FREEZER_V1  CGROUP_ROOT "/freezer"

struct freezer {
        int version;    /* 1 or 2 */
        char *dir;      /* the cgroup made for the container */
        char *original; /* where its processes were */
};

static void freezer_done(struct freezer *f)
{
        free(f->dir);
        free(f->original);
}

/* The path (from /proc/PID/cgroup) of pid in the hierarchy with the given controller ("" : v2). */
static char *cgroup_of(pid_t pid, const char *controller)
{
        _cleanup_free_ char *path =
                pid ? xasprintf("/proc/%d/cgroup", (int)pid) : xstrdup("/proc/self/cgroup");
        _cleanup_free_ char *text = NULL;
        if (pea_read_file_at(AT_FDCWD, path, 65536, &text, NULL, NULL) < 0)
                return NULL;
        _cleanup_strv_ char **lines = strv_split(text, "\n");
        STRV_FOREACH(l, lines) {
                char *c = strchr(*l, ':');
                char *p = c ? strchr(c + 1, ':') : NULL;
                if (!p)
                        continue;
                *p = '\0';
                _cleanup_strv_ char **ctrls = strv_split(c + 1, ",");
                if ((!*controller && !c[1]) || (*controller && strv_contains(ctrls, controller)))
                        return xstrdup(p + 1);
        }
        return NULL;
}

static int write_str(const char *dir, const char *file, const char *s, struct pea_error **err)
{
        _cleanup_free_ char *path = xasprintf("%s/%s", dir, file);
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, s, strlen(s)) < 0)
                return pea_error_syscall(err, errno, "writing '%s'", path);
        return 0;
}

static bool is_fs(const char *path, long magic)
{
        struct statfs sf;
        return statfs(path, &sf) == 0 && (long)sf.f_type == magic;
}

/* Chooses where the container's freezer cgroup goes. */
static int freezer_plan(const struct pea_container_ctx *ctx, const char *id, const char *name,
                        pid_t init, struct freezer *ret, struct pea_error **err)
{
        int v2 = is_fs(CGROUP_ROOT, CGROUP2_SUPER_MAGIC);
        _cleanup_free_ char *orig = cgroup_of(init, v2 ? "" : "freezer");
        _cleanup_free_ char *own = v2 ? xstrdup(orig ? orig : "") : cgroup_of(0, "freezer");
        if (!v2 && !is_fs(FREEZER_V1, CGROUP_SUPER_MAGIC))
                return pea_error_set(err, ENOTSUP,
                                     "pausing container '%s': the host has neither cgroup v2 "
                                     "nor a cgroup v1 freezer",
                                     name);
        if (!orig || !own)
                return pea_error_set(err, ENOENT, "pausing container '%s': cannot find its cgroup",
                                     name);
        const char *root = v2 ? CGROUP_ROOT : FREEZER_V1;
        *ret = (struct freezer){
                .version = v2 ? 2 : 1,
                .dir = xasprintf("%s%s/pea-%.12s", root, streq(own, "/") ? "" : own, id),
                .original = xasprintf("%s%s", root, orig),
        };
        if (mkdir(ret->dir, 0755) < 0 && errno != EEXIST) {
                int e = errno;
                if ((e == EACCES || e == EPERM || e == EROFS) && ctx->rootless)
                        (void)pea_error_set(err, e,
                                            "pausing container '%s': rootless containers have no "
                                            "cgroup pea may write on cgroup %s ('%s': %s); pause "
                                            "needs root, or cgroup v2 with a delegated cgroup",
                                            name, v2 ? "v2" : "v1", ret->dir, strerror(e));
                else
                        (void)pea_error_syscall(err, e,
                                                "pausing container '%s': creating cgroup '%s'",
                                                name, ret->dir);
                freezer_done(ret);
                return -e;
        }
        return 0;
}

static char *record_path(const struct pea_container_ctx *ctx, const char *id)
{
        _cleanup_free_ char *dir = pea_monitor_dir(ctx->run_root, id);
        return xasprintf("%s/freezer", dir);
}

static int record_read(const struct pea_container_ctx *ctx, const char *id, struct freezer *ret,
                       struct pea_error **err)
{
        _cleanup_free_ char *path = record_path(ctx, id);
        _cleanup_free_ char *text = NULL;
        int r = pea_read_file_at(AT_FDCWD, path, 65536, &text, NULL, err);
        if (r < 0)
                return r;
        _cleanup_strv_ char **f = strv_split(text, "\n");
        if (strv_length(f) != 3 || (!streq(f[0], "1") && !streq(f[0], "2")))
                return pea_error_set(err, EBADMSG, "malformed freezer record '%s'", path);
        *ret = (struct freezer){
                .version = f[0][0] - '0', .dir = xstrdup(f[1]), .original = xstrdup(f[2])};
        return 0;
}

/* Moves every process of the container into dir until no new one shows up. */
static int move_all(pid_t init, const char *dir, struct pea_error **err)
{
        size_t last = (size_t)-1;
        for (int round = 0; round < 20; round++) {
                pid_t *pids = NULL;
                size_t n = 0;
                int r = pea_cmd_container_pids(init, &pids, &n, err);
                for (size_t i = 0; r >= 0 && i < n; i++) {
                        char buf[32];
                        (void)snprintf(buf, sizeof(buf), "%d", (int)pids[i]);
                        _cleanup_error_ struct pea_error *e = NULL;
                        /* a process that exited meanwhile is fine */
                        if (write_str(dir, "cgroup.procs", buf, &e) < 0 && e->code != ESRCH)
                                r = pea_error_set(err, e->code, "%s", e->msg);
                }
                free(pids);
                if (r < 0)
                        return r;
                if (n == last)
                        return 0;
                last = n;
        }
        return 0;
}

/* Writes the freeze (or thaw) and waits until the kernel says it is done. */
static int set_frozen(const struct freezer *f, bool frozen, struct pea_error **err)
{
        const char *file = f->version == 2 ? "cgroup.freeze" : "freezer.state";
        const char *want = f->version == 2 ? (frozen ? "1" : "0") : (frozen ? "FROZEN" : "THAWED");
        for (int i = 0; i < 500; i++) {
                int r = write_str(f->dir, file, want, err);
                if (r < 0)
                        return r;
                _cleanup_free_ char *path = xasprintf(
                        "%s/%s", f->dir, f->version == 2 ? "cgroup.events" : "freezer.state");
                _cleanup_free_ char *text = NULL;
                if (pea_read_file_at(AT_FDCWD, path, 65536, &text, NULL, err) < 0)
                        return -EIO;
                bool done = f->version == 2 ? strstr(text, frozen ? "frozen 1" : "frozen 0") != NULL
                                            : startswith(strstrip(text), want) != NULL;
                if (done)
                        return 0;
                struct timespec ts = {.tv_nsec = 10 * 1000 * 1000};
                (void)nanosleep(&ts, NULL);
        }
        return pea_error_set(err, ETIMEDOUT, "the cgroup '%s' did not become %s", f->dir,
                             frozen ? "frozen" : "thawed");
}

struct state_tx {
        const char *id;
        const char *from, *to;
};

static int state_tx(struct pea_state *s, void *userdata, struct pea_error **err)
{
        const struct state_tx *t = userdata;
        struct pea_container_row row = {};
        int r = pea_state_container_get_by_id(s, t->id, &row, err);
        if (r >= 0 && streq(row.state, t->from)) {
                free(row.state);
                row.state = xstrdup(t->to);
                r = pea_state_container_update(s, &row, err);
        }
        pea_container_row_done(&row);
        return r;
}

static int freeze(const struct pea_container_ctx *ctx, const struct pea_container_row *row,
                  const char *name, struct pea_error **err)
{
        struct freezer f = {};
        int r = freezer_plan(ctx, row->id, name, row->pid, &f, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *rec = record_path(ctx, row->id);
        _cleanup_free_ char *text = xasprintf("%d\n%s\n%s\n", f.version, f.dir, f.original);
        r = pea_write_file_atomic_at(AT_FDCWD, rec, text, strlen(text), 0600, err);
        if (r >= 0)
                r = move_all(row->pid, f.dir, err);
        if (r >= 0)
                r = set_frozen(&f, true, err);
        if (r >= 0)
                r = move_all(row->pid, f.dir, err);
        struct state_tx t = {.id = row->id, .from = "running", .to = "paused"};
        if (r >= 0)
                r = pea_state_transaction(ctx->state, state_tx, &t, err);
        if (r < 0) {
                (void)set_frozen(&f, false, NULL);
                (void)move_all(row->pid, f.original, NULL);
                (void)rmdir(f.dir);
                (void)unlink(rec);
        }
        freezer_done(&f);
        return r;
}

static int thaw(const struct pea_container_ctx *ctx, const struct pea_container_row *row,
                struct pea_error **err)
{
        struct freezer f = {};
        int r = record_read(ctx, row->id, &f, err);
        if (r < 0)
                return r;
        r = set_frozen(&f, false, err);
        if (r >= 0) {
                (void)move_all(row->pid, f.original, NULL);
                (void)rmdir(f.dir);
                _cleanup_free_ char *rec = record_path(ctx, row->id);
                (void)unlink(rec);
        }
        struct state_tx t = {.id = row->id, .from = "paused", .to = "running"};
        if (r >= 0)
                r = pea_state_transaction(ctx->state, state_tx, &t, err);
        freezer_done(&f);
        return r;
}

int pea_cmd_container_thaw(const struct pea_container_ctx *ctx, const char *id,
                           struct pea_error **err)
{
        struct pea_container_row row = {};
        int r = pea_state_container_lookup(ctx->state, id, &row, err);
        if (r >= 0 && streq(row.state, "paused")) {
                r = thaw(ctx, &row, err);
                if (r >= 0)
                        pea_cmd_event_container(ctx->run_root, &row, "unpause");
        }
        pea_container_row_done(&row);
        return r;
}

static int pause_one(const struct pea_container_ctx *ctx, const char *name, bool pausing,
                     struct pea_error **err)
{
        struct pea_container_row row = {};
        int r = pea_cmd_container_get(ctx, name, &row, err);
        if (r < 0)
                return r;
        if (pausing && !streq(row.state, "running"))
                r = pea_error_set(err, EINVAL,
                                  "\"%s\" is not running, can't pause: container state improper",
                                  row.state);
        else if (!pausing && !streq(row.state, "paused"))
                r = pea_error_set(err, EINVAL,
                                  "\"%s\" is not paused, can't unpause: container state improper",
                                  row.id);
        if (r >= 0)
                r = pausing ? freeze(ctx, &row, name, err) : thaw(ctx, &row, err);
        if (r >= 0)
                pea_cmd_event_container(ctx->run_root, &row, pausing ? "pause" : "unpause");
        pea_container_row_done(&row);
        return r;
}

/* With -a: every running (pause) or paused (unpause) container. */
static int all_in_state(const struct pea_container_ctx *ctx, const char *state, char ***ret,
                        struct pea_error **err)
{
        struct pea_container_row *rows = NULL;
        size_t n = 0;
        int r = pea_state_container_list(ctx->state, NULL, &rows, &n, err);
        if (r < 0)
                return r;
        char **l = xcalloc(1, sizeof(char *));
        for (size_t i = 0; i < n; i++)
                if (streq(rows[i].state, state))
                        strv_push(&l, rows[i].name);
        pea_container_rows_free(rows, n);
        *ret = l;
        return 0;
}

static int parse(struct pea_cli *cli, const struct pea_cmd *cmd, int argc, char **argv,
                 bool *ret_all, bool *ret_latest, struct pea_error **err)
{
        static const struct option longopts[] = {
                {"all", no_argument, NULL, 'a'},
                {"latest", no_argument, NULL, 'l'},
                PEA_HELP_OPTION,
                {},
        };
        int c;
        while ((c = getopt_long(argc, argv, ":alh", longopts, NULL)) != -1) {
                if (c == 'h') {
                        pea_cli_print_help(cli, cmd);
                        return 1;
                }
                if (c == 'a')
                        *ret_all = true;
                else if (c == 'l')
                        *ret_latest = true;
                else
                        return pea_cli_opt_error(c, argc, argv, err);
        }
        if ((*ret_all || *ret_latest) && argc > optind)
                return pea_error_set(err, EINVAL,
                                     "--all, --latest and containers cannot be used "
                                     "together");
        return pea_cli_check_args(cli, argc - optind, *ret_all || *ret_latest ? 0 : 1, -1, err);
}

static int run(struct pea_cli *cli, const struct pea_cmd *cmd, bool pausing, int argc, char **argv,
               struct pea_error **err)
{
        bool all = false, latest = false;
        int r = parse(cli, cmd, argc, argv, &all, &latest, err);
        if (r != 0)
                return r < 0 ? r : 0;
        struct pea_container_ctx ctx = {};
        pea_cmd_container_ctx_light(cli, &ctx);
        _cleanup_strv_ char **names = NULL;
        r = all ? all_in_state(&ctx, pausing ? "running" : "paused", &names, err)
                : pea_cmd_container_targets(&ctx, latest, argc - optind, argv + optind, &names,
                                            err);
        if (r < 0)
                return r;
        int failed = 0;
        STRV_FOREACH(n, names) {
                _cleanup_error_ struct pea_error *e1 = NULL;
                if (pause_one(&ctx, *n, pausing, &e1) < 0) {
                        fprintf(stderr, "Error: %s\n", e1->msg);
                        failed++;
                } else {
                        printf("%s\n", *n);
                }
        }
        return failed ? 125 : 0;
}

static int cmd_pause(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        return run(cli, &pea_cmd_pause, true, argc, argv, err);
}

static int cmd_unpause(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        return run(cli, &pea_cmd_unpause, false, argc, argv, err);
}

#define CONTAINER_FLAGS (PEA_NEEDS_CONFIG | PEA_NEEDS_DIRS | PEA_NEEDS_STATE | PEA_NEEDS_USERNS)

const struct pea_cmd pea_cmd_pause = {
        .name = "pause",
        .fn = cmd_pause,
        .flags = CONTAINER_FLAGS,
        .summary = "Pause all the processes in one or more containers",
        .usage = "[options] CONTAINER [CONTAINER...]",
        .options = "  -a, --all      Pause all running containers\n"
                   "  -l, --latest   Act on the latest container pea is aware of\n",
};

const struct pea_cmd pea_cmd_unpause = {
        .name = "unpause",
        .fn = cmd_unpause,
        .flags = CONTAINER_FLAGS,
        .summary = "Unpause the processes in one or more containers",
        .usage = "[options] CONTAINER [CONTAINER...]",
        .options = "  -a, --all      Unpause all paused containers\n"
                   "  -l, --latest   Act on the latest container pea is aware of\n",
};
