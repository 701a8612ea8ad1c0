/* SPDX-License-Identifier: Apache-2.0 */
/* Quadlet: shared helpers and the .volume, .network, .kube and .pod converters. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "base.h"
#include "quadlet.h"

static const char *const extensions[_PEA_QUADLET_KIND_MAX] = {
        [PEA_QUADLET_CONTAINER] = ".container",
        [PEA_QUADLET_VOLUME] = ".volume",
        [PEA_QUADLET_NETWORK] = ".network",
        [PEA_QUADLET_KUBE] = ".kube",
        [PEA_QUADLET_POD] = ".pod",
};

/* The suffix of the service name: foo.volume -> foo-volume.service. */
static const char *const service_suffixes[_PEA_QUADLET_KIND_MAX] = {
        [PEA_QUADLET_CONTAINER] = "",       [PEA_QUADLET_VOLUME] = "-volume",
        [PEA_QUADLET_NETWORK] = "-network", [PEA_QUADLET_KUBE] = "",
        [PEA_QUADLET_POD] = "-pod",
};

int pea_quadlet_kind_from_filename(const char *filename)
{
        for (int k = 0; k < _PEA_QUADLET_KIND_MAX; k++)
                if (endswith(filename, extensions[k]) && strlen(filename) > strlen(extensions[k]))
                        return k;
        return -EINVAL;
}

static char *base_name(const char *filename)
{
        const char *dot = strrchr(filename, '.');

        return dot ? xstrndup(filename, (size_t)(dot - filename)) : xstrdup(filename);
}

char *pea_quadlet_service_name(const char *filename)
{
        _cleanup_free_ char *base = base_name(filename);
        int k = pea_quadlet_kind_from_filename(filename);

        return xasprintf("%s%s.service", base, k < 0 ? "" : service_suffixes[k]);
}

static const struct pea_unitfile *find_unit(const struct pea_quadlet_ctx *ctx, const char *name)
{
        for (size_t i = 0; i < ctx->n_units; i++)
                if (streq(ctx->units[i]->filename, name))
                        return ctx->units[i];
        return NULL;
}

char *pea_quadlet_resource_name(const struct pea_quadlet_ctx *ctx, const char *filename)
{
        static const struct {
                int kind;
                const char *group, *key;
        } keys[] = {
                {PEA_QUADLET_VOLUME, "Volume", "VolumeName"},
                {PEA_QUADLET_NETWORK, "Network", "NetworkName"},
                {PEA_QUADLET_POD, "Pod", "PodName"},
        };
        const struct pea_unitfile *u = find_unit(ctx, filename);
        int k = pea_quadlet_kind_from_filename(filename);
        _cleanup_free_ char *base = base_name(filename);

        for (size_t i = 0; u && i < ELEMENTSOF(keys); i++) {
                const char *v = NULL;

                if (keys[i].kind != k)
                        continue;
                v = pea_unitfile_lookup(u, keys[i].group, keys[i].key);
                if (v && *v)
                        return xstrdup(v);
        }
        return xasprintf("systemd-%s", base);
}

struct pea_unitfile *pea_quadlet_service_start(const struct pea_unitfile *src,
                                               const char *from_group, const char *to_group)
{
        _cleanup_free_ char *name = pea_quadlet_service_name(src->filename);
        struct pea_unitfile *svc = pea_unitfile_dup(src, name);

        pea_unitfile_rename_group(svc, from_group, to_group);
        if (src->path)
                pea_unitfile_add(svc, "Unit", "SourcePath", src->path);
        /* the container storage must be mounted before pea runs */
        pea_unitfile_add(svc, "Unit", "RequiresMountsFor", "%t/containers");
        return svc;
}

/* podman's isPortRange: N, N-M, optionally /tcp, /udp or /sctp. */
static bool is_port_range(const char *s)
{
        size_t n = strspn(s, "0123456789");

        if (n == 0)
                return false;
        s += n;
        if (*s == '-') {
                n = strspn(++s, "0123456789");
                if (n == 0)
                        return false;
                s += n;
        }
        return *s == '\0' || streq(s, "/tcp") || streq(s, "/udp") || streq(s, "/sctp");
}

