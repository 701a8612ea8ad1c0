/* SPDX-License-Identifier: Apache-2.0 */
/* What the image commands share: the store, the registry transport, image facts. */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "cmd.h"
#include "image.h"
#include "layer/layer.h"

int pea_cmd_open_store(struct pea_cli *cli, struct pea_image_store **ret,
                       struct pea_registries *ret_regs, struct pea_error **err)
{
        struct pea_registries regs = {0};
        int r = pea_registries_load(&regs, err);
        if (r < 0)
                return r;
        r = pea_image_store_open(cli->config.graph_root, cli->state, ret, err);
        if (r >= 0 && regs.search)
                pea_image_store_set_search(*ret, regs.search);
        if (r >= 0 && ret_regs)
                *ret_regs = regs;
        else
                pea_registries_done(&regs);
        return r;
}

/* ---- the registry transport ---------------------------------------------------------------- */

static int t_open(void *userdata, const char *registry, bool insecure, void **ret_conn,
                  struct pea_error **err)
{
        struct pea_cmd_transport *ct = userdata;
        struct pea_registry_opts o = ct->ro;
        o.insecure = insecure;
        struct pea_registry_client *c = NULL;
        int r = pea_registry_client_new(registry, &o, &c, err);
        if (r < 0)
                return r;
        *ret_conn = c;
        return 0;
}

static void t_close(void *conn)
{
        pea_registry_client_free(conn);
}

static int t_get_manifest(void *conn, const char *repo, const char *reference,
                          struct pea_image_fetched *ret, struct pea_error **err)
{
        struct pea_registry_manifest m = {0};
        int r = pea_registry_get_manifest(conn, repo, reference, &m, err);
        if (r < 0)
                return r;
        *ret = (struct pea_image_fetched){
                .data = TAKE_PTR(m.data),
                .len = m.size,
                .media_type = TAKE_PTR(m.media_type),
                .digest = TAKE_PTR(m.digest),
        };
        pea_registry_manifest_done(&m);
        return 0;
}

static int t_get_blob(void *conn, const char *repo, const char *digest, int64_t size,
                      pea_image_write_fn write, void *write_userdata, struct pea_error **err)
{
        return pea_registry_get_blob(conn, repo, digest, size, write, write_userdata, err);
}

static int t_list_tags(void *conn, const char *repo, char ***ret_tags, struct pea_error **err)
{
        return pea_registry_list_tags(conn, repo, ret_tags, err);
}

void pea_cmd_transport_init(struct pea_cmd_transport *ct, const struct pea_registry_opts *ro)
{
        *ct = (struct pea_cmd_transport){
                .t = {.open = t_open,
                      .close = t_close,
                      .get_manifest = t_get_manifest,
                      .get_blob = t_get_blob,
                      .list_tags = t_list_tags},
                .ro = *ro,
        };
        ct->t.userdata = ct;
}

/* ---- defaults and flags -------------------------------------------------------------------- */

/* True when this process's user namespace maps a single id (rootless without subuids). */
static bool single_id_mapped(void)
{
        _cleanup_free_ char *text = NULL;
        if (pea_read_file_at(AT_FDCWD, "/proc/self/uid_map", 1 << 16, &text, NULL, NULL) < 0)
                return false;
        unsigned long long total = 0;
        _cleanup_strv_ char **lines = strv_split(text, "\n");
        STRV_FOREACH(l, lines) {
                unsigned long long inside = 0, outside = 0, count = 0;
                if (sscanf(*l, "%llu %llu %llu", &inside, &outside, &count) == 3)
                        total += count;
        }
        return total == 1;
}

void pea_cmd_pull_defaults(const struct pea_cli *cli, struct pea_image_pull_opts *o)
{
        *o = (struct pea_image_pull_opts){
                .tls_verify = -1,
                .whiteout = PEA_WHITEOUT_OVERLAY,
                .userxattr = cli->config.rootless,
                .single_id = cli->config.rootless && single_id_mapped(),
        };
}

int pea_cmd_registry_opt(struct pea_cmd_registry_flags *rf, int c, const char *arg,
                         struct pea_error **err)
{
        bool b = false;
        switch (c) {
        case PEA_CMD_OPT_AUTHFILE:
                rf->authfile = arg;
                return 1;
        case PEA_CMD_OPT_CERT_DIR:
                rf->cert_dir = arg;
                return 1;
        case PEA_CMD_OPT_CREDS:
                rf->creds = arg;
                return 1;
        case PEA_CMD_OPT_TLS_VERIFY: {
                int r = pea_cmd_parse_bool("tls-verify", arg, &b, err);
                if (r < 0)
                        return r;
                rf->tls_verify = b ? 1 : 0;
                return 1;
        }
        default:
                return 0;
        }
}

int pea_cmd_parse_bool(const char *flag, const char *optarg, bool *ret, struct pea_error **err)
{
        static const char *const yes[] = {"1", "t", "T", "true", "TRUE", "True"};
        static const char *const no[] = {"0", "f", "F", "false", "FALSE", "False"};
        while (*flag == '-')
                flag++;
        if (!optarg) {
                *ret = true;
                return 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
                if (streq(optarg, yes[i])) {
                        *ret = true;
                        return 0;
                }
                if (streq(optarg, no[i])) {
                        *ret = false;
                        return 0;
                }
        }
        return pea_error_set(err, EINVAL,
                             "invalid argument \"%s\" for \"--%s\" flag: strconv.ParseBool: "
                             "parsing \"%s\": invalid syntax",
                             optarg, flag, optarg);
}

