/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pea-quadlet: a systemd generator that turns Quadlet units (*.container,
 * *.volume, *.network, *.kube, *.pod) into .service units that run pea.
 *
 *   pea-quadlet [--user] [--dryrun] [-v] [--unit-dir DIR]... NORMAL_DIR [EARLY_DIR] [LATE_DIR]
 *
 * Installed as systemd's pea-system-generator and pea-user-generator; a name
 * ending in "-user-generator" implies --user, as podman's quadlet does.
 */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "base.h"
#include "quadlet.h"

#ifndef PEA_BINDIR
/* the top meson.build should set it: conf.set_quoted('PEA_BINDIR', ...) */
#        define PEA_BINDIR "/usr/local/bin"
#endif

struct quadlet_opts {
        bool user, dryrun, verbose;
        char **unit_dirs;       /* --unit-dir, else QUADLET_UNIT_DIRS, else the defaults */
        const char *normal_dir; /* where units are written */
};

struct units {
        struct pea_unitfile **v;
        size_t n;
};

static void warn(const char *fmt, ...) _printf_(1, 2);

static void warn(const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        fputs("pea-quadlet: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
}

static char **default_unit_dirs(bool user)
{
        const char *env = getenv("QUADLET_UNIT_DIRS");
        const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
        char **dirs = NULL;

        if (env && *env)
                return strv_split(env, ":");
        if (!user) {
                strv_push(&dirs, "/run/containers/systemd");
                strv_push(&dirs, "/etc/containers/systemd");
                strv_push(&dirs, "/usr/share/containers/systemd");
                return dirs;
        }
        if (xdg && *xdg)
                strv_consume(&dirs, xasprintf("%s/containers/systemd", xdg));
        else if (home && *home)
                strv_consume(&dirs, xasprintf("%s/.config/containers/systemd", home));
        strv_consume(&dirs, xasprintf("/etc/containers/systemd/users/%u", (unsigned)getuid()));
        strv_push(&dirs, "/etc/containers/systemd/users");
        return dirs;
}

static bool have_unit(const struct units *u, const char *name)
{
        for (size_t i = 0; i < u->n; i++)
                if (streq(u->v[i]->filename, name))
                        return true;
        return false;
}

/* Loads the Quadlet units of one directory; returns the number that failed. */
static int load_dir(const char *dir, bool verbose, struct units *units)
{
        _cleanup_closedir_ DIR *d = opendir(dir);
        struct dirent *de = NULL;
        int failed = 0;

        if (!d) {
                if (errno != ENOENT)
                        warn("cannot read directory '%s': %s, ignoring", dir, strerror(errno));
                return 0;
        }
        while ((de = readdir(d))) {
                _cleanup_error_ struct pea_error *err = NULL;
                _cleanup_free_ char *path = NULL;
                struct pea_unitfile *u = NULL;

                if (de->d_name[0] == '.' || pea_quadlet_kind_from_filename(de->d_name) < 0
                    || have_unit(units, de->d_name))
                        continue;
                path = xasprintf("%s/%s", dir, de->d_name);
                if (verbose)
                        warn("loading source unit file '%s'", path);
                if (pea_unitfile_load(path, &u, &err) < 0) {
                        warn("%s, ignoring", err->msg);
                        failed++;
                        continue;
                }
                units->v = xrealloc(units->v, (units->n + 1) * sizeof(*units->v));
                units->v[units->n++] = u;
        }
        return failed;
}

static int cmp_units(const void *a, const void *b)
{
        return strcmp((*(struct pea_unitfile *const *)a)->filename,
                      (*(struct pea_unitfile *const *)b)->filename);
}

/* Writes the [Install] symlinks: WantedBy/RequiredBy .wants/.requires and Alias. */
static int enable_unit(const char *outdir, const struct pea_unitfile *svc, struct pea_error **err)
{
        static const char *const keys[][2] = {
                {"WantedBy", ".wants"}, {"RequiredBy", ".requires"}, {"Alias", NULL}};

        for (size_t k = 0; k < ELEMENTSOF(keys); k++) {
                _cleanup_strv_ char **l = NULL;
                int r = pea_unitfile_lookup_all_args(svc, "Install", keys[k][0], &l, err);

                if (r < 0)
                        return r;
                STRV_FOREACH(t, l) {
                        _cleanup_free_ char *dir = NULL, *link = NULL, *target = NULL;

                        if (strchr(*t, '/') || streq(*t, svc->filename))
                                continue; /* only unit names, not paths */
                        dir = keys[k][1] ? xasprintf("%s/%s%s", outdir, *t, keys[k][1])
                                         : xstrdup(outdir);
                        link = keys[k][1] ? xasprintf("%s/%s", dir, svc->filename)
                                          : xasprintf("%s/%s", outdir, *t);
                        target = keys[k][1] ? xasprintf("../%s", svc->filename)
                                            : xstrdup(svc->filename);
                        r = pea_mkdir_p(dir, 0755, err);
                        if (r < 0)
                                return r;
                        (void)unlink(link);
                        if (symlink(target, link) < 0)
                                return pea_error_syscall(err, errno, "creating symlink '%s'", link);
                }
        }
        return 0;
}

static int write_unit(const struct quadlet_opts *o, const struct pea_unitfile *svc,
                      struct pea_error **err)
{
        _cleanup_free_ char *body = pea_unitfile_to_string(svc);
        _cleanup_free_ char *data = NULL, *path = NULL;
        int r = 0;

        if (o->dryrun) {
                printf("---%s---\n%s\n", svc->filename, body);
                return 0;
        }
        data = xasprintf("# Automatically generated by pea-quadlet\n%s", body);
        path = xasprintf("%s/%s", o->normal_dir, svc->filename);
        if (o->verbose)
                warn("writing '%s'", path);
        r = pea_write_file_atomic_at(AT_FDCWD, path, data, strlen(data), 0644, err);
        if (r < 0)
                return r;
        return enable_unit(o->normal_dir, svc, err);
}

/* Converts and writes every unit; returns the number of units that failed. */
static int generate(const struct quadlet_opts *o, const char *binary)
{
        struct units units = {0};
        int failed = 0;

        STRV_FOREACH(d, o->unit_dirs)
                failed += load_dir(*d, o->verbose, &units);
        if (units.n > 1)
                qsort(units.v, units.n, sizeof(*units.v), cmp_units);
        for (size_t i = 0; i < units.n; i++) {
                struct pea_quadlet_ctx ctx = {binary, o->user, units.v, units.n};
                _cleanup_error_ struct pea_error *err = NULL;
                _cleanup_unitfile_ struct pea_unitfile *svc = NULL;
                const char *src = units.v[i]->path ? units.v[i]->path : units.v[i]->filename;

                if (pea_quadlet_convert(&ctx, units.v[i], &svc, &err) < 0
                    || write_unit(o, svc, &err) < 0) {
                        warn("converting '%s': %s, ignoring", src, err->msg);
                        failed++;
                }
        }
        for (size_t i = 0; i < units.n; i++)
                pea_unitfile_free(units.v[i]);
        free(units.v);
        return failed;
}

static void usage(FILE *f)
{
        fputs("usage: pea-quadlet [--user] [--dryrun] [-v] [--unit-dir DIR]... "
              "NORMAL_DIR [EARLY_DIR] [LATE_DIR]\n",
              f);
}

/* Parses argv; 0 on success, 1 after --help/--version, -EINVAL on bad usage. */
static int parse_args(int argc, char **argv, struct quadlet_opts *o)
{
        static const struct option longopts[] = {
                {"user", no_argument, NULL, 'u'},           {"dryrun", no_argument, NULL, 'n'},
                {"verbose", no_argument, NULL, 'v'},        {"no-kmsg-log", no_argument, NULL, 'k'},
                {"unit-dir", required_argument, NULL, 'd'}, {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, 'V'},        {NULL, 0, NULL, 0},
        };
        const char *slash = strrchr(argv[0], '/');
        int c = 0;

        o->user = endswith(slash ? slash + 1 : argv[0], "-user-generator");
        while ((c = getopt_long_only(argc, argv, "+vh", longopts, NULL)) != -1) {
                switch (c) {
                case 'u':
                        o->user = true;
                        break;
                case 'n':
                        o->dryrun = true;
                        break;
                case 'v':
                        o->verbose = true;
                        break;
                case 'k':
                        break;
                case 'd':
                        strv_push(&o->unit_dirs, optarg);
                        break;
                case 'h':
                        usage(stdout);
                        return 1;
                case 'V':
                        printf("pea-quadlet version %s\n", PEA_VERSION);
                        return 1;
                default:
                        return -EINVAL;
                }
        }
        o->normal_dir = optind < argc ? argv[optind] : NULL;
        if (argc - optind > 3 || (!o->dryrun && !o->normal_dir))
                return -EINVAL;
        return 0;
}

int main(int argc, char **argv)
{
        struct quadlet_opts o = {0};
        const char *binary = getenv("PEA_BINARY");
        int r = parse_args(argc, argv, &o);
        int failed = 0;

        if (r != 0) {
                if (r < 0)
                        usage(stderr);
                strv_free(o.unit_dirs);
                return r < 0 ? 2 : 0;
        }
        if (!o.unit_dirs)
                o.unit_dirs = default_unit_dirs(o.user);
        if (!o.dryrun) {
                _cleanup_error_ struct pea_error *err = NULL;

                if (pea_mkdir_p(o.normal_dir, 0755, &err) < 0) {
                        warn("%s", err->msg);
                        strv_free(o.unit_dirs);
                        return 1;
                }
        }
        failed = generate(&o, binary && *binary ? binary : PEA_BINDIR "/pea");
        strv_free(o.unit_dirs);
        return failed > 0 ? 1 : 0;
}