/* Splits a port spec at ':' outside of [...] (IPv6 addresses). */
static char **split_ports(const char *s)
{
        char **parts = NULL;
        const char *start = s;
        int depth = 0;

        for (const char *p = s;; p++) {
                if (*p == '[')
                        depth++;
                else if (*p == ']' && depth > 0)
                        depth--;
                if (*p == '\0' || (*p == ':' && depth == 0)) {
                        strv_consume(&parts, xstrndup(start, (size_t)(p - start)));
                        if (*p == '\0')
                                break;
                        start = p + 1;
                }
        }
        return parts;
}

static int port_arg(const char *spec, char **ret, struct pea_error **err)
{
        _cleanup_free_ char *copy = strstrip(xstrdup(spec));
        _cleanup_strv_ char **parts = split_ports(copy);
        size_t n = strv_length(parts);
        const char *ip = n == 3 ? parts[0] : "";
        const char *host = n >= 2 ? parts[n - 2] : "", *ctr = parts[n - 1];

        if (n > 3)
                return pea_error_set(err, EINVAL, "invalid published port '%s'", spec);
        if (streq(ip, "0.0.0.0"))
                ip = "";
        if ((*host && !is_port_range(host)) || !is_port_range(ctr))
                return pea_error_set(err, EINVAL, "invalid port format '%s'", spec);
        if (*ip && *host)
                *ret = xasprintf("-p=%s:%s:%s", ip, host, ctr);
        else if (*ip)
                *ret = xasprintf("-p=%s::%s", ip, ctr);
        else if (*host)
                *ret = xasprintf("-p=%s:%s", host, ctr);
        else
                *ret = xasprintf("-p=%s", ctr);
        return 0;
}

int pea_quadlet_add_ports(const struct pea_unitfile *src, const char *group, char ***argv,
                          struct pea_error **err)
{
        _cleanup_strv_ char **ports = pea_unitfile_lookup_all(src, group, "PublishPort");

        STRV_FOREACH(p, ports) {
                char *arg = NULL;
                int r = port_arg(*p, &arg, err);

                if (r < 0)
                        return r;
                strv_consume(argv, arg);
        }
        return 0;
}

void pea_quadlet_add_networks(const struct pea_quadlet_ctx *ctx, const struct pea_unitfile *src,
                              const char *group, struct pea_unitfile *svc, char ***argv)
{
        _cleanup_strv_ char **nets = pea_unitfile_lookup_all(src, group, "Network");

        STRV_FOREACH(n, nets) {
                _cleanup_free_ char *name = xstrdup(*n);
                char *opts = strchr(name, ':');

                if (opts)
                        *opts++ = '\0';
                if (endswith(name, ".network")) {
                        _cleanup_free_ char *svc_name = pea_quadlet_service_name(name);
                        _cleanup_free_ char *res = pea_quadlet_resource_name(ctx, name);

                        pea_unitfile_add(svc, "Unit", "Requires", svc_name);
                        pea_unitfile_add(svc, "Unit", "After", svc_name);
                        strv_consume(argv, opts ? xasprintf("--network=%s:%s", res, opts)
                                                : xasprintf("--network=%s", res));
                } else {
                        strv_consume(argv, xasprintf("--network=%s", *n));
                }
        }
}

int pea_quadlet_add_extra_args(const struct pea_unitfile *src, const char *group, char ***argv,
                               struct pea_error **err)
{
        static const char *const keys[] = {"PodmanArgs", "PeaArgs"};

        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                _cleanup_strv_ char **words = NULL;
                int r = pea_unitfile_lookup_all_args(src, group, keys[i], &words, err);

                if (r < 0)
                        return r;
                STRV_FOREACH(w, words)
                        strv_push(argv, *w);
        }
        return 0;
}

void pea_quadlet_add_pairs(char ***argv, const char *flag, char *const *pairs)
{
        for (char *const *p = pairs; p && *p; p++) {
                strv_push(argv, flag);
                strv_push(argv, *p);
        }
}

static void set_oneshot(struct pea_unitfile *svc)
{
        pea_unitfile_set(svc, "Service", "Type", "oneshot");
        pea_unitfile_set(svc, "Service", "RemainAfterExit", "yes");
        /* the default identifier would be the binary's name, not useful here */
        pea_unitfile_set(svc, "Service", "SyslogIdentifier", "%N");
}

