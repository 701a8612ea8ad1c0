/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base.h"
#include "image/image.h"
#include "image/store-internal.h"
#include "state/state.h"

/*
 * Name resolution, after containers/common's libimage LookupImage(): full ID,
 * the short-name candidates (localhost/ first, then the search registries,
 * then docker.io), a unique ID prefix, and at last a scan of every image for
 * a matching digest or a repository ending in "/NAME".
 */

char **store_name_candidates(struct pea_image_store *s, const char *name)
{
        char **l = xcalloc(1, sizeof(char *));
        _cleanup_image_ref_ struct pea_image_ref ref = {0};
        if (pea_image_ref_parse(name, &ref, NULL) < 0)
                return l;
        _cleanup_strv_ char **domains = xcalloc(1, sizeof(char *));
        if (!ref.domain) {
                strv_push(&domains, "localhost");
                STRV_FOREACH(d, s->search)
                        strv_push(&domains, *d);
        }
        strv_push(&domains, PEA_IMAGE_DEFAULT_DOMAIN);
        STRV_FOREACH(d, domains) {
                _cleanup_image_ref_ struct pea_image_ref c = {0};
                pea_image_ref_copy(&c, &ref);
                if (pea_image_ref_normalize(&c, *d, NULL) < 0)
                        continue;
                char *full = pea_image_ref_string(&c);
                if (strv_contains(l, full))
                        free(full);
                else
                        strv_consume(&l, full);
        }
        return l;
}

static int not_known(const char *name, struct pea_error **err)
{
        return pea_error_set(err, ENOENT, "%s: image not known", name);
}

/* 1 and the ID when exactly one image has this ID (or unique prefix), else 0. */
static int by_prefix(struct pea_image_store *s, const char *prefix, char **ret_id,
                     struct pea_error **err)
{
        _cleanup_free_ char *id = NULL;
        int r = pea_state_image_by_prefix(s->state, prefix, &id, err);
        if (r < 0)
                return r;
        if (r != 1)
                return 0;
        *ret_id = TAKE_PTR(id);
        return 1;
}

static int by_candidates(struct pea_image_store *s, const char *name, char **ret_id,
                         char **ret_name, struct pea_error **err)
{
        _cleanup_strv_ char **candidates = store_name_candidates(s, name);
        STRV_FOREACH(c, candidates) {
                _cleanup_free_ char *id = NULL;
                int r = pea_state_image_by_name(s->state, *c, &id, err);
                if (r < 0)
                        return r;
                if (id) {
                        *ret_id = TAKE_PTR(id);
                        *ret_name = xstrdup(*c);
                        return 1;
                }
        }
        return 0;
}

static bool has_digest(const struct pea_image_row *row, const char *digest)
{
        if (streq_ptr(row->digest, digest))
                return true;
        STRV_FOREACH(rd, row->repo_digests) {
                const char *at = strchr(*rd, '@');
                if (at && streq(at + 1, digest))
                        return true;
        }
        return false;
}

/* The first name of row whose tag is tag and whose repository is path or ends in "/path". */
static const char *in_repo_tags(const struct pea_image_row *row, const char *path, const char *tag)
{
        STRV_FOREACH(n, row->names) {
                _cleanup_image_ref_ struct pea_image_ref ref = {0};
                if (pea_image_ref_parse(*n, &ref, NULL) < 0 || !streq_ptr(ref.tag, tag))
                        continue;
                _cleanup_free_ char *repo = pea_image_ref_name(&ref);
                size_t rl = strlen(repo), pl = strlen(path);
                if (rl == pl ? streq(repo, path)
                             : rl > pl && repo[rl - pl - 1] == '/' && streq(repo + rl - pl, path))
                        return *n;
        }
        return NULL;
}

static int by_scan(struct pea_image_store *s, const char *name, char **ret_id, char **ret_name,
                   struct pea_error **err)
{
        _cleanup_image_ref_ struct pea_image_ref ref = {0};
        if (pea_image_ref_parse(name, &ref, NULL) < 0 || (ref.domain && !ref.digest))
                return 0;
        struct pea_image_row *rows = NULL;
        size_t n = 0;
        int r = pea_state_image_list(s->state, false, &rows, &n, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n && r == 0; i++) {
                const char *match = NULL;
                if (ref.digest && has_digest(&rows[i], ref.digest))
                        r = 1;
                else if (!ref.digest
                         && (match = in_repo_tags(&rows[i], ref.path,
                                                  ref.tag ?: PEA_IMAGE_DEFAULT_TAG)))
                        r = 1;
                if (r == 1) {
                        *ret_id = xstrdup(rows[i].id);
                        *ret_name = match ? xstrdup(match) : NULL;
                }
        }
        pea_image_rows_free(rows, n);
        return r;
}

int store_resolve(struct pea_image_store *s, const char *name_or_id, char **ret_id, char **ret_name,
                  struct pea_error **err)
{
        _cleanup_free_ char *id = NULL, *name = NULL;
        const char *hex = startswith(name_or_id, "sha256:");
        int r = 0;
        if (hex && !store_is_hex64(hex))
                return pea_error_set(err, EINVAL, "%s: invalid format: no 64-byte hex value",
                                     name_or_id);
        if (hex || store_is_hex64(name_or_id)) {
                r = by_prefix(s, hex ?: name_or_id, &id, err);
                if (r == 0 && hex)
                        return not_known(name_or_id, err);
        }
        if (r == 0)
                r = by_candidates(s, name_or_id, &id, &name, err);
        if (r == 0)
                r = by_prefix(s, name_or_id, &id, err);
        if (r == 0)
                r = by_scan(s, name_or_id, &id, &name, err);
        if (r == 0)
                return not_known(name_or_id, err);
        if (r < 0)
                return r;
        *ret_id = TAKE_PTR(id);
        if (ret_name)
                *ret_name = TAKE_PTR(name);
        return 0;
}
