/* SPDX-License-Identifier: Apache-2.0 */
/* Quadlet: .container units into services that run `pea run`. */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "base.h"
#include "quadlet.h"

#define G "Container"

static const char *const container_keys[] = {
        "Image",
        "ContainerName",
        "Exec",
        "Environment",
        "EnvironmentFile",
        "EnvironmentHost",
        "PublishPort",
        "ExposeHostPort",
        "Volume",
        "Tmpfs",
        "Mount",
        "Network",
        "Pod",
        "Label",
        "Annotation",
        "User",
        "Group",
        "UserNS",
        "AddCapability",
        "DropCapability",
        "AddDevice",
        "NoNewPrivileges",
        "ReadOnly",
        "VolatileTmp",
        "RunInit",
        "Notify",
        "HealthCmd",
        "HealthInterval",
        "HealthRetries",
        "HealthTimeout",
        "HealthStartPeriod",
        "HealthOnFailure",
        "Timezone",
        "WorkingDir",
        "Entrypoint",
        "HostName",
        "IP",
        "IP6",
        "LogDriver",
        "Secret",
        "AutoUpdate",
        "PodmanArgs",
        "PeaArgs",
        NULL,
};

/* Simple KEY=VALUE -> --flag=VALUE translations, in output order. */
static const char *const simple_keys[][2] = {
        {"HostName", "--hostname"},    {"IP", "--ip"},       {"IP6", "--ip6"},
        {"LogDriver", "--log-driver"}, {"WorkingDir", "-w"}, {"Entrypoint", "--entrypoint"},
};

/* Health keys, each "--health-X VALUE" as podman's quadlet writes them. */
static const char *const health_keys[][2] = {
        {"HealthCmd", "--health-cmd"},
        {"HealthInterval", "--health-interval"},
        {"HealthOnFailure", "--health-on-failure"},
        {"HealthRetries", "--health-retries"},
        {"HealthStartPeriod", "--health-start-period"},
        {"HealthTimeout", "--health-timeout"},
};

static const char *lookup(const struct pea_unitfile *src, const char *key)
{
        const char *v = pea_unitfile_lookup(src, G, key);

        return v && *v ? v : NULL;
}

/* Adds --flag (true) or --flag=false when key is set. */
static int add_bool(const struct pea_unitfile *src, const char *key, const char *flag, char ***argv,
                    struct pea_error **err)
{
        bool b = false;
        int r = pea_unitfile_lookup_bool(src, G, key, false, &b, err);

        if (r < 0 || !lookup(src, key))
                return r;
        strv_consume(argv, b ? xstrdup(flag) : xasprintf("%s=false", flag));
        return 0;
}

static char *lowercase(char *s)
{
        for (char *c = s; *c; c++)
                *c = (char)tolower((unsigned char)*c);
        return s;
}

static int add_security(const struct pea_unitfile *src, char ***argv, struct pea_error **err)
{
        _cleanup_strv_ char **drop = NULL, **add = NULL, **devs = NULL;
        bool nnp = false;
        int r = pea_unitfile_lookup_bool(src, G, "NoNewPrivileges", false, &nnp, err);

        if (r >= 0)
                r = pea_unitfile_lookup_all_args(src, G, "DropCapability", &drop, err);
        if (r >= 0)
                r = pea_unitfile_lookup_all_args(src, G, "AddCapability", &add, err);
        if (r >= 0)
                r = pea_unitfile_lookup_all_args(src, G, "AddDevice", &devs, err);
        if (r < 0)
                return r;
        if (nnp)
                strv_push(argv, "--security-opt=no-new-privileges");
        STRV_FOREACH(d, devs)
                strv_consume(argv, xasprintf("--device=%s", *d));
        STRV_FOREACH(c, drop)
                strv_consume(argv, lowercase(xasprintf("--cap-drop=%s", *c)));
        STRV_FOREACH(c, add)
                strv_consume(argv, lowercase(xasprintf("--cap-add=%s", *c)));
        return 0;
}

