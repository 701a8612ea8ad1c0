/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <linux/magic.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include "base.h"
#include "rootless/rootless.h"

#define SUBID_WANT      65536u
#define SUBID_FIRST     100000u
#define SUBID_FILE_MAX  (4u << 20)
#define PROC_TEXT_MAX   (1u << 20)
#define PROBE_MSG_MAX   4096
#define PROBE_EXIT_FAIL 127

#define SHELL_SAFE "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./-:@%+=,"

#define FIX_DELEGATE                                                                                 \
        "sudo mkdir -p /etc/systemd/system/user@.service.d && printf '[Service]\\nDelegate=yes\\n' " \
        "| sudo tee /etc/systemd/system/user@.service.d/delegate.conf >/dev/null && "                \
        "sudo systemctl daemon-reload"
#define FIX_UNIFIED                                                                     \
        "sudo sed -i 's/^GRUB_CMDLINE_LINUX=\"/&systemd.unified_cgroup_hierarchy=1 /' " \
        "/etc/default/grub && sudo update-grub && sudo reboot"

static const char *const status_names[_PEA_DOCTOR_STATUS_MAX] = {
        [PEA_DOCTOR_OK] = "OK",
        [PEA_DOCTOR_WARN] = "WARN",
        [PEA_DOCTOR_FAIL] = "FAIL",
};

const char *pea_doctor_status_to_string(enum pea_doctor_status s)
{
        if (s < 0 || s >= _PEA_DOCTOR_STATUS_MAX)
                return NULL;
        return status_names[s];
}

void pea_doctor_add(struct pea_doctor_report *r, const char *name, enum pea_doctor_status s,
                    const char *fix, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        char *msg = xvasprintf(fmt, ap);
        va_end(ap);
        r->checks = xrealloc(r->checks, (r->n + 1) * sizeof(*r->checks));
        r->checks[r->n++] = (struct pea_doctor_check){
                .name = xstrdup(name),
                .status = s,
                .message = msg,
                .fix = fix && s != PEA_DOCTOR_OK ? xstrdup(fix) : NULL,
        };
}

void pea_doctor_report_done(struct pea_doctor_report *r)
{
        for (size_t i = 0; i < r->n; i++) {
                free(r->checks[i].name);
                free(r->checks[i].message);
                free(r->checks[i].fix);
        }
        free(r->checks);
        r->checks = NULL;
        r->n = 0;
}

bool pea_doctor_report_failed(const struct pea_doctor_report *r)
{
        for (size_t i = 0; i < r->n; i++)
                if (r->checks[i].status == PEA_DOCTOR_FAIL)
                        return true;
        return false;
}

char *pea_doctor_format_line(const struct pea_doctor_check *c)
{
        const char *st = pea_doctor_status_to_string(c->status);
        if (c->fix && *c->fix)
                return xasprintf("%-4s  %-14s %s (fix: %s)", st ? st : "?", c->name, c->message,
                                 c->fix);
        return xasprintf("%-4s  %-14s %s", st ? st : "?", c->name, c->message);
}

json_t *pea_doctor_report_json(const struct pea_doctor_report *r)
{
        json_t *a = json_array();
        for (size_t i = 0; i < r->n; i++) {
                const struct pea_doctor_check *c = &r->checks[i];
                const char *st = pea_doctor_status_to_string(c->status);
                json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s}", "Name", c->name,
                                                   "Status", st ? st : "", "Message", c->message,
                                                   "Fix", c->fix ? c->fix : ""));
        }
        return a;
}

/* Quotes s for a POSIX shell when it holds anything but safe characters. */
static char *shell_quote(const char *s)
{
        if (*s && strspn(s, SHELL_SAFE) == strlen(s))
                return xstrdup(s);
        size_t n = 3;
        for (const char *p = s; *p; p++)
                n += *p == '\'' ? 4 : 1;
        char *q = xmalloc(n);
        char *o = q;
        *o++ = '\'';
        for (const char *p = s; *p; p++) {
                if (*p == '\'') {
                        memcpy(o, "'\\''", 4);
                        o += 4;
                } else {
                        *o++ = *p;
                }
        }
        *o++ = '\'';
        *o = '\0';
        return q;
}

/* The user for a command line: the quoted login name, else the uid. */
static char *user_arg(const struct pea_doctor_opts *o)
{
        if (o->user && *o->user)
                return shell_quote(o->user);
        return xasprintf("%u", (unsigned)o->uid);
}

