/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "base.h"
#include "monitor-internal.h"

/*
 * --restart: no, on-failure[:N] (at most N restarts of a failing container),
 * always and unless-stopped (both: until `pea stop`; pea has no daemon that
 * could bring containers back after a reboot, so they differ only in name).
 * Restarts back off from 100 ms, doubling up to one minute.
 */

bool monitor_restart_wanted(const struct pea_monitor_config *cfg, int exit_code, unsigned restarts,
                            bool stopped_by_user)
{
        if (stopped_by_user)
                return false;
        switch (cfg->restart) {
        case PEA_MONITOR_RESTART_ON_FAILURE:
                return exit_code != 0 && (cfg->restart_max == 0 || restarts < cfg->restart_max);
        case PEA_MONITOR_RESTART_ALWAYS:
        case PEA_MONITOR_RESTART_UNLESS_STOPPED:
                return true;
        case PEA_MONITOR_RESTART_NO:
        default:
                return false;
        }
}

int64_t monitor_restart_backoff(unsigned restarts)
{
        int64_t d = RESTART_BACKOFF_MIN;
        for (unsigned i = 0; i < restarts && d < RESTART_BACKOFF_MAX; i++)
                d *= 2;
        return d < RESTART_BACKOFF_MAX ? d : RESTART_BACKOFF_MAX;
}

bool monitor_stop_requested(const char *dir)
{
        _cleanup_free_ char *p = xasprintf("%s/stopped", dir);
        return access(p, F_OK) == 0;
}

void monitor_stop_clear(const char *dir)
{
        _cleanup_free_ char *p = xasprintf("%s/stopped", dir);
        (void)unlink(p);
}

int pea_monitor_request_stop(const char *run_root, const char *id, struct pea_error **err)
{
        _cleanup_free_ char *dir = pea_monitor_dir(run_root, id);
        int r = pea_mkdir_p(dir, 0700, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *p = xasprintf("%s/stopped", dir);
        _cleanup_close_ int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0)
                return pea_error_syscall(err, errno, "marking container '%s' as stopped", id);
        return 0;
}