static int add_readonly(const struct pea_unitfile *src, char ***argv, struct pea_error **err)
{
        bool ro = false, vt = false;
        int r = pea_unitfile_lookup_bool(src, G, "ReadOnly", false, &ro, err);

        if (r >= 0)
                r = pea_unitfile_lookup_bool(src, G, "VolatileTmp", false, &vt, err);
        if (r >= 0)
                r = add_bool(src, "ReadOnly", "--read-only", argv, err);
        if (r < 0)
                return r;
        if (vt && !ro) {
                /* read-only mode already has a tmpfs on /tmp */
                strv_push(argv, "--tmpfs");
                strv_push(argv, "/tmp:rw,size=512M,mode=1777");
        } else if (ro && !vt) {
                strv_push(argv, "--read-only-tmpfs=false");
        }
        return 0;
}

static int add_user(const struct pea_unitfile *src, char ***argv, struct pea_error **err)
{
        const char *user = lookup(src, "User"), *group = lookup(src, "Group");
        const char *userns = lookup(src, "UserNS");

        if (!user && group)
                return pea_error_set(err, EINVAL, "invalid Group set without User");
        if (user && group)
                strv_consume(argv, xasprintf("--user=%s:%s", user, group));
        else if (user)
                strv_consume(argv, xasprintf("--user=%s", user));
        if (userns)
                strv_consume(argv, xasprintf("--userns=%s", userns));
        return 0;
}

static int add_tmpfs(const struct pea_unitfile *src, char ***argv, struct pea_error **err)
{
        _cleanup_strv_ char **l = pea_unitfile_lookup_all(src, G, "Tmpfs");

        STRV_FOREACH(t, l) {
                const char *c = strchr(*t, ':');

                if (c && strchr(c + 1, ':'))
                        return pea_error_set(err, EINVAL, "invalid tmpfs format '%s'", *t);
                strv_push(argv, "--tmpfs");
                strv_push(argv, *t);
        }
        return 0;
}

/* One Volume=[SOURCE:]DEST[:OPTIONS]; NAME.volume sources become systemd-NAME. */
static void add_volume(const struct pea_quadlet_ctx *ctx, const struct pea_unitfile *src,
                       struct pea_unitfile *svc, const char *spec, char ***argv)
{
        _cleanup_free_ char *copy = xstrdup(spec), *source = NULL;
        char *dest = strchr(copy, ':');

        strv_push(argv, "-v");
        if (!dest) {
                strv_push(argv, copy);
                return;
        }
        *dest++ = '\0';
        if (copy[0] == '/') {
                pea_unitfile_add(svc, "Unit", "RequiresMountsFor", copy);
        } else if (endswith(copy, ".volume")) {
                _cleanup_free_ char *unit = pea_quadlet_service_name(copy);

                source = pea_quadlet_resource_name(ctx, copy);
                pea_unitfile_add(svc, "Unit", "Requires", unit);
                pea_unitfile_add(svc, "Unit", "After", unit);
        } else if (copy[0] == '.' && src->path && strrchr(src->path, '/')) {
                /* ./dir and ../dir are relative to the unit file */
                const char *slash = strrchr(src->path, '/');

                source = xasprintf("%.*s/%s", (int)(slash - src->path), src->path, copy);
                pea_unitfile_add(svc, "Unit", "RequiresMountsFor", source);
        }
        strv_consume(argv, xasprintf("%s:%s", source ? source : copy, dest));
}

static int add_mounts(const struct pea_quadlet_ctx *ctx, const struct pea_unitfile *src,
                      struct pea_unitfile *svc, char ***argv, struct pea_error **err)
{
        _cleanup_strv_ char **vols = pea_unitfile_lookup_all(src, G, "Volume");
        _cleanup_strv_ char **mounts = NULL;
        int r = add_tmpfs(src, argv, err);

        if (r >= 0)
                r = pea_unitfile_lookup_all_args(src, G, "Mount", &mounts, err);
        if (r < 0)
                return r;
        STRV_FOREACH(v, vols)
                add_volume(ctx, src, svc, *v, argv);
        STRV_FOREACH(m, mounts) {
                strv_push(argv, "--mount");
                strv_push(argv, *m);
        }
        return 0;
}

static int add_expose(const struct pea_unitfile *src, char ***argv, struct pea_error **err)
{
        _cleanup_strv_ char **l = pea_unitfile_lookup_all(src, G, "ExposeHostPort");

        STRV_FOREACH(e, l) {
                const char *p = *e;
                size_t n = strspn(p, "0123456789");

                if (n == 0 || (p[n] && p[n] != '-' && p[n] != '/'))
                        return pea_error_set(err, EINVAL, "invalid port format '%s'", p);
                strv_consume(argv, xasprintf("--expose=%s", p));
        }
        return 0;
}

