/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <sys/mman.h>

#include "base.h"
#include "monitor-internal.h"

/*
 * Once the container runs, the monitor's code and tables for setting it up
 * (the runtime, config parsing, seccomp) are no longer needed, but their
 * pages stay mapped: each fault mapped a 64 KiB window around it. A private
 * file mapping that is not writable and holds no anonymous (copied-on-write,
 * say relocated) page is exactly the file's contents, so dropping its page
 * table entries loses nothing: a page used again faults back in from the page
 * cache, which all monitors share.
 */

struct mapping {
        unsigned long start, end;
        bool candidate;
};

static void parse_header(const char *line, struct mapping *m)
{
        char perms[8] = "";
        int path = 0;
        *m = (struct mapping){0};
        if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %n", &m->start, &m->end, perms, &path) < 3)
                return;
        /* File-backed (not [vdso], [vsyscall], anonymous), private, read-only. */
        m->candidate = path > 0 && line[path] == '/' && perms[1] == '-' && perms[3] == 'p';
}

void monitor_trim_memory(void)
{
        _cleanup_fclose_ FILE *f = fopen("/proc/self/smaps", "re");
        char line[512];
        struct mapping m = {0};
        if (!f)
                return;
        while (fgets(line, sizeof(line), f)) {
                unsigned long anon = 1;
                if (strchr(line, '-') && line[0] != ' ' && strchr(line, ' ') > strchr(line, '-')) {
                        parse_header(line, &m);
                        continue;
                }
                if (!m.candidate || sscanf(line, "Anonymous: %lu", &anon) != 1)
                        continue;
                if (anon == 0)
                        (void)madvise((void *)m.start, m.end - m.start, MADV_DONTNEED);
                m.candidate = false;
        }
}
