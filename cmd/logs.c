/* SPDX-License-Identifier: Apache-2.0 */
/* pea logs: the k8s-file log the monitor writes, with -f, -t, --tail, --since, --until. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "container/container.h"
#include "run.h"
#include "state/state.h"
#include "units.h"

struct logs_opts {
        bool follow, timestamps, names;
        long tail;            /* -1: all */
        int64_t since, until; /* unix ns; 0: none */
};

struct log_src {
        const char *prefix; /* "" or "<id> " */
        const struct logs_opts *o;
        bool partial; /* the last record printed was a P record */
};

/* One k8s-file record: "<RFC3339Nano> <stream> <F|P> <text>". */
static void print_record(struct log_src *s, const char *line, size_t len)
{
        const char *sp1 = memchr(line, ' ', len);
        const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', len - (size_t)(sp1 + 1 - line)) : NULL;
        if (!sp2 || (size_t)(sp2 - line) + 2 > len)
                return;
        bool partial = sp2[1] == 'P';
        const char *text = sp2 + 2 < line + len ? sp2 + 3 : line + len;
        size_t tlen = (size_t)(line + len - text);
        if (s->o->since || s->o->until) {
                _cleanup_free_ char *ts = xstrndup(line, (size_t)(sp1 - line));
                int64_t t = 0;
                if (pea_time_parse_rfc3339(ts, &t) >= 0
                    && ((s->o->since && t < s->o->since) || (s->o->until && t > s->o->until)))
                        return;
        }
        if (!s->partial) {
                fputs(s->prefix, stdout);
                if (s->o->timestamps)
                        printf("%.*s ", (int)(sp1 - line), line);
        }
        fwrite(text, 1, tlen, stdout);
        if (!partial)
                putchar('\n');
        s->partial = partial;
}

/* Prints the complete lines of buf from *off on; *off moves past them. */
static void print_lines(struct log_src *s, const char *buf, size_t len, size_t *off)
{
        for (;;) {
                const char *nl = memchr(buf + *off, '\n', len - *off);
                if (!nl)
                        return;
                print_record(s, buf + *off, (size_t)(nl - buf - (ptrdiff_t)*off));
                *off = (size_t)(nl - buf) + 1;
        }
}

/* Where the last n records of buf (whole lines) start. */
static size_t tail_start(const char *buf, size_t len, long n)
{
        if (n < 0)
                return 0;
        if (n == 0)
                return len;
        long seen = 0;
        for (size_t i = len; i > 0; i--)
                if (buf[i - 1] == '\n' && i != len && ++seen == n)
                        return i;
        return 0;
}

static bool is_running(struct pea_run_env *e, const char *id)
{
        struct pea_container_row row = {};
        if (pea_cmd_container_get(&e->ctx, id, &row, NULL) < 0)
                return false;
        bool running = streq(row.state, "running");
        pea_container_row_done(&row);
        return running;
}

/* Prints the log of one container; with -f until it stops running. */
static int print_log(struct pea_run_env *e, const char *id, struct log_src *s,
                     struct pea_error **err)
{
        _cleanup_free_ char *path = pea_container_log_path(&e->ctx, id);
        size_t off = 0;
        bool first = true;
        for (;;) {
                bool running = s->o->follow && is_running(e, id);
                _cleanup_free_ char *buf = NULL;
                size_t len = 0;
                int r = pea_read_file_at(AT_FDCWD, path, SIZE_MAX, &buf, &len, NULL);
                if (r == -ENOENT)
                        len = 0;
                else if (r < 0)
                        return pea_error_syscall(err, -r, "reading the log of '%s'", id);
                if (len < off) /* truncated by the monitor: start over */
                        off = 0;
                if (first && len > 0) {
                        size_t end = len;
                        while (end > 0 && buf[end - 1] != '\n')
                                end--;
                        off = tail_start(buf, end, s->o->tail);
                        first = false;
                }
                print_lines(s, buf ? buf : "", len, &off);
                (void)fflush(stdout);
                if (!running)
                        return 0;
                struct timespec ts = {.tv_nsec = 100 * 1000 * 1000};
                (void)nanosleep(&ts, NULL);
        }
}

