/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <fcntl.h>
#include <stdlib.h>

#include "base.h"
#include "rootless/rootless.h"

#define SUBID_FILE_MAX   (4u << 20)
#define SUBID_RANGES_MAX 1024

static bool line_matches(const char *owner, const char *user, uid_t uid)
{
        unsigned n = 0;
        if (user && *user && streq(owner, user))
                return true;
        return safe_atou32(owner, &n) == 0 && n == (unsigned)uid;
}

static bool parse_line(char *line, const char *user, uid_t uid, struct pea_idmap *ret)
{
        _cleanup_strv_ char **f = strv_split(strstrip(line), ":");
        unsigned start = 0, count = 0;
        if (strv_length(f) != 3 || f[0][0] == '#')
                return false;
        if (!line_matches(f[0], user, uid))
                return false;
        if (safe_atou32(f[1], &start) < 0 || safe_atou32(f[2], &count) < 0 || count == 0)
                return false;
        *ret = (struct pea_idmap){.container_id = 0, .host_id = start, .size = count};
        return true;
}

int pea_subid_parse(const char *text, const char *user, uid_t uid, struct pea_idmap **ret,
                    size_t *ret_n, struct pea_error **err)
{
        _cleanup_free_ struct pea_idmap *m = NULL;
        size_t n = 0;
        _cleanup_free_ char *copy = xstrdup(text);
        char *save = NULL;
        for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                struct pea_idmap r;
                if (!parse_line(l, user, uid, &r))
                        continue;
                if (n >= SUBID_RANGES_MAX)
                        return pea_error_set(err, E2BIG, "more than %d subordinate id ranges",
                                             SUBID_RANGES_MAX);
                m = xrealloc(m, (n + 1) * sizeof(*m));
                m[n++] = r;
        }
        *ret = TAKE_PTR(m);
        *ret_n = n;
        return 0;
}

int pea_subid_read(const char *path, const char *user, uid_t uid, struct pea_idmap **ret,
                   size_t *ret_n, struct pea_error **err)
{
        _cleanup_free_ char *text = NULL;
        _cleanup_error_ struct pea_error *e = NULL;
        int r = pea_read_file_at(AT_FDCWD, path, SUBID_FILE_MAX, &text, NULL, &e);
        if (r == -ENOENT) {
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        if (r < 0) {
                *err = TAKE_PTR(e);
                return r;
        }
        return pea_subid_parse(text, user, uid, ret, ret_n, err);
}

uint64_t pea_subid_total(const struct pea_idmap *m, size_t n)
{
        uint64_t t = 0;
        for (size_t i = 0; i < n; i++)
                t += m[i].size;
        return t;
}

int pea_rootless_idmap(const char *subid_path, const char *user, uid_t id, struct pea_idmap **ret,
                       size_t *ret_n, struct pea_error **err)
{
        _cleanup_free_ struct pea_idmap *sub = NULL;
        size_t n = 0;
        int r = pea_subid_read(subid_path, user, id, &sub, &n, err);
        if (r < 0)
                return r;
        struct pea_idmap *m = xcalloc(n + 1, sizeof(*m));
        m[0] = (struct pea_idmap){.container_id = 0, .host_id = id, .size = 1};
        uint32_t next = 1;
        for (size_t i = 0; i < n; i++) {
                m[i + 1] = sub[i];
                m[i + 1].container_id = next;
                next += sub[i].size;
        }
        *ret = m;
        *ret_n = n + 1;
        return 0;
}