static int add_env_labels(const struct pea_unitfile *src, char ***argv, struct pea_error **err)
{
        _cleanup_strv_ char **env = NULL, **labels = NULL, **ann = NULL, **files = NULL;
        int r = pea_unitfile_lookup_all_keyval(src, G, "Environment", &env, err);

        if (r >= 0)
                r = pea_unitfile_lookup_all_keyval(src, G, "Label", &labels, err);
        if (r >= 0)
                r = pea_unitfile_lookup_all_keyval(src, G, "Annotation", &ann, err);
        if (r >= 0)
                r = pea_unitfile_lookup_all_args(src, G, "EnvironmentFile", &files, err);
        if (r < 0)
                return r;
        pea_quadlet_add_pairs(argv, "--env", env);
        pea_quadlet_add_pairs(argv, "--label", labels);
        pea_quadlet_add_pairs(argv, "--annotation", ann);
        pea_quadlet_add_pairs(argv, "--env-file", files);
        return add_bool(src, "EnvironmentHost", "--env-host", argv, err);
}

static void add_simple(const struct pea_unitfile *src, char ***argv)
{
        _cleanup_strv_ char **secrets = pea_unitfile_lookup_all(src, G, "Secret");

        pea_quadlet_add_pairs(argv, "--secret", secrets);
        for (size_t i = 0; i < ELEMENTSOF(simple_keys); i++) {
                const char *v = lookup(src, simple_keys[i][0]);

                if (!v)
                        continue;
                if (streq(simple_keys[i][1], "-w")) {
                        strv_push(argv, "-w");
                        strv_push(argv, v);
                } else {
                        strv_consume(argv, xasprintf("%s=%s", simple_keys[i][1], v));
                }
        }
        for (size_t i = 0; i < ELEMENTSOF(health_keys); i++) {
                const char *v = lookup(src, health_keys[i][0]);

                if (v) {
                        strv_push(argv, health_keys[i][1]);
                        strv_push(argv, v);
                }
        }
}

static int add_pod(const struct pea_quadlet_ctx *ctx, const struct pea_unitfile *src,
                   struct pea_unitfile *svc, char ***argv, struct pea_error **err)
{
        const char *pod = lookup(src, "Pod");
        _cleanup_free_ char *unit = NULL, *name = NULL;
        bool found = false;

        if (!pod)
                return 0;
        if (pea_quadlet_kind_from_filename(pod) != PEA_QUADLET_POD)
                return pea_error_set(err, EINVAL, "pod '%s' is not a quadlet .pod unit", pod);
        for (size_t i = 0; i < ctx->n_units && !found; i++)
                found = streq(ctx->units[i]->filename, pod);
        if (!found)
                return pea_error_set(err, ENOENT, "quadlet pod unit '%s' does not exist", pod);
        unit = pea_quadlet_service_name(pod);
        name = pea_quadlet_resource_name(ctx, pod);
        strv_push(argv, "--pod");
        strv_push(argv, name);
        pea_unitfile_add(svc, "Unit", "BindsTo", unit);
        pea_unitfile_add(svc, "Unit", "After", unit);
        return 0;
}

/* Every option between the fixed prefix and the image, in podman's quadlet order. */
static int container_options(const struct pea_quadlet_ctx *ctx, const struct pea_unitfile *src,
                             struct pea_unitfile *svc, char ***argv, struct pea_error **err)
{
        const char *tz = lookup(src, "Timezone"), *au = lookup(src, "AutoUpdate");
        int r = 0;

