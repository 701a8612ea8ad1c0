/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base.h"
#include "image/image-internal.h"
#include "image/image.h"
#include "image/pull-internal.h"
#include "image/store-internal.h"
#include "image/store.h"
#include "layer/layer.h"

/*
 * The layers of one pull. The main thread decides which layers are missing,
 * opens a .tmp directory and a blob writer for each, and then commits them in
 * order as they complete. Up to pl->parallel worker threads take the missing
 * layers in order; each starts a download thread that feeds a pull_pipe (and
 * the blob file) while the worker unpacks from the pipe.
 */

/* Progress is reported every this many bytes of a blob. */
#define PROGRESS_STEP (256 * 1024)

struct job {
        const struct pull_layers *pl;
        size_t index;
        const struct pea_descriptor *desc;
        const char *diff_id;
        char *chain_id;
        bool present; /* in the store already */
        struct pea_image_store_tmp *tmp;
        struct store_blob_writer *blob;
        struct pull_pipe *pipe;
        struct pea_layer_stats stats;
        /* written by the download thread, read after it is joined */
        int64_t received;
        int64_t reported;
        bool write_refused; /* the reader was gone */
        int dl_r;
        struct pea_error *dl_err;
        /* the outcome, read by the main thread once done is set */
        int r;
        struct pea_error *err;
        bool done;
};

struct sched {
        const struct pull_layers *pl;
        pthread_mutex_t lock;
        pthread_cond_t changed; /* a job is done */
        struct job *jobs;
        size_t n_jobs;
        size_t *queue; /* indexes of the missing layers, base first */
        size_t n_queue;
        size_t next; /* the next queue entry a worker takes */
        bool cancelled;
};

static void emit(const struct job *j, enum pea_image_pull_event_type type, int64_t done)
{
        struct pea_image_pull_event ev = {
                .type = type,
                .digest = j->desc->digest,
                .index = j->index,
                .n_layers = j->pl->manifest->n_layers,
                .size = j->desc->size,
                .done = done,
                .skipped = j->present,
        };
        pull_emit(j->pl->progress, &ev);
}

/* ---- one layer: download thread and unpacking ------------------------------------------- */

static int job_write(void *userdata, const void *buf, size_t len, struct pea_error **err)
{
        struct job *j = userdata;
        if (j->blob) {
                int r = store_blob_writer_write(j->blob, buf, len, err);
                if (r < 0)
                        return r;
        }
        if (pull_pipe_write(j->pipe, buf, len) < 0) {
                j->write_refused = true;
                return pea_error_set(err, ECANCELED, "unpacking stopped");
        }
        j->received += (int64_t)len;
        if (j->received - j->reported >= PROGRESS_STEP) {
                j->reported = j->received;
                emit(j, PEA_PULL_PROGRESS, j->received);
        }
        return 0;
}

static void *download_thread(void *userdata)
{
        struct job *j = userdata;
        const struct pull_layers *pl = j->pl;
        j->dl_r = pl->transport->get_blob(pl->conn, pl->repo, j->desc->digest, j->desc->size,
                                          job_write, j, &j->dl_err);
        if (j->dl_r < 0 && !j->dl_err)
                (void)pea_error_set(&j->dl_err, -j->dl_r, "reading blob %s", j->desc->digest);
        pull_pipe_close_write(j->pipe, j->dl_r < 0 ? j->dl_r : 0);
        return NULL;
}

static ssize_t job_read(void *userdata, void *buf, size_t len, struct pea_error **err)
{
        struct job *j = userdata;
        ssize_t n = pull_pipe_read(j->pipe, buf, len);
        if (n == -ECANCELED)
                return pea_error_set(err, ECANCELED, "pull cancelled");
        if (n < 0)
                return pea_error_set(err, (int)-n, "downloading blob %s failed", j->desc->digest);
        return n;
}

