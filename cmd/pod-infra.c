/* SPDX-License-Identifier: Apache-2.0 */
/* Pods: the pause image, creating a pod and its infra container, joining one (run --pod). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include <jansson.h>

#include "cmd.h"
#include "container/container.h"
#include "image.h"
#include "image/store.h"
#include "image/transfer.h"
#include "layer/layer.h"
#include "pod.h"
#include "pods/pods.h"
#include "run.h"
#include "state/state.h"

#define PAUSE_IMAGE "localhost/pea-pause:" PEA_VERSION

/* <dir>/pea-pause (copied from the helper) and the empty directories the runtime mounts on. */
static int pause_rootfs(const char *dir, struct pea_error **err)
{
        _cleanup_free_ char *helper = pea_find_helper("pea-pause");
        if (!helper)
                return pea_error_set(err, ENOENT, "pause binary 'pea-pause' not found");
        _cleanup_free_ char *bin = NULL;
        size_t len = 0;
        int r = pea_read_file_at(AT_FDCWD, helper, 64u << 20, &bin, &len, err);
        _cleanup_free_ char *dst = xasprintf("%s/pea-pause", dir);
        if (r >= 0)
                r = pea_write_file_atomic_at(AT_FDCWD, dst, bin, len, 0755, err);
        static const char *const dirs[] = {"etc", "proc", "dev", "sys", "run", "tmp"};
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(dirs); i++) {
                _cleanup_free_ char *d = xasprintf("%s/%s", dir, dirs[i]);
                r = pea_mkdir_p(d, 0755, err);
        }
        return r;
}

