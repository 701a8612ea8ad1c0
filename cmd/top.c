/* SPDX-License-Identifier: Apache-2.0 */
/* pea top: the processes of a container, read from /proc, with psgo's (podman's) descriptors. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/capability.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <jansson.h>

#include "cmd.h"
#include "container/container.h"
#include "monitor/monitor.h"
#include "run.h"
#include "state/state.h"
#include "template.h"
#include "units.h"

struct proc {
        pid_t hpid, nspid, ppid, nspgid;
        char state;
        long long utime, stime, start; /* clock ticks */
        long nice;
        unsigned tty_nr;
        unsigned ruid, euid, rgid, egid;
        long long vsz_kb;
        int seccomp;
        unsigned long long caps[5]; /* inh, prm, eff, bnd, amb */
        char *comm, *args, *label;
};

static void proc_done(struct proc *p)
{
        free(p->comm);
        free(p->args);
        free(p->label);
}

/* What the descriptors need besides the process itself. */
struct top_ctx {
        struct proc *procs;
        size_t n;
        char *passwd, *group; /* the container's /etc/passwd and /etc/group, may be NULL */
        double uptime;        /* seconds since boot */
        long ticks;           /* sysconf(_SC_CLK_TCK) */
        int64_t boot_ns;      /* unix ns of the boot */
};

static bool same_ns(pid_t a, const struct stat *ns)
{
        _cleanup_free_ char *path = xasprintf("/proc/%d/ns/pid", (int)a);
        struct stat st;
        return stat(path, &st) == 0 && st.st_ino == ns->st_ino && st.st_dev == ns->st_dev;
}

static int cmp_pid(const void *a, const void *b)
{
        pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
        return (x > y) - (x < y);
}

int pea_cmd_container_pids(pid_t init, pid_t **ret, size_t *ret_n, struct pea_error **err)
{
        _cleanup_free_ char *path = xasprintf("/proc/%d/ns/pid", (int)init);
        struct stat ns, self;
        if (stat(path, &ns) < 0)
                return pea_error_syscall(err, errno, "reading '%s'", path);
        pid_t *l = xmalloc(sizeof(pid_t));
        size_t n = 0;
        _cleanup_closedir_ DIR *d = NULL;
        /* a container in the host's pid namespace: only its first process */
        if (stat("/proc/self/ns/pid", &self) < 0 || self.st_ino != ns.st_ino)
                d = opendir("/proc");
        if (!d)
                l[n++] = init;
        for (struct dirent *de; d && (de = readdir(d));) {
                long long v = 0;
                if (safe_atoll(de->d_name, &v) < 0 || !same_ns((pid_t)v, &ns))
                        continue;
                l = xrealloc(l, (n + 1) * sizeof(pid_t));
                l[n++] = (pid_t)v;
        }
        qsort(l, n, sizeof(pid_t), cmp_pid);
        *ret = l;
        *ret_n = n;
        return 0;
}

/* The last number of a "Key:\t1\t2" line of status, or the field index given. */
static const char *status_field(const char *status, const char *key)
{
        _cleanup_free_ char *k = xasprintf("\n%s:", key);
        const char *p = strstr(status, k);
        return p ? p + strlen(k) : NULL;
}

static long long status_num(const char *status, const char *key, int index, bool last)
{
        const char *p = status_field(status, key);
        long long v = 0;
        for (int i = 0; p && *p != '\n' && *p; i++) {
                char *end = NULL;
                long long x = strtoll(p, &end, 10);
                if (end == p)
                        break;
                if (i == index || last)
                        v = x;
                if (i == index && !last)
                        break;
                p = end;
        }
        return v;
}