/* The user for a message: 'name', else "uid N". */
static char *user_display(const struct pea_doctor_opts *o)
{
        if (o->user && *o->user)
                return xasprintf("'%s'", o->user);
        return xasprintf("uid %u", (unsigned)o->uid);
}

/* "a && b", either may be NULL. */
static char *join_fix(const char *a, const char *b)
{
        if (a && b)
                return xasprintf("%s && %s", a, b);
        return xstrdup(a ? a : b ? b : "");
}

/* Reads a file holding one integer (a sysctl); -ENOENT when missing. */
static int read_number(const char *path, long long *ret)
{
        _cleanup_free_ char *text = NULL;
        _cleanup_error_ struct pea_error *e = NULL;
        int r = pea_read_file_at(AT_FDCWD, path, 64, &text, NULL, &e);
        if (r < 0)
                return r;
        return safe_atoll(strstrip(text), ret);
}

static bool has_file_cap(const char *path, cap_value_t cap)
{
        cap_t caps = cap_get_file(path);
        cap_flag_value_t eff = CAP_CLEAR;
        cap_flag_value_t perm = CAP_CLEAR;
        if (!caps)
                return false;
        bool ok = cap_get_flag(caps, cap, CAP_EFFECTIVE, &eff) == 0
                  && cap_get_flag(caps, cap, CAP_PERMITTED, &perm) == 0 && eff == CAP_SET
                  && perm == CAP_SET;
        cap_free(caps);
        return ok;
}

/* Whether the helper at path can change ids; sets the message and fix. */
static enum pea_doctor_status helper_status(const char *path, cap_value_t cap, const char *capname,
                                            char **ret_msg, char **ret_fix)
{
        struct stat st;
        struct statvfs vfs;
        _cleanup_free_ char *q = shell_quote(path);
        if (stat(path, &st) < 0) {
                *ret_msg = xasprintf("cannot stat '%s': %s", path, strerror(errno));
                *ret_fix = xstrdup("sudo apt-get install --reinstall uidmap");
                return PEA_DOCTOR_FAIL;
        }
        if (statvfs(path, &vfs) == 0 && (vfs.f_flag & ST_NOSUID)) {
                *ret_msg = xasprintf("'%s' is on a nosuid mount", path);
                *ret_fix = xasprintf("sudo mount -o remount,suid \"$(stat -c %%m %s)\"", q);
                return PEA_DOCTOR_FAIL;
        }
        if ((st.st_mode & S_ISUID) && st.st_uid == 0) {
                *ret_msg = xasprintf("'%s' is setuid root", path);
                return PEA_DOCTOR_OK;
        }
        if (has_file_cap(path, cap)) {
                *ret_msg = xasprintf("'%s' has file capability %s", path, capname);
                return PEA_DOCTOR_OK;
        }
        *ret_msg = xasprintf("'%s' is neither setuid root nor has %s", path, capname);
        if (st.st_uid != 0)
                *ret_fix = xasprintf("sudo chown root %s && sudo chmod u+s %s", q, q);
        else
                *ret_fix = xasprintf("sudo chmod u+s %s", q);
        return PEA_DOCTOR_FAIL;
}

static void check_helper(const struct pea_doctor_opts *o, struct pea_doctor_report *r,
                         const char *name, const char *prog, cap_value_t cap, const char *capname)
{
        if (o->uid == 0) {
                pea_doctor_add(r, name, PEA_DOCTOR_OK, NULL, "running as root, not needed");
                return;
        }
        _cleanup_free_ char *path = pea_find_executable(prog);
        if (!path) {
                pea_doctor_add(r, name, PEA_DOCTOR_FAIL, "sudo apt-get install uidmap",
                               "'%s' not found in PATH", prog);
                return;
        }
        _cleanup_free_ char *msg = NULL;
        _cleanup_free_ char *fix = NULL;
        enum pea_doctor_status s = helper_status(path, cap, capname, &msg, &fix);
        pea_doctor_add(r, name, s, fix, "%s", msg);
}

void pea_doctor_check_idmap_helpers(const struct pea_doctor_opts *o, struct pea_doctor_report *r)
{
        check_helper(o, r, "newuidmap", PEA_NEWUIDMAP, CAP_SETUID, "cap_setuid");
        check_helper(o, r, "newgidmap", PEA_NEWGIDMAP, CAP_SETGID, "cap_setgid");
}

