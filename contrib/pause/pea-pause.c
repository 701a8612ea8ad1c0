/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pea-pause: the process of a pod's infra container (podman's catatonit
 * -P). It holds the pod's namespaces open: it sleeps, reaps any child that
 * is handed to it, and exits 0 on SIGTERM or SIGINT. No libpea: it is linked
 * statically and copied into the pause image, which has nothing else.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sys/wait.h>

int main(int argc, char **argv)
{
        sigset_t set;
        (void)argv;
        if (argc > 1 && strcmp(argv[1], "--version") == 0) {
                puts("pea-pause");
                return 0;
        }
        sigemptyset(&set);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGCHLD);
        if (sigprocmask(SIG_BLOCK, &set, NULL) < 0) {
                perror("pea-pause: sigprocmask");
                return 1;
        }
        for (;;) {
                int sig = 0;
                if (sigwait(&set, &sig) != 0)
                        continue;
                if (sig == SIGTERM || sig == SIGINT)
                        return 0;
                /* SIGCHLD: reap every exited child */
                while (waitpid(-1, NULL, WNOHANG) > 0)
                        ;
        }
}
