/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/types.h>

/*
 * OCI distribution-spec client on libcurl (GnuTLS).
 *
 * One struct pea_registry_client per registry host ("localhost:5000", "quay.io",
 * "docker.io", whose endpoint is registry-1.docker.io). Repository names are passed
 * as the registry sees them ("library/busybox"); normalising references is image/'s job.
 *
 * Threads: a client may be used from several threads at once. Each request borrows a
 * CURL easy handle from a pool kept in the client (a handle serves one request at a
 * time, and keeps its connections alive for the next one); the pool, the ping result
 * and the token cache sit behind the client's mutex, and DNS and TLS sessions are
 * shared between the handles. Pull runs up to 4 pea_registry_get_blob() calls in
 * parallel threads on one client. Freeing the client while requests run is a bug.
 *
 * Transient failures (connection refused or reset, timeouts, HTTP 429/502/503/504)
 * are retried 3 times after 200, 400 and 800 ms; a blob download resumes where it
 * stopped (Range). 4xx answers are never retried. Errors read like podman's:
 * "reading manifest latest in localhost:5000/nope: manifest unknown"; the errno is
 * ENOENT for 404, EACCES for 401/403, EAGAIN for 429, EPROTO for other registry
 * errors, ECONNREFUSED/ETIMEDOUT/ECONNRESET/EHOSTUNREACH for the network and
 * EBADMSG for a digest or size mismatch.
 */

struct pea_error;
struct pea_registry_client;

#define PEA_REGISTRY_USER_AGENT "pea/0.1.0"
/* The cap on a manifest's size. */
#define PEA_REGISTRY_MANIFEST_MAX (4u * 1024 * 1024)

#define PEA_MEDIA_TYPE_OCI_MANIFEST    "application/vnd.oci.image.manifest.v1+json"
#define PEA_MEDIA_TYPE_OCI_INDEX       "application/vnd.oci.image.index.v1+json"
#define PEA_MEDIA_TYPE_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define PEA_MEDIA_TYPE_DOCKER_LIST     "application/vnd.docker.distribution.manifest.list.v2+json"

struct pea_registry_opts {
        /* --tls-verify=false: TLS is not verified and plain HTTP is tried after HTTPS. */
        bool insecure;
        /* --cert-dir: replaces the certs.d/<host:port> lookup. */
        const char *cert_dir;
        /* --creds "user:password"; wins over auth.json. */
        const char *creds;
        /* --authfile: the only auth.json read, and the one login writes. */
        const char *authfile;
        /* NULL: PEA_REGISTRY_USER_AGENT. */
        const char *user_agent;
};

/*
 * Creates a client for registry (host[:port]). Reads the TLS material now: system CAs
 * plus the *.crt files of certs.d/<registry> (cert_dir, else the first of
 * ~/.config/containers/certs.d, /etc/containers/certs.d, /etc/docker/certs.d that has the
 * directory) and one client pair *.cert + *.key; a .cert without its .key fails here, a missing
 * directory adds nothing. The network is touched only by requests.
 */
int pea_registry_client_new(const char *registry, const struct pea_registry_opts *opts,
                            struct pea_registry_client **ret, struct pea_error **err);
struct pea_registry_client *pea_registry_client_free(struct pea_registry_client *c);

/* The name the client was made for ("docker.io") and the host it talks to. */
const char *pea_registry_client_name(const struct pea_registry_client *c);
const char *pea_registry_client_endpoint(const struct pea_registry_client *c);

/*
 * GET /v2/: picks the scheme (https, then http only when insecure) and learns the
 * auth challenge. Every request pings first if no ping succeeded yet.
 */
int pea_registry_ping(struct pea_registry_client *c, struct pea_error **err);

/* Returns "https" or "http" after a successful ping, else NULL. */
const char *pea_registry_client_scheme(struct pea_registry_client *c);

/*
 * Checks user/password against the registry (ping, then the Basic or Bearer challenge
 * with these credentials) and on success stores them in the client's authfile (or the
 * default one) under the client's name. EACCES: "invalid username/password".
 */
int pea_registry_login(struct pea_registry_client *c, const char *user, const char *password,
                       struct pea_error **err);

struct pea_registry_manifest {
        char *data; /* NUL-terminated; NULL after a HEAD */
        size_t size;
        char *media_type;
        char *digest; /* "sha256:..." */
};

void pea_registry_manifest_done(struct pea_registry_manifest *m);

/*
 * GET /v2/<repo>/manifests/<ref> (ref: tag or digest) accepting the four manifest
 * types. The body is capped at PEA_REGISTRY_MANIFEST_MAX (EFBIG). The digest is the
 * Docker-Content-Digest header (checked against the body when it is sha256) or the
 * body's sha256; a digest ref must match the body (EBADMSG). ret is filled on success.
 */
int pea_registry_get_manifest(struct pea_registry_client *c, const char *repo, const char *ref,
                              struct pea_registry_manifest *ret, struct pea_error **err);