uint64_t pea_subid_highest(const char *text)
{
        uint64_t max = 0;
        _cleanup_strv_ char **lines = strv_split(text, "\n");
        STRV_FOREACH(l, lines) {
                _cleanup_strv_ char **f = strv_split(*l, ":");
                unsigned start = 0;
                unsigned count = 0;
                if (strv_length(f) != 3 || strstrip(f[0])[0] == '#')
                        continue;
                if (safe_atou32(strstrip(f[1]), &start) < 0
                    || safe_atou32(strstrip(f[2]), &count) < 0)
                        continue;
                if ((uint64_t)start + count > max)
                        max = (uint64_t)start + count;
        }
        return max;
}

char *pea_doctor_subid_fix(const char *user, uid_t uid, bool uids, bool gids, uint64_t start,
                           uint32_t count)
{
        if ((!uids && !gids) || count == 0)
                return NULL;
        uint64_t end = start + count - 1;
        if (end >= UINT32_MAX)
                return xasprintf("remove unused ranges from /etc/subuid and /etc/subgid "
                                 "(no free range of %" PRIu32 " ids is left)",
                                 count);
        _cleanup_free_ char *range = xasprintf("%" PRIu64 "-%" PRIu64, start, end);
        if (user && *user) {
                _cleanup_free_ char *q = shell_quote(user);
                return xasprintf("sudo usermod%s%s%s%s %s", uids ? " --add-subuids " : "",
                                 uids ? range : "", gids ? " --add-subgids " : "",
                                 gids ? range : "", q);
        }
        return xasprintf("echo %u:%" PRIu64 ":%" PRIu32 " | sudo tee -a %s%s >/dev/null",
                         (unsigned)uid, start, count, uids ? "/etc/subuid" : "",
                         gids ? (uids ? " /etc/subgid" : "/etc/subgid") : "");
}

/* Reads one subid file: the user's total and the end of the highest range of anyone. */
static int read_subid(const struct pea_doctor_opts *o, const char *path, uint64_t *ret_total,
                      uint64_t *ret_highest, struct pea_error **err)
{
        _cleanup_free_ char *text = NULL;
        _cleanup_free_ struct pea_idmap *m = NULL;
        size_t n = 0;
        int r = pea_read_file_at(AT_FDCWD, path, SUBID_FILE_MAX, &text, NULL, err);
        if (r == -ENOENT) {
                pea_error_clear(err);
                text = xstrdup("");
        } else if (r < 0) {
                return r;
        }
        r = pea_subid_parse(text, o->user, o->uid, &m, &n, err);
        if (r < 0)
                return r;
        *ret_total = pea_subid_total(m, n);
        *ret_highest = pea_subid_highest(text);
        return 0;
}

static void report_subid(const struct pea_doctor_opts *o, struct pea_doctor_report *r,
                         const char *name, const char *path, uint64_t total, const char *fix)
{
        _cleanup_free_ char *who = user_display(o);
        if (total == 0)
                pea_doctor_add(r, name, PEA_DOCTOR_FAIL, fix, "no range for %s in %s", who, path);
        else if (total < SUBID_WANT)
                pea_doctor_add(r, name, PEA_DOCTOR_WARN, fix,
                               "only %" PRIu64 " ids for %s in %s, %u needed", total, who, path,
                               SUBID_WANT);
        else
                pea_doctor_add(r, name, PEA_DOCTOR_OK, NULL, "%" PRIu64 " ids for %s in %s", total,
                               who, path);
}

void pea_doctor_check_subid(const struct pea_doctor_opts *o, struct pea_doctor_report *r)
{
        static const char *const names[2] = {"subuid", "subgid"};
        const char *paths[2] = {o->subuid_path ? o->subuid_path : "/etc/subuid",
                                o->subgid_path ? o->subgid_path : "/etc/subgid"};
        uint64_t total[2] = {0, 0};
        uint64_t start = SUBID_FIRST;
        bool bad[2] = {false, false};
        if (o->uid == 0) {
                for (int i = 0; i < 2; i++)
                        pea_doctor_add(r, names[i], PEA_DOCTOR_OK, NULL,
                                       "running as root, not needed");
                return;
        }
        for (int i = 0; i < 2; i++) {
                _cleanup_error_ struct pea_error *e = NULL;
                uint64_t highest = 0;
                if (read_subid(o, paths[i], &total[i], &highest, &e) < 0) {
                        _cleanup_free_ char *q = shell_quote(paths[i]);
                        _cleanup_free_ char *fix = xasprintf("sudo chmod 0644 %s", q);
                        pea_doctor_add(r, names[i], PEA_DOCTOR_FAIL, fix, "%s", e->msg);
                        bad[i] = true;
                } else if (highest > start) {
                        start = highest;
                }
        }
        _cleanup_free_ char *fix = pea_doctor_subid_fix(o->user, o->uid, total[0] < SUBID_WANT,
                                                        total[1] < SUBID_WANT, start, SUBID_WANT);
        for (int i = 0; i < 2; i++)
                if (!bad[i])
                        report_subid(o, r, names[i], paths[i], total[i], fix);
}