static const char *const volume_keys[] = {
        "VolumeName", "Label", "Driver", "Options",    "Type",    "Device",
        "Copy",       "User",  "Group",  "PodmanArgs", "PeaArgs", NULL,
};

/* Collects the --opt arguments of a volume; Type and Options need Device. */
static int volume_opts(const struct pea_unitfile *src, char ***argv, struct pea_error **err)
{
        const char *dev = pea_unitfile_lookup(src, "Volume", "Device");
        const char *type = pea_unitfile_lookup(src, "Volume", "Type");
        const char *mopts = pea_unitfile_lookup(src, "Volume", "Options");
        const char *uid = pea_unitfile_lookup(src, "Volume", "User");
        const char *gid = pea_unitfile_lookup(src, "Volume", "Group");
        _cleanup_strv_ char **o = NULL, **mount = NULL;
        bool copy = true;
        int r = pea_unitfile_lookup_bool(src, "Volume", "Copy", true, &copy, err);

        if (r < 0)
                return r;
        if (pea_unitfile_has_key(src, "Volume", "Copy"))
                strv_push(&o, copy ? "copy" : "nocopy");
        if ((type && *type) || (mopts && *mopts)) {
                if (!dev || !*dev)
                        return pea_error_set(err, EINVAL, "key '%s' can't be used without Device",
                                             type && *type ? "Type" : "Options");
        }
        if (dev && *dev)
                strv_consume(&o, xasprintf("device=%s", dev));
        if (type && *type)
                strv_consume(&o, xasprintf("type=%s", type));
        if (uid && *uid)
                strv_consume(&mount, xasprintf("uid=%s", uid));
        if (gid && *gid)
                strv_consume(&mount, xasprintf("gid=%s", gid));
        if (mopts && *mopts)
                strv_push(&mount, mopts);
        if (mount) {
                _cleanup_free_ char *joined = strv_join(mount, ",");

                strv_consume(&o, xasprintf("o=%s", joined));
        }
        pea_quadlet_add_pairs(argv, "--opt", o);
        return 0;
}

int pea_quadlet_convert_volume(const struct pea_quadlet_ctx *ctx, const struct pea_unitfile *src,
                               struct pea_unitfile **ret, struct pea_error **err)
{
        _cleanup_unitfile_ struct pea_unitfile *svc = NULL;
        _cleanup_free_ char *name = pea_quadlet_resource_name(ctx, src->filename);
        _cleanup_strv_ char **argv = NULL, **labels = NULL;
        const char *driver = pea_unitfile_lookup(src, "Volume", "Driver");
        int r = pea_unitfile_check_keys(src, "Volume", volume_keys, err);

        if (r < 0)
                return r;
        svc = pea_quadlet_service_start(src, "Volume", "X-Volume");
        argv = strv_split("volume create --ignore", " ");
        if (driver && *driver)
                strv_consume(&argv, xasprintf("--driver=%s", driver));
        r = volume_opts(src, &argv, err);
        if (r >= 0)
                r = pea_unitfile_lookup_all_keyval(src, "Volume", "Label", &labels, err);
        if (r >= 0)
                r = pea_quadlet_add_extra_args(src, "Volume", &argv, err);
        if (r < 0)
                return r;
        pea_quadlet_add_pairs(&argv, "--label", labels);
        strv_push(&argv, name);
        pea_quadlet_add_cmd(svc, "ExecStart", ctx->binary, argv);
        set_oneshot(svc);
        *ret = TAKE_PTR(svc);
        return 0;
}

static const char *const network_keys[] = {
        "NetworkName", "Driver", "Subnet",  "Gateway",    "IPRange",    "Internal", "IPv6",
        "DisableDNS",  "Label",  "Options", "IPAMDriver", "PodmanArgs", "PeaArgs",  NULL,
};

