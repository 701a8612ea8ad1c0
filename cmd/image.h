/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "image/image.h"
#include "image/pull.h"
#include "image/store.h"
#include "registry/registry.h"

/*
 * What the image commands share (cmd/image-*.c, login.c): the store, the
 * registry transport for pulls, and the image facts podman prints.
 */

struct pea_cli;

/*
 * Opens the image store of cli (the command has PEA_NEEDS_STATE) with the
 * unqualified-search registries of registries.conf; ret_regs (may be NULL)
 * gets registries.conf (pea_registries_done() it).
 */
int pea_cmd_open_store(struct pea_cli *cli, struct pea_image_store **ret,
                       struct pea_registries *ret_regs, struct pea_error **err);

/* A pull transport over lib/registry's client; ro is copied (its strings are borrowed). */
struct pea_cmd_transport {
        struct pea_image_transport t;
        struct pea_registry_opts ro;
};

void pea_cmd_transport_init(struct pea_cmd_transport *ct, const struct pea_registry_opts *ro);

/* How this process unpacks layers: whiteouts, userxattr (rootless), a single mapped id. */
void pea_cmd_pull_defaults(const struct pea_cli *cli, struct pea_image_pull_opts *o);

/* The registry options of podman's flags. */
struct pea_cmd_registry_flags {
        int tls_verify; /* -1 unset */
        const char *authfile;
        const char *cert_dir;
        const char *creds;
};

/* getopt values of the registry flags pull and push share (above the commands' own). */
enum {
        PEA_CMD_OPT_AUTHFILE = 0x180,
        PEA_CMD_OPT_CERT_DIR,
        PEA_CMD_OPT_CREDS,
        PEA_CMD_OPT_TLS_VERIFY,
};

/* Stores one of the PEA_CMD_OPT_* flags in rf: 1 when c was one, 0 when not, < 0 on a bad value. */
int pea_cmd_registry_opt(struct pea_cmd_registry_flags *rf, int c, const char *arg,
                         struct pea_error **err);

/* Parses --tls-verify[=BOOL] (optarg may be NULL). */
int pea_cmd_parse_bool(const char *flag, const char *optarg, bool *ret, struct pea_error **err);

/*
 * Pulls name as `pea pull` does (plain progress lines, or bars on a TTY, on
 * stderr unless quiet); for run/create too. ret_id (may be NULL) gets the ID.
 */
int pea_cmd_pull_image(struct pea_cli *cli, struct pea_image_store *store,
                       const struct pea_registries *regs, const char *name,
                       const struct pea_cmd_registry_flags *rf, struct pea_image_pull_opts *o,
                       bool quiet, char **ret_id, struct pea_error **err);

/* An image with what podman shows about it. */
struct pea_cmd_image {
        struct pea_image_record rec;     /* with config and layers */
        struct pea_image_config *config; /* parsed, NULL when unparsable */
        int64_t size;                    /* podman's: layers + config + manifest twice */
        char *digest;                    /* podman's Digest: an index's when pulled through one */
};

int pea_cmd_image_load(struct pea_image_store *s, const char *id, struct pea_cmd_image *ret,
                       struct pea_error **err);
/* Looks name_or_id up as podman does. */
int pea_cmd_image_lookup(struct pea_image_store *s, const char *name_or_id,
                         struct pea_cmd_image *ret, struct pea_error **err);
void pea_cmd_image_done(struct pea_cmd_image *i);

/* Every image, newest first. */
int pea_cmd_images_load_all(struct pea_image_store *s, struct pea_cmd_image **ret, size_t *ret_n,
                            struct pea_error **err);
void pea_cmd_images_free(struct pea_cmd_image *l, size_t n);

/* The config's labels as an object (a new reference; {} when none). */
json_t *pea_cmd_image_labels(const struct pea_cmd_image *i);

/* Names with a tag (podman's RepoTags), in order; never NULL. */
char **pea_cmd_image_tags(const struct pea_cmd_image *i);

/* "localhost/NAME:latest" for a short NAME (podman's NormalizeName for tag and untag). */
int pea_cmd_normalize_local(const char *name, char **ret, struct pea_error **err);
