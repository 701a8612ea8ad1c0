/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <stdint.h>

#include <sqlite3.h>

#include "state-internal.h"

/* 64 lowercase hex characters. */
#define ID_CHECK(col) "CHECK (length(" col ") = 64 AND " col " NOT GLOB '*[^0-9a-f]*')"

/*
 * The schema, one step per version: migrations[i] takes user_version i to i + 1.
 * Steps are append-only; a released step is never edited.
 */
static const char *const migrations[] = {
        /* 1: containers, pods, images, volumes, networks */
        "CREATE TABLE pods ("
        "  id TEXT PRIMARY KEY NOT NULL " ID_CHECK(
                "id") ","
                      "  name TEXT UNIQUE NOT NULL CHECK (name <> ''),"
                      "  infra_id TEXT,"
                      "  config TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(config)),"
                      "  created INTEGER NOT NULL DEFAULT 0"
                      ");"
                      "CREATE TABLE containers ("
                      "  id TEXT PRIMARY KEY NOT NULL " ID_CHECK(
                              "id") ","
                                    "  name TEXT UNIQUE NOT NULL CHECK (name <> ''),"
                                    "  image_id TEXT,"
                                    "  image_name TEXT,"
                                    "  pod_id TEXT REFERENCES pods(id),"
                                    "  state TEXT NOT NULL CHECK (state IN ('created', 'running', 'paused', 'stopped',"
                                    "                                       'exited', 'removing', 'unknown')),"
                                    "  config TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(config)),"
                                    "  created INTEGER NOT NULL DEFAULT 0,"
                                    "  pid INTEGER NOT NULL DEFAULT 0,"
                                    "  exit_code INTEGER NOT NULL DEFAULT 0,"
                                    "  started_at INTEGER NOT NULL DEFAULT 0,"
                                    "  finished_at INTEGER NOT NULL DEFAULT 0"
                                    ");"
                                    "CREATE INDEX containers_pod_id ON containers(pod_id);"
                                    "CREATE INDEX containers_created ON containers(created);"
                                    "CREATE TABLE images ("
                                    "  id TEXT PRIMARY KEY NOT NULL " ID_CHECK(
                                            "id") ","
                                                  "  digest TEXT,"
                                                  "  config TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(config)),"
                                                  "  created INTEGER NOT NULL DEFAULT 0,"
                                                  "  size INTEGER NOT NULL DEFAULT 0"
                                                  ");"
                                                  "CREATE TABLE image_names ("
                                                  "  name TEXT PRIMARY KEY NOT NULL,"
                                                  "  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE"
                                                  ");"
                                                  "CREATE INDEX image_names_image_id ON image_names(image_id);"
                                                  "CREATE TABLE volumes ("
                                                  "  name TEXT PRIMARY KEY NOT NULL CHECK (name <> ''),"
                                                  "  driver TEXT NOT NULL DEFAULT 'local',"
                                                  "  mountpoint TEXT NOT NULL,"
                                                  "  options TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(options)),"
                                                  "  labels TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(labels)),"
                                                  "  created INTEGER NOT NULL DEFAULT 0"
                                                  ");"
                                                  "CREATE TABLE networks ("
                                                  "  name TEXT PRIMARY KEY NOT NULL CHECK (name <> ''),"
                                                  "  config TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(config))"
                                                  ");",
        /*
         * 2: the image store. layers are unpacked layers by chain ID (the
         * directory <graph>/layers/<hex> exists whenever the row does);
         * image_layers is each image's layer list; images get the columns of
         * lib/image's records. image_names keeps its rowid order (tag order).
         */
        "CREATE TABLE layers ("
        "  chain_id TEXT PRIMARY KEY NOT NULL"
        "    CHECK (length(chain_id) = 71 AND chain_id GLOB 'sha256:*'),"
        "  diff_id TEXT NOT NULL CHECK (diff_id GLOB 'sha256:*'),"
        "  parent_chain_id TEXT REFERENCES layers(chain_id),"
        "  digest TEXT,"
        "  media_type TEXT,"
        "  size INTEGER NOT NULL DEFAULT 0 CHECK (size >= 0),"
        "  whiteout TEXT NOT NULL DEFAULT 'overlay'"
        "    CHECK (whiteout IN ('overlay', 'overlay-userxattr', 'aufs')),"
        "  created INTEGER NOT NULL DEFAULT 0"
        ");"
        "CREATE INDEX layers_parent ON layers(parent_chain_id);"
        "CREATE INDEX layers_digest ON layers(digest);"
        "CREATE TABLE image_layers ("
        "  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
        "  idx INTEGER NOT NULL CHECK (idx >= 0),"
        "  chain_id TEXT NOT NULL REFERENCES layers(chain_id),"
        "  PRIMARY KEY (image_id, idx)"
        ");"
        "CREATE INDEX image_layers_chain_id ON image_layers(chain_id);"
        "ALTER TABLE images ADD COLUMN manifest_media_type TEXT;"
        "ALTER TABLE images ADD COLUMN repo_digests TEXT NOT NULL DEFAULT '[]'"
        "  CHECK (json_valid(repo_digests));"
        "ALTER TABLE images ADD COLUMN os TEXT;"
        "ALTER TABLE images ADD COLUMN architecture TEXT;"
        "ALTER TABLE images ADD COLUMN variant TEXT;"
        "ALTER TABLE images ADD COLUMN added INTEGER NOT NULL DEFAULT 0;"
        "CREATE INDEX images_digest ON images(digest);",
        /*
         * 3: volumes (lib/volume). The flags of podman's volume state, and
         * container_volumes: which containers use which named volumes (written
         * with the container, dropped with it), so a volume in use is not removed.
         */
        "ALTER TABLE volumes ADD COLUMN anonymous INTEGER NOT NULL DEFAULT 0;"
        "ALTER TABLE volumes ADD COLUMN needs_copy_up INTEGER NOT NULL DEFAULT 1;"
        "ALTER TABLE volumes ADD COLUMN needs_chown INTEGER NOT NULL DEFAULT 1;"
        "ALTER TABLE volumes ADD COLUMN mount_count INTEGER NOT NULL DEFAULT 0"
        "  CHECK (mount_count >= 0);"
        "CREATE TABLE container_volumes ("
        "  container_id TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,"
        "  volume_name TEXT NOT NULL REFERENCES volumes(name),"
        "  PRIMARY KEY (container_id, volume_name)"
        ");"
        "CREATE INDEX container_volumes_volume ON container_volumes(volume_name);",
};

