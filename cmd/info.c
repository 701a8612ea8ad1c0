/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <linux/magic.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>

#include "cmd.h"
#include "rootless/rootless.h"
#include "state/state.h"

#define DEFAULT_CAPS                                                                      \
        "CAP_CHOWN,CAP_DAC_OVERRIDE,CAP_FOWNER,CAP_FSETID,CAP_KILL,CAP_NET_BIND_SERVICE," \
        "CAP_SETFCAP,CAP_SETGID,CAP_SETPCAP,CAP_SETUID,CAP_SYS_CHROOT"

static const char *cgroup_version(void)
{
        struct statfs fs;
        if (statfs("/sys/fs/cgroup", &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC)
                return "v2";
        return "v1";
}

/* subuid and subgid lines both name the user (or uid); container id 0 is mapped_id. */
static json_t *idmap_json(const struct pea_config *c, const char *path, uid_t mapped_id)
{
        _cleanup_free_ struct pea_idmap *m = NULL;
        _cleanup_error_ struct pea_error *e = NULL;
        size_t n = 0;
        if (!c->rootless || pea_rootless_idmap(path, c->user, c->uid, &m, &n, &e) < 0)
                return json_null();
        m[0].host_id = mapped_id;
        json_t *a = json_array();
        for (size_t i = 0; i < n; i++)
                json_array_append_new(a, json_pack("{s:I, s:I, s:I}", "container_id",
                                                   (json_int_t)m[i].container_id, "host_id",
                                                   (json_int_t)m[i].host_id, "size",
                                                   (json_int_t)m[i].size));
        return a;
}

/* One KEY=value of /etc/os-release, unquoted. */
static char *os_release(const char *text, const char *key)
{
        _cleanup_strv_ char **lines = strv_split(text, "\n");
        STRV_FOREACH(l, lines) {
                const char *v = startswith(*l, key);
                if (!v || *v != '=')
                        continue;
                v++;
                size_t n = strlen(v);
                if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0])
                        return xstrndup(v + 1, n - 2);
                return xstrdup(v);
        }
        return xstrdup("");
}

static json_t *distribution_json(void)
{
        _cleanup_free_ char *text = NULL;
        _cleanup_error_ struct pea_error *e = NULL;
        if (pea_read_file_at(AT_FDCWD, "/etc/os-release", 1 << 16, &text, NULL, &e) < 0)
                text = xstrdup("");
        _cleanup_free_ char *id = os_release(text, "ID");
        _cleanup_free_ char *ver = os_release(text, "VERSION_ID");
        _cleanup_free_ char *code = os_release(text, "VERSION_CODENAME");
        return json_pack("{s:s, s:s, s:s}", "distribution", id, "version", ver, "codename", code);
}

static json_t *helper_json(const char *name, const char *key)
{
        _cleanup_free_ char *p = pea_find_executable(name);
        return json_pack("{s:s, s:s}", key, p ? p : "", "package", "");
}

static char *uptime_string(long secs)
{
        return xasprintf("%ldh %ldm %ld.00s", secs / 3600, (secs / 60) % 60, secs % 60);
}

static json_t *host_json(const struct pea_config *c)
{
        struct utsname u = {0};
        struct sysinfo si = {0};
        (void)uname(&u);
        (void)sysinfo(&si);
        _cleanup_free_ char *self = pea_find_helper("pea");
        _cleanup_free_ char *up = uptime_string(si.uptime);
        const char *netb = c->rootless ? "slirp4netns" : "bridge";
        json_t *idm = json_pack("{s:o, s:o}", "gidmap", idmap_json(c, "/etc/subgid", c->gid),
                                "uidmap", idmap_json(c, "/etc/subuid", c->uid));
        json_t *sec =
                json_pack("{s:b, s:s, s:b, s:b, s:s, s:b}", "apparmorEnabled", 0, "capabilities",
                          DEFAULT_CAPS, "rootless", c->rootless, "seccompEnabled", HAVE_SECCOMP,
                          "seccompProfilePath", "", "selinuxEnabled", 0);
        json_t *rt = json_pack("{s:s, s:s, s:s, s:s}", "name", "pea", "package", "", "path",
                               self ? self : "", "version", "pea version " PEA_VERSION);
        return json_pack(
                "{s:s, s:s, s:s, s:[], s:i, s:o, s:s, s:s, s:o, s:s, s:s, s:I, s:I,"
                " s:s, s:o, s:s, s:b, s:o, s:o, s:I, s:I, s:s, s:s}",
                "arch", pea_host_arch(), "cgroupManager", "cgroupfs", "cgroupVersion",
                cgroup_version(), "cgroupControllers", "cpus", (int)sysconf(_SC_NPROCESSORS_ONLN),
                "distribution", distribution_json(), "eventLogger", "file", "hostname", u.nodename,
                "idMappings", idm, "kernel", u.release, "logDriver",
                pea_config_get(c, "containers.log_driver", "k8s-file"), "memFree",
                (json_int_t)si.freeram * si.mem_unit, "memTotal",
                (json_int_t)si.totalram * si.mem_unit, "networkBackend", netb, "ociRuntime", rt,
                "os", "linux", "serviceIsRemote", 0, "security", sec, "slirp4netns",
                helper_json("slirp4netns", "executable"), "swapFree",
                (json_int_t)si.freeswap * si.mem_unit, "swapTotal",
                (json_int_t)si.totalswap * si.mem_unit, "uptime", up, "linkmode", "dynamic");
}

