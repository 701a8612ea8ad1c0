/* SPDX-License-Identifier: Apache-2.0 */
/* pods/: --share, the pod's status, inspect's object, members' namespace paths. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base.h"
#include "pods/pods.h"
#include "state/state.h"
#include "units.h"

static const struct {
        const char *name;
        unsigned bit;
} kinds[] = {
        {"cgroup", PEA_POD_SHARE_CGROUP}, {"ipc", PEA_POD_SHARE_IPC}, {"net", PEA_POD_SHARE_NET},
        {"pid", PEA_POD_SHARE_PID},       {"uts", PEA_POD_SHARE_UTS},
};

static unsigned kind_bit(const char *name)
{
        for (size_t i = 0; i < ELEMENTSOF(kinds); i++)
                if (streq(kinds[i].name, name))
                        return kinds[i].bit;
        return 0;
}

int pea_pod_share_parse(const char *arg, unsigned *ret, struct pea_error **err)
{
        const char *list = arg ? arg : "";
        unsigned mask = 0;
        if (list[0] == '+') {
                mask = PEA_POD_SHARE_DEFAULT;
                list++;
        }
        _cleanup_strv_ char **parts = strv_split(list, ",");
        STRV_FOREACH(p, parts) {
                if (streq(*p, "none") || !**p)
                        continue;
                unsigned bit = kind_bit(*p);
                if (!bit)
                        return pea_error_set(err, EINVAL,
                                             "invalid kernel namespace to share: %s. Options "
                                             "are: cgroup, ipc, net, pid, uts or none",
                                             *p);
                mask |= bit;
        }
        *ret = mask;
        return 0;
}

json_t *pea_pod_share_to_json(unsigned mask)
{
        json_t *a = json_array();
        for (size_t i = 0; i < ELEMENTSOF(kinds); i++)
                if (mask & kinds[i].bit)
                        json_array_append_new(a, json_string(kinds[i].name));
        return a;
}

unsigned pea_pod_share_from_json(json_t *a)
{
        unsigned mask = 0;
        size_t i;
        json_t *v;
        json_array_foreach(a, i, v) {
                const char *s = json_string_value(v);
                mask |= s ? kind_bit(s) : 0;
        }
        return mask;
}

const char *pea_pod_status(const char *const *states, size_t n)
{
        size_t running = 0, paused = 0, exited = 0, errored = 0;
        if (n == 0)
                return "Created";
        for (size_t i = 0; i < n; i++) {
                const char *s = states[i] ? states[i] : "";
                if (streq(s, "running"))
                        running++;
                else if (streq(s, "paused"))
                        paused++;
                else if (streq(s, "exited") || streq(s, "stopped"))
                        exited++;
                else if (!streq(s, "created") && !streq(s, "configured"))
                        errored++;
        }
        if (running > 0 && running < n)
                return "Degraded";
        if (running == n)
                return "Running";
        if (paused == n)
                return "Paused";
        if (exited == n)
                return "Exited";
        if (errored > 0)
                return "Error";
        return "Created";
}

const char *pea_pod_status_of(const struct pea_container_row *ctrs, size_t n)
{
        _cleanup_free_ const char **states = xcalloc(n + 1, sizeof(*states));
        for (size_t i = 0; i < n; i++)
                states[i] = ctrs[i].state;
        return pea_pod_status(states, n);
}

/* "/proc/N/ns/KIND" -> "/proc/pid/ns/KIND"; NULL when path is not of that form. */
static char *proc_ns_path(const char *path, int pid)
{
        const char *rest = path ? startswith(path, "/proc/") : NULL;
        if (!rest || !strchr("0123456789", rest[0]))
                return NULL;
        const char *ns = rest + strspn(rest, "0123456789");
        if (!startswith(ns, "/ns/"))
                return NULL;
        return xasprintf("/proc/%d%s", pid, ns);
}

int pea_pod_refresh_namespaces(const char *config_path, int pid, struct pea_error **err)
{
        json_error_t je;
        _cleanup_json_ json_t *spec = json_load_file(config_path, 0, &je);
        if (!spec)
                return pea_error_set(err, EBADMSG, "reading '%s': %s", config_path, je.text);
        json_t *nss = pea_json_path(spec, "linux.namespaces");
        bool changed = false;
        size_t i;
        json_t *ns;
        json_array_foreach(nss, i, ns) {
                const char *path = json_string_value(json_object_get(ns, "path"));
                _cleanup_free_ char *p = proc_ns_path(path, pid);
                if (!p || streq(p, path))
                        continue;
                json_object_set_new(ns, "path", json_string(p));
                changed = true;
        }
        if (!changed)
                return 0;
        _cleanup_free_ char *text = pea_json_dumps(spec, 2);
        int r = pea_write_file_atomic_at(AT_FDCWD, config_path, text, strlen(text), 0600, err);
        return r < 0 ? r : 1;
}