/* --since/--until: an RFC 3339 time, unix seconds, or a duration before now ("10m", "2h"). */
static int parse_time(const char *flag, const char *s, int64_t *ret, struct pea_error **err)
{
        if (pea_time_parse_rfc3339(s, ret) >= 0)
                return 0;
        char *end = NULL;
        errno = 0;
        double v = strtod(s, &end);
        if (errno || end == s || v < 0)
                return pea_error_set(err, EINVAL, "invalid value '%s' for %s", s, flag);
        double mult = streq(end, "")     ? 0
                      : streq(end, "s")  ? 1
                      : streq(end, "m")  ? 60
                      : streq(end, "h")  ? 3600
                      : streq(end, "ms") ? 0.001
                                         : -1;
        if (mult < 0)
                return pea_error_set(err, EINVAL, "invalid value '%s' for %s", s, flag);
        if (mult == 0)
                *ret = (int64_t)(v * 1e9);
        else
                *ret = pea_now_ns() - (int64_t)(v * mult * 1e9);
        return 0;
}

enum { OPT_SINCE = 0x100, OPT_UNTIL, OPT_TAIL, OPT_NAMES };

static int parse(struct pea_cli *cli, int argc, char **argv, struct logs_opts *o,
                 struct pea_error **err)
{
        static const struct option longopts[] = {
                {"follow", no_argument, NULL, 'f'},
                {"names", no_argument, NULL, 'n'},
                {"since", required_argument, NULL, OPT_SINCE},
                {"tail", required_argument, NULL, OPT_TAIL},
                {"timestamps", no_argument, NULL, 't'},
                {"until", required_argument, NULL, OPT_UNTIL},
                PEA_HELP_OPTION,
                {},
        };
        int c, r = 0;
        long long n = 0;
        while (r >= 0 && (c = getopt_long(argc, argv, ":fnth", longopts, NULL)) != -1) {
                if (c == 'h') {
                        pea_cli_print_help(cli, &pea_cmd_logs);
                        return 1;
                }
                if (c == 'f')
                        o->follow = true;
                else if (c == 'n')
                        o->names = true;
                else if (c == 't')
                        o->timestamps = true;
                else if (c == OPT_SINCE)
                        r = parse_time("--since", optarg, &o->since, err);
                else if (c == OPT_UNTIL)
                        r = parse_time("--until", optarg, &o->until, err);
                else if (c == OPT_TAIL && safe_atoll(optarg, &n) >= 0)
                        o->tail = n < 0 ? -1 : (long)n;
                else if (c == OPT_TAIL)
                        return pea_error_set(err, EINVAL, "invalid value '%s' for --tail", optarg);
                else
                        return pea_cli_opt_error(c, argc, argv, err);
        }
        if (r < 0)
                return r;
        return pea_cli_check_args(cli, argc - optind, 1, -1, err);
}

static int cmd_logs(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        struct logs_opts o = {.tail = -1};
        int r = parse(cli, argc, argv, &o, err);
        if (r != 0)
                return r < 0 ? r : 0;
        struct pea_run_env e = {};
        r = pea_run_env_open(cli, &e, err);
        bool several = argc - optind > 1;
        for (int i = optind; r >= 0 && i < argc; i++) {
                struct pea_container_row row = {};
                r = pea_cmd_container_get(&e.ctx, argv[i], &row, err);
                if (r < 0)
                        break;
                _cleanup_free_ char *prefix = o.names   ? xasprintf("%s ", row.name)
                                              : several ? xasprintf("%.12s ", row.id)
                                                        : xstrdup("");
                struct log_src s = {.prefix = prefix, .o = &o};
                r = print_log(&e, row.id, &s, err);
                pea_container_row_done(&row);
        }
        pea_run_env_done(&e);
        return r < 0 ? r : 0;
}

const struct pea_cmd pea_cmd_logs = {
        .name = "logs",
        .fn = cmd_logs,
        .flags = PEA_NEEDS_CONFIG | PEA_NEEDS_DIRS | PEA_NEEDS_STATE | PEA_NEEDS_USERNS,
        .summary = "Fetch the logs of one or more containers",
        .usage = "[options] CONTAINER [CONTAINER...]",
        .options = "  -f, --follow       Follow log output\n"
                   "  -n, --names        Output the container name in the log\n"
                   "      --since string Show logs since TIMESTAMP\n"
                   "      --tail int     Output the specified number of LINES at the end of "
                   "the logs (default -1)\n"
                   "  -t, --timestamps   Output the timestamps in the log\n"
                   "      --until string Show logs until TIMESTAMP\n",
};
