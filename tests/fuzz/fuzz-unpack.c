/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for pea_layer_unpack(): any input (gzip, zstd, tar or
 * garbage) must fail cleanly or unpack inside the destination. After every
 * input the destination's sibling "outside" must still be empty, and nothing
 * else may appear next to them; a violation aborts.
 *
 *   clang -fsanitize=fuzzer,address tests/fuzz/fuzz-unpack.c + the lib/layer and lib/base sources
 */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "base.h"
#include "layer/layer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct mem {
        const uint8_t *p;
        size_t len, off;
};

static char *fuzz_root;
static char *fuzz_dest;
static char *fuzz_outside;

static ssize_t mem_read(void *userdata, void *buf, size_t len, struct pea_error **err _unused_)
{
        struct mem *m = userdata;
        size_t n = m->len - m->off;
        if (n > len)
                n = len;
        /* Small, uneven reads exercise the buffering between the two readers. */
        if (n > 4093)
                n = 4093;
        memcpy(buf, m->p + m->off, n);
        m->off += n;
        return (ssize_t)n;
}

static void fuzz_init(void)
{
        fuzz_root = xstrdup("/tmp/pea-fuzz-unpack-XXXXXX");
        if (!mkdtemp(fuzz_root))
                abort();
        fuzz_dest = xasprintf("%s/dest", fuzz_root);
        fuzz_outside = xasprintf("%s/outside", fuzz_root);
        if (mkdir(fuzz_outside, 0755) < 0)
                abort();
}

/* Aborts when the directory holds anything but the allowed names. */
static void assert_only(const char *dir, const char *a, const char *b)
{
        _cleanup_closedir_ DIR *d = opendir(dir);
        if (!d)
                abort();
        for (struct dirent *de; (de = readdir(d));) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (streq_ptr(de->d_name, a) || streq_ptr(de->d_name, b))
                        continue;
                fprintf(stderr, "'%s/%s' was created outside the layer directory\n", dir,
                        de->d_name);
                abort();
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (!fuzz_root)
                fuzz_init();
        if (pea_rm_rf(fuzz_dest, NULL) < 0 || mkdir(fuzz_dest, 0755) < 0)
                abort();
        _cleanup_close_ int fd = open(fuzz_dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                abort();
        struct mem m = {.p = data, .len = size};
        struct pea_layer_source src = {.read = mem_read, .userdata = &m};
        struct pea_layer_unpack_opts opts = {
                .whiteout = (enum pea_whiteout_mode)(size % _PEA_WHITEOUT_MODE_MAX),
                .rootless_single_id = true,
                .no_openat2 = (size / _PEA_WHITEOUT_MODE_MAX) % 2,
                .max_entries = 10000,
                .max_size = 64u << 20,
        };
        _cleanup_error_ struct pea_error *err = NULL;
        int r = pea_layer_unpack(&src, fd, &opts, NULL, &err);
        if (r < 0 && (!err || err->code != -r))
                abort(); /* the error contract */
        assert_only(fuzz_root, "dest", "outside");
        assert_only(fuzz_outside, NULL, NULL);
        return 0;
}
