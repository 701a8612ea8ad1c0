/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include "base.h"

json_t *pea_json_path(json_t *root, const char *path)
{
        _cleanup_strv_ char **parts = strv_split(path, ".");
        json_t *j = root;
        STRV_FOREACH(p, parts) {
                if (!json_is_object(j))
                        return NULL;
                j = json_object_get(j, *p);
        }
        return j;
}

const char *pea_json_path_string(json_t *root, const char *path, const char *def)
{
        json_t *j = pea_json_path(root, path);
        return json_is_string(j) ? json_string_value(j) : def;
}

char *pea_json_dumps(const json_t *j, int indent)
{
        size_t flags = JSON_PRESERVE_ORDER | JSON_ENCODE_ANY;
        if (indent > 0)
                flags |= JSON_INDENT(indent);
        else
                flags |= JSON_COMPACT;
        char *s = json_dumps(j, flags);
        return s ? s : xstrdup("null");
}

int pea_json_print(FILE *f, const json_t *j, int indent)
{
        _cleanup_free_ char *s = pea_json_dumps(j, indent);
        if (fprintf(f, "%s\n", s) < 0)
                return -EIO;
        return 0;
}

void pea_json_merge(json_t *dst, json_t *src)
{
        const char *k;
        json_t *v;
        json_object_foreach(src, k, v) {
                json_t *d = json_object_get(dst, k);
                if (json_is_object(d) && json_is_object(v))
                        pea_json_merge(d, v);
                else
                        json_object_set(dst, k, v);
        }
}
