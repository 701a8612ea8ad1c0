/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pea-init: the tiny init of `pea run --init`, bound at /run/pea-init and run
 * as the container's PID 1. It forks the command, forwards the signals it
 * gets to the command's process, reaps every zombie, and exits with the
 * command's status (128+N when a signal killed it). No libpea: it is linked
 * statically when possible and must work in any image.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/prctl.h>
#include <sys/wait.h>

static int status_code(int st)
{
        if (WIFEXITED(st))
                return WEXITSTATUS(st);
        if (WIFSIGNALED(st))
                return 128 + WTERMSIG(st);
        return 255;
}

static __attribute__((noreturn)) void exec_child(char **argv, const sigset_t *old)
{
        (void)sigprocmask(SIG_SETMASK, old, NULL);
        /* a foreground process group of its own, so a terminal's ^C reaches it */
        (void)setpgid(0, 0);
        execvp(argv[0], argv);
        int e = errno;
        fprintf(stderr, "pea-init: executing '%s': %s\n", argv[0], strerror(e));
        _exit(e == ENOENT ? 127 : 126);
}

/* Reaps every exited child; returns the command's code once it is gone, else -1. */
static int reap(pid_t child)
{
        int code = -1, st = 0;
        pid_t p;
        while ((p = waitpid(-1, &st, WNOHANG)) > 0)
                if (p == child)
                        code = status_code(st);
        return code;
}

int main(int argc, char **argv)
{
        /* "pea-init -- CMD ...", as podman calls catatonit and tini */
        if (argc >= 2 && strcmp(argv[1], "--") == 0) {
                argv++;
                argc--;
        }
        if (argc < 2) {
                fprintf(stderr, "usage: pea-init COMMAND [ARG...]\n");
                return 125;
        }
        sigset_t all, old;
        sigfillset(&all);
        sigdelset(&all, SIGKILL);
        sigdelset(&all, SIGSTOP);
        if (sigprocmask(SIG_BLOCK, &all, &old) < 0)
                return 125;
        pid_t child = fork();
        if (child < 0) {
                perror("pea-init: fork");
                return 125;
        }
        if (child == 0)
                exec_child(argv + 1, &old);
        (void)setpgid(child, child);
        if (isatty(STDIN_FILENO))
                (void)tcsetpgrp(STDIN_FILENO, child);
        int code = -1;
        while (code < 0) {
                int sig = 0;
                if (sigwait(&all, &sig) != 0)
                        continue;
                if (sig == SIGCHLD) {
                        code = reap(child);
                        continue;
                }
                /* SIGTTIN, SIGTTOU and SIGTSTP would stop us: the child gets them */
                (void)kill(child, sig);
        }
        /* grandchildren left behind get a last chance to be reaped */
        while (waitpid(-1, NULL, WNOHANG) > 0)
                ;
        return code;
}
