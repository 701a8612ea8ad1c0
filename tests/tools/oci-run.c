/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "base.h"
#include "runtime/runtime.h"

/*
 * oci-run [--pid-file PATH] [--preserve-fds N] [--console-socket FD] BUNDLE_DIR
 *
 * Runs an OCI bundle with pea's built-in runtime in the foreground and exits
 * with the container's exit code (125/126/127 when it cannot run), as
 * `runc run` does. A test helper.
 */

static int parse_args(int argc, char **argv, struct pea_runtime_opts *o, const char **bundle)
{
        static const struct option longopts[] = {
                {"pid-file", required_argument, NULL, 'p'},
                {"preserve-fds", required_argument, NULL, 'f'},
                {"console-socket", required_argument, NULL, 'c'},
                {"debug", no_argument, NULL, 'd'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        unsigned n;
        int c;
        while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) >= 0) {
                switch (c) {
                case 'p':
                        o->pid_file = optarg;
                        break;
                case 'f':
                case 'c':
                        if (safe_atou32(optarg, &n) < 0) {
                                fprintf(stderr, "Error: invalid number '%s'\n", optarg);
                                return -EINVAL;
                        }
                        if (c == 'f')
                                o->preserve_fds = n;
                        else
                                o->console_socket = (int)n;
                        break;
                case 'd':
                        pea_log_set_level(PEA_LOG_DEBUG);
                        break;
                case 'h':
                        printf("usage: oci-run [--pid-file PATH] [--preserve-fds N] "
                               "[--console-socket FD] BUNDLE_DIR\n");
                        exit(EXIT_SUCCESS);
                default:
                        return -EINVAL;
                }
        }
        if (optind != argc - 1) {
                fprintf(stderr, "Error: expected one bundle directory\n");
                return -EINVAL;
        }
        *bundle = argv[optind];
        return 0;
}

int main(int argc, char **argv)
{
        struct pea_runtime_opts opts;
        pea_runtime_opts_init(&opts);
        const char *bundle = NULL;
        if (parse_args(argc, argv, &opts, &bundle) < 0)
                return 125;
        _cleanup_error_ struct pea_error *err = NULL;
        int status = 0;
        if (pea_runtime_run(bundle, &opts, &status, &err) < 0) {
                fprintf(stderr, "Error: %s\n", err->msg);
                return pea_runtime_error_exit_code(err);
        }
        return status;
}
