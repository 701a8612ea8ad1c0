/* SPDX-License-Identifier: Apache-2.0 */
/* pea events: the journal of lib/events, filtered, formatted and followed. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cmd.h"
#include "container/container.h"
#include "events/events.h"
#include "state/state.h"
#include "template.h"
#include "units.h"

struct events_opts {
        char **filters;
        const char *format;
        const char *since, *until;
        bool stream, trunc;
        int64_t since_ns, until_ns; /* 0: not given */
};

enum { OPT_FORMAT = 0x100, OPT_NO_TRUNC, OPT_SINCE, OPT_UNTIL, OPT_STREAM };

/* "--flag" or "--flag=true|false". */
static int parse_bool(const char *flag, const char *arg, bool *ret, struct pea_error **err)
{
        if (!arg || streq(arg, "true") || streq(arg, "1"))
                *ret = true;
        else if (streq(arg, "false") || streq(arg, "0"))
                *ret = false;
        else
                return pea_error_set(err, EINVAL,
                                     "invalid argument \"%s\" for \"--%s\" flag: "
                                     "strconv.ParseBool: parsing \"%s\": invalid syntax",
                                     arg, flag, arg);
        return 0;
}

static int events_opt(struct events_opts *o, int c, struct pea_error **err)
{
        switch (c) {
        case 'f':
                strv_push(&o->filters, optarg);
                return 0;
        case OPT_FORMAT:
                o->format = optarg;
                return 0;
        case OPT_SINCE:
                o->since = optarg;
                return 0;
        case OPT_UNTIL:
                o->until = optarg;
                return 0;
        case OPT_STREAM:
                return parse_bool("stream", optarg, &o->stream, err);
        case OPT_NO_TRUNC: {
                bool no_trunc = true;
                int r = parse_bool("no-trunc", optarg, &no_trunc, err);
                o->trunc = !no_trunc;
                return r;
        }
        default:
                return pea_error_set(err, EINVAL, "unknown option");
        }
}

static int parse(struct pea_cli *cli, int argc, char **argv, struct events_opts *o,
                 struct pea_error **err)
{
        static const struct option longopts[] = {
                {"filter", required_argument, NULL, 'f'},
                {"format", required_argument, NULL, OPT_FORMAT},
                {"no-trunc", optional_argument, NULL, OPT_NO_TRUNC},
                {"since", required_argument, NULL, OPT_SINCE},
                {"until", required_argument, NULL, OPT_UNTIL},
                {"stream", optional_argument, NULL, OPT_STREAM},
                PEA_HELP_OPTION,
                {},
        };
        int c;
        while ((c = getopt_long(argc, argv, ":f:h", longopts, NULL)) != -1) {
                if (c == 'h') {
                        pea_cli_print_help(cli, &pea_cmd_events);
                        return 1;
                }
                if (c == '?' || c == ':')
                        return pea_cli_opt_error(c, argc, argv, err);
                int r = events_opt(o, c, err);
                if (r < 0)
                        return r;
        }
        int r = pea_cli_check_args(cli, argc - optind, 0, 0, err);
        if (r < 0)
                return r;
        r = pea_event_filters_check(o->filters, err);
        int64_t now = pea_now_ns();
        if (r >= 0 && o->since)
                r = pea_event_parse_time(o->since, now, &o->since_ns, err);
        if (r >= 0 && o->until)
                r = pea_event_parse_time(o->until, now, &o->until_ns, err);
        return r < 0 ? r : 0;
}

static int print_event(const struct events_opts *o, const struct pea_event *e,
                       struct pea_error **err)
{
        if (!o->format) {
                _cleanup_free_ char *s = pea_event_to_text(e, o->trunc);
                printf("%s\n", s);
                return 0;
        }
        if (streq(o->format, "json") || streq(o->format, "{{json .}}")) {
                _cleanup_free_ char *s = pea_event_to_json(e);
                printf("%s\n", s);
                return 0;
        }
        _cleanup_json_ json_t *data = pea_event_template_data(e);
        return pea_format_print(stdout, o->format, data, false, NULL, 0, err);
}

/* Handles one complete journal line; malformed lines are skipped. */
static int handle_line(const struct events_opts *o, const char *line, struct pea_error **err)
{
        struct pea_event e = {};
        if (pea_event_from_json(line, &e, NULL) < 0)
                return 0;
        int r = 0;
        bool in_time =
                (!o->since_ns || e.time >= o->since_ns) && (!o->until_ns || e.time <= o->until_ns);
        if (in_time && pea_event_match(&e, o->filters))
                r = print_event(o, &e, err);
        pea_event_done(&e);
        return r;
}

