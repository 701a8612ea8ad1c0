/* SPDX-License-Identifier: Apache-2.0 */
/* pea login and pea logout: podman's auth.json, credentials checked against the registry. */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cmd.h"
#include "image.h"

struct pea_login_opts {
        const char *user, *password, *authfile, *cert_dir;
        bool password_stdin, get_login, all;
        int tls_verify;
};

/* "https://host:5000/ns/" -> "host:5000/ns": the key auth.json uses. */
static char *registry_key(const char *arg)
{
        const char *s = startswith(arg, "https://") ?: startswith(arg, "http://") ?: arg;
        char *k = xstrdup(s);
        size_t n = strlen(k);
        while (n > 0 && k[n - 1] == '/')
                k[--n] = '\0';
        return k;
}

static char *registry_host(const char *key)
{
        const char *slash = strchr(key, '/');
        return slash ? xstrndup(key, (size_t)(slash - key)) : xstrdup(key);
}

/* The registry argument, or the first unqualified-search registry as podman does. */
static int pick_registry(int argc, char **argv, char **ret, struct pea_error **err)
{
        if (optind < argc) {
                *ret = registry_key(argv[optind]);
                return 0;
        }
        _cleanup_(pea_registries_done) struct pea_registries regs = {0};
        int r = pea_registries_load(&regs, err);
        if (r < 0)
                return r;
        if (!regs.search || !regs.search[0])
                return pea_error_set(err, EINVAL, "please provide a registry to login to");
        *ret = xstrdup(regs.search[0]);
        return 0;
}