static json_t *store_json(const struct pea_config *c, json_t *counts)
{
        struct statvfs vfs = {0};
        (void)statvfs(c->graph_root, &vfs);
        _cleanup_free_ char *vol = xasprintf("%s/volumes", c->graph_root);
        const char *drv = c->storage_driver[0] ? c->storage_driver : "overlay";
        return json_pack(
                "{s:s, s:O, s:s, s:{}, s:s, s:I, s:I, s:{}, s:s, s:{s:O}, s:s, s:s}", "configFile",
                c->storage_conf, "containerStore", json_object_get(counts, "containers"),
                "graphDriverName", drv, "graphOptions", "graphRoot", c->graph_root,
                "graphRootAllocated", (json_int_t)(vfs.f_blocks * vfs.f_frsize), "graphRootUsed",
                (json_int_t)((vfs.f_blocks - vfs.f_bfree) * vfs.f_frsize), "graphStatus",
                "imageCopyTmpDir", "/var/tmp", "imageStore", "number",
                json_object_get(counts, "images"), "runRoot", c->run_root, "volumePath", vol);
}

static json_t *version_section(void)
{
        _cleanup_free_ char *osarch = xasprintf("linux/%s", pea_host_arch());
        return json_pack("{s:s, s:s, s:s, s:s, s:i, s:s, s:s}", "APIVersion", PEA_VERSION,
                         "Version", PEA_VERSION, "GitCommit", "", "BuiltTime",
                         __DATE__ " " __TIME__, "Built", 0, "OsArch", osarch, "Os", "linux");
}

static json_t *info_json(struct pea_cli *cli, struct pea_error **err)
{
        _cleanup_json_ json_t *counts = NULL;
        int r = pea_state_counts(cli->state, &counts, err);
        if (r < 0)
                return NULL;
        json_t *plugins =
                json_pack("{s:[s], s:[s,s], s:[s,s], s:n}", "volume", "local", "network",
                          "slirp4netns", "bridge", "log", "k8s-file", "none", "authorization");
        return json_pack("{s:o, s:o, s:{}, s:o, s:o}", "host", host_json(&cli->config), "store",
                         store_json(&cli->config, counts), "registries", "plugins", plugins,
                         "version", version_section());
}

/* Go field names that differ from the JSON keys beyond case, as podman's structs have them. */
static void add_template_aliases(json_t *info)
{
        json_t *host = json_object_get(info, "host");
        json_object_set(host, "CgroupsVersion", json_object_get(host, "cgroupVersion"));
}

static int cmd_info(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        static const struct option longopts[] = {
                {"format", required_argument, NULL, 'f'},
                {"debug", no_argument, NULL, 'D'},
                PEA_HELP_OPTION,
                {},
        };
        const char *format = NULL;
        int c;
        while ((c = getopt_long(argc, argv, ":f:Dh", longopts, NULL)) != -1) {
                switch (c) {
                case 'f':
                        format = optarg;
                        break;
                case 'D':
                        break;
                case 'h':
                        pea_cli_print_help(cli, &pea_cmd_info);
                        return 0;
                default:
                        return pea_cli_opt_error(c, argc, argv, err);
                }
        }
        int r = pea_cli_check_args(cli, argc - optind, 0, 0, err);
        if (r < 0)
                return r;
        _cleanup_json_ json_t *info = info_json(cli, err);
        if (!info)
                return pea_error_code(err);
        if (!format || !*format || streq(format, "json"))
                return pea_json_print(stdout, info, 2) < 0 ? -EIO : 0;
        _cleanup_json_ json_t *data = json_deep_copy(info);
        add_template_aliases(data);
        r = pea_format_print(stdout, format, data, false, NULL, 2, err);
        return r < 0 ? r : 0;
}

const struct pea_cmd pea_cmd_info = {
        .name = "info",
        .fn = cmd_info,
        .flags = PEA_NEEDS_STATE,
        .summary = "Display pea system information",
        .usage = "[options]",
        .options = "  -D, --debug           Display additional debug information\n"
                   "  -f, --format string   Change the output format to JSON or a Go template\n",
};