/* What the unpacked stream must match: the config's diff ID and the manifest's digest. */
static int check_unpacked(struct job *j, struct pea_error **err)
{
        if (!streq(j->stats.diff_id, j->diff_id))
                return pea_error_set(err, EBADMSG,
                                     "layer diff ID mismatch: the config says %s, the layer is %s",
                                     j->diff_id, j->stats.diff_id);
        if (startswith(j->desc->digest, "sha256:") && !streq(j->stats.digest, j->desc->digest))
                return pea_error_set(err, EBADMSG, "digest mismatch for blob %s: got %s",
                                     j->desc->digest, j->stats.digest);
        if (j->blob)
                return store_blob_writer_finish(TAKE_PTR(j->blob), j->desc->digest, NULL, err);
        return 0;
}

/* Downloads and unpacks j into its tmp directory; sets j->r and j->err. */
static void run_job(struct job *j)
{
        _cleanup_error_ struct pea_error *uerr = NULL;
        pthread_t dl;
        if (pthread_create(&dl, NULL, download_thread, j) != 0) {
                j->r = pea_error_syscall(&j->err, errno ?: EAGAIN, "starting a download thread");
                return;
        }
        struct pea_layer_source src = {.read = job_read, .userdata = j};
        int r = pea_layer_unpack(&src, j->tmp->diff_fd, j->pl->unpack, &j->stats, &uerr);
        pull_pipe_close_read(j->pipe);
        pthread_join(dl, NULL);
        if (j->dl_r < 0 && !j->write_refused) {
                /* the root cause: the unpacker only saw the stream end early */
                j->r = j->dl_r;
                j->err = TAKE_PTR(j->dl_err);
                return;
        }
        if (r >= 0)
                r = check_unpacked(j, &uerr);
        if (r < 0) {
                j->r = r;
                j->err = TAKE_PTR(uerr);
                return;
        }
        emit(j, PEA_PULL_PROGRESS, j->received);
        emit(j, PEA_PULL_BLOB_DONE, j->received);
}

/* ---- scheduling ----------------------------------------------------------------------------- */

static void *worker(void *userdata)
{
        struct sched *s = userdata;
        for (;;) {
                pthread_mutex_lock(&s->lock);
                if (s->cancelled || s->next >= s->n_queue) {
                        pthread_mutex_unlock(&s->lock);
                        return NULL;
                }
                struct job *j = &s->jobs[s->queue[s->next++]];
                pthread_mutex_unlock(&s->lock);
                run_job(j);
                pthread_mutex_lock(&s->lock);
                j->done = true;
                pthread_cond_broadcast(&s->changed);
                pthread_mutex_unlock(&s->lock);
        }
}

static void sched_cancel(struct sched *s)
{
        pthread_mutex_lock(&s->lock);
        s->cancelled = true;
        pthread_mutex_unlock(&s->lock);
        for (size_t i = 0; i < s->n_jobs; i++)
                if (s->jobs[i].pipe)
                        pull_pipe_cancel(s->jobs[i].pipe);
}

static void wait_done(struct sched *s, struct job *j)
{
        pthread_mutex_lock(&s->lock);
        while (!j->done)
                pthread_cond_wait(&s->changed, &s->lock);
        pthread_mutex_unlock(&s->lock);
}

static enum pea_image_whiteout stored_whiteout(const struct pea_layer_unpack_opts *o,
                                               const struct pea_layer_stats *st)
{
        if ((o && o->whiteout == PEA_WHITEOUT_AUFS) || st->whiteout_fallbacks > 0)
                return PEA_IMAGE_WHITEOUT_AUFS;
        return o && o->userxattr ? PEA_IMAGE_WHITEOUT_OVERLAY_USERXATTR
                                 : PEA_IMAGE_WHITEOUT_OVERLAY;
}

static int commit_job(struct sched *s, struct job *j, struct pea_error **err)
{
        const struct pea_layer_unpack_opts *o = s->pl->unpack;
        struct pea_image_layer_info info = {
                .parent_chain_id = j->index > 0 ? s->jobs[j->index - 1].chain_id : NULL,
                .diff_id = j->diff_id,
                .digest = j->desc->digest,
                .media_type = j->desc->media_type,
                .size = (int64_t)j->stats.uncompressed_size,
                .whiteout = stored_whiteout(o, &j->stats),
        };
        return pea_image_store_layer_commit(s->pl->store, TAKE_PTR(j->tmp), &info, NULL, err);
}