bool pea_pod_row_is_infra(const struct pea_container_row *row)
{
        return row && row->pod_id && json_is_true(json_object_get(row->config, "pod_infra"));
}

static json_t *time_json(int64_t ns)
{
        _cleanup_free_ char *s = pea_time_rfc3339(ns);
        return json_string(s);
}

static json_t *or_null(json_t *v)
{
        return v ? json_incref(v) : json_null();
}

static json_t *infra_config(json_t *cfg, const struct pea_container_row *infra)
{
        json_t *net = infra ? json_object_get(infra->config, "network") : NULL;
        json_t *ports = json_object_get(net, "ports");
        const char *mode = json_string_value(json_object_get(cfg, "network"));
        return json_pack("{s:o, s:b, s:s, s:s, s:b, s:o, s:o, s:o, s:b, s:o, s:o, s:s, s:s, s:s}",
                         "PortBindings", ports ? json_incref(ports) : json_object(), "HostNetwork",
                         mode && streq(mode, "host"), "StaticIP", "", "StaticMAC", "",
                         "NoManageResolvConf", false, "DNSServer",
                         or_null(json_object_get(cfg, "dns")), "DNSSearch",
                         or_null(json_object_get(cfg, "dns_search")), "DNSOption",
                         or_null(json_object_get(cfg, "dns_options")), "NoManageHosts", false,
                         "HostAdd", or_null(json_object_get(cfg, "add_hosts")), "Networks",
                         json_pack("[s]", mode ? mode : "slirp4netns"), "pid_ns",
                         pea_pod_share_from_json(json_object_get(cfg, "share")) & PEA_POD_SHARE_PID
                                 ? "pod"
                                 : "private",
                         "userns", "host", "uts_ns", "private");
}

static json_t *members_json(const struct pea_container_row *ctrs, size_t n,
                            const struct pea_container_row **ret_infra)
{
        json_t *a = json_array();
        *ret_infra = NULL;
        for (size_t i = 0; i < n; i++) {
                if (pea_pod_row_is_infra(&ctrs[i]))
                        *ret_infra = &ctrs[i];
                json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "Id", ctrs[i].id, "Name",
                                                   ctrs[i].name, "State", ctrs[i].state));
        }
        return a;
}

json_t *pea_pod_inspect_json(const struct pea_pod_row *pod, const struct pea_container_row *ctrs,
                             size_t n)
{
        json_t *cfg = pod->config;
        const struct pea_container_row *infra = NULL;
        json_t *members = members_json(ctrs, n, &infra);
        json_t *labels = json_object_get(cfg, "labels");
        json_t *cmd = json_object_get(cfg, "create_command");
        const char *hostname = json_string_value(json_object_get(cfg, "hostname"));
        json_t *j = json_pack("{s:s, s:s, s:o, s:o, s:s, s:s, s:s, s:o, s:b, s:s, s:b, s:s}", "Id",
                              pod->id, "Name", pod->name, "Created", time_json(pod->created),
                              "CreateCommand", cmd ? json_incref(cmd) : json_array(), "ExitPolicy",
                              "continue", "State", pea_pod_status_of(ctrs, n), "Hostname",
                              hostname ? hostname : "", "Labels",
                              labels ? json_incref(labels) : json_object(), "CreateCgroup", false,
                              "CgroupParent", "", "CreateInfra", pod->infra_id != NULL,
                              "InfraContainerID", pod->infra_id ? pod->infra_id : "");
        if (pod->infra_id)
                json_object_set_new(j, "InfraConfig", infra_config(cfg, infra));
        json_object_set_new(
                j, "SharedNamespaces",
                pea_pod_share_to_json(pea_pod_share_from_json(json_object_get(cfg, "share"))));
        json_object_set_new(j, "NumContainers", json_integer((json_int_t)n));
        json_object_set_new(j, "Containers", members);
        return j;
}