static void read_status(struct proc *p, const char *s)
{
        p->nspid = (pid_t)status_num(s, "NSpid", 0, true);
        p->nspgid = (pid_t)status_num(s, "NSpgid", 0, true);
        p->ruid = (unsigned)status_num(s, "Uid", 0, false);
        p->euid = (unsigned)status_num(s, "Uid", 1, false);
        p->rgid = (unsigned)status_num(s, "Gid", 0, false);
        p->egid = (unsigned)status_num(s, "Gid", 1, false);
        p->vsz_kb = status_num(s, "VmSize", 0, false);
        p->seccomp = (int)status_num(s, "Seccomp", 0, false);
        static const char *const caps[] = {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"};
        for (size_t i = 0; i < ELEMENTSOF(caps); i++) {
                const char *f = status_field(s, caps[i]);
                p->caps[i] = f ? strtoull(f, NULL, 16) : 0;
        }
}

static int read_stat(struct proc *p, const char *s)
{
        const char *rp = strrchr(s, ')');
        const char *lp = strchr(s, '(');
        if (!rp || !lp)
                return -EBADMSG;
        p->comm = xstrndup(lp + 1, (size_t)(rp - lp - 1));
        long long ppid = 0, pgrp = 0, session = 0, tty = 0, skip = 0;
        int n = sscanf(rp + 2,
                       "%c %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld "
                       "%lld %ld %lld %lld %lld",
                       &p->state, &ppid, &pgrp, &session, &tty, &skip, &skip, &skip, &skip, &skip,
                       &skip, &p->utime, &p->stime, &skip, &skip, &skip, &p->nice, &skip, &skip,
                       &p->start);
        p->ppid = (pid_t)ppid;
        p->tty_nr = (unsigned)tty;
        return n == 20 ? 0 : -EBADMSG;
}

static char *read_text(pid_t pid, const char *file, size_t max)
{
        _cleanup_free_ char *path = xasprintf("/proc/%d/%s", (int)pid, file);
        char *text = NULL;
        size_t len = 0;
        if (pea_read_file_at(AT_FDCWD, path, max, &text, &len, NULL) < 0)
                return NULL;
        for (size_t i = 0; i + 1 < len; i++)
                if (text[i] == '\0')
                        text[i] = ' ';
        return text;
}

/* 0 when read, < 0 when the process is gone. */
static int read_proc(pid_t pid, struct proc *p)
{
        _cleanup_free_ char *st = read_text(pid, "stat", 4096);
        _cleanup_free_ char *status = read_text(pid, "status", 65536);
        _cleanup_free_ char *prefixed = status ? xasprintf("\n%s", status) : NULL;
        *p = (struct proc){.hpid = pid};
        if (!st || !status || read_stat(p, st) < 0)
                return -ESRCH;
        read_status(p, prefixed);
        p->args = read_text(pid, "cmdline", 65536);
        if (!p->args || !*strstrip(p->args)) {
                free(p->args);
                p->args = xasprintf("[%s]", p->comm);
        }
        p->label = read_text(pid, "attr/current", 4096);
        return 0;
}

/* ---- formatting ------------------------------------------------------------------------- */

/* "v.frac" with the fraction's trailing zeros cut, as Go prints durations. */
static char *with_fraction(int64_t v, int64_t unit, const char *suffix)
{
        int digits = 0;
        for (int64_t u = unit; u > 1; u /= 10)
                digits++;
        _cleanup_free_ char *frac = xstrdup("");
        if (v % unit) {
                free(frac);
                frac = xasprintf(".%0*lld", digits, (long long)(v % unit));
                size_t l = strlen(frac);
                while (l > 1 && frac[l - 1] == '0')
                        frac[--l] = '\0';
        }
        return xasprintf("%lld%s%s", (long long)(v / unit), frac, suffix);
}

/* Go's time.Duration.String(): "0s", "1.5s", "2m3s", "1h0m0s", "150ms". */
static char *go_duration(int64_t ns)
{
        if (ns <= 0)
                return xstrdup("0s");
        if (ns < 1000)
                return xasprintf("%lldns", (long long)ns);
        if (ns < 1000000)
                return with_fraction(ns, 1000, "µs");
        if (ns < INT64_C(1000000000))
                return with_fraction(ns, 1000000, "ms");
        int64_t h = ns / INT64_C(3600000000000), m = ns / INT64_C(60000000000) % 60;
        _cleanup_free_ char *s = with_fraction(ns % INT64_C(60000000000), 1000000000, "s");
        if (h)
                return xasprintf("%lldh%lldm%s", (long long)h, (long long)m, s);
        if (m)
                return xasprintf("%lldm%s", (long long)m, s);
        return TAKE_PTR(s);
}

/* The name of id in an /etc/passwd or /etc/group text, else the number. */
static char *id_name(const char *db, unsigned id)
{
        _cleanup_strv_ char **lines = db ? strv_split(db, "\n") : NULL;
        STRV_FOREACH(l, lines) {
                _cleanup_free_ char *copy = xstrdup(*l);
                char *c1 = strchr(copy, ':');
                char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
                unsigned v = 0;
                if (!c2)
                        continue;
                *c1 = '\0';
                char *end = strchr(c2 + 1, ':');
                if (end)
                        *end = '\0';
                if (safe_atou32(c2 + 1, &v) >= 0 && v == id)
                        return xstrdup(copy);
        }
        return xasprintf("%u", id);
}

/* uid (or gid) of our user namespace as the host sees it. */
static unsigned host_id(unsigned id, bool gid)
{
        _cleanup_free_ char *map = read_text(getpid(), gid ? "gid_map" : "uid_map", 65536);
        _cleanup_strv_ char **lines = map ? strv_split(map, "\n") : NULL;
        STRV_FOREACH(l, lines) {
                unsigned long in = 0, out = 0, count = 0;
                if (sscanf(*l, "%lu %lu %lu", &in, &out, &count) == 3 && id >= in
                    && id - in < count)
                        return (unsigned)(out + (id - in));
        }
        return id;
}

static char *host_name(unsigned id, bool gid)
{
        unsigned h = host_id(id, gid);
        if (!gid) {
                struct passwd *pw = getpwuid(h);
                if (pw)
                        return xstrdup(pw->pw_name);
        }
        return xasprintf("%u", h);
}

static char *caps_text(unsigned long long mask)
{
        unsigned long long all = (cap_max_bits() >= 64) ? ~0ULL : (1ULL << cap_max_bits()) - 1;
        if (mask == 0)
                return xstrdup("none");
        if ((mask & all) == all)
                return xstrdup("full");
        _cleanup_strv_ char **l = xcalloc(1, sizeof(char *));
        for (unsigned i = 0; i < 64; i++) {
                if (!(mask & (1ULL << i)))
                        continue;
                char *n = cap_to_name((cap_value_t)i);
                char *u = xstrdup(n && startswith(n, "cap_") ? n + 4 : n ? n : "?");
                cap_free(n);
                for (char *c = u; *c; c++)
                        *c = (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
                strv_consume(&l, u);
        }
        return strv_join(l, ",");
}

static char *tty_text(unsigned nr)
{
        unsigned maj = major(nr), min = minor(nr);
        if (nr == 0)
                return xstrdup("?");
        if (maj >= 136 && maj <= 143)
                return xasprintf("pts/%u", (maj - 136) * 256 + min);
        if (maj == 4 && min < 64)
                return xasprintf("tty%u", min);
        return xasprintf("%u:%u", maj, min);
}

static pid_t ns_ppid(const struct top_ctx *t, const struct proc *p)
{
        for (size_t i = 0; i < t->n; i++)
                if (t->procs[i].hpid == p->ppid)
                        return t->procs[i].nspid;
        return 0;
}

static double elapsed_s(const struct top_ctx *t, const struct proc *p)
{
        double e = t->uptime - (double)p->start / (double)t->ticks;
        return e > 0 ? e : 0;
}

static char *d_args(const struct top_ctx *t, const struct proc *p)
{
        (void)t;
        return xstrdup(p->args);
}

static char *d_comm(const struct top_ctx *t, const struct proc *p)
{
        (void)t;
        return xstrdup(p->comm);
}

static char *d_etime(const struct top_ctx *t, const struct proc *p)
{
        return go_duration((int64_t)(elapsed_s(t, p) * 1e9));
}

static char *d_time(const struct top_ctx *t, const struct proc *p)
{
        return go_duration((p->utime + p->stime) / t->ticks * INT64_C(1000000000));
}

static char *d_pcpu(const struct top_ctx *t, const struct proc *p)
{
        double e = elapsed_s(t, p);
        double cpu = (double)(p->utime + p->stime) / (double)t->ticks;
        return xasprintf("%.3f", e > 0 ? cpu / e * 100 : 0.0);
}

static char *d_stime(const struct top_ctx *t, const struct proc *p)
{
        return pea_time_go_string(t->boot_ns + p->start * (INT64_C(1000000000) / t->ticks));
}

static char *d_pid(const struct top_ctx *t, const struct proc *p)
{
        (void)t;
        return xasprintf("%d", (int)p->nspid);
}

static char *d_ppid(const struct top_ctx *t, const struct proc *p)
{
        return xasprintf("%d", (int)ns_ppid(t, p));
}

static char *d_pgid(const struct top_ctx *t, const struct proc *p)
{
        (void)t;
        return xasprintf("%d", (int)p->nspgid);
}

static char *d_hpid(const struct top_ctx *t, const struct proc *p)
{
        (void)t;
        return xasprintf("%d", (int)p->hpid);
}

static char *d_user(const struct top_ctx *t, const struct proc *p)
{
        return id_name(t->passwd, p->euid);
}

static char *d_ruser(const struct top_ctx *t, const struct proc *p)
{
        return id_name(t->passwd, p->ruid);
}

static char *d_group(const struct top_ctx *t, const struct proc *p)
{
        return id_name(t->group, p->egid);
}

static char *d_rgroup(const struct top_ctx *t, const struct proc *p)
{
        return id_name(t->group, p->rgid);
}

static char *d_huser(const struct top_ctx *t, const struct proc *p)
{
        (void)t;
        return host_name(p->euid, false);
}

static char *d_hgroup(const struct top_ctx *t, const struct proc *p)
{
        (void)t;
        return host_name(p->egid, true);
}

static char *d_nice(const struct top_ctx *t, const struct proc *p)
{
        (void)t;
        return xasprintf("%ld", p->nice);
}

static char *d_state(const struct top_ctx *t, const struct proc *p)
{
        (void)t;
        return xasprintf("%c", p->state);
}

static char *d_tty(const struct top_ctx *t, const struct proc *p)
{
        (void)t;
        return tty_text(p->tty_nr);
}

static char *d_vsz(const struct top_ctx *t, const struct proc *p)
{
        (void)t;
        return xasprintf("%lld", p->vsz_kb);
}

static char *d_seccomp(const struct top_ctx *t, const struct proc *p)
{
        (void)t;
        return xstrdup(p->seccomp == 2 ? "filter" : p->seccomp == 1 ? "strict" : "disabled");
}

static char *d_label(const struct top_ctx *t, const struct proc *p)
{
        (void)t;
        return xstrdup(p->label ? strstrip(p->label) : "-");
}

#define CAP_FN(fn, i)                                                  \
        static char *fn(const struct top_ctx *t, const struct proc *p) \
        {                                                              \
                (void)t;                                               \
                return caps_text(p->caps[i]);                          \
        }
CAP_FN(d_capinh, 0)
CAP_FN(d_capprm, 1)
CAP_FN(d_capeff, 2)
CAP_FN(d_capbnd, 3)
CAP_FN(d_capamb, 4)

struct descriptor {
        const char *name, *code, *header;
        char *(*fn)(const struct top_ctx *t, const struct proc *p);
};

/* psgo's descriptors with their ps(1) format codes. */
static const struct descriptor descriptors[] = {
        {"args", "%a", "COMMAND", d_args},
        {"capamb", NULL, "AMBIENT CAPS", d_capamb},
        {"capbnd", NULL, "BOUNDING CAPS", d_capbnd},
        {"capeff", NULL, "EFFECTIVE CAPS", d_capeff},
        {"capinh", NULL, "INHERITED CAPS", d_capinh},
        {"capprm", NULL, "PERMITTED CAPS", d_capprm},
        {"comm", "%c", "COMMAND", d_comm},
        {"etime", "%t", "ELAPSED", d_etime},
        {"group", "%G", "GROUP", d_group},
        {"hgroup", NULL, "HGROUP", d_hgroup},
        {"hpid", NULL, "HPID", d_hpid},
        {"huser", NULL, "HUSER", d_huser},
        {"label", NULL, "LABEL", d_label},
        {"nice", "%n", "NI", d_nice},
        {"pcpu", "%C", "%CPU", d_pcpu},
        {"pgid", "%r", "PGID", d_pgid},
        {"pid", "%p", "PID", d_pid},
        {"ppid", "%P", "PPID", d_ppid},
        {"rgroup", "%g", "RGROUP", d_rgroup},
        {"ruser", "%u", "RUSER", d_ruser},
        {"seccomp", NULL, "SECCOMP", d_seccomp},
        {"state", NULL, "STATE", d_state},
        {"stime", NULL, "STIME", d_stime},
        {"time", "%x", "TIME", d_time},
        {"tty", "%y", "TTY", d_tty},
        {"user", "%U", "USER", d_user},
        {"vsz", "%z", "VSZ", d_vsz},
};

static const struct descriptor *find_descriptor(const char *s)
{
        for (size_t i = 0; i < ELEMENTSOF(descriptors); i++)
                if (streq(descriptors[i].name, s) || streq_ptr(descriptors[i].code, s))
                        return &descriptors[i];
        return NULL;
}

/* The descriptors asked for ("pid,user" and "pid user" alike), or the default. */
static int parse_descriptors(int argc, char **argv, const struct descriptor ***ret,
                             struct pea_error **err)
{
        static const char *const def[] = {"user",  "pid", "ppid", "pcpu",
                                          "etime", "tty", "time", "args"};
        _cleanup_strv_ char **names = xcalloc(1, sizeof(char *));
        for (int i = 0; i < argc; i++) {
                _cleanup_strv_ char **parts = strv_split(argv[i], ", ");
                STRV_FOREACH(x, parts)
                        strv_push(&names, *x);
        }
        bool use_default = !names[0];
        for (size_t i = 0; use_default && i < ELEMENTSOF(def); i++)
                strv_push(&names, def[i]);
        /* "-ef" and friends are ps(1) options: podman runs ps in the container for those */
        const struct descriptor **l = xcalloc(strv_length(names) + 1, sizeof(*l));
        for (size_t i = 0; names[i]; i++) {
                l[i] = find_descriptor(names[i]);
                if (!l[i]) {
                        free(l);
                        return pea_error_set(err, EINVAL, "unknown descriptor: %s", names[i]);
                }
        }
        *ret = l;
        return 0;
}

static void top_ctx_done(struct top_ctx *t)
{
        for (size_t i = 0; i < t->n; i++)
                proc_done(&t->procs[i]);
        free(t->procs);
        free(t->passwd);
        free(t->group);
}

static int collect(struct top_ctx *t, pid_t init, struct pea_error **err)
{
        struct timespec ts = {0};
        (void)clock_gettime(CLOCK_BOOTTIME, &ts);
        t->uptime = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
        t->boot_ns = pea_now_ns() - ((int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec);
        t->ticks = sysconf(_SC_CLK_TCK);
        if (t->ticks <= 0)
                t->ticks = 100;
        t->passwd = read_text(init, "root/etc/passwd", 1 << 20);
        t->group = read_text(init, "root/etc/group", 1 << 20);
        pid_t *pids = NULL;
        size_t n = 0;
        int r = pea_cmd_container_pids(init, &pids, &n, err);
        if (r < 0)
                return r;
        t->procs = xcalloc(n ? n : 1, sizeof(*t->procs));
        for (size_t i = 0; i < n; i++)
                if (read_proc(pids[i], &t->procs[t->n]) >= 0)
                        t->n++;
                else
                        proc_done(&t->procs[t->n]);
        free(pids);
        return 0;
}

static int print_table(const struct top_ctx *t, const struct descriptor **d, struct pea_error **err)
{
        _cleanup_json_ json_t *rows = json_array();
        _cleanup_json_ json_t *headers = json_object();
        _cleanup_free_ char *format = xstrdup("table");
        for (size_t c = 0; d[c]; c++) {
                char key[32];
                (void)snprintf(key, sizeof(key), "C%zu", c);
                json_object_set_new(headers, key, json_string(d[c]->header));
                char *f = xasprintf("%s%s{{.%s}}", format, c ? "\t" : " ", key);
                free(format);
                format = f;
        }
        for (size_t i = 0; i < t->n; i++) {
                json_t *row = json_object();
                for (size_t c = 0; d[c]; c++) {
                        char key[32];
                        (void)snprintf(key, sizeof(key), "C%zu", c);
                        _cleanup_free_ char *v = d[c]->fn(t, &t->procs[i]);
                        json_object_set_new(row, key, json_string(v));
                }
                json_array_append_new(rows, row);
        }
        return pea_format_print(stdout, format, rows, true, headers, 0, err);
}

/* Unknown descriptors: podman runs ps(1) in the container with them ("-ef", "aux"). */
static int top_with_ps(pid_t pid, int argc, char **argv, struct pea_error **err)
{
        _cleanup_strv_ char **cmd = xcalloc(1, sizeof(char *));
        strv_push(&cmd, "ps");
        for (int i = 0; i < argc; i++)
                strv_push(&cmd, argv[i]);
        int code = 0;
        _cleanup_free_ char *out = NULL;
        int r = pea_monitor_exec_in(pid, cmd, NULL, NULL, INT64_C(10000000000), &code, &out, err);
        if (r < 0)
                return r;
        if (code != 0)
                return pea_error_set(err, EINVAL, "ps(1) failed with exit code %d", code);
        fputs(out ? out : "", stdout);
        return 0;
}

static int top_run(struct pea_cli *cli, bool latest, int argc, char **argv, struct pea_error **err)
{
        _cleanup_free_ const struct descriptor **d = NULL;
        int first = latest ? 0 : 1;
        _cleanup_error_ struct pea_error *desc_err = NULL;
        (void)parse_descriptors(argc - first, argv + first, &d, &desc_err);
        struct pea_container_ctx ctx = {};
        pea_cmd_container_ctx_light(cli, &ctx);
        _cleanup_strv_ char **names = NULL;
        int r = pea_cmd_container_targets(&ctx, latest, 1, argv, &names, err);
        struct pea_container_row row = {};
        if (r >= 0)
                r = pea_cmd_container_get(&ctx, names[0], &row, err);
        if (r >= 0 && (!streq(row.state, "running") || row.pid <= 0))
                r = pea_error_set(err, EINVAL, "top can only be used on running containers");
        if (r >= 0 && !d && top_with_ps(row.pid, argc - first, argv + first, NULL) < 0)
                r = pea_error_set(err, desc_err->code, "%s", desc_err->msg);
        struct top_ctx t = {};
        if (r >= 0 && d)
                r = collect(&t, row.pid, err);
        if (r >= 0 && d)
                r = print_table(&t, d, err);
        top_ctx_done(&t);
        pea_container_row_done(&row);
        return r;
}

static int cmd_top(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        static const struct option longopts[] = {
                {"latest", no_argument, NULL, 'l'},
                PEA_HELP_OPTION,
                {},
        };
        bool latest = false;
        int c;
        while ((c = getopt_long(argc, argv, "+:lh", longopts, NULL)) != -1) {
                if (c == 'h') {
                        pea_cli_print_help(cli, &pea_cmd_top);
                        return 0;
                }
                if (c != 'l')
                        return pea_cli_opt_error(c, argc, argv, err);
                latest = true;
        }
        int r = pea_cli_check_args(cli, argc - optind, latest ? 0 : 1, -1, err);
        if (r >= 0)
                r = top_run(cli, latest, argc - optind, argv + optind, err);
        return r < 0 ? r : 0;
}

const struct pea_cmd pea_cmd_top = {
        .name = "top",
        .fn = cmd_top,
        .flags = PEA_NEEDS_CONFIG | PEA_NEEDS_DIRS | PEA_NEEDS_STATE | PEA_NEEDS_USERNS,
        .summary = "Display the running processes of a container",
        .usage = "[options] CONTAINER [FORMAT-DESCRIPTORS|ARGS...]",
        .options = "  -l, --latest   Act on the latest container pea is aware of\n",
};