/* Reads the complete lines from f; a partial last line is left for later. */
static int drain(const struct events_opts *o, FILE *f, struct pea_error **err)
{
        _cleanup_free_ char *line = NULL;
        size_t cap = 0;
        for (;;) {
                long pos = ftell(f);
                ssize_t n = getline(&line, &cap, f);
                if (n <= 0)
                        break;
                if (line[n - 1] != '\n') {
                        (void)fseek(f, pos, SEEK_SET);
                        break;
                }
                int r = handle_line(o, line, err);
                if (r < 0)
                        return r;
        }
        clearerr(f);
        if (fflush(stdout) != 0)
                return pea_error_syscall(err, errno, "writing output");
        return 0;
}

static void pause_a_little(void)
{
        struct timespec ts = {.tv_nsec = 100 * 1000 * 1000};
        (void)nanosleep(&ts, NULL);
}

static int follow(const struct pea_cli *cli, const struct events_opts *o, struct pea_error **err)
{
        _cleanup_free_ char *path = pea_event_log_path(cli->config.run_root);
        _cleanup_fclose_ FILE *f = NULL;
        for (;;) {
                if (!f) {
                        f = fopen(path, "re");
                        if (!f && errno != ENOENT)
                                return pea_error_syscall(err, errno, "opening '%s'", path);
                }
                /* the end time is taken before the last read, so nothing up to it is missed */
                bool past = o->until_ns && pea_now_ns() > o->until_ns;
                int r = f ? drain(o, f, err) : 0;
                if (r < 0)
                        return r;
                if (!o->stream || past)
                        return 0;
                pause_a_little();
        }
}

static void container_event(const char *run_root, const struct pea_container_row *row,
                            const char *status, bool died, int exit_code)
{
        json_t *labels = json_object_get(row->config, "labels");
        struct pea_event e = {
                .time = pea_now_ns(),
                .type = "container",
                .status = (char *)status,
                .id = row->id,
                .name = row->name,
                .image = row->image_name,
                .attrs = json_is_object(labels) ? labels : NULL,
                .has_exit_code = died,
                .exit_code = exit_code,
        };
        _cleanup_error_ struct pea_error *err = NULL;
        if (pea_event_append(run_root, &e, &err) < 0)
                pea_log(PEA_LOG_WARN, "%s, ignoring", err->msg);
}

void pea_cmd_event_container(const char *run_root, const struct pea_container_row *row,
                             const char *status)
{
        container_event(run_root, row, status, false, 0);
}

void pea_cmd_event_died(const char *run_root, const struct pea_container_row *row, int exit_code)
{
        container_event(run_root, row, "died", true, exit_code);
}

void pea_cmd_event_id(const struct pea_container_ctx *ctx, const char *id, const char *status)
{
        struct pea_container_row row = {};
        if (pea_state_container_lookup(ctx->state, id, &row, NULL) < 0)
                return;
        container_event(ctx->run_root, &row, status, streq(status, "died"), row.exit_code);
        pea_container_row_done(&row);
}

void pea_cmd_event(const char *run_root, const char *type, const char *status, const char *id,
                   const char *name)
{
        _cleanup_error_ struct pea_error *err = NULL;
        if (pea_event_write(run_root, type, status, id, name, NULL, NULL, &err) < 0)
                pea_log(PEA_LOG_WARN, "%s, ignoring", err->msg);
}

static int cmd_events(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        struct events_opts o = {.filters = xcalloc(1, sizeof(char *)), .stream = true};
        int r = parse(cli, argc, argv, &o, err);
        if (r == 0)
                r = follow(cli, &o, err);
        strv_free(o.filters);
        return r < 0 ? r : 0;
}

const struct pea_cmd pea_cmd_events = {
        .name = "events",
        .fn = cmd_events,
        .flags = PEA_NEEDS_CONFIG | PEA_NEEDS_DIRS,
        .summary = "Show pea events",
        .usage = "[options]",
        .options = "  -f, --filter stringArray   filter output\n"
                   "      --format string        format the output using a Go template\n"
                   "      --no-trunc             do not truncate the output (default true)\n"
                   "      --since string         show all events created since timestamp\n"
                   "      --stream               stream new events; for testing only (default "
                   "true)\n"
                   "      --until string         show all events until timestamp\n",
};