/* HEAD of the same; ret gets media_type, size and digest (if the registry sends it). */
int pea_registry_head_manifest(struct pea_registry_client *c, const char *repo, const char *ref,
                               struct pea_registry_manifest *ret, struct pea_error **err);

/* PUT /v2/<repo>/manifests/<ref>; ret_digest (optional) gets the manifest's digest. */
int pea_registry_put_manifest(struct pea_registry_client *c, const char *repo, const char *ref,
                              const char *media_type, const void *data, size_t size,
                              char **ret_digest, struct pea_error **err);

/*
 * Receives blob bytes. Returns >= 0, or a negative errno with err set, which stops the
 * download (and is not retried).
 */
typedef int (*pea_registry_write_fn)(void *userdata, const void *buf, size_t len,
                                     struct pea_error **err);

/*
 * GET /v2/<repo>/blobs/<digest>, following redirects, streamed to write(). The bytes
 * are hashed as they pass; at the end the digest and (if size >= 0) the size must
 * match, else -EBADMSG "digest mismatch for blob sha256:..: got sha256:..". The
 * callback sees the bytes before the check: write to a temporary file and keep it
 * only on success. A download interrupted by a transient error resumes (Range), so
 * write() sees every byte once, in order.
 */
int pea_registry_get_blob(struct pea_registry_client *c, const char *repo, const char *digest,
                          int64_t size, pea_registry_write_fn write, void *userdata,
                          struct pea_error **err);

/* HEAD /v2/<repo>/blobs/<digest>: 1 exists (ret_size optional), 0 missing. */
int pea_registry_blob_exists(struct pea_registry_client *c, const char *repo, const char *digest,
                             int64_t *ret_size, struct pea_error **err);

/*
 * Supplies upload bytes: returns the count (0 at the end) or a negative errno with err
 * set. rewind (optional) restarts the stream so a failed upload can be retried.
 */
typedef ssize_t (*pea_registry_read_fn)(void *userdata, void *buf, size_t len,
                                        struct pea_error **err);
typedef int (*pea_registry_rewind_fn)(void *userdata, struct pea_error **err);

struct pea_registry_blob_upload {
        const char *digest; /* "sha256:..." of the bytes read() yields */
        int64_t size;
        /* Optional: try a cross-repository mount from this repository first. */
        const char *mount_from;
        pea_registry_read_fn read;
        pea_registry_rewind_fn rewind;
        void *userdata;
};

/*
 * POST /v2/<repo>/blobs/uploads/ (with ?mount=&from= when mount_from is set), then a
 * monolithic PUT <location>?digest= streaming read(). Returns 1 when the blob was
 * mounted (nothing read), 0 when uploaded.
 */
int pea_registry_put_blob(struct pea_registry_client *c, const char *repo,
                          const struct pea_registry_blob_upload *up, struct pea_error **err);

/* Uploads a blob held in memory (a config); ret_digest (optional) gets its sha256. */
int pea_registry_put_blob_data(struct pea_registry_client *c, const char *repo, const void *data,
                               size_t size, char **ret_digest, struct pea_error **err);

/* GET /v2/<repo>/tags/list, following Link pagination (at most 100000 tags). */
int pea_registry_list_tags(struct pea_registry_client *c, const char *repo, char ***ret_tags,
                           struct pea_error **err);

/* GET /v2/_catalog, following Link pagination. */
int pea_registry_catalog(struct pea_registry_client *c, char ***ret_repos, struct pea_error **err);

/* "sha256:<64 hex>" of data. */
char *pea_registry_digest_data(const void *data, size_t size);

/*
 * auth.json, podman's format and places: {"auths":{"host":{"auth":"base64(user:pass)"}}}.
 * authfile (--authfile) or $REGISTRY_AUTH_FILE is the only file when set; otherwise
 * $XDG_RUNTIME_DIR/containers/auth.json (/run/containers/<uid>/auth.json without it),
 * then $XDG_CONFIG_HOME/containers/auth.json (~/.config), then ~/.docker/config.json
 * ($DOCKER_CONFIG/config.json), the last read only.
 */

/* The file login/logout write: the first of the list above. */
char *pea_registry_authfile_path(const char *authfile);

/* The files searched for credentials, in order. */
char **pea_registry_authfile_search_paths(const char *authfile);

/*
 * Finds credentials for key ("host[:port]" or "host/ns/repo"): in each file in order,
 * the longest of "host/ns/repo", "host/ns", "host", then any key that normalises to the
 * host ("https://host/v1/", index.docker.io for docker.io). 1 found, 0 none.
 */
int pea_registry_authfile_lookup(const char *authfile, const char *key, char **ret_user,
                                 char **ret_password, struct pea_error **err);

/* Adds or replaces auths[key] in path, keeping everything else; file 0600, dir 0700. */
int pea_registry_authfile_set(const char *path, const char *key, const char *user,
                              const char *password, struct pea_error **err);

/* Removes auths[key] from path: -ENOENT "not logged into 'key'" when absent. */
int pea_registry_authfile_remove(const char *path, const char *key, struct pea_error **err);
