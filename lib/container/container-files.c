/* SPDX-License-Identifier: Apache-2.0 */
/* The pure parts of lib/container: names, whiteout checks, the files bound into a container. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sys/random.h>

#include "base.h"
#include "container/container.h"
#include "image/store.h"

int pea_container_whiteout_check(const char *driver, bool rootless, int whiteout, const char *layer,
                                 struct pea_error **err)
{
        const char *have = pea_image_whiteout_to_string(whiteout);
        if (!have)
                return pea_error_set(err, EINVAL, "layer '%s' has an unknown whiteout format",
                                     layer ? layer : "?");
        /* fuse-overlayfs reads both forms; vfs applies both itself while copying */
        if (!streq(driver, "overlay"))
                return 0;
        enum pea_image_whiteout need =
                rootless ? PEA_IMAGE_WHITEOUT_OVERLAY_USERXATTR : PEA_IMAGE_WHITEOUT_OVERLAY;
        if ((int)need == whiteout)
                return 0;
        return pea_error_set(err, EINVAL,
                             "layer '%s' was unpacked with '%s' whiteouts, which the '%s' storage "
                             "driver cannot read (it needs '%s'): remove the image and pull it "
                             "again, or use --storage-driver fuse-overlayfs",
                             layer ? layer : "?", have, driver, pea_image_whiteout_to_string(need));
}

static const char *const adjectives[] = {
        "admiring",  "adoring",   "affectionate", "amazing",     "awesome",       "blissful",
        "bold",      "brave",     "charming",     "clever",      "compassionate", "competent",
        "confident", "cool",      "dazzling",     "determined",  "eager",         "ecstatic",
        "elastic",   "elated",    "elegant",      "epic",        "exciting",      "fervent",
        "festive",   "focused",   "friendly",     "gallant",     "gifted",        "goofy",
        "gracious",  "happy",     "hopeful",      "intelligent", "jolly",         "keen",
        "kind",      "laughing",  "loving",       "magical",     "modest",        "nice",
        "nifty",     "nostalgic", "objective",    "optimistic",  "peaceful",      "pensive",
        "practical", "quirky",    "relaxed",      "reverent",    "romantic",      "serene",
        "sharp",     "silly",     "sleepy",       "stoic",       "sweet",         "tender",
        "trusting",  "upbeat",    "vibrant",      "vigilant",    "wizardly",      "zealous",
};

static const char *const surnames[] = {
        "agnesi",   "albattani", "allen",         "archimedes",  "babbage",    "banach",
        "bardeen",  "bartik",    "bell",          "bhabha",      "blackwell",  "bohr",
        "booth",    "borg",      "bose",          "brahmagupta", "brattain",   "brown",
        "carson",   "cerf",      "chandrasekhar", "curie",       "darwin",     "davinci",
        "diffie",   "dijkstra",  "einstein",      "elion",       "euclid",     "euler",
        "fermat",   "fermi",     "feynman",       "franklin",    "galileo",    "gauss",
        "goldberg", "goodall",   "hamilton",      "hawking",     "heisenberg", "hopper",
        "hypatia",  "johnson",   "kalam",         "keller",      "kepler",     "knuth",
        "lamport",  "lovelace",  "margulis",      "mccarthy",    "meitner",    "mendel",
        "morse",    "newton",    "noether",       "pascal",      "payne",      "perlman",
        "pike",     "poincare",  "ramanujan",     "ritchie",     "shannon",    "stallman",
        "swartz",   "tesla",     "thompson",      "torvalds",    "turing",     "wescoff",
        "wiles",    "wozniak",   "wright",        "yalow",       "zhukovsky",
};

char *pea_container_random_name(void)
{
        unsigned r[2] = {0, 0};
        if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
                r[0] = (unsigned)rand();
                r[1] = (unsigned)rand();
        }
        return xasprintf("%s_%s", adjectives[r[0] % ELEMENTSOF(adjectives)],
                         surnames[r[1] % ELEMENTSOF(surnames)]);
}

bool pea_container_name_is_valid(const char *name)
{
        if (!name || !isalnum((unsigned char)name[0]))
                return false;
        for (const char *p = name; *p; p++)
                if (!isalnum((unsigned char)*p) && !strchr("_.-", *p))
                        return false;
        return strlen(name) <= 253;
}

/* The address of a "nameserver ADDR" line, or NULL. */
static const char *nameserver_addr(const char *line)
{
        const char *p = startswith(line, "nameserver");
        if (!p || (*p != ' ' && *p != '\t'))
                return NULL;
        while (*p == ' ' || *p == '\t')
                p++;
        return p;
}

static bool is_loopback(const char *addr)
{
        return startswith(addr, "127.") || startswith(addr, "::1")
               || startswith(addr, "0:0:0:0:0:0:0:1");
}

char *pea_container_resolv_conf(const char *host, bool keep)
{
        if (keep)
                return xstrdup(host ? host : "");
        _cleanup_strv_ char **lines = strv_split(host ? host : "", "\n");
        _cleanup_free_ char *out = xstrdup("");
        bool any = false;
        STRV_FOREACH(l, lines) {
                const char *a = nameserver_addr(*l);
                if (a && is_loopback(a))
                        continue;
                any = any || a;
                char *n = xasprintf("%s%s\n", out, *l);
                free(out);
                out = n;
        }
        if (any)
                return TAKE_PTR(out);
        return xasprintf("%snameserver 8.8.8.8\nnameserver 8.8.4.4\n", out);
}

char *pea_container_hosts(const char *host_hosts, const char *hostname)
{
        if (host_hosts && *host_hosts)
                return xasprintf("%s%s127.0.1.1\t%s\n", host_hosts,
                                 endswith(host_hosts, "\n") ? "" : "\n", hostname);
        return xasprintf("127.0.0.1\tlocalhost localhost.localdomain localhost4 "
                         "localhost4.localdomain4\n"
                         "::1\tlocalhost localhost.localdomain localhost6 "
                         "localhost6.localdomain6\n"
                         "127.0.1.1\t%s\n",
                         hostname);
}

char *pea_container_env_file(const char *name, const char *id, const char *image,
                             const char *image_id, bool rootless)
{
        return xasprintf("engine=\"pea-%s\"\nname=\"%s\"\nid=\"%s\"\nimage=\"%s\"\n"
                         "imageid=\"%s\"\n%s",
                         PEA_VERSION, name ? name : "", id ? id : "", image ? image : "",
                         image_id ? image_id : "", rootless ? "rootless=1\n" : "");
}