int state_schema_latest(void)
{
        return (int)ELEMENTSOF(migrations);
}

int state_schema_version(struct pea_state *s, int *ret, struct pea_error **err)
{
        int64_t v = 0;
        int r = state_query_int(s, "PRAGMA user_version", &v, err);
        if (r < 0)
                return r;
        *ret = (int)v;
        return 0;
}

static int check_version(int v, struct pea_error **err)
{
        if (v < 0 || v > state_schema_latest())
                return pea_error_set(err, ENOTSUP,
                                     "schema version %d is newer than the newest this pea "
                                     "knows (%d): upgrade pea",
                                     v, state_schema_latest());
        return 0;
}

static int read_version_fn(struct pea_state *s, void *userdata, struct pea_error **err)
{
        return state_schema_version(s, userdata, err);
}

/* Takes the schema to version *target, unless another process already did. */
static int step_fn(struct pea_state *s, void *userdata, struct pea_error **err)
{
        int target = *(const int *)userdata;
        int v = 0;
        int r = state_schema_version(s, &v, err);
        if (r < 0)
                return r;
        r = check_version(v, err);
        if (r < 0 || v >= target)
                return r;

        pea_debug("migrating state database '%s' to schema version %d", s->path, target);
        r = state_exec(s, migrations[target - 1], err);
        if (r < 0)
                return pea_error_wrap(err, "migrating to schema version %d", target);
        _cleanup_free_ char *bump = xasprintf("PRAGMA user_version = %d", target);
        return state_exec(s, bump, err);
}

int state_migrate(struct pea_state *s, struct pea_error **err)
{
        int v = 0;
        int r = state_run(s, false, read_version_fn, &v, err);
        if (r < 0)
                return r;
        r = check_version(v, err);
        if (r < 0)
                return r;
        /* Each step is its own IMMEDIATE transaction that re-reads the version. */
        for (int target = v + 1; target <= state_schema_latest(); target++) {
                r = state_run(s, true, step_fn, &target, err);
                if (r < 0)
                        return r;
        }
        return 0;
}