/* Commits the jobs in order as they finish; stops at the first failure. */
static int commit_all(struct sched *s, struct pea_error **err)
{
        for (size_t q = 0; q < s->n_queue; q++) {
                struct job *j = &s->jobs[s->queue[q]];
                wait_done(s, j);
                int r = j->r;
                if (r < 0) {
                        if (err && !*err)
                                *err = TAKE_PTR(j->err);
                } else {
                        r = commit_job(s, j, err);
                        if (r >= 0)
                                (*s->pl->committed)++;
                }
                if (r < 0)
                        return image_error_wrap(r, err, "copying blob %s", j->desc->digest);
        }
        return 0;
}

/* ---- setup ---------------------------------------------------------------------------------- */

/* Chain IDs, presence (pinning each) and the BLOB events, base first. */
static int plan_jobs(struct sched *s, struct pea_error **err)
{
        const struct pull_layers *pl = s->pl;
        s->n_jobs = pl->manifest->n_layers;
        s->jobs = xcalloc(s->n_jobs ? s->n_jobs : 1, sizeof(*s->jobs));
        s->queue = xcalloc(s->n_jobs ? s->n_jobs : 1, sizeof(*s->queue));
        for (size_t i = 0; i < s->n_jobs; i++) {
                struct job *j = &s->jobs[i];
                *j = (struct job){.pl = pl, .index = i, .desc = &pl->manifest->layers[i]};
                j->diff_id = pl->config->diff_ids[i];
                int r = pea_image_chain_id(i > 0 ? s->jobs[i - 1].chain_id : NULL, j->diff_id,
                                           &j->chain_id, err);
                if (r >= 0)
                        r = pea_image_store_layer_exists(pl->store, j->chain_id, err);
                if (r < 0)
                        return r;
                j->present = r > 0;
                if (!j->present)
                        s->queue[s->n_queue++] = i;
                emit(j, PEA_PULL_BLOB, 0);
        }
        return 0;
}

static int prepare_job(struct sched *s, struct job *j, struct pea_error **err)
{
        j->pipe = pull_pipe_new(0);
        int r = pea_image_store_layer_begin(s->pl->store, &j->tmp, err);
        if (r >= 0)
                r = store_blob_writer_new(s->pl->store, j->desc->digest, &j->blob, err);
        return r;
}

static void sched_done(struct sched *s)
{
        for (size_t i = 0; i < s->n_jobs; i++) {
                struct job *j = &s->jobs[i];
                free(j->chain_id);
                pea_image_store_layer_abort(s->pl->store, j->tmp);
                store_blob_writer_free(j->blob);
                pull_pipe_free(j->pipe);
                pea_error_clear(&j->dl_err);
                pea_error_clear(&j->err);
        }
        free(s->jobs);
        free(s->queue);
        pthread_mutex_destroy(&s->lock);
        pthread_cond_destroy(&s->changed);
}

static int start_workers(struct sched *s, pthread_t *threads, size_t n, size_t *ret_started,
                         struct pea_error **err)
{
        for (size_t i = 0; i < n; i++) {
                int e = pthread_create(&threads[i], NULL, worker, s);
                if (e != 0) {
                        *ret_started = i;
                        return pea_error_syscall(err, e, "starting a layer thread");
                }
        }
        *ret_started = n;
        return 0;
}

int pull_layers(const struct pull_layers *pl, struct pea_error **err)
{
        struct sched s = {.pl = pl};
        pthread_mutex_init(&s.lock, NULL);
        pthread_cond_init(&s.changed, NULL);
        size_t started = 0;
        pthread_t threads[64];
        size_t want = pl->parallel ? pl->parallel : PEA_IMAGE_PULL_PARALLEL;
        if (want > ELEMENTSOF(threads))
                want = ELEMENTSOF(threads);
        int r = plan_jobs(&s, err);
        for (size_t q = 0; r >= 0 && q < s.n_queue; q++)
                r = prepare_job(&s, &s.jobs[s.queue[q]], err);
        if (r >= 0)
                r = start_workers(&s, threads, s.n_queue < want ? s.n_queue : want, &started, err);
        if (r >= 0)
                r = commit_all(&s, err);
        if (r < 0)
                sched_cancel(&s);
        for (size_t i = 0; i < started; i++)
                pthread_join(threads[i], NULL);
        sched_done(&s);
        return r;
}