/* The rootfs in dir as a one-layer image named PAUSE_IMAGE. */
static int pause_import(struct pea_cli *cli, struct pea_image_store *store, const char *dir,
                        struct pea_error **err)
{
        _cleanup_close_ int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int tfd =
                open(cli->config.graph_root, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (dfd < 0 || tfd < 0)
                return pea_error_syscall(err, errno, "opening '%s'", dir);
        struct pea_container_cp_owner owner = {0, 0};
        int r = pea_container_cp_pack_fd(dfd, "", &owner, tfd, err);
        if (r < 0)
                return r;
        if (lseek(tfd, 0, SEEK_SET) < 0)
                return pea_error_syscall(err, errno, "rewinding the pause image layer");
        struct pea_image_pull_opts po;
        pea_cmd_pull_defaults(cli, &po);
        struct pea_layer_unpack_opts uo = {.whiteout = (enum pea_whiteout_mode)po.whiteout,
                                           .userxattr = po.userxattr,
                                           .rootless_single_id = po.single_id};
        char *changes[] = {(char *)"ENTRYPOINT [\"/pea-pause\"]", NULL};
        struct pea_import_opts io = {.changes = changes,
                                     .message = "pea pause image",
                                     .reference = PAUSE_IMAGE,
                                     .unpack = &uo};
        _cleanup_free_ char *id = NULL;
        return pea_image_import_fd(store, tfd, &io, &id, err);
}

/* The pause image, built from the pea-pause helper when missing (no pull). */
static int ensure_pause_image(struct pea_cli *cli, struct pea_image_store *store,
                              struct pea_error **err)
{
        struct pea_image_record rec = {};
        char *name = NULL;
        int r = pea_image_store_lookup(store, PAUSE_IMAGE, &rec, &name, NULL);
        pea_image_record_done(&rec);
        free(name);
        if (r >= 0)
                return 0;
        _cleanup_free_ char *dir = xasprintf("%s/tmp-pause-XXXXXX", cli->config.graph_root);
        if (!mkdtemp(dir))
                return pea_error_syscall(err, errno, "creating '%s'", dir);
        r = pause_rootfs(dir, err);
        if (r >= 0)
                r = pause_import(cli, store, dir, err);
        (void)pea_rm_rf(dir, NULL);
        if (r < 0)
                return pea_error_wrap(err, "building the pause image");
        return 0;
}

static void infra_run_opts(const struct pea_pod_create_opts *o, const char *pod_id,
                           const char *name, const char *hostname, struct pea_run_opts *ret)
{
        *ret = (struct pea_run_opts){
                .detach = true,
                .tls_verify = -1,
                .read_only_tmpfs = -1,
                .sig_proxy = -1,
                .name = name,
                .hostname = hostname,
                .network = o->network,
                .userns = o->userns,
                .publish = o->publish,
                .dns = o->dns,
                .dns_search = o->dns_search,
                .dns_options = o->dns_options,
                .add_hosts = o->add_hosts,
                .entrypoint = o->infra_command,
                .image = o->infra_image ? o->infra_image : PAUSE_IMAGE,
                .pull = o->infra_image ? "missing" : "never",
                .pod = pod_id,
                .pod_infra = true,
        };
}

/* Creates the infra container of pod (its row added) and records it as the pod's. */
static int create_infra(struct pea_cli *cli, struct pea_run_env *e,
                        const struct pea_pod_create_opts *o, struct pea_pod_row *pod,
                        struct pea_error **err)
{
        int r = o->infra_image ? 0 : ensure_pause_image(cli, e->store, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *name =
                o->infra_name ? xstrdup(o->infra_name) : xasprintf("%.12s-infra", pod->id);
        const char *hostname = json_string_value(json_object_get(pod->config, "hostname"));
        struct pea_run_opts ro;
        infra_run_opts(o, pod->id, name, hostname, &ro);
        _cleanup_free_ char *id = NULL;
        r = pea_cmd_run_create(cli, e, &ro, &id, err);
        if (r < 0)
                return r;
        _cleanup_json_ json_t *set = json_pack("{s:b}", "pod_infra", true);
        r = pea_cmd_lifecycle_store(&e->ctx, id, set, err);
        if (r >= 0) {
                pod->infra_id = xstrdup(id);
                r = pea_state_pod_update(e->ctx.state, pod, err);
        }
        (void)pea_container_cleanup(&e->ctx, id, NULL);
        if (r < 0)
                (void)pea_container_remove(&e->ctx, id, true, NULL);
        return r;
}

static json_t *strv_json(char **l)
{
        json_t *a = json_array();
        STRV_FOREACH(i, l)
                json_array_append_new(a, json_string(*i));
        return a;
}

static json_t *pod_config(const struct pea_pod_create_opts *o, unsigned share)
{
        json_t *labels = json_object();
        STRV_FOREACH(l, o->labels) {
                _cleanup_free_ char *k = xstrdup(*l);
                char *eq = strchr(k, '=');
                if (eq)
                        *eq++ = '\0';
                json_object_set_new(labels, k, json_string(eq ? eq : ""));
        }
        json_t *c = json_pack(
                "{s:s, s:o, s:o, s:b, s:o, s:o}", "hostname", o->hostname ? o->hostname : o->name,
                "share", pea_pod_share_to_json(share), "labels", labels, "infra", !o->no_infra,
                "publish", strv_json(o->publish), "create_command", strv_json(o->create_command));
        if (o->network)
                json_object_set_new(c, "network", json_string(o->network));
        if (o->dns)
                json_object_set_new(c, "dns", strv_json(o->dns));
        if (o->dns_search)
                json_object_set_new(c, "dns_search", strv_json(o->dns_search));
        if (o->dns_options)
                json_object_set_new(c, "dns_options", strv_json(o->dns_options));
        if (o->add_hosts)
                json_object_set_new(c, "add_hosts", strv_json(o->add_hosts));
        return c;
}

static int check_create(const struct pea_pod_create_opts *o, unsigned *ret_share,
                        struct pea_error **err)
{
        if (!pea_container_name_is_valid(o->name))
                return pea_error_set(err, EINVAL,
                                     "pod name '%s' must match [a-zA-Z0-9][a-zA-Z0-9_.-]*: "
                                     "invalid argument",
                                     o->name);
        int r = pea_pod_share_parse(o->share ? o->share : "net,ipc,uts", ret_share, err);
        if (r < 0)
                return r;
        if (o->no_infra && (o->publish || o->network || o->dns || o->add_hosts))
                return pea_error_set(err, EINVAL,
                                     "you must have an infra container to publish ports or "
                                     "configure the network");
        if (o->no_infra)
                *ret_share = 0;
        return 0;
}

int pea_cmd_pod_new(struct pea_cli *cli, struct pea_run_env *e, const struct pea_pod_create_opts *o,
                    char **ret_id, struct pea_error **err)
{
        unsigned share = 0;
        int r = check_create(o, &share, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *id = pea_generate_id();
        struct pea_pod_row pod = {
                .id = xstrdup(id), .name = xstrdup(o->name), .config = pod_config(o, share)};
        r = pea_state_pod_add(e->ctx.state, &pod, err);
        if (r >= 0 && !o->no_infra) {
                r = create_infra(cli, e, o, &pod, err);
                if (r < 0) {
                        /* nothing half-created: the pod goes, the create removed its infra */
                        (void)pea_state_pod_remove(e->ctx.state, id, NULL);
                }
        }
        pea_pod_row_done(&pod);
        if (r < 0)
                return r;
        pea_cmd_event(e->ctx.run_root, "pod", "create", id, o->name);
        *ret_id = TAKE_PTR(id);
        return 0;
}

/* ---- members ----------------------------------------------------------------------------------
 */

int pea_cmd_pod_start_infra(const struct pea_container_ctx *ctx, const char *pod_id, int *ret_pid,
                            struct pea_error **err)
{
        struct pea_pod_row pod = {};
        int r = pea_state_pod_get_by_id(ctx->state, pod_id, &pod, err);
        _cleanup_free_ char *infra = r >= 0 && pod.infra_id ? xstrdup(pod.infra_id) : NULL;
        pea_pod_row_done(&pod);
        if (r < 0 || !infra)
                return r;
        struct pea_container_row row = {};
        r = pea_cmd_container_get(ctx, infra, &row, err);
        bool running = r >= 0 && streq(row.state, "running") && row.pid > 0;
        pid_t pid = row.pid;
        pea_container_row_done(&row);
        if (r < 0)
                return r;
        if (!running) {
                r = pea_cmd_container_start_detached(ctx, infra, false, &pid, err);
                if (r < 0)
                        return pea_error_wrap(err, "starting the infra container of pod '%s'",
                                              pod_id);
        }
        if (ret_pid)
                *ret_pid = pid;
        return 0;
}

int pea_cmd_pod_before_start(const struct pea_container_ctx *ctx, const char *id,
                             const char *pod_id, bool infra, struct pea_error **err)
{
        if (!pod_id || infra)
                return 0;
        int pid = 0;
        int r = pea_cmd_pod_start_infra(ctx, pod_id, &pid, err);
        if (r < 0 || pid <= 0)
                return r;
        _cleanup_free_ char *bundle = pea_container_bundle_dir(ctx, id);
        _cleanup_free_ char *config = xasprintf("%s/config.json", bundle);
        r = pea_pod_refresh_namespaces(config, pid, err);
        return r < 0 ? r : 0;
}

void pea_cmd_pod_member_done(struct pea_cmd_pod_member *m)
{
        free(m->pod_id);
        free(m->infra);
        strv_free(m->names);
        *m = (struct pea_cmd_pod_member){};
}

/* The pod named by --pod, --pod-id-file or new:NAME (created here, with -p moved to it). */
static int member_pod(struct pea_cli *cli, struct pea_run_env *e, struct pea_run_opts *o,
                      struct pea_pod_row *ret, struct pea_error **err)
{
        _cleanup_free_ char *from_file = NULL;
        if (!o->pod) {
                int r = pea_read_file_at(AT_FDCWD, o->pod_id_file, 4096, &from_file, NULL, err);
                if (r < 0)
                        return r;
                strstrip(from_file);
        }
        const char *name = o->pod ? startswith(o->pod, "new:") : NULL;
        _cleanup_free_ char *id = NULL;
        if (name) {
                struct pea_pod_create_opts po = {.name = name, .publish = o->publish};
                int r = pea_cmd_pod_new(cli, e, &po, &id, err);
                if (r < 0)
                        return r;
        }
        return pea_state_pod_lookup(e->ctx.state, id ? id : o->pod ? o->pod : from_file, ret, err);
}

/* The names of the pod's containers but its infra, for the member's /etc/hosts. */
static void member_names(struct pea_run_env *e, const char *pod_id, char ***names)
{
        struct pea_container_row *rows = NULL;
        size_t n = 0;
        if (pea_state_container_list(e->ctx.state, pod_id, &rows, &n, NULL) < 0)
                return;
        for (size_t i = 0; i < n; i++)
                if (!pea_pod_row_is_infra(&rows[i]))
                        strv_push(names, rows[i].name);
        pea_container_rows_free(rows, n);
}

static int check_member(const struct pea_run_opts *o, bool created, unsigned share,
                        struct pea_error **err)
{
        if (!(share & PEA_POD_SHARE_NET))
                return 0;
        if ((o->publish && !created) || o->publish_all || o->expose)
                return pea_error_set(err, EINVAL,
                                     "invalid config provided: published or exposed ports must "
                                     "be defined when the pod is created: network cannot be "
                                     "configured when it is shared with a pod");
        if (o->network || o->dns || o->add_hosts)
                return pea_error_set(err, EINVAL,
                                     "invalid config provided: networks must be defined when the "
                                     "pod is created: network cannot be configured when it is "
                                     "shared with a pod");
        return 0;
}

/* Points the namespaces the pod shares at its infra (unless given explicitly). */
static void join_infra(struct pea_container_net_opts *net, unsigned share, const char *infra)
{
        if (share & PEA_POD_SHARE_NET)
                net->network = infra;
        if ((share & PEA_POD_SHARE_IPC) && !net->ipc)
                net->ipc = infra;
        if ((share & PEA_POD_SHARE_UTS) && !net->uts)
                net->uts = infra;
        if ((share & PEA_POD_SHARE_PID) && !net->pid)
                net->pid = infra;
}

int pea_cmd_pod_member_prepare(struct pea_cli *cli, struct pea_run_env *e, struct pea_run_opts *o,
                               struct pea_container_net_opts *net, struct pea_cmd_pod_member *m,
                               struct pea_error **err)
{
        if (o->pod_infra) {
                m->pod_id = xstrdup(o->pod);
                return 0;
        }
        if (!o->pod && !o->pod_id_file)
                return 0;
        struct pea_pod_row pod = {};
        int r = member_pod(cli, e, o, &pod, err);
        if (r < 0)
                return r;
        unsigned share = pea_pod_share_from_json(json_object_get(pod.config, "share"));
        bool created = o->pod && startswith(o->pod, "new:");
        if (created)
                net->publish = NULL; /* they went to the new pod */
        r = check_member(o, created, share, err);
        if (r >= 0 && pod.infra_id)
                r = pea_cmd_pod_start_infra(&e->ctx, pod.id, NULL, err);
        if (r >= 0) {
                m->pod_id = xstrdup(pod.id);
                member_names(e, pod.id, &m->names);
                net->pod_names = m->names;
        }
        if (r >= 0 && pod.infra_id) {
                m->infra = xasprintf("container:%s", pod.infra_id);
                join_infra(net, share, m->infra);
        }
        pea_pod_row_done(&pod);
        return r;
}

/* Appends "127.0.0.1 name" to hosts in place (it is bind-mounted: no rename). */
static void append_host(const char *hosts, const char *name)
{
        _cleanup_close_ int fd = open(hosts, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return;
        _cleanup_free_ char *line = xasprintf("127.0.0.1\t%s\n", name);
        if (write(fd, line, strlen(line)) < 0)
                pea_log(PEA_LOG_DEBUG, "appending to '%s': %m", hosts);
}

void pea_cmd_pod_member_added(const struct pea_container_ctx *ctx,
                              const struct pea_container_row *row)
{
        struct pea_container_row *rows = NULL;
        size_t n = 0;
        if (!row->pod_id || pea_state_container_list(ctx->state, row->pod_id, &rows, &n, NULL) < 0)
                return;
        for (size_t i = 0; i < n; i++) {
                if (streq(rows[i].id, row->id) || pea_pod_row_is_infra(&rows[i]))
                        continue;
                _cleanup_free_ char *dir = pea_container_data_dir(ctx, rows[i].id);
                _cleanup_free_ char *hosts = xasprintf("%s/hosts", dir);
                append_host(hosts, row->name);
        }
        pea_container_rows_free(rows, n);
}
