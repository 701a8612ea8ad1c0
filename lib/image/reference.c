/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Image references: the docker reference grammar as containers-image
 * implements it (docker/reference), parsed by hand.
 *
 *   reference  := name [ ":" tag ] [ "@" digest ]
 *   name       := [domain '/'] path-component ['/' path-component]*
 *   domain     := domain-component ['.' domain-component]* [':' port-number]
 *   path-component := [a-z0-9]+ (separator [a-z0-9]+)*,  separator := [._] | __ | [-]*
 *   tag        := [\w][\w.-]{0,127}
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "base.h"
#include "image-internal.h"
#include "image.h"

#define LEGACY_DEFAULT_DOMAIN "index.docker.io"
#define OFFICIAL_REPO_PREFIX  "library/"

static const char invalid_format[] = "invalid reference format";

static bool is_lower_alnum(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
        return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static bool is_word(char c)
{
        return is_alnum(c) || c == '_';
}

static bool is_hex_lower(char c)
{
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* One path component: [a-z0-9]+ ((?:[._]|__|[-]*)[a-z0-9]+)* */
static bool path_component_valid(const char *s, size_t n)
{
        size_t i = 0;

        for (;;) {
                if (i >= n || !is_lower_alnum(s[i]))
                        return false;
                while (i < n && is_lower_alnum(s[i]))
                        i++;
                if (i == n)
                        return true;
                if (s[i] == '.')
                        i++;
                else if (s[i] == '_')
                        i += (i + 1 < n && s[i + 1] == '_') ? 2 : 1;
                else if (s[i] == '-')
                        while (i < n && s[i] == '-')
                                i++;
                else
                        return false;
        }
}

static bool path_valid(const char *s, size_t n)
{
        size_t start = 0;

        for (size_t i = 0; i <= n; i++) {
                if (i < n && s[i] != '/')
                        continue;
                if (!path_component_valid(s + start, i - start))
                        return false;
                start = i + 1;
        }
        return true;
}

/* [a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9] */
static bool domain_component_valid(const char *s, size_t n)
{
        if (n == 0 || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
                return false;
        for (size_t i = 1; i + 1 < n; i++)
                if (!is_alnum(s[i]) && s[i] != '-')
                        return false;
        return true;
}

bool image_domain_valid(const char *s, size_t n)
{
        const char *colon = memchr(s, ':', n);
        size_t host = colon ? (size_t)(colon - s) : n;
        size_t start = 0;

        if (colon) {
                if (colon + 1 == s + n)
                        return false;
                for (const char *p = colon + 1; p < s + n; p++)
                        if (*p < '0' || *p > '9')
                                return false;
        }
        for (size_t i = 0; i <= host; i++) {
                if (i < host && s[i] != '.')
                        continue;
                if (!domain_component_valid(s + start, i - start))
                        return false;
                start = i + 1;
        }
        return true;
}

static bool tag_valid(const char *s, size_t n)
{
        if (n == 0 || n > PEA_IMAGE_TAG_MAX || !is_word(s[0]))
                return false;
        for (size_t i = 1; i < n; i++)
                if (!is_word(s[i]) && s[i] != '.' && s[i] != '-')
                        return false;
        return true;
}

/* The reference grammar's digest:
 * [A-Za-z][A-Za-z0-9]*([-_+.][A-Za-z][A-Za-z0-9]*)*:[[:xdigit:]]{32,} */
static bool digest_syntax_valid(const char *s)
{
        const char *p = s;

        for (;;) {
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
                        return false;
                while (is_alnum(*p))
                        p++;
                if (*p == ':')
                        break;
                if (*p == '\0' || !strchr("-_+.", *p))
                        return false;
                p++;
        }
        size_t n = strlen(++p);
        if (n < 32)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!is_hex_lower(p[i]) && !(p[i] >= 'A' && p[i] <= 'F'))
                        return false;
        return true;
}

static bool is_identifier(const char *s)
{
        size_t n = strlen(s);

        if (n != 64)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!is_hex_lower(s[i]))
                        return false;
        return true;
}

static bool looks_like_domain(const char *s, size_t n)
{
        return memchr(s, '.', n) || memchr(s, ':', n) || (n == 9 && !memcmp(s, "localhost", 9));
}

static bool has_upper(const char *s, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (s[i] >= 'A' && s[i] <= 'Z')
                        return true;
        return false;
}

/* Splits name[:tag] into r->domain, r->path and r->tag; validates all but the length. */
static int split_name(const char *s, size_t n, struct pea_image_ref *r, struct pea_error **err)
{
        const char *end = s + n, *slash = memchr(s, '/', n), *path = s;

        if (slash && looks_like_domain(s, slash - s)) {
                if (!image_domain_valid(s, slash - s))
                        return pea_error_set(err, EINVAL, invalid_format);
                path = slash + 1;
        }
        /* Like containers-image, check the case up to the first ':' of the rest. */
        const char *first_colon = memchr(path, ':', end - path);
        if (has_upper(path, (first_colon ? first_colon : end) - path))
                return pea_error_set(err, EINVAL,
                                     "invalid reference format: repository name must be lowercase");
        const char *base = memrchr(path, '/', end - path);
        const char *colon = memchr(base ? base : path, ':', end - (base ? base : path));
        const char *path_end = colon ? colon : end;

        if (!path_valid(path, path_end - path) || (colon && !tag_valid(colon + 1, end - colon - 1)))
                return pea_error_set(err, EINVAL, invalid_format);
        r->domain = path != s ? xstrndup(s, slash - s) : NULL;
        r->path = xstrndup(path, path_end - path);
        r->tag = colon ? xstrndup(colon + 1, end - colon - 1) : NULL;
        return 0;
}

static int name_length_check(const char *domain, const char *path, struct pea_error **err)
{
        if ((domain ? strlen(domain) + 1 : 0) + strlen(path) > PEA_IMAGE_NAME_MAX)
                return pea_error_set(err, EINVAL,
                                     "repository name must not be more than %d characters",
                                     PEA_IMAGE_NAME_MAX);
        return 0;
}

int pea_image_ref_parse(const char *s, struct pea_image_ref *ret, struct pea_error **err)
{
        _cleanup_image_ref_ struct pea_image_ref r = {};
        const char *at = strchr(s, '@');
        int k;

        if (is_identifier(s))
                return pea_error_set(
                        err, EINVAL,
                        "invalid repository name (%s), cannot specify 64-byte hexadecimal strings",
                        s);
        /* The order of the checks is containers-image's, so the errors are too. */
        k = split_name(s, at ? (size_t)(at - s) : strlen(s), &r, err);
        if (k < 0)
                return k;
        if (at && !digest_syntax_valid(at + 1))
                return pea_error_set(err, EINVAL, invalid_format);
        k = name_length_check(r.domain, r.path, err);
        if (k < 0)
                return k;
        const char *problem = at ? image_digest_problem(at + 1) : NULL;
        if (problem)
                return pea_error_set(err, EINVAL, "%s", problem);
        r.digest = at ? xstrdup(at + 1) : NULL;
        *ret = r;
        r = (struct pea_image_ref){};
        return 0;
}

int pea_image_ref_normalize(struct pea_image_ref *ref, const char *domain, struct pea_error **err)
{
        _cleanup_free_ char *d = xstrdup(ref->domain ? ref->domain
                                         : domain    ? domain
                                                     : PEA_IMAGE_DEFAULT_DOMAIN);
        _cleanup_free_ char *path = NULL;

        if (streq(d, LEGACY_DEFAULT_DOMAIN)) {
                free(d);
                d = xstrdup(PEA_IMAGE_DEFAULT_DOMAIN);
        }
        if (streq(d, PEA_IMAGE_DEFAULT_DOMAIN) && !strchr(ref->path, '/'))
                path = xasprintf(OFFICIAL_REPO_PREFIX "%s", ref->path);
        else
                path = xstrdup(ref->path);
        int k = name_length_check(d, path, err);
        if (k < 0)
                return k;
        free(ref->domain);
        ref->domain = TAKE_PTR(d);
        free(ref->path);
        ref->path = TAKE_PTR(path);
        if (!ref->tag && !ref->digest)
                ref->tag = xstrdup(PEA_IMAGE_DEFAULT_TAG);
        return 0;
}

int pea_image_ref_parse_normalized(const char *s, struct pea_image_ref *ret, struct pea_error **err)
{
        _cleanup_image_ref_ struct pea_image_ref r = {};
        int k = pea_image_ref_parse(s, &r, err);

        if (k < 0)
                return k;
        k = pea_image_ref_normalize(&r, PEA_IMAGE_DEFAULT_DOMAIN, err);
        if (k < 0)
                return k;
        *ret = r;
        r = (struct pea_image_ref){};
        return 0;
}

char *pea_image_ref_name(const struct pea_image_ref *ref)
{
        if (!ref->domain)
                return xstrdup(ref->path);
        return xasprintf("%s/%s", ref->domain, ref->path);
}

char *pea_image_ref_string(const struct pea_image_ref *ref)
{
        _cleanup_free_ char *name = pea_image_ref_name(ref);

        return xasprintf("%s%s%s%s%s", name, ref->tag ? ":" : "", ref->tag ? ref->tag : "",
                         ref->digest ? "@" : "", ref->digest ? ref->digest : "");
}

static char *strdup_or_null(const char *s)
{
        return s ? xstrdup(s) : NULL;
}

void pea_image_ref_copy(struct pea_image_ref *dst, const struct pea_image_ref *src)
{
        *dst = (struct pea_image_ref){
                .domain = strdup_or_null(src->domain),
                .path = strdup_or_null(src->path),
                .tag = strdup_or_null(src->tag),
                .digest = strdup_or_null(src->digest),
        };
}

void pea_image_ref_done(struct pea_image_ref *ref)
{
        if (!ref)
                return;
        free(ref->domain);
        free(ref->path);
        free(ref->tag);
        free(ref->digest);
        *ref = (struct pea_image_ref){};
}

bool pea_image_ref_is_short(const char *s)
{
        _cleanup_image_ref_ struct pea_image_ref r = {};

        if (pea_image_ref_parse(s, &r, NULL) < 0)
                return false;
        return !r.domain;
}
