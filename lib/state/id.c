/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sys/random.h>

#include "state-internal.h"

static const char hex_digits[] = "0123456789abcdef";

/* /dev/urandom for kernels without getrandom(2). */
static int read_urandom(uint8_t *buf, size_t n)
{
        _cleanup_close_ int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        for (size_t done = 0; done < n;) {
                ssize_t k = read(fd, buf + done, n - done);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return k < 0 ? -errno : -EIO;
                done += (size_t)k;
        }
        return 0;
}

static void fill_random(uint8_t *buf, size_t n)
{
        for (size_t done = 0; done < n;) {
                ssize_t k = getrandom(buf + done, n - done, 0);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0) {
                        /* No randomness at all is as fatal as no memory. */
                        if (read_urandom(buf + done, n - done) < 0)
                                abort();
                        return;
                }
                done += (size_t)k;
        }
}

char *pea_generate_id(void)
{
        for (;;) {
                uint8_t b[32];
                fill_random(b, sizeof(b));
                char *id = xmalloc(2 * sizeof(b) + 1);
                for (size_t i = 0; i < sizeof(b); i++) {
                        id[2 * i] = hex_digits[b[i] >> 4];
                        id[2 * i + 1] = hex_digits[b[i] & 0xf];
                }
                id[2 * sizeof(b)] = '\0';
                /* As moby does: an all-digit short ID would read as a number. */
                if (strspn(id, "0123456789") < 12)
                        return id;
                free(id);
        }
}

bool pea_id_is_valid(const char *id)
{
        return id && strlen(id) == 64 && strspn(id, hex_digits) == 64;
}
