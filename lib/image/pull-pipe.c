/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base.h"
#include "image/pull-internal.h"

/*
 * A ring buffer between the thread that downloads a layer (the registry
 * client pushes bytes into a write callback) and the one that unpacks it
 * (lib/layer pulls bytes through a read callback). No fds, no SIGPIPE, and
 * cancellation is a flag plus a broadcast.
 */

struct pull_pipe {
        pthread_mutex_t lock;
        pthread_cond_t readable; /* data, or the writer closed */
        pthread_cond_t writable; /* room, or the reader closed */
        unsigned char *buf;
        size_t cap;
        size_t head; /* next byte to read */
        size_t len;  /* bytes buffered */
        bool write_closed;
        int write_code; /* the writer's close code */
        bool read_closed;
        bool cancelled;
};

struct pull_pipe *pull_pipe_new(size_t capacity)
{
        struct pull_pipe *p = xcalloc(1, sizeof(*p));
        p->cap = capacity ? capacity : PULL_PIPE_DEFAULT;
        p->buf = xmalloc(p->cap);
        pthread_mutex_init(&p->lock, NULL);
        pthread_cond_init(&p->readable, NULL);
        pthread_cond_init(&p->writable, NULL);
        return p;
}

struct pull_pipe *pull_pipe_free(struct pull_pipe *p)
{
        if (!p)
                return NULL;
        pthread_mutex_destroy(&p->lock);
        pthread_cond_destroy(&p->readable);
        pthread_cond_destroy(&p->writable);
        free(p->buf);
        free(p);
        return NULL;
}

/* Copies up to n bytes in at the tail; returns how many. Called locked. */
static size_t put(struct pull_pipe *p, const unsigned char *src, size_t n)
{
        size_t room = p->cap - p->len;
        if (n > room)
                n = room;
        size_t tail = (p->head + p->len) % p->cap;
        size_t first = p->cap - tail < n ? p->cap - tail : n;
        memcpy(p->buf + tail, src, first);
        memcpy(p->buf, src + first, n - first);
        p->len += n;
        return n;
}

/* Copies up to n bytes out at the head; returns how many. Called locked. */
static size_t take(struct pull_pipe *p, unsigned char *dst, size_t n)
{
        if (n > p->len)
                n = p->len;
        size_t first = p->cap - p->head < n ? p->cap - p->head : n;
        memcpy(dst, p->buf + p->head, first);
        memcpy(dst + first, p->buf, n - first);
        p->head = (p->head + n) % p->cap;
        p->len -= n;
        return n;
}

int pull_pipe_write(struct pull_pipe *p, const void *buf, size_t len)
{
        const unsigned char *src = buf;
        int r = 0;
        pthread_mutex_lock(&p->lock);
        while (len > 0) {
                if (p->read_closed || p->cancelled) {
                        r = -EPIPE;
                        break;
                }
                if (p->len == p->cap) {
                        pthread_cond_wait(&p->writable, &p->lock);
                        continue;
                }
                size_t n = put(p, src, len);
                src += n;
                len -= n;
                pthread_cond_signal(&p->readable);
        }
        pthread_mutex_unlock(&p->lock);
        return r;
}

ssize_t pull_pipe_read(struct pull_pipe *p, void *buf, size_t len)
{
        ssize_t r = 0;
        pthread_mutex_lock(&p->lock);
        for (;;) {
                if (p->cancelled) {
                        r = -ECANCELED;
                        break;
                }
                if (p->len > 0 || len == 0) {
                        r = (ssize_t)take(p, buf, len);
                        pthread_cond_signal(&p->writable);
                        break;
                }
                if (p->write_closed) {
                        r = p->write_code < 0 ? p->write_code : 0;
                        break;
                }
                pthread_cond_wait(&p->readable, &p->lock);
        }
        pthread_mutex_unlock(&p->lock);
        return r;
}

void pull_pipe_close_write(struct pull_pipe *p, int code)
{
        pthread_mutex_lock(&p->lock);
        p->write_closed = true;
        p->write_code = code < 0 ? code : 0;
        pthread_cond_broadcast(&p->readable);
        pthread_mutex_unlock(&p->lock);
}

void pull_pipe_close_read(struct pull_pipe *p)
{
        pthread_mutex_lock(&p->lock);
        p->read_closed = true;
        pthread_cond_broadcast(&p->writable);
        pthread_mutex_unlock(&p->lock);
}

void pull_pipe_cancel(struct pull_pipe *p)
{
        pthread_mutex_lock(&p->lock);
        p->cancelled = true;
        pthread_cond_broadcast(&p->readable);
        pthread_cond_broadcast(&p->writable);
        pthread_mutex_unlock(&p->lock);
}
