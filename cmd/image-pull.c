/* SPDX-License-Identifier: Apache-2.0 */
/* pea pull: options, progress output (plain lines, or bars on a TTY) and the IDs. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/ioctl.h>
#include <sys/stat.h>

#include "cmd.h"
#include "image.h"
#include "units.h"

/* ---- progress ------------------------------------------------------------------------------ */

#define REDRAW_NS (100 * 1000 * 1000LL)

struct bar {
        char *digest;
        int64_t size, done;
        int64_t started_ns;
        bool skipped, finished;
};

struct progress {
        bool tty;
        struct bar *bars;
        size_t n;
        size_t drawn; /* lines of the bar block on screen */
        int64_t last_draw_ns;
};

static void progress_reset(struct progress *p)
{
        for (size_t i = 0; i < p->n; i++)
                free(p->bars[i].digest);
        free(p->bars);
        p->bars = NULL;
        p->n = 0;
        p->drawn = 0;
}

static const char *short_hex(const char *digest)
{
        const char *colon = digest ? strchr(digest, ':') : NULL;
        return colon ? colon + 1 : digest ? digest : "";
}

static int terminal_width(void)
{
        struct winsize ws = {0};
        if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40)
                return ws.ws_col;
        return 80;
}

/* "[=====>------]" of width w (w >= 3). */
static char *bar_graphic(int64_t done, int64_t size, int w)
{
        char *s = xmalloc((size_t)w + 1);
        int inner = w - 2;
        int fill = size > 0 ? (int)((double)done / (double)size * inner) : 0;
        if (fill > inner)
                fill = inner;
        s[0] = '[';
        for (int i = 0; i < inner; i++)
                s[1 + i] = i < fill ? '=' : i == fill ? '>' : '-';
        s[w - 1] = ']';
        s[w] = '\0';
        return s;
}

static char *bar_line(const struct bar *b, int64_t now)
{
        if (b->skipped)
                return xasprintf("Copying blob %.12s skipped: already exists",
                                 short_hex(b->digest));
        if (b->finished)
                return xasprintf("Copying blob %.12s done", short_hex(b->digest));
        _cleanup_free_ char *done = pea_human_size_binary((double)b->done);
        _cleanup_free_ char *size = pea_human_size_binary((double)(b->size > 0 ? b->size : 0));
        double secs = b->started_ns ? (double)(now - b->started_ns) / 1e9 : 0;
        _cleanup_free_ char *rate =
                pea_human_size_binary(secs > 0.05 ? (double)b->done / secs : 0.0);
        int w = terminal_width() - 12 - 14 - 28 - 14;
        _cleanup_free_ char *g = bar_graphic(b->done, b->size, w < 10 ? 10 : w > 40 ? 40 : w);
        return xasprintf("Copying blob %.12s %s %s / %s (%s/s)", short_hex(b->digest), g, done,
                         size, rate);
}

static void progress_draw(struct progress *p, bool force)
{
        int64_t now = pea_now_ns();
        if (!force && now - p->last_draw_ns < REDRAW_NS)
                return;
        p->last_draw_ns = now;
        if (p->drawn > 0)
                fprintf(stderr, "\033[%zuA", p->drawn);
        /* the layers announced so far: BLOB events come base first */
        size_t n = 0;
        for (; n < p->n && p->bars[n].digest; n++) {
                _cleanup_free_ char *line = bar_line(&p->bars[n], now);
                fprintf(stderr, "\r\033[2K%s\n", line);
        }
        p->drawn = n;
        (void)fflush(stderr);
}

static void progress_blob(struct progress *p, const struct pea_image_pull_event *ev)
{
        if (ev->n_layers > p->n) {
                p->bars = xrealloc(p->bars, ev->n_layers * sizeof(*p->bars));
                memset(p->bars + p->n, 0, (ev->n_layers - p->n) * sizeof(*p->bars));
                p->n = ev->n_layers;
        }
        if (ev->index >= p->n)
                return;
        struct bar *b = &p->bars[ev->index];
        if (ev->type == PEA_PULL_BLOB) {
                free(b->digest);
                *b = (struct bar){.digest = xstrdup(ev->digest ? ev->digest : ""),
                                  .size = ev->size,
                                  .skipped = ev->skipped};
        } else {
                if (!b->started_ns)
                        b->started_ns = pea_now_ns();
                b->done = ev->done;
                b->finished = b->finished || ev->type == PEA_PULL_BLOB_DONE;
        }
        progress_draw(p, ev->type != PEA_PULL_PROGRESS);
}