/* A check that runs in a forked child, in new namespaces. */
struct probe {
        unsigned long flags;
        /* returns a small exit code (>= 0, < PROBE_EXIT_FAIL) or < 0 with err set */
        int (*fn)(void *data, struct pea_error **err);
        void *data;
};

static int write_proc(const char *path, const char *text, struct pea_error **err)
{
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return pea_error_syscall(err, errno, "opening '%s'", path);
        ssize_t n = write(fd, text, strlen(text));
        if (n < 0)
                return pea_error_syscall(err, errno, "writing '%s'", path);
        if ((size_t)n != strlen(text))
                return pea_error_set(err, EIO, "short write to '%s'", path);
        return 0;
}

/* Maps container 0 to the caller's own uid and gid: all an unprivileged user may do alone. */
static int map_self(uid_t uid, gid_t gid, struct pea_error **err)
{
        _cleanup_free_ char *um = xasprintf("0 %u 1\n", (unsigned)uid);
        _cleanup_free_ char *gm = xasprintf("0 %u 1\n", (unsigned)gid);
        int r = write_proc("/proc/self/setgroups", "deny", err);
        if (r >= 0)
                r = write_proc("/proc/self/uid_map", um, err);
        if (r >= 0)
                r = write_proc("/proc/self/gid_map", gm, err);
        return r;
}

static int enter_namespaces(unsigned long flags, struct pea_error **err)
{
        uid_t uid = geteuid();
        gid_t gid = getegid();
        if (flags == 0)
                return 0;
        if (unshare((int)flags) < 0)
                return pea_error_syscall(err, errno, "unshare(%s)",
                                         flags & CLONE_NEWUSER ? "CLONE_NEWUSER" : "CLONE_NEWNS");
        if (flags & CLONE_NEWUSER) {
                int r = map_self(uid, gid, err);
                if (r < 0)
                        return r;
        }
        if ((flags & CLONE_NEWNS) && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return pea_error_syscall(err, errno, "making '/' a private mount");
        return 0;
}

static _noreturn_ void probe_child(int fd, const struct probe *p)
{
        struct pea_error *e = NULL;
        int r = enter_namespaces(p->flags, &e);
        if (r >= 0)
                r = p->fn(p->data, &e);
        if (r < 0 && e) {
                int code = e->code;
                ssize_t n = write(fd, &code, sizeof(code));
                if (n == (ssize_t)sizeof(code))
                        n = write(fd, e->msg, strlen(e->msg));
                (void)n;
        }
        _exit(r < 0 ? PROBE_EXIT_FAIL : r);
}

/* Collects the child's error message (if any) and its exit status. */
static int probe_reap(int fd, pid_t pid, struct pea_error **err)
{
        _cleanup_free_ char *buf = xcalloc(1, PROBE_MSG_MAX + 1);
        size_t len = 0;
        int status = 0;
        while (len < PROBE_MSG_MAX) {
                ssize_t n = read(fd, buf + len, PROBE_MSG_MAX - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                len += (size_t)n;
        }
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return pea_error_syscall(err, errno, "waiting for the probe process");
        if (len > sizeof(int)) {
                int code = 0;
                memcpy(&code, buf, sizeof(code));
                return pea_error_set(err, code, "%s", buf + sizeof(int));
        }
        if (WIFSIGNALED(status))
                return pea_error_set(err, EIO, "probe process killed by signal %d",
                                     WTERMSIG(status));
        if (!WIFEXITED(status) || WEXITSTATUS(status) == PROBE_EXIT_FAIL)
                return pea_error_set(err, EIO, "probe process failed");
        return WEXITSTATUS(status);
}

static int run_probe(const struct probe *p, struct pea_error **err)
{
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) < 0)
                return pea_error_syscall(err, errno, "creating a pipe");
        _cleanup_close_ int rd = fds[0];
        _cleanup_close_ int wr = fds[1];
        pid_t pid = fork();
        if (pid < 0)
                return pea_error_syscall(err, errno, "forking a probe process");
        if (pid == 0)
                probe_child(wr, p);
        (void)close(TAKE_FD(wr));
        return probe_reap(rd, pid, err);
}

static int probe_nothing(void *data _unused_, struct pea_error **err _unused_)
{
        return 0;
}