/* One line from stdin without its newline; echo off when it is a terminal and secret. */
static int read_line(const char *prompt, bool secret, char **ret, struct pea_error **err)
{
        bool tty = isatty(STDIN_FILENO) == 1;
        struct termios old, quiet;
        if (tty && prompt) {
                fprintf(stderr, "%s", prompt);
                (void)fflush(stderr);
        }
        bool echo_off = tty && secret && tcgetattr(STDIN_FILENO, &old) == 0;
        if (echo_off) {
                quiet = old;
                quiet.c_lflag &= ~(tcflag_t)ECHO;
                (void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
        }
        char *line = NULL;
        size_t cap = 0;
        ssize_t n = getline(&line, &cap, stdin);
        if (echo_off) {
                (void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
                fprintf(stderr, "\n");
        }
        if (n < 0) {
                free(line);
                return pea_error_set(err, EIO, "reading %s: EOF", secret ? "password" : "username");
        }
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
                line[--n] = '\0';
        *ret = line;
        return 0;
}

static int get_login(const struct pea_login_opts *o, const char *key, struct pea_error **err)
{
        _cleanup_free_ char *user = NULL, *password = NULL;
        int r = pea_registry_authfile_lookup(o->authfile, key, &user, &password, err);
        if (r < 0)
                return r;
        if (r == 0)
                return pea_error_set(err, ENOENT, "not logged into %s", key);
        printf("%s\n", user);
        return 0;
}

static int do_login(const struct pea_login_opts *o, const char *key, struct pea_error **err)
{
        _cleanup_free_ char *user = o->user ? xstrdup(o->user) : NULL;
        _cleanup_free_ char *password = o->password ? xstrdup(o->password) : NULL;
        int r = 0;
        if (!user)
                r = read_line("Username: ", false, &user, err);
        if (r >= 0 && !password)
                r = read_line(o->password_stdin ? NULL : "Password: ", true, &password, err);
        if (r < 0)
                return r;
        _cleanup_(pea_registries_done) struct pea_registries regs = {0};
        _cleanup_error_ struct pea_error *e = NULL;
        _cleanup_free_ char *host = registry_host(key);
        bool insecure = o->tls_verify == 0;
        if (o->tls_verify < 0 && pea_registries_load(&regs, &e) >= 0) {
                const struct pea_registry *reg = pea_registries_find(&regs, key);
                insecure = reg && reg->insecure;
        }
        struct pea_registry_opts ro = {
                .insecure = insecure, .cert_dir = o->cert_dir, .authfile = o->authfile};
        struct pea_registry_client *c = NULL;
        pea_error_clear(&e);
        r = pea_registry_client_new(host, &ro, &c, &e);
        if (r >= 0)
                r = pea_registry_login(c, user, password, &e);
        pea_registry_client_free(c);
        if (r == -EACCES)
                return pea_error_set(err, EACCES, "logging into \"%s\": invalid username/password",
                                     key);
        if (r < 0) {
                *err = TAKE_PTR(e);
                return pea_error_wrap(err, "logging into \"%s\"", key);
        }
        printf("Login Succeeded!\n");
        return 0;
}

enum {
        OPT_AUTHFILE = 0x100,
        OPT_CERT_DIR,
        OPT_GET_LOGIN,
        OPT_PASSWORD_STDIN,
        OPT_TLS_VERIFY,
        OPT_IGNORED,
};

static int login_opt(struct pea_login_opts *o, int c, struct pea_error **err)
{
        bool b = false;
        int r = 0;
        switch (c) {
        case 'u':
                o->user = optarg;
                break;
        case 'p':
                o->password = optarg;
                break;
        case 'a':
                o->all = true;
                break;
        case OPT_AUTHFILE:
                o->authfile = optarg;
                break;
        case OPT_CERT_DIR:
                o->cert_dir = optarg;
                break;
        case OPT_GET_LOGIN:
                o->get_login = true;
                break;
        case OPT_PASSWORD_STDIN:
                o->password_stdin = true;
                break;
        case OPT_TLS_VERIFY:
                r = pea_cmd_parse_bool("tls-verify", optarg, &b, err);
                o->tls_verify = b ? 1 : 0;
                break;
        default:
                break;
        }
        return r;
}

static int parse_login(struct pea_cli *cli, const struct pea_cmd *cmd, int argc, char **argv,
                       struct pea_login_opts *o, struct pea_error **err)
{
        static const struct option longopts[] = {
                {"all", no_argument, NULL, 'a'},
                {"authfile", required_argument, NULL, OPT_AUTHFILE},
                {"cert-dir", required_argument, NULL, OPT_CERT_DIR},
                {"get-login", no_argument, NULL, OPT_GET_LOGIN},
                {"password", required_argument, NULL, 'p'},
                {"password-stdin", no_argument, NULL, OPT_PASSWORD_STDIN},
                {"tls-verify", optional_argument, NULL, OPT_TLS_VERIFY},
                {"username", required_argument, NULL, 'u'},
                {"verbose", no_argument, NULL, 'v'},
                PEA_HELP_OPTION,
                {},
        };
        bool logout = cmd == &pea_cmd_logout;
        int c;
        while ((c = getopt_long(argc, argv, logout ? ":ah" : ":u:p:vh", longopts, NULL)) != -1) {
                if (c == 'h') {
                        pea_cli_print_help(cli, cmd);
                        return 1;
                }
                if (c == '?' || c == ':' || (logout && c != 'a' && c != OPT_AUTHFILE)
                    || (!logout && c == 'a'))
                        return pea_cli_opt_error(c == '?' || c == ':' ? c : '?', argc, argv, err);
                int r = login_opt(o, c, err);
                if (r < 0)
                        return r;
        }
        if (o->password && o->password_stdin)
                return pea_error_set(err, EINVAL,
                                     "can't specify both --password-stdin and --password");
        if (o->password_stdin && !o->user)
                return pea_error_set(err, EINVAL, "must provide --username with --password-stdin");
        return pea_cli_check_args(cli, argc - optind, 0, 1, err);
}

static int cmd_login(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        struct pea_login_opts o = {.tls_verify = -1};
        int r = parse_login(cli, &pea_cmd_login, argc, argv, &o, err);
        if (r != 0)
                return r < 0 ? r : 0;
        _cleanup_free_ char *key = NULL;
        r = pick_registry(argc, argv, &key, err);
        if (r >= 0)
                r = o.get_login ? get_login(&o, key, err) : do_login(&o, key, err);
        return r < 0 ? r : 0;
}

/* ---- logout -------------------------------------------------------------------------------- */

static int logout_all(const char *authfile, struct pea_error **err)
{
        _cleanup_free_ char *path = pea_registry_authfile_path(authfile);
        _cleanup_free_ char *text = NULL;
        int r = pea_read_file_at(AT_FDCWD, path, 4u << 20, &text, NULL, err);
        if (r == -ENOENT) {
                pea_error_clear(err);
                r = 0;
        }
        if (r < 0)
                return r;
        _cleanup_json_ json_t *j = text ? json_loads(text, 0, NULL) : NULL;
        if (!json_is_object(j)) {
                json_decref(j);
                j = json_object();
        }
        json_object_set_new(j, "auths", json_object());
        _cleanup_free_ char *out = pea_json_dumps(j, 8);
        if (text)
                r = pea_write_file_atomic_at(AT_FDCWD, path, out, strlen(out), 0600, err);
        if (r >= 0)
                printf("Removed login credentials for all registries\n");
        return r;
}

static int cmd_logout(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        struct pea_login_opts o = {.tls_verify = -1};
        int r = parse_login(cli, &pea_cmd_logout, argc, argv, &o, err);
        if (r != 0)
                return r < 0 ? r : 0;
        if (o.all)
                return logout_all(o.authfile, err);
        _cleanup_free_ char *key = NULL;
        r = pick_registry(argc, argv, &key, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *path = pea_registry_authfile_path(o.authfile);
        _cleanup_error_ struct pea_error *e = NULL;
        r = pea_registry_authfile_remove(path, key, &e);
        if (r == -ENOENT)
                return pea_error_set(err, ENOENT, "not logged into %s", key);
        if (r < 0) {
                *err = TAKE_PTR(e);
                return r;
        }
        printf("Removed login credentials for %s\n", key);
        return 0;
}

const struct pea_cmd pea_cmd_login = {
        .name = "login",
        .fn = cmd_login,
        .summary = "Login to a container registry",
        .usage = "[options] [REGISTRY]",
        .options = "      --authfile string   path of the authentication file\n"
                   "      --cert-dir string   use certificates at the specified path to access "
                   "the registry\n"
                   "      --get-login         Return the current login user for the registry\n"
                   "  -p, --password string   Password for registry\n"
                   "      --password-stdin    Take the password from stdin\n"
                   "      --tls-verify        Require HTTPS and verify certificates when "
                   "contacting registries (default true)\n"
                   "  -u, --username string   Username for registry\n"
                   "  -v, --verbose           Write more detailed information to stdout\n",
};

const struct pea_cmd pea_cmd_logout = {
        .name = "logout",
        .fn = cmd_logout,
        .summary = "Logout of a container registry",
        .usage = "[options] [REGISTRY]",
        .options = "  -a, --all               Remove the cached credentials for all registries in "
                   "the auth file\n"
                   "      --authfile string   path of the authentication file\n",
};