static void progress_plain(const struct pea_image_pull_event *ev)
{
        switch (ev->type) {
        case PEA_PULL_BLOB:
                fprintf(stderr, "Copying blob %s\n", ev->digest);
                break;
        case PEA_PULL_CONFIG:
                fprintf(stderr, "Copying config %s\n", ev->digest);
                break;
        default:
                break;
        }
}

static void progress_tty(struct progress *p, const struct pea_image_pull_event *ev)
{
        switch (ev->type) {
        case PEA_PULL_BLOB:
        case PEA_PULL_PROGRESS:
        case PEA_PULL_BLOB_DONE:
                progress_blob(p, ev);
                break;
        case PEA_PULL_CONFIG:
                progress_draw(p, true);
                fprintf(stderr, "Copying config %.12s done\n", short_hex(ev->digest));
                break;
        default:
                break;
        }
}

static void progress_cb(void *userdata, const struct pea_image_pull_event *ev)
{
        struct progress *p = userdata;
        switch (ev->type) {
        case PEA_PULL_TRYING:
                progress_reset(p);
                fprintf(stderr, "Trying to pull %s...\n", ev->ref);
                break;
        case PEA_PULL_RESOLVED:
                fprintf(stderr, "Getting image source signatures\n");
                break;
        case PEA_PULL_WRITING:
                fprintf(stderr, "Writing manifest to image destination\n");
                break;
        case PEA_PULL_SIGNATURES:
                fprintf(stderr, "Storing signatures\n");
                break;
        default:
                if (p->tty)
                        progress_tty(p, ev);
                else
                        progress_plain(ev);
                break;
        }
}

/* ---- pulling ------------------------------------------------------------------------------- */

static int check_authfile(const char *path, struct pea_error **err)
{
        struct stat st;
        if (!path || stat(path, &st) == 0)
                return 0;
        return pea_error_syscall(err, errno, "checking authfile: stat %s", path);
}

int pea_cmd_pull_image(struct pea_cli *cli _unused_, struct pea_image_store *store,
                       const struct pea_registries *regs, const char *name,
                       const struct pea_cmd_registry_flags *rf, struct pea_image_pull_opts *o,
                       bool quiet, char **ret_id, struct pea_error **err)
{
        struct pea_registry_opts ro = {
                .cert_dir = rf->cert_dir, .creds = rf->creds, .authfile = rf->authfile};
        struct pea_cmd_transport ct;
        struct progress p = {.tty = isatty(STDERR_FILENO) == 1};
        int r = check_authfile(rf->authfile, err);
        if (r < 0)
                return r;
        pea_cmd_transport_init(&ct, &ro);
        o->tls_verify = rf->tls_verify;
        o->progress = quiet ? NULL : progress_cb;
        o->progress_userdata = &p;
        r = pea_image_pull(store, regs, &ct.t, name, o, ret_id, err);
        progress_reset(&p);
        return r;
}

/* ---- pea pull ------------------------------------------------------------------------------ */

struct pea_pull_cmd_opts {
        struct pea_cmd_registry_flags rf;
        const char *platform, *os, *arch, *variant;
        bool quiet;
        bool all_tags;
};

enum {
        OPT_ARCH = 0x100,
        OPT_OS,
        OPT_PLATFORM,
        OPT_VARIANT,
        OPT_IGNORED,
};

static int pull_opt(struct pea_pull_cmd_opts *o, int c, struct pea_error **err)
{
        int r = pea_cmd_registry_opt(&o->rf, c, optarg, err);
        if (r != 0)
                return r < 0 ? r : 0;
        switch (c) {
        case 'a':
                o->all_tags = true;
                break;
        case 'q':
                o->quiet = true;
                break;
        case OPT_ARCH:
                o->arch = optarg;
                break;
        case OPT_OS:
                o->os = optarg;
                break;
        case OPT_PLATFORM:
                o->platform = optarg;
                break;
        case OPT_VARIANT:
                o->variant = optarg;
                break;
        default:
                break;
        }
        return r;
}