int pea_cmd_normalize_local(const char *name, char **ret, struct pea_error **err)
{
        _cleanup_image_ref_ struct pea_image_ref ref = {0};
        int r = pea_image_ref_parse(name, &ref, err);
        if (r >= 0)
                r = pea_image_ref_normalize(&ref, ref.domain ? NULL : "localhost", err);
        if (r < 0)
                return r;
        *ret = pea_image_ref_string(&ref);
        return 0;
}

/* ---- image facts --------------------------------------------------------------------------- */

void pea_cmd_image_done(struct pea_cmd_image *i)
{
        if (!i)
                return;
        pea_image_record_done(&i->rec);
        pea_image_config_free(i->config);
        free(i->digest);
        *i = (struct pea_cmd_image){0};
}

void pea_cmd_images_free(struct pea_cmd_image *l, size_t n)
{
        for (size_t i = 0; l && i < n; i++)
                pea_cmd_image_done(&l[i]);
        free(l);
}

static int64_t blob_size(struct pea_image_store *s, const char *digest)
{
        _cleanup_close_ int fd = pea_image_store_open_blob(s, digest, NULL);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0)
                return 0;
        return (int64_t)st.st_size;
}

/* True when blob digest is an index that lists manifest. */
static bool index_lists(struct pea_image_store *s, const char *digest, const char *manifest)
{
        _cleanup_free_ char *data = NULL;
        _cleanup_manifest_ struct pea_manifest *m = NULL;
        size_t len = 0;
        if (!pea_image_store_has_blob(s, digest)
            || pea_image_store_get_blob(s, digest, &data, &len, NULL) < 0
            || pea_manifest_parse(data, len, NULL, digest, &m, NULL) < 0
            || !pea_manifest_is_index(m))
                return false;
        for (size_t i = 0; i < m->n_manifests; i++)
                if (streq_ptr(m->manifests[i].digest, manifest))
                        return true;
        return false;
}

/* podman's Digest: the digest pulled by, which is the index's when the image came from one. */
static char *display_digest(struct pea_image_store *s, const struct pea_image_record *rec)
{
        STRV_FOREACH(rd, rec->repo_digests) {
                const char *d = strchr(*rd, '@');
                if (d && !streq_ptr(d + 1, rec->digest) && index_lists(s, d + 1, rec->digest))
                        return xstrdup(d + 1);
        }
        return xstrdup(rec->digest ? rec->digest : "");
}

static void fill(struct pea_image_store *s, struct pea_cmd_image *i)
{
        if (i->rec.config)
                (void)pea_image_config_parse(i->rec.config, i->rec.config_len, NULL, &i->config,
                                             NULL);
        int64_t manifest = i->rec.digest ? blob_size(s, i->rec.digest) : 0;
        i->size = i->rec.size + (int64_t)i->rec.config_len + 2 * manifest;
        i->digest = display_digest(s, &i->rec);
}

int pea_cmd_image_load(struct pea_image_store *s, const char *id, struct pea_cmd_image *ret,
                       struct pea_error **err)
{
        struct pea_cmd_image i = {0};
        int r = pea_image_store_get(s, id, &i.rec, err);
        if (r < 0)
                return r;
        fill(s, &i);
        *ret = i;
        return 0;
}

int pea_cmd_image_lookup(struct pea_image_store *s, const char *name_or_id,
                         struct pea_cmd_image *ret, struct pea_error **err)
{
        struct pea_cmd_image i = {0};
        int r = pea_image_store_lookup(s, name_or_id, &i.rec, NULL, err);
        if (r < 0)
                return r;
        fill(s, &i);
        *ret = i;
        return 0;
}

int pea_cmd_images_load_all(struct pea_image_store *s, struct pea_cmd_image **ret, size_t *ret_n,
                            struct pea_error **err)
{
        struct pea_image_record *recs = NULL;
        size_t n = 0, got = 0;
        int r = pea_image_store_list(s, &recs, &n, err);
        if (r < 0)
                return r;
        struct pea_cmd_image *l = xcalloc(n ? n : 1, sizeof(*l));
        for (size_t i = 0; i < n; i++) {
                /* removed meanwhile: skip it */
                if (pea_cmd_image_load(s, recs[i].id, &l[got], NULL) >= 0)
                        got++;
        }
        pea_image_records_free(recs, n);
        *ret = l;
        *ret_n = got;
        return 0;
}

json_t *pea_cmd_image_labels(const struct pea_cmd_image *i)
{
        if (i->config && json_is_object(i->config->labels))
                return json_deep_copy(i->config->labels);
        return json_object();
}

char **pea_cmd_image_tags(const struct pea_cmd_image *i)
{
        char **l = xcalloc(1, sizeof(char *));
        STRV_FOREACH(n, i->rec.names) {
                _cleanup_image_ref_ struct pea_image_ref ref = {0};
                if (pea_image_ref_parse(*n, &ref, NULL) >= 0 && ref.tag && !ref.digest)
                        strv_push(&l, *n);
        }
        return l;
}