/* A sysctl that forbids unprivileged user namespaces: the message and its fix. */
static char *userns_sysctl(bool root, char **ret_why)
{
        long long v = 0;
        if (!root && read_number("/proc/sys/kernel/unprivileged_userns_clone", &v) == 0 && v == 0) {
                *ret_why = xstrdup("kernel.unprivileged_userns_clone is 0");
                return xstrdup("sudo sysctl -w kernel.unprivileged_userns_clone=1");
        }
        if (read_number("/proc/sys/user/max_user_namespaces", &v) == 0 && v == 0) {
                *ret_why = xstrdup("user.max_user_namespaces is 0");
                return xstrdup("sudo sysctl -w user.max_user_namespaces=15000");
        }
        if (!root && read_number("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", &v) == 0
            && v != 0) {
                *ret_why = xstrdup("kernel.apparmor_restrict_unprivileged_userns is 1");
                return xstrdup("sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0");
        }
        return NULL;
}

void pea_doctor_check_userns(const struct pea_doctor_opts *o, struct pea_doctor_report *r)
{
        bool root = o->uid == 0;
        enum pea_doctor_status bad = root ? PEA_DOCTOR_WARN : PEA_DOCTOR_FAIL;
        _cleanup_free_ char *why = NULL;
        _cleanup_free_ char *fix = userns_sysctl(root, &why);
        _cleanup_error_ struct pea_error *e = NULL;
        struct probe p = {.flags = CLONE_NEWUSER, .fn = probe_nothing};
        int rr = run_probe(&p, &e);
        if (rr >= 0 && !why) {
                pea_doctor_add(r, "userns", PEA_DOCTOR_OK, NULL,
                               "created a user namespace with a uid_map");
                return;
        }
        if (rr >= 0) {
                pea_doctor_add(r, "userns", bad, fix, "%s", why);
                return;
        }
        if (!fix && e->code == ENOSPC)
                fix = xstrdup("sudo sysctl -w user.max_user_namespaces=15000");
        if (!fix)
                fix = xstrdup("run pea where unshare(CLONE_NEWUSER) is allowed "
                              "(not in a container or seccomp sandbox that blocks it)");
        pea_doctor_add(r, "userns", bad, fix, "cannot create a user namespace%s%s: %s",
                       why ? ", " : "", why ? why : "", e->msg);
}

struct overlay_probe {
        const char *dir;
        bool root; /* no user namespace: try without userxattr only */
};