static int parse_pull(struct pea_cli *cli, int argc, char **argv, struct pea_pull_cmd_opts *o,
                      struct pea_error **err)
{
        static const struct option longopts[] = {
                {"all-tags", no_argument, NULL, 'a'},
                {"arch", required_argument, NULL, OPT_ARCH},
                {"authfile", required_argument, NULL, PEA_CMD_OPT_AUTHFILE},
                {"cert-dir", required_argument, NULL, PEA_CMD_OPT_CERT_DIR},
                {"creds", required_argument, NULL, PEA_CMD_OPT_CREDS},
                {"disable-content-trust", optional_argument, NULL, OPT_IGNORED},
                {"os", required_argument, NULL, OPT_OS},
                {"platform", required_argument, NULL, OPT_PLATFORM},
                {"quiet", no_argument, NULL, 'q'},
                {"tls-verify", optional_argument, NULL, PEA_CMD_OPT_TLS_VERIFY},
                {"variant", required_argument, NULL, OPT_VARIANT},
                PEA_HELP_OPTION,
                {},
        };
        int c;
        while ((c = getopt_long(argc, argv, ":aqh", longopts, NULL)) != -1) {
                if (c == 'h') {
                        pea_cli_print_help(cli, &pea_cmd_pull);
                        return 1;
                }
                if (c == '?' || c == ':')
                        return pea_cli_opt_error(c, argc, argv, err);
                int r = pull_opt(o, c, err);
                if (r < 0)
                        return r;
        }
        if (o->platform && (o->os || o->arch))
                return pea_error_set(err, EINVAL,
                                     "--platform option can not be specified with --arch or --os");
        return pea_cli_check_args(cli, argc - optind, 1, -1, err);
}

static int pull_one(struct pea_cli *cli, struct pea_image_store *store,
                    const struct pea_registries *regs, const char *name,
                    const struct pea_pull_cmd_opts *po, struct pea_error **err)
{
        struct pea_image_pull_opts o;
        pea_cmd_pull_defaults(cli, &o);
        o.platform = po->platform;
        o.os = po->os;
        o.arch = po->arch;
        o.variant = po->variant;
        if (!po->all_tags) {
                _cleanup_free_ char *id = NULL;
                int r = pea_cmd_pull_image(cli, store, regs, name, &po->rf, &o, po->quiet, &id,
                                           err);
                if (r >= 0)
                        printf("%s\n", id);
                if (r >= 0)
                        pea_cmd_event(cli->config.run_root, "image", "pull", id, name);
                return r;
        }
        struct pea_registry_opts ro = {
                .cert_dir = po->rf.cert_dir, .creds = po->rf.creds, .authfile = po->rf.authfile};
        struct pea_cmd_transport ct;
        pea_cmd_transport_init(&ct, &ro);
        o.tls_verify = po->rf.tls_verify;
        _cleanup_strv_ char **ids = NULL;
        int r = pea_image_pull_all_tags(store, regs, &ct.t, name, &o, &ids, err);
        STRV_FOREACH(id, ids)
                printf("%s\n", *id);
        return r;
}

static int cmd_pull(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        struct pea_pull_cmd_opts o = {.rf.tls_verify = -1};
        int r = parse_pull(cli, argc, argv, &o, err);
        if (r != 0)
                return r < 0 ? r : 0;
        _cleanup_image_store_ struct pea_image_store *store = NULL;
        _cleanup_(pea_registries_done) struct pea_registries regs = {0};
        r = pea_cmd_open_store(cli, &store, &regs, err);
        for (int i = optind; r >= 0 && i < argc; i++) {
                r = pull_one(cli, store, &regs, argv[i], &o, err);
                (void)fflush(stdout);
        }
        return r < 0 ? r : 0;
}

#define PULL_OPTIONS                                                                            \
        "  -a, --all-tags             All tagged images in the repository will be pulled\n"     \
        "      --arch ARCH            use ARCH instead of the architecture of the machine for " \
        "choosing images\n"                                                                     \
        "      --authfile string      Path of the authentication file\n"                        \
        "      --cert-dir Pathname    Pathname of a directory containing TLS certificates and " \
        "keys\n"                                                                                \
        "      --creds [username[:password]]   Credentials (USERNAME:PASSWORD) to use for "     \
        "authenticating to a registry\n"                                                        \
        "      --os OS                Use OS instead of the running OS for choosing images\n"   \
        "      --platform string      Specify the platform for selecting the image (OS/ARCH)\n" \
        "  -q, --quiet                Suppress output information when pulling images\n"        \
        "      --tls-verify           Require HTTPS and verify certificates when contacting "   \
        "registries (default true)\n"                                                           \
        "      --variant string       Use VARIANT instead of the running architecture variant " \
        "for choosing images\n"

const struct pea_cmd pea_cmd_pull = {
        .name = "pull",
        .fn = cmd_pull,
        .flags = PEA_NEEDS_CONFIG | PEA_NEEDS_DIRS | PEA_NEEDS_STATE | PEA_NEEDS_USERNS,
        .summary = "Pull an image from a registry",
        .usage = "[options] IMAGE [IMAGE...]",
        .options = PULL_OPTIONS,
};
