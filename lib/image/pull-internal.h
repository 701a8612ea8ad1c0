/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include <sys/types.h>

#include "image/pull.h"

struct pea_error;
struct pea_image_config;
struct pea_image_store;
struct pea_layer_unpack_opts;
struct pea_manifest;

/* ---- pull-pipe.c: a bounded byte pipe from a download thread to an unpack thread ---- */

struct pull_pipe;

/* capacity: bytes buffered at most (0: PULL_PIPE_DEFAULT). */
#define PULL_PIPE_DEFAULT (1024u * 1024)

struct pull_pipe *pull_pipe_new(size_t capacity);
struct pull_pipe *pull_pipe_free(struct pull_pipe *p);

/* Writes all of buf, waiting while the pipe is full: 0, or -EPIPE once the reader is gone. */
int pull_pipe_write(struct pull_pipe *p, const void *buf, size_t len);

/*
 * Reads up to len bytes, waiting while the pipe is empty: the count, 0 at the
 * end (the writer closed with 0), the writer's negative close code, or
 * -ECANCELED after pull_pipe_cancel().
 */
ssize_t pull_pipe_read(struct pull_pipe *p, void *buf, size_t len);

/* The writer is done: 0 for a complete stream, else a negative errno the reader gets. */
void pull_pipe_close_write(struct pull_pipe *p, int code);

/* The reader is done: writes fail with -EPIPE from now on. */
void pull_pipe_close_read(struct pull_pipe *p);

/* Both ends fail from now on (writes -EPIPE, reads -ECANCELED). */
void pull_pipe_cancel(struct pull_pipe *p);

/* ---- pull.c: progress events, one at a time ---- */

struct pull_progress {
        pea_image_pull_progress_fn fn;
        void *userdata;
        pthread_mutex_t lock;
};

void pull_emit(struct pull_progress *p, const struct pea_image_pull_event *ev);

/* ---- pull-layers.c ---- */

struct pull_layers {
        struct pea_image_store *store;
        const struct pea_image_transport *transport;
        void *conn;
        const char *repo; /* as the registry names it */
        const struct pea_manifest *manifest;
        const struct pea_image_config *config;
        const struct pea_layer_unpack_opts *unpack;
        unsigned parallel;
        struct pull_progress *progress;
        size_t *committed; /* counts the layers this pull committed */
};

/*
 * Makes every layer of the manifest present in the store (pinned), fetching
 * and unpacking the missing ones in parallel and committing them base first.
 * On failure nothing new is committed above the failing layer, every
 * unpacked tmp directory is removed, and err names the blob.
 */
int pull_layers(const struct pull_layers *pl, struct pea_error **err);