static int network_subnets(const struct pea_unitfile *src, char ***argv, struct pea_error **err)
{
        _cleanup_strv_ char **subnets = pea_unitfile_lookup_all(src, "Network", "Subnet");
        _cleanup_strv_ char **gws = pea_unitfile_lookup_all(src, "Network", "Gateway");
        _cleanup_strv_ char **ranges = pea_unitfile_lookup_all(src, "Network", "IPRange");
        size_t ns = strv_length(subnets), ng = strv_length(gws), nr = strv_length(ranges);

        if (ns == 0 && (ng > 0 || nr > 0))
                return pea_error_set(err, EINVAL, "cannot set Gateway or IPRange without Subnet");
        if (ng > ns || nr > ns)
                return pea_error_set(err, EINVAL, "cannot set more %s than Subnet values",
                                     ng > ns ? "Gateway" : "IPRange");
        for (size_t i = 0; i < ns; i++) {
                strv_consume(argv, xasprintf("--subnet=%s", subnets[i]));
                if (i < ng)
                        strv_consume(argv, xasprintf("--gateway=%s", gws[i]));
                if (i < nr)
                        strv_consume(argv, xasprintf("--ip-range=%s", ranges[i]));
        }
        return 0;
}

/* The boolean flags of a network: Internal -> --internal and so on. */
static int network_flags(const struct pea_unitfile *src, char ***argv, struct pea_error **err)
{
        static const char *const keys[][2] = {
                {"DisableDNS", "--disable-dns"},
                {"Internal", "--internal"},
                {"IPv6", "--ipv6"},
        };

        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                bool b = false;
                int r = pea_unitfile_lookup_bool(src, "Network", keys[i][0], false, &b, err);

                if (r < 0)
                        return r;
                if (b)
                        strv_push(argv, keys[i][1]);
        }
        return 0;
}

static int network_args(const struct pea_unitfile *src, char ***argv, struct pea_error **err)
{
        const char *driver = pea_unitfile_lookup(src, "Network", "Driver");
        const char *ipam = pea_unitfile_lookup(src, "Network", "IPAMDriver");
        _cleanup_strv_ char **labels = NULL, **opts = NULL;
        int r = 0;

        if (driver && *driver)
                strv_consume(argv, xasprintf("--driver=%s", driver));
        if (ipam && *ipam)
                strv_consume(argv, xasprintf("--ipam-driver=%s", ipam));
        r = network_subnets(src, argv, err);
        if (r >= 0)
                r = network_flags(src, argv, err);
        if (r >= 0)
                r = pea_unitfile_lookup_all_keyval(src, "Network", "Options", &opts, err);
        if (r >= 0)
                r = pea_unitfile_lookup_all_keyval(src, "Network", "Label", &labels, err);
        if (r < 0)
                return r;
        pea_quadlet_add_pairs(argv, "--opt", opts);
        pea_quadlet_add_pairs(argv, "--label", labels);
        return pea_quadlet_add_extra_args(src, "Network", argv, err);
}

int pea_quadlet_convert_network(const struct pea_quadlet_ctx *ctx, const struct pea_unitfile *src,
                                struct pea_unitfile **ret, struct pea_error **err)
{
        _cleanup_unitfile_ struct pea_unitfile *svc = NULL;
        _cleanup_free_ char *name = pea_quadlet_resource_name(ctx, src->filename);
        _cleanup_strv_ char **argv = NULL;
        int r = pea_unitfile_check_keys(src, "Network", network_keys, err);

        if (r < 0)
                return r;
        svc = pea_quadlet_service_start(src, "Network", "X-Network");
        argv = strv_split("network create --ignore", " ");
        r = network_args(src, &argv, err);
        if (r < 0)
                return r;
        strv_push(&argv, name);
        pea_quadlet_add_cmd(svc, "ExecStart", ctx->binary, argv);
        set_oneshot(svc);
        *ret = TAKE_PTR(svc);
        return 0;
}

int pea_quadlet_set_killmode(struct pea_unitfile *svc, struct pea_error **err)
{
        const char *km = pea_unitfile_lookup(svc, "Service", "KillMode");

        if (!km)
                /* mixed rather than control-group: the monitor cleans up itself */
                pea_unitfile_set(svc, "Service", "KillMode", "mixed");
        else if (!streq(km, "mixed") && !streq(km, "control-group"))
                return pea_error_set(err, EINVAL, "invalid KillMode '%s'", km);
        return 0;
}

static const char *const kube_keys[] = {
        "Yaml",      "PublishPort", "Network",    "UserNS",  "ConfigMap",
        "LogDriver", "AutoUpdate",  "PodmanArgs", "PeaArgs", NULL,
};