        if (tz)
                strv_consume(argv, xasprintf("--tz=%s", tz));
        pea_quadlet_add_networks(ctx, src, G, svc, argv);
        r = add_pod(ctx, src, svc, argv, err);
        if (r >= 0)
                r = add_bool(src, "RunInit", "--init", argv, err);
        if (r >= 0)
                r = add_security(src, argv, err);
        if (r >= 0)
                r = add_readonly(src, argv, err);
        if (r >= 0)
                r = add_user(src, argv, err);
        if (r >= 0)
                r = add_mounts(ctx, src, svc, argv, err);
        if (r < 0)
                return r;
        if (au) {
                strv_push(argv, "--label");
                strv_consume(argv, xasprintf("io.containers.autoupdate=%s", au));
        }
        r = add_expose(src, argv, err);
        if (r >= 0)
                r = pea_quadlet_add_ports(src, G, argv, err);
        if (r >= 0)
                r = add_env_labels(src, argv, err);
        if (r < 0)
                return r;
        add_simple(src, argv);
        return pea_quadlet_add_extra_args(src, G, argv, err);
}

/* The [Service] keys of a container: stop commands, delegation, notify. */
static int container_service(const struct pea_quadlet_ctx *ctx, const struct pea_unitfile *src,
                             struct pea_unitfile *svc, char ***argv, struct pea_error **err)
{
        const char *type = pea_unitfile_lookup(svc, "Service", "Type");
        _cleanup_free_ char *stop_post = NULL;
        bool notify = false;
        int r = pea_unitfile_lookup_bool(src, G, "Notify", false, &notify, err);

        if (r < 0)
                return r;
        if (type && !streq(type, "notify") && !streq(type, "oneshot"))
                return pea_error_set(err, EINVAL, "invalid service Type '%s'", type);
        pea_unitfile_add(svc, "Service", "Environment", "PODMAN_SYSTEMD_UNIT=%n");
        r = pea_quadlet_set_killmode(svc, err);
        if (r < 0)
                return r;
        /* if the monitor was killed the container may be left: remove it, -i ignores a
         * missing cidfile; ExecStopPost also runs when ExecStop did not */
        pea_quadlet_add_cmd(svc, "ExecStop", ctx->binary,
                            (char *[]){"rm", "-v", "-f", "-i", "--cidfile=%t/%N.cid", NULL});
        stop_post = xasprintf("-%s", pea_unitfile_lookup(svc, "Service", "ExecStop"));
        pea_unitfile_add(svc, "Service", "ExecStopPost", stop_post);
        pea_unitfile_add(svc, "Service", "Delegate", "yes");
        if (!type || !streq(type, "oneshot")) {
                strv_push(argv, notify ? "--sdnotify=container" : "--sdnotify=conmon");
                strv_push(argv, "-d");
                pea_unitfile_set(svc, "Service", "Type", "notify");
                pea_unitfile_set(svc, "Service", "NotifyAccess", "all");
        }
        if (!pea_unitfile_has_key(src, "Service", "SyslogIdentifier"))
                pea_unitfile_set(svc, "Service", "SyslogIdentifier", "%N");
        return 0;
}

int pea_quadlet_convert_container(const struct pea_quadlet_ctx *ctx, const struct pea_unitfile *src,
                                  struct pea_unitfile **ret, struct pea_error **err)
{
        _cleanup_unitfile_ struct pea_unitfile *svc = NULL;
        _cleanup_strv_ char **argv = NULL, **exec = NULL;
        const char *image = lookup(src, "Image"), *name = lookup(src, "ContainerName");
        int r = pea_unitfile_check_keys(src, G, container_keys, err);

        if (r < 0)
                return r;
        if (!image)
                return pea_error_set(err, EINVAL, "no Image key specified");
        svc = pea_quadlet_service_start(src, G, "X-Container");
        strv_push(&argv, "run");
        strv_consume(&argv, xasprintf("--name=%s", name ? name : "systemd-%N"));
        strv_push(&argv, "--cidfile=%t/%N.cid");
        strv_push(&argv, "--replace");
        strv_push(&argv, "--rm");
        strv_push(&argv, "--cgroups=split");
        r = container_service(ctx, src, svc, &argv, err);
        if (r >= 0)
                r = container_options(ctx, src, svc, &argv, err);
        if (r >= 0)
                r = pea_unitfile_lookup_last_args(src, G, "Exec", &exec, err);
        if (r < 0)
                return r;
        strv_push(&argv, image);
        STRV_FOREACH(e, exec)
                strv_push(&argv, *e);
        pea_quadlet_add_cmd(svc, "ExecStart", ctx->binary, argv);
        *ret = TAKE_PTR(svc);
        return 0;
}