/* Mounts an overlay of lower/upper/work on merged in dir and writes through it. */
static int probe_overlay(void *data, struct pea_error **err)
{
        static const char *const variants[] = {"userxattr", ""};
        const struct overlay_probe *op = data;
        int first = 0;
        if (chdir(op->dir) < 0)
                return pea_error_syscall(err, errno, "entering '%s'", op->dir);
        for (int i = op->root ? 1 : 0; i < 2; i++) {
                _cleanup_free_ char *opts =
                        xasprintf("lowerdir=lower,upperdir=upper,workdir=work%s%s",
                                  *variants[i] ? "," : "", variants[i]);
                if (mount("overlay", "merged", "overlay", 0, opts) < 0) {
                        first = first ? first : errno;
                        continue;
                }
                _cleanup_close_ int fd =
                        open("merged/probe", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
                if (fd < 0)
                        return pea_error_syscall(err, errno, "writing to the overlay");
                if (!pea_path_exists("upper/probe"))
                        return pea_error_set(err, EIO,
                                             "a file written to the overlay is missing "
                                             "from its upper directory");
                (void)umount2("merged", MNT_DETACH);
                return i + 1;
        }
        return pea_error_syscall(err, first, "mounting overlay");
}

/* A fresh directory for the overlay probe, near the storage if possible. */
static char *probe_dir(const char *storage)
{
        _cleanup_free_ char *base = xstrdup(storage && *storage == '/' ? storage : "/var/tmp");
        struct stat st;
        while (strlen(base) > 1 && (stat(base, &st) < 0 || !S_ISDIR(st.st_mode))) {
                char *slash = strrchr(base, '/');
                slash[slash == base ? 1 : 0] = '\0';
        }
        const char *const tries[] = {base, "/var/tmp", "/tmp"};
        for (size_t i = 0; i < ELEMENTSOF(tries); i++) {
                _cleanup_free_ char *d = xasprintf("%s%s.pea-doctor-XXXXXX", tries[i],
                                                   endswith(tries[i], "/") ? "" : "/");
                if (!mkdtemp(d))
                        continue;
                static const char *const subs[] = {"lower", "upper", "work", "merged"};
                bool ok = true;
                for (size_t j = 0; j < ELEMENTSOF(subs) && ok; j++) {
                        _cleanup_free_ char *s = xasprintf("%s/%s", d, subs[j]);
                        ok = mkdir(s, 0700) == 0;
                }
                if (ok)
                        return TAKE_PTR(d);
                _cleanup_error_ struct pea_error *e = NULL;
                (void)pea_rm_rf(d, &e);
        }
        return NULL;
}

static void remove_probe_dir(const char *dir)
{
        /* overlayfs leaves work/work with mode 0, which rm -rf cannot list */
        _cleanup_free_ char *ww = xasprintf("%s/work/work", dir);
        _cleanup_error_ struct pea_error *e = NULL;
        (void)chmod(ww, 0700);
        (void)pea_rm_rf(dir, &e);
}

/* Why native overlay may be missing, as a fix. */
static char *native_overlay_fix(void)
{
        _cleanup_free_ char *fs = NULL;
        _cleanup_error_ struct pea_error *e = NULL;
        struct utsname u;
        unsigned major = 0;
        unsigned minor = 0;
        if (pea_read_file_at(AT_FDCWD, "/proc/filesystems", PROC_TEXT_MAX, &fs, NULL, &e) >= 0
            && !strstr(fs, "\toverlay\n"))
                return xstrdup("sudo modprobe overlay");
        if (uname(&u) == 0 && sscanf(u.release, "%u.%u", &major, &minor) == 2
            && (major < 5 || (major == 5 && minor < 11)))
                return xstrdup("upgrade to Linux 5.11 or later");
        return xstrdup("use pea --root DIR on ext4, xfs or btrfs");
}

static void overlay_fallback(struct pea_doctor_report *r, const char *why)
{
        _cleanup_free_ char *fo = pea_find_helper(PEA_FUSE_OVERLAYFS);
        _cleanup_close_ int fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
        int fuse_errno = fd < 0 ? errno : 0;
        if (fo && fd >= 0) {
                _cleanup_free_ char *fix = native_overlay_fix();
                pea_doctor_add(r, "overlay", PEA_DOCTOR_WARN, fix,
                               "native overlay unavailable (%s), fuse-overlayfs will be used", why);
                return;
        }
        _cleanup_free_ char *fix = join_fix(fo ? NULL : "sudo apt-get install fuse-overlayfs",
                                            fd >= 0                ? NULL
                                            : fuse_errno == ENOENT ? "sudo modprobe fuse"
                                                                   : "sudo chmod 0666 /dev/fuse");
        _cleanup_free_ char *fuse = fd >= 0 ? xstrdup("/dev/fuse usable")
                                            : xasprintf("/dev/fuse: %s", strerror(fuse_errno));
        pea_doctor_add(r, "overlay", PEA_DOCTOR_FAIL, fix,
                       "native overlay unavailable (%s), fuse-overlayfs %s, %s", why,
                       fo ? "found" : "not found", fuse);
}

void pea_doctor_check_overlay(const struct pea_doctor_opts *o, struct pea_doctor_report *r)
{
        _cleanup_free_ char *dir = probe_dir(o->storage_dir);
        _cleanup_error_ struct pea_error *e = NULL;
        if (!dir) {
                overlay_fallback(r, "cannot create a temporary directory");
                return;
        }
        struct overlay_probe op = {.dir = dir, .root = o->uid == 0};
        struct probe p = {
                .flags = op.root ? CLONE_NEWNS : CLONE_NEWUSER | CLONE_NEWNS,
                .fn = probe_overlay,
                .data = &op,
        };
        int rr = run_probe(&p, &e);
        _cleanup_free_ char *where = xstrdup(dir);
        *strrchr(where, '/') = '\0';
        remove_probe_dir(dir);
        if (rr < 0) {
                overlay_fallback(r, e->msg);
                return;
        }
        pea_doctor_add(r, "overlay", PEA_DOCTOR_OK, NULL, "native overlay mounts%s%s in '%s'",
                       o->uid == 0 ? "" : " in a user namespace", rr == 1 ? " (userxattr)" : "",
                       *where ? where : "/");
}

void pea_doctor_check_network(const struct pea_doctor_opts *o, struct pea_doctor_report *r)
{
        _cleanup_close_ int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
        int tun_errno = fd < 0 ? errno : 0;
        _cleanup_free_ char *slirp = pea_find_helper(PEA_SLIRP4NETNS);
        _cleanup_free_ char *pasta = pea_find_helper(PEA_PASTA);
        if (fd >= 0 && slirp) {
                pea_doctor_add(r, "network", PEA_DOCTOR_OK, NULL,
                               "/dev/net/tun usable, slirp4netns '%s'", slirp);
        } else {
                _cleanup_free_ char *fix = join_fix(
                        slirp ? NULL : "sudo apt-get install slirp4netns",
                        fd >= 0                                     ? NULL
                        : tun_errno == EACCES || tun_errno == EPERM ? "sudo chmod 0666 /dev/net/tun"
                                                                    : "sudo modprobe tun");
                _cleanup_free_ char *tun =
                        fd >= 0 ? xstrdup("/dev/net/tun usable")
                                : xasprintf("/dev/net/tun: %s", strerror(tun_errno));
                pea_doctor_add(r, "network", o->uid == 0 ? PEA_DOCTOR_WARN : PEA_DOCTOR_FAIL, fix,
                               "%s, slirp4netns %s", tun, slirp ? "found" : "not found");
        }
        if (pasta)
                pea_doctor_add(r, "pasta", PEA_DOCTOR_OK, NULL, "pasta '%s'", pasta);
        else
                pea_doctor_add(r, "pasta", PEA_DOCTOR_WARN, "sudo apt-get install passt",
                               "pasta not found, slirp4netns will be used");
}

char *pea_doctor_cgroup2_path(const char *proc_cgroup)
{
        _cleanup_strv_ char **lines = strv_split(proc_cgroup, "\n");
        STRV_FOREACH(l, lines) {
                const char *p = startswith(*l, "0::");
                if (p && p[0] == '/')
                        return xstrdup(p);
        }
        return NULL;
}

enum cgroup_mode {
        CGROUP_V1,
        CGROUP_HYBRID,
        CGROUP_V2,
        CGROUP_UNKNOWN,
        _CGROUP_MODE_MAX,
        _CGROUP_MODE_INVALID = -EINVAL,
};

static enum cgroup_mode cgroup_mode(void)
{
        struct statfs fs;
        if (statfs("/sys/fs/cgroup", &fs) < 0)
                return CGROUP_UNKNOWN;
        if (fs.f_type == CGROUP2_SUPER_MAGIC)
                return CGROUP_V2;
        if (fs.f_type != TMPFS_MAGIC)
                return CGROUP_UNKNOWN;
        if (statfs("/sys/fs/cgroup/unified", &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC)
                return CGROUP_HYBRID;
        return CGROUP_V1;
}

static void check_delegation(const struct pea_doctor_opts *o, struct pea_doctor_report *r)
{
        _cleanup_free_ char *text = NULL;
        _cleanup_error_ struct pea_error *e = NULL;
        if (pea_read_file_at(AT_FDCWD, "/proc/self/cgroup", PROC_TEXT_MAX, &text, NULL, &e) < 0)
                text = xstrdup("");
        _cleanup_free_ char *path = pea_doctor_cgroup2_path(text);
        _cleanup_free_ char *dir =
                xasprintf("/sys/fs/cgroup%s", path && !streq(path, "/") ? path : "");
        _cleanup_free_ char *ctl = xasprintf("%s/cgroup.subtree_control", dir);
        _cleanup_free_ char *ctrls = xasprintf("%s/cgroup.controllers", dir);
        _cleanup_free_ char *who = user_display(o);
        struct stat st;
        if (path && stat(dir, &st) == 0 && st.st_uid == o->uid && access(dir, W_OK) == 0
            && access(ctl, W_OK) == 0) {
                _cleanup_free_ char *list = NULL;
                if (pea_read_file_at(AT_FDCWD, ctrls, PROC_TEXT_MAX, &list, NULL, &e) < 0)
                        list = xstrdup("");
                pea_doctor_add(r, "cgroups", PEA_DOCTOR_OK, NULL,
                               "cgroup v2, '%s' is delegated (controllers: %s)", dir,
                               *strstrip(list) ? list : "none");
                return;
        }
        pea_doctor_add(r, "cgroups", PEA_DOCTOR_WARN, FIX_DELEGATE,
                       "cgroup v2, but '%s' is not delegated to %s: resource limits unavailable "
                       "rootless",
                       dir, who);
}

void pea_doctor_check_cgroups(const struct pea_doctor_opts *o, struct pea_doctor_report *r)
{
        enum cgroup_mode m = cgroup_mode();
        const char *name = m == CGROUP_V1 ? "v1" : m == CGROUP_HYBRID ? "v1 (hybrid)" : "unknown";
        if (m == CGROUP_V2 && o->uid == 0) {
                pea_doctor_add(r, "cgroups", PEA_DOCTOR_OK, NULL, "cgroup v2");
        } else if (m == CGROUP_V2) {
                check_delegation(o, r);
        } else if (o->uid == 0 && m != CGROUP_UNKNOWN) {
                pea_doctor_add(r, "cgroups", PEA_DOCTOR_OK, NULL, "cgroup %s, running as root",
                               name);
        } else {
                pea_doctor_add(r, "cgroups", PEA_DOCTOR_WARN, FIX_UNIFIED,
                               "cgroup %s: resource limits unavailable%s", name,
                               o->uid == 0 ? "" : " rootless");
        }
}

/* Points XDG_RUNTIME_DIR at /run/user/UID, creating it when needed. */
static char *runtime_dir_fix(const struct pea_doctor_opts *o)
{
        _cleanup_free_ char *run = xasprintf("/run/user/%u", (unsigned)o->uid);
        _cleanup_free_ char *who = user_arg(o);
        struct stat st;
        if (stat(run, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == o->uid)
                return xstrdup("export XDG_RUNTIME_DIR=/run/user/$(id -u)");
        return xasprintf("sudo install -d -m 0700 -o %s %s && "
                         "export XDG_RUNTIME_DIR=/run/user/$(id -u)",
                         who, run);
}

static void runtime_dir_unset(const struct pea_doctor_opts *o, struct pea_doctor_report *r)
{
        _cleanup_free_ char *run = xasprintf("/run/user/%u", (unsigned)o->uid);
        _cleanup_free_ char *who = user_arg(o);
        _cleanup_free_ char *fix = NULL;
        struct stat st;
        if (stat(run, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == o->uid)
                fix = xstrdup("export XDG_RUNTIME_DIR=/run/user/$(id -u)");
        else
                fix = xasprintf("sudo loginctl enable-linger %s", who);
        pea_doctor_add(r, "runtime-dir", PEA_DOCTOR_WARN, fix,
                       "XDG_RUNTIME_DIR is not set, pea uses /tmp/pea-run-%u", (unsigned)o->uid);
}

/* What is wrong with the runtime dir d, and the fix; NULL when it is fine. */
static const char *runtime_dir_problem(const struct pea_doctor_opts *o, const char *d,
                                       char **ret_fix)
{
        _cleanup_free_ char *q = shell_quote(d);
        _cleanup_free_ char *who = user_arg(o);
        struct stat st;
        if (d[0] != '/') {
                *ret_fix = runtime_dir_fix(o);
                return "is not an absolute path";
        }
        if (stat(d, &st) < 0) {
                bool missing = errno == ENOENT;
                *ret_fix = missing ? xasprintf("sudo install -d -m 0700 -o %s %s", who, q)
                                   : runtime_dir_fix(o);
                return missing ? "does not exist" : "cannot be accessed";
        }
        if (!S_ISDIR(st.st_mode) || st.st_uid != o->uid) {
                *ret_fix = runtime_dir_fix(o);
                return S_ISDIR(st.st_mode) ? "is not owned by the user" : "is not a directory";
        }
        if ((st.st_mode & 07777) != 0700) {
                *ret_fix = xasprintf("chmod 0700 %s", q);
                return "does not have mode 0700";
        }
        return NULL;
}

void pea_doctor_check_runtime_dir(const struct pea_doctor_opts *o, struct pea_doctor_report *r)
{
        _cleanup_free_ char *fix = NULL;
        const char *d = o->runtime_dir;
        if (o->uid == 0) {
                pea_doctor_add(r, "runtime-dir", PEA_DOCTOR_OK, NULL,
                               "running as root, pea uses /run/pea");
                return;
        }
        if (!d || !*d) {
                runtime_dir_unset(o, r);
                return;
        }
        const char *msg = runtime_dir_problem(o, d, &fix);
        if (msg)
                pea_doctor_add(r, "runtime-dir", PEA_DOCTOR_FAIL, fix, "XDG_RUNTIME_DIR '%s' %s", d,
                               msg);
        else
                pea_doctor_add(r, "runtime-dir", PEA_DOCTOR_OK, NULL,
                               "XDG_RUNTIME_DIR '%s' is owned by the user, mode 0700", d);
}

void pea_doctor_run(const struct pea_doctor_opts *o, struct pea_doctor_report *r)
{
        pea_doctor_check_idmap_helpers(o, r);
        pea_doctor_check_subid(o, r);
        pea_doctor_check_userns(o, r);
        pea_doctor_check_overlay(o, r);
        pea_doctor_check_network(o, r);
        pea_doctor_check_cgroups(o, r);
        pea_doctor_check_runtime_dir(o, r);
}