/* A path relative to the directory of the source unit. */
static char *unit_relative_path(const struct pea_unitfile *src, const char *p)
{
        const char *slash = src->path ? strrchr(src->path, '/') : NULL;

        if (p[0] == '/' || !slash)
                return xstrdup(p);
        return xasprintf("%.*s/%s", (int)(slash - src->path), src->path, p);
}

static int kube_args(const struct pea_quadlet_ctx *ctx, const struct pea_unitfile *src,
                     struct pea_unitfile *svc, char ***argv, struct pea_error **err)
{
        const char *userns = pea_unitfile_lookup(src, "Kube", "UserNS");
        const char *logdrv = pea_unitfile_lookup(src, "Kube", "LogDriver");
        _cleanup_strv_ char **cms = pea_unitfile_lookup_all(src, "Kube", "ConfigMap");
        int r = 0;

        if (userns && *userns)
                strv_consume(argv, xasprintf("--userns=%s", userns));
        pea_quadlet_add_networks(ctx, src, "Kube", svc, argv);
        STRV_FOREACH(c, cms) {
                _cleanup_free_ char *p = unit_relative_path(src, *c);

                strv_consume(argv, xasprintf("--configmap=%s", p));
        }
        if (logdrv && *logdrv)
                strv_consume(argv, xasprintf("--log-driver=%s", logdrv));
        r = pea_quadlet_add_ports(src, "Kube", argv, err);
        if (r < 0)
                return r;
        return pea_quadlet_add_extra_args(src, "Kube", argv, err);
}

int pea_quadlet_convert_kube(const struct pea_quadlet_ctx *ctx, const struct pea_unitfile *src,
                             struct pea_unitfile **ret, struct pea_error **err)
{
        _cleanup_unitfile_ struct pea_unitfile *svc = NULL;
        _cleanup_strv_ char **argv = NULL;
        _cleanup_free_ char *yaml = NULL;
        const char *y = pea_unitfile_lookup(src, "Kube", "Yaml");
        int r = pea_unitfile_check_keys(src, "Kube", kube_keys, err);

        if (r < 0)
                return r;
        if (!y || !*y)
                return pea_error_set(err, EINVAL, "no Yaml key specified");
        yaml = unit_relative_path(src, y);
        svc = pea_quadlet_service_start(src, "Kube", "X-Kube");
        r = pea_quadlet_set_killmode(svc, err);
        if (r < 0)
                return r;
        pea_unitfile_add(svc, "Service", "Environment", "PODMAN_SYSTEMD_UNIT=%n");
        pea_unitfile_set(svc, "Service", "Type", "notify");
        pea_unitfile_set(svc, "Service", "NotifyAccess", "all");
        if (!pea_unitfile_has_key(src, "Service", "SyslogIdentifier"))
                pea_unitfile_set(svc, "Service", "SyslogIdentifier", "%N");
        argv = strv_split("kube play --replace --service-container=true", " ");
        r = kube_args(ctx, src, svc, &argv, err);
        if (r < 0)
                return r;
        strv_push(&argv, yaml);
        pea_quadlet_add_cmd(svc, "ExecStart", ctx->binary, argv);
        argv = strv_free(argv);
        argv = strv_split("kube down", " ");
        strv_push(&argv, yaml);
        pea_quadlet_add_cmd(svc, "ExecStop", ctx->binary, argv);
        *ret = TAKE_PTR(svc);
        return 0;
}

static const char *const pod_keys[] = {
        "PodName", "PublishPort", "Network", "PodmanArgs", "PeaArgs", NULL,
};

/* Wants/Before on every container unit that names this pod. */
static void pod_members(const struct pea_quadlet_ctx *ctx, const struct pea_unitfile *src,
                        struct pea_unitfile *svc)
{
        for (size_t i = 0; i < ctx->n_units; i++) {
                const struct pea_unitfile *u = ctx->units[i];
                const char *pod = NULL;
                _cleanup_free_ char *name = NULL;

                if (pea_quadlet_kind_from_filename(u->filename) != PEA_QUADLET_CONTAINER)
                        continue;
                pod = pea_unitfile_lookup(u, "Container", "Pod");
                if (!pod || !streq(pod, src->filename))
                        continue;
                name = pea_quadlet_service_name(u->filename);
                pea_unitfile_add(svc, "Unit", "Wants", name);
                pea_unitfile_add(svc, "Unit", "Before", name);
        }
}

