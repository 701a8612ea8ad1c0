/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Go's text/tabwriter with flags 0, as podman's report writer uses it.
 * Cells end in '\t' (or '\v'); '\n' ends a line and '\f' ends a line and a
 * block. A column block is a run of consecutive lines that have the cell;
 * its width is the widest cell plus padding, at least minwidth. The last
 * cell of a line is not part of a column and is never padded.
 */
#include "config.h"

#include <stdlib.h>

#include "template-internal.h"
#include "util.h"

struct cell {
        size_t off;
        size_t size;
        size_t width; /* in runes */
        size_t pad_to;
};

struct line {
        struct cell *cells;
        size_t n;
        bool flush; /* ended by '\f' */
};

struct table {
        struct line *lines;
        size_t n;
        size_t cap;
};

static void add_cell(struct table *t, const char *text, size_t start, size_t end)
{
        struct line *l = &t->lines[t->n - 1];
        l->cells = xrealloc(l->cells, (l->n + 1) * sizeof(*l->cells));
        l->cells[l->n++] =
                (struct cell){start, end - start, tpl_utf8_count(text + start, end - start), 0};
}

static void add_line(struct table *t)
{
        if (t->n == t->cap) {
                t->cap = t->cap ? t->cap * 2 : 16;
                t->lines = xrealloc(t->lines, t->cap * sizeof(*t->lines));
        }
        t->lines[t->n++] = (struct line){};
}

static void split_cells(struct table *t, const char *text, size_t len)
{
        size_t start = 0;
        add_line(t);
        for (size_t i = 0; i < len; i++) {
                char c = text[i];
                if (c != '\t' && c != '\v' && c != '\n' && c != '\f')
                        continue;
                add_cell(t, text, start, i);
                start = i + 1;
                if (c == '\n' || c == '\f') {
                        t->lines[t->n - 1].flush = c == '\f';
                        add_line(t);
                }
        }
        /* Text after the last line break is a cell only if there is some. */
        if (start < len)
                add_cell(t, text, start, len);
}

static bool has_column(const struct line *l, size_t col)
{
        return l->n >= col + 2;
}

/* Sets pad_to of column col in every block; false if no line has the column. */
static bool column_widths(struct table *t, size_t col, size_t minwidth, size_t padding)
{
        bool any = false;
        for (size_t i = 0; i < t->n;) {
                size_t j = i, width = minwidth;
                if (!has_column(&t->lines[i], col)) {
                        i++;
                        continue;
                }
                any = true;
                for (;;) {
                        const struct cell *c = &t->lines[j].cells[col];
                        bool stop = t->lines[j].flush;
                        if (c->width + padding > width)
                                width = c->width + padding;
                        j++;
                        if (stop || j >= t->n || !has_column(&t->lines[j], col))
                                break;
                }
                for (size_t k = i; k < j; k++)
                        t->lines[k].cells[col].pad_to = width;
                i = j;
        }
        return any;
}

void tpl_tabwrite(struct tpl_buf *out, const char *text, size_t len, size_t minwidth,
                  size_t padding, char padchar)
{
        struct table t = {};
        split_cells(&t, text, len);
        for (size_t col = 0; column_widths(&t, col, minwidth, padding); col++)
                ;
        tpl_buf_add(out, "", 0);
        for (size_t i = 0; i < t.n; i++) {
                const struct line *l = &t.lines[i];
                for (size_t j = 0; j < l->n; j++) {
                        const struct cell *c = &l->cells[j];
                        tpl_buf_add(out, text + c->off, c->size);
                        if (j + 1 < l->n && c->pad_to > c->width)
                                tpl_buf_repeat(out, padchar, c->pad_to - c->width);
                }
                if (i + 1 < t.n)
                        tpl_buf_putc(out, '\n');
                free(l->cells);
        }
        free(t.lines);
}
