/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <sys/ioctl.h>

#include "base.h"
#include "runtime-internal.h"

/*
 * The container's terminal: a pty from the container's own devpts instance
 * (the host's /dev/ptmx when the spec mounts none), made in stage 2 after the
 * mounts. The master goes to the console socket or back to the runtime.
 */

int runtime_pty_setup(int rootfd, int *ret_master, int *ret_slave, struct pea_error **err)
{
        _cleanup_error_ struct pea_error *e = NULL;
        _cleanup_close_ int master =
                runtime_open_in_root(rootfd, "/dev/pts/ptmx", O_RDWR | O_NOCTTY, &e);
        if (master < 0 && e->code != ENOENT)
                return pea_error_set(err, e->code, "creating the pty: %s", e->msg);
        if (master < 0)
                master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (master < 0)
                return pea_error_syscall(err, errno, "opening '/dev/ptmx'");
        int unlock = 0;
        if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
                return pea_error_syscall(err, errno, "unlocking the pty");
        int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (slave < 0)
                return pea_error_syscall(err, errno, "opening the pty slave");
        *ret_master = TAKE_FD(master);
        *ret_slave = slave;
        return 0;
}

/* The slave as controlling terminal and stdio of a new session. */
int runtime_pty_make_controlling(int slave, struct pea_error **err)
{
        if (setsid() < 0)
                return pea_error_syscall(err, errno, "setsid");
        if (ioctl(slave, TIOCSCTTY, 0) < 0)
                return pea_error_syscall(err, errno, "setting the controlling terminal");
        for (int fd = 0; fd < 3; fd++)
                if (dup2(slave, fd) < 0)
                        return pea_error_syscall(err, errno, "dup2 of the pty to fd %d", fd);
        if (slave > 2)
                (void)close(slave);
        return 0;
}

void runtime_tty_raw(struct runtime_tty *t, int fd)
{
        *t = (struct runtime_tty){.fd = fd};
        if (!isatty(fd) || tcgetattr(fd, &t->saved) < 0)
                return;
        struct termios raw = t->saved;
        cfmakeraw(&raw);
        if (tcsetattr(fd, TCSANOW, &raw) == 0)
                t->raw = true;
}

void runtime_tty_restore(struct runtime_tty *t)
{
        if (t->raw)
                (void)tcsetattr(t->fd, TCSANOW, &t->saved);
        t->raw = false;
}

void runtime_winsize_copy(int from, int to)
{
        struct winsize ws;
        if (ioctl(from, TIOCGWINSZ, &ws) == 0)
                (void)ioctl(to, TIOCSWINSZ, &ws);
}

int runtime_copy_once(int from, int to)
{
        char buf[8192];
        ssize_t n;
        do
                n = read(from, buf, sizeof(buf));
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return errno == EIO ? 0 : -errno; /* EIO: the slave side is gone */
        for (ssize_t off = 0; off < n;) {
                ssize_t w = write(to, buf + off, (size_t)(n - off));
                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0)
                        return -errno;
                off += w;
        }
        return n > 0 ? 1 : 0;
}
