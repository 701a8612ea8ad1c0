/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "base.h"
#include "specgen-internal.h"

/*
 * The default seccomp profile as data: containers-common 0.50's seccomp.json
 * (/usr/share/containers/seccomp.json, what podman 4.3 uses), rule for rule.
 * pea_seccomp_default_profile() renders it back in that file's format; the
 * conversion to the OCI shape (architectures of the native arch, rules
 * filtered by the final capabilities) is pea_seccomp_to_oci(), the same code
 * that converts a --security-opt seccomp=PATH profile. Lists are
 * space-separated strings to keep the table short.
 */

struct seccomp_arch_map {
        const char *arch;
        const char *sub; /* space-separated */
};

struct seccomp_arg {
        unsigned index;
        uint64_t value, value_two;
        const char *op;
};

struct seccomp_rule {
        const char *names; /* space-separated */
        const char *action;
        int errno_ret;          /* < 0: none */
        const char *errno_name; /* with errno_ret */
        int n_args;             /* < 0: "args": null */
        struct seccomp_arg args[2];
        const char *inc_caps, *inc_arches, *exc_caps, *exc_arches; /* NULL: none */
};

static const struct seccomp_arch_map default_arch_map[] = {
        {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86 SCMP_ARCH_X32"},
        {"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"},
        {"SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS SCMP_ARCH_MIPS64N32"},
        {"SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPS SCMP_ARCH_MIPS64"},
        {"SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL SCMP_ARCH_MIPSEL64N32"},
        {"SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_MIPSEL SCMP_ARCH_MIPSEL64"},
        {"SCMP_ARCH_S390X", "SCMP_ARCH_S390"},
};

static const struct seccomp_rule default_rules[] = {
        {
                .names = "bdflush io_pgetevents kexec_file_load kexec_load "
                         "migrate_pages move_pages nfsservctl nice oldfstat "
                         "oldlstat oldolduname oldstat olduname "
                         "pciconfig_iobase pciconfig_read pciconfig_write "
                         "sgetmask ssetmask swapcontext swapoff swapon sysfs "
                         "uselib userfaultfd ustat vm86 vm86old vmsplice",
                .action = "SCMP_ACT_ERRNO",
                .errno_ret = 1,
                .errno_name = "EPERM",
                .n_args = 0,
        },
        {
                .names = "_llseek _newselect accept accept4 access adjtimex "
                         "alarm bind brk capget capset chdir chmod chown "
                         "chown32 clock_adjtime clock_adjtime64 clock_getres "
                         "clock_getres_time64 clock_gettime clock_gettime64 "
                         "clock_nanosleep clock_nanosleep_time64 clone clone3 "
                         "close close_range connect copy_file_range creat dup "
                         "dup2 dup3 epoll_create epoll_create1 epoll_ctl "
                         "epoll_ctl_old epoll_pwait epoll_pwait2 epoll_wait "
                         "epoll_wait_old eventfd eventfd2 execve execveat exit "
                         "exit_group faccessat faccessat2 fadvise64 "
                         "fadvise64_64 fallocate fanotify_mark fchdir fchmod "
                         "fchmodat fchown fchown32 fchownat fcntl fcntl64 "
                         "fdatasync fgetxattr flistxattr flock fork "
                         "fremovexattr fsconfig fsetxattr fsmount fsopen "
                         "fspick fstat fstat64 fstatat64 fstatfs fstatfs64 "
                         "fsync ftruncate ftruncate64 futex futex_time64 "
                         "futimesat get_mempolicy get_robust_list "
                         "get_thread_area getcpu getcwd getdents getdents64 "
                         "getegid getegid32 geteuid geteuid32 getgid getgid32 "
                         "getgroups getgroups32 getitimer getpeername getpgid "
                         "getpgrp getpid getppid getpriority getrandom "
                         "getresgid getresgid32 getresuid getresuid32 "
                         "getrlimit getrusage getsid getsockname getsockopt "
                         "gettid gettimeofday getuid getuid32 getxattr "
                         "inotify_add_watch inotify_init inotify_init1 "
                         "inotify_rm_watch io_cancel io_destroy io_getevents "
                         "io_setup io_submit ioctl ioprio_get ioprio_set ipc "
                         "keyctl kill landlock_add_rule "
                         "landlock_create_ruleset landlock_restrict_self "
                         "lchown lchown32 lgetxattr link linkat listen "
                         "listxattr llistxattr lremovexattr lseek lsetxattr "
                         "lstat lstat64 madvise mbind membarrier memfd_create "
                         "memfd_secret mincore mkdir mkdirat mknod mknodat "
                         "mlock mlock2 mlockall mmap mmap2 mount mount_setattr "
                         "move_mount mprotect mq_getsetattr mq_notify mq_open "
                         "mq_timedreceive mq_timedreceive_time64 mq_timedsend "
                         "mq_timedsend_time64 mq_unlink mremap msgctl msgget "
                         "msgrcv msgsnd msync munlock munlockall munmap "
                         "name_to_handle_at nanosleep newfstatat open "
                         "open_tree openat openat2 pause pidfd_getfd "
                         "pidfd_open pidfd_send_signal pipe pipe2 pivot_root "
                         "pkey_alloc pkey_free pkey_mprotect poll ppoll "
                         "ppoll_time64 prctl pread64 preadv preadv2 prlimit64 "
                         "process_mrelease process_vm_readv process_vm_writev "
                         "pselect6 pselect6_time64 ptrace pwrite64 pwritev "
                         "pwritev2 read readahead readdir readlink readlinkat "
                         "readv reboot recv recvfrom recvmmsg recvmmsg_time64 "
                         "recvmsg remap_file_pages removexattr rename renameat "
                         "renameat2 restart_syscall rmdir rseq rt_sigaction "
                         "rt_sigpending rt_sigprocmask rt_sigqueueinfo "
                         "rt_sigreturn rt_sigsuspend rt_sigtimedwait "
                         "rt_sigtimedwait_time64 rt_tgsigqueueinfo "
                         "sched_get_priority_max sched_get_priority_min "
                         "sched_getaffinity sched_getattr sched_getparam "
                         "sched_getscheduler sched_rr_get_interval "
                         "sched_rr_get_interval_time64 sched_setaffinity "
                         "sched_setattr sched_setparam sched_setscheduler "
                         "sched_yield seccomp select semctl semget semop "
                         "semtimedop semtimedop_time64 send sendfile "
                         "sendfile64 sendmmsg sendmsg sendto set_mempolicy "
                         "set_robust_list set_thread_area set_tid_address "
                         "setfsgid setfsgid32 setfsuid setfsuid32 setgid "
                         "setgid32 setgroups setgroups32 setitimer setns "
                         "setpgid setpriority setregid setregid32 setresgid "
                         "setresgid32 setresuid setresuid32 setreuid "
                         "setreuid32 setrlimit setsid setsockopt setuid "
                         "setuid32 setxattr shmat shmctl shmdt shmget shutdown "
                         "sigaction sigaltstack signal signalfd signalfd4 "
                         "sigpending sigprocmask sigreturn sigsuspend "
                         "socketcall socketpair splice stat stat64 statfs "
                         "statfs64 statx symlink symlinkat sync "
                         "sync_file_range syncfs syscall sysinfo syslog tee "
                         "tgkill time timer_create timer_delete "
                         "timer_getoverrun timer_gettime timer_gettime64 "
                         "timer_settime timer_settime64 timerfd timerfd_create "
                         "timerfd_gettime timerfd_gettime64 timerfd_settime "
                         "timerfd_settime64 times tkill truncate truncate64 "
                         "ugetrlimit umask umount umount2 uname unlink "
                         "unlinkat unshare utime utimensat utimensat_time64 "
                         "utimes vfork wait4 waitid waitpid write writev",
                .action = "SCMP_ACT_ALLOW",
                .errno_ret = -1,
                .n_args = 0,
        },
        {
                .names = "personality",
                .action = "SCMP_ACT_ALLOW",
                .errno_ret = -1,
                .n_args = 1,
                .args =
                        {
                                {0, 0u, 0u, "SCMP_CMP_EQ"},
                        },
        },
        {
                .names = "personality",
                .action = "SCMP_ACT_ALLOW",
                .errno_ret = -1,
                .n_args = 1,
                .args =
                        {
                                {0, 8u, 0u, "SCMP_CMP_EQ"},
                        },
        },
        {
                .names = "personality",
                .action = "SCMP_ACT_ALLOW",
                .errno_ret = -1,
                .n_args = 1,
                .args =
                        {
                                {0, 131072u, 0u, "SCMP_CMP_EQ"},
                        },
        },
        {
                .names = "personality",
                .action = "SCMP_ACT_ALLOW",
                .errno_ret = -1,
                .n_args = 1,
                .args =
                        {
                                {0, 131080u, 0u, "SCMP_CMP_EQ"},
                        },
        },
        {
                .names = "personality",
                .action = "SCMP_ACT_ALLOW",
                .errno_ret = -1,
                .n_args = 1,
                .args =
                        {
                                {0, 4294967295u, 0u, "SCMP_CMP_EQ"},
                        },
        },
        {
                .names = "sync_file_range2",
                .action = "SCMP_ACT_ALLOW",
                .errno_ret = -1,
                .n_args = 0,
                .inc_arches = "ppc64le",
        },
        {
                .names = "arm_fadvise64_64 arm_sync_file_range breakpoint "
                         "cacheflush set_tls sync_file_range2",
                .action = "SCMP_ACT_ALLOW",
                .errno_ret = -1,
                .n_args = 0,
                .inc_arches = "arm arm64",
        },
        {
                .names = "arch_prctl",
                .action = "SCMP_ACT_ALLOW",
                .errno_ret = -1,
                .n_args = 0,
                .inc_arches = "amd64 x32",
        },
        {
                .names = "modify_ldt",
                .action = "SCMP_ACT_ALLOW",
                .errno_ret = -1,
                .n_args = 0,
                .inc_arches = "amd64 x32 x86",
        },
        {
                .names = "s390_pci_mmio_read s390_pci_mmio_write "
                         "s390_runtime_instr",
                .action = "SCMP_ACT_ALLOW",
                .errno_ret = -1,
                .n_args = 0,
                .inc_arches = "s390 s390x",
        },
        {
                .names = "open_by_handle_at",
                .action = "SCMP_ACT_ALLOW",
                .errno_ret = -1,
                .n_args = 0,
                .inc_caps = "CAP_DAC_READ_SEARCH",
        },
        {
                .names = "open_by_handle_at",
                .action = "SCMP_ACT_ERRNO",
                .errno_ret = 1,
                .errno_name = "EPERM",
                .n_args = 0,
                .exc_caps = "CAP_DAC_READ_SEARCH",
        },
        {
                .names = "bpf fanotify_init lookup_dcookie perf_event_open "
                         "quotactl setdomainname sethostname setns",
                .action = "SCMP_ACT_ALLOW",
                .errno_ret = -1,
                .n_args = 0,
                .inc_caps = "CAP_SYS_ADMIN",
        },
        {
                .names = "bpf fanotify_init lookup_dcookie perf_event_open "
                         "quotactl setdomainname sethostname setns",
                .action = "SCMP_ACT_ERRNO",
                .errno_ret = 1,
                .errno_name = "EPERM",
                .n_args = 0,
                .exc_caps = "CAP_SYS_ADMIN",
        },
        {
                .names = "chroot",
                .action = "SCMP_ACT_ALLOW",
                .errno_ret = -1,
                .n_args = 0,
                .inc_caps = "CAP_SYS_CHROOT",
        },
        {
                .names = "chroot",
                .action = "SCMP_ACT_ERRNO",
                .errno_ret = 1,
                .errno_name = "EPERM",
                .n_args = 0,
                .exc_caps = "CAP_SYS_CHROOT",
        },
        {
                .names = "delete_module finit_module init_module query_module",
                .action = "SCMP_ACT_ALLOW",
                .errno_ret = -1,
                .n_args = 0,
                .inc_caps = "CAP_SYS_MODULE",
        },
        {
                .names = "delete_module finit_module init_module query_module",
                .action = "SCMP_ACT_ERRNO",
                .errno_ret = 1,
                .errno_name = "EPERM",
                .n_args = 0,
                .exc_caps = "CAP_SYS_MODULE",
        },
        {
                .names = "acct",
                .action = "SCMP_ACT_ALLOW",
                .errno_ret = -1,
                .n_args = 0,
                .inc_caps = "CAP_SYS_PACCT",
        },
        {
                .names = "acct",
                .action = "SCMP_ACT_ERRNO",
                .errno_ret = 1,
                .errno_name = "EPERM",
                .n_args = 0,
                .exc_caps = "CAP_SYS_PACCT",
        },
        {
                .names = "kcmp process_madvise",
                .action = "SCMP_ACT_ALLOW",
                .errno_ret = -1,
                .n_args = 0,
                .inc_caps = "CAP_SYS_PTRACE",
        },
        {
                .names = "kcmp process_madvise",
                .action = "SCMP_ACT_ERRNO",
                .errno_ret = 1,
                .errno_name = "EPERM",
                .n_args = 0,
                .exc_caps = "CAP_SYS_PTRACE",
        },
        {
                .names = "ioperm iopl",
                .action = "SCMP_ACT_ALLOW",
                .errno_ret = -1,
                .n_args = 0,
                .inc_caps = "CAP_SYS_RAWIO",
        },
        {
                .names = "ioperm iopl",
                .action = "SCMP_ACT_ERRNO",
                .errno_ret = 1,
                .errno_name = "EPERM",
                .n_args = 0,
                .exc_caps = "CAP_SYS_RAWIO",
        },
        {
                .names = "clock_settime clock_settime64 settimeofday stime",
                .action = "SCMP_ACT_ALLOW",
                .errno_ret = -1,
                .n_args = 0,
                .inc_caps = "CAP_SYS_TIME",
        },
        {
                .names = "clock_settime clock_settime64 settimeofday stime",
                .action = "SCMP_ACT_ERRNO",
                .errno_ret = 1,
                .errno_name = "EPERM",
                .n_args = 0,
                .exc_caps = "CAP_SYS_TIME",
        },
        {
                .names = "vhangup",
                .action = "SCMP_ACT_ALLOW",
                .errno_ret = -1,
                .n_args = 0,
                .inc_caps = "CAP_SYS_TTY_CONFIG",
        },
        {
                .names = "vhangup",
                .action = "SCMP_ACT_ERRNO",
                .errno_ret = 1,
                .errno_name = "EPERM",
                .n_args = 0,
                .exc_caps = "CAP_SYS_TTY_CONFIG",
        },
        {
                .names = "socket",
                .action = "SCMP_ACT_ERRNO",
                .errno_ret = 22,
                .errno_name = "EINVAL",
                .n_args = 2,
                .args =
                        {
                                {0, 16u, 0u, "SCMP_CMP_EQ"},
                                {2, 9u, 0u, "SCMP_CMP_EQ"},
                        },
                .exc_caps = "CAP_AUDIT_WRITE",
        },
        {
                .names = "socket",
                .action = "SCMP_ACT_ALLOW",
                .errno_ret = -1,
                .n_args = 1,
                .args =
                        {
                                {2, 9u, 0u, "SCMP_CMP_NE"},
                        },
                .exc_caps = "CAP_AUDIT_WRITE",
        },
        {
                .names = "socket",
                .action = "SCMP_ACT_ALLOW",
                .errno_ret = -1,
                .n_args = 1,
                .args =
                        {
                                {0, 16u, 0u, "SCMP_CMP_NE"},
                        },
                .exc_caps = "CAP_AUDIT_WRITE",
        },
        {
                .names = "socket",
                .action = "SCMP_ACT_ALLOW",
                .errno_ret = -1,
                .n_args = 1,
                .args =
                        {
                                {2, 9u, 0u, "SCMP_CMP_NE"},
                        },
                .exc_caps = "CAP_AUDIT_WRITE",
        },
        {
                .names = "socket",
                .action = "SCMP_ACT_ALLOW",
                .errno_ret = -1,
                .n_args = -1,
                .inc_caps = "CAP_AUDIT_WRITE",
        },
};

static json_t *words_json(const char *s)
{
        _cleanup_strv_ char **l = strv_split(s, " ");
        return spec_strv_json(l);
}

static json_t *filter_json(const char *caps, const char *arches)
{
        json_t *o = json_object();
        if (caps)
                json_object_set_new(o, "caps", words_json(caps));
        if (arches)
                json_object_set_new(o, "arches", words_json(arches));
        return o;
}

static json_t *args_json(const struct seccomp_rule *r)
{
        if (r->n_args < 0)
                return json_null();
        json_t *a = json_array();
        for (int i = 0; i < r->n_args; i++) {
                const struct seccomp_arg *x = &r->args[i];
                json_t *o = json_object();
                json_object_set_new(o, "index", json_integer(x->index));
                json_object_set_new(o, "value", json_integer((json_int_t)x->value));
                json_object_set_new(o, "valueTwo", json_integer((json_int_t)x->value_two));
                json_object_set_new(o, "op", json_string(x->op));
                json_array_append_new(a, o);
        }
        return a;
}

static json_t *rule_json(const struct seccomp_rule *r)
{
        json_t *o = json_object();
        json_object_set_new(o, "names", words_json(r->names));
        json_object_set_new(o, "action", json_string(r->action));
        json_object_set_new(o, "args", args_json(r));
        json_object_set_new(o, "comment", json_string(""));
        json_object_set_new(o, "includes", filter_json(r->inc_caps, r->inc_arches));
        json_object_set_new(o, "excludes", filter_json(r->exc_caps, r->exc_arches));
        if (r->errno_ret >= 0) {
                json_object_set_new(o, "errnoRet", json_integer(r->errno_ret));
                json_object_set_new(o, "errno", json_string(r->errno_name));
        }
        return o;
}

json_t *pea_seccomp_default_profile(void)
{
        json_t *p = json_object(), *arches = json_array(), *rules = json_array();
        json_object_set_new(p, "defaultAction", json_string("SCMP_ACT_ERRNO"));
        json_object_set_new(p, "defaultErrnoRet", json_integer(ENOSYS));
        json_object_set_new(p, "defaultErrno", json_string("ENOSYS"));
        for (size_t i = 0; i < ELEMENTSOF(default_arch_map); i++) {
                json_t *m = json_object();
                json_object_set_new(m, "architecture", json_string(default_arch_map[i].arch));
                json_object_set_new(m, "subArchitectures", words_json(default_arch_map[i].sub));
                json_array_append_new(arches, m);
        }
        json_object_set_new(p, "archMap", arches);
        for (size_t i = 0; i < ELEMENTSOF(default_rules); i++)
                json_array_append_new(rules, rule_json(&default_rules[i]));
        json_object_set_new(p, "syscalls", rules);
        return p;
}
