/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <stdio.h>
#include <syslog.h>

#include "base.h"
#include "monitor/monitor.h"

/*
 * pea-monitor: the per-container monitor as its own small executable, so a
 * running container costs a process that maps little more than libc, jansson
 * and SQLite. pea_monitor_spawn() starts it; see lib/monitor/monitor.h.
 */

int main(int argc, char **argv)
{
        struct pea_monitor_config cfg;
        _cleanup_strv_ char **owned = NULL;
        _cleanup_error_ struct pea_error *err = NULL;
        int ready_fd = -1;
        if (pea_monitor_config_from_argv(argc, argv, &cfg, &ready_fd, &owned, &err) < 0) {
                fprintf(stderr, "Error: %s\n", err->msg);
                syslog(LOG_ERR, "pea-monitor: %s", err->msg);
                return 125;
        }
        return pea_monitor_run(&cfg, ready_fd, &err) < 0 ? 125 : 0;
}