static int pod_create_args(const struct pea_quadlet_ctx *ctx, const struct pea_unitfile *src,
                           struct pea_unitfile *svc, char ***argv, struct pea_error **err)
{
        _cleanup_free_ char *name = pea_quadlet_resource_name(ctx, src->filename);
        int r = 0;

        pea_quadlet_add_networks(ctx, src, "Pod", svc, argv);
        r = pea_quadlet_add_ports(src, "Pod", argv, err);
        if (r < 0)
                return r;
        strv_consume(argv, xasprintf("--name=%s", name));
        return pea_quadlet_add_extra_args(src, "Pod", argv, err);
}

int pea_quadlet_convert_pod(const struct pea_quadlet_ctx *ctx, const struct pea_unitfile *src,
                            struct pea_unitfile **ret, struct pea_error **err)
{
        _cleanup_unitfile_ struct pea_unitfile *svc = NULL;
        _cleanup_strv_ char **create = NULL;
        int r = pea_unitfile_check_keys(src, "Pod", pod_keys, err);

        if (r < 0)
                return r;
        svc = pea_quadlet_service_start(src, "Pod", "X-Pod");
        pod_members(ctx, src, svc);
        if (!pea_unitfile_has_key(src, "Service", "SyslogIdentifier"))
                pea_unitfile_set(svc, "Service", "SyslogIdentifier", "%N");
        create = strv_split("pod create --infra-conmon-pidfile=%t/%N.pid "
                            "--pod-id-file=%t/%N.pod-id --exit-policy=stop --replace",
                            " ");
        r = pod_create_args(ctx, src, svc, &create, err);
        if (r < 0)
                return r;
        pea_quadlet_add_cmd(svc, "ExecStart", ctx->binary,
                            (char *[]){"pod", "start", "--pod-id-file=%t/%N.pod-id", NULL});
        pea_quadlet_add_cmd(svc, "ExecStop", ctx->binary,
                            (char *[]){"pod", "stop", "--pod-id-file=%t/%N.pod-id", "--ignore",
                                       "--time=10", NULL});
        pea_quadlet_add_cmd(
                svc, "ExecStopPost", ctx->binary,
                (char *[]){"pod", "rm", "--pod-id-file=%t/%N.pod-id", "--ignore", "--force", NULL});
        pea_quadlet_add_cmd(svc, "ExecStartPre", ctx->binary, create);
        pea_unitfile_add(svc, "Service", "Environment", "PODMAN_SYSTEMD_UNIT=%n");
        pea_unitfile_set(svc, "Service", "Type", "forking");
        pea_unitfile_set(svc, "Service", "Restart", "on-failure");
        pea_unitfile_set(svc, "Service", "PIDFile", "%t/%N.pid");
        *ret = TAKE_PTR(svc);
        return 0;
}

void pea_quadlet_add_cmd(struct pea_unitfile *svc, const char *key, const char *binary,
                         char *const *args)
{
        _cleanup_strv_ char **argv = NULL;

        strv_push(&argv, binary);
        for (char *const *a = args; a && *a; a++)
                strv_push(&argv, *a);
        pea_unitfile_add_cmdline(svc, "Service", key, argv);
}

int pea_quadlet_convert(const struct pea_quadlet_ctx *ctx, const struct pea_unitfile *src,
                        struct pea_unitfile **ret, struct pea_error **err)
{
        switch (pea_quadlet_kind_from_filename(src->filename)) {
        case PEA_QUADLET_CONTAINER:
                return pea_quadlet_convert_container(ctx, src, ret, err);
        case PEA_QUADLET_VOLUME:
                return pea_quadlet_convert_volume(ctx, src, ret, err);
        case PEA_QUADLET_NETWORK:
                return pea_quadlet_convert_network(ctx, src, ret, err);
        case PEA_QUADLET_KUBE:
                return pea_quadlet_convert_kube(ctx, src, ret, err);
        case PEA_QUADLET_POD:
                return pea_quadlet_convert_pod(ctx, src, ret, err);
        default:
                return pea_error_set(err, EINVAL, "unsupported file type '%s'", src->filename);
        }
}
