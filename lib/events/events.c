/* SPDX-License-Identifier: Apache-2.0 */
/* The event journal: one JSON line per event, appended atomically. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include <jansson.h>

#include "base.h"
#include "events.h"
#include "units.h"

void pea_event_done(struct pea_event *e)
{
        free(e->type);
        free(e->status);
        free(e->id);
        free(e->name);
        free(e->image);
        json_decref(e->attrs);
        *e = (struct pea_event){};
}

char *pea_event_log_path(const char *run_root)
{
        return xasprintf("%s/events/events.log", run_root);
}

static void set_str(json_t *o, const char *key, const char *v)
{
        if (v && *v)
                json_object_set_new(o, key, json_string(v));
}

static json_t *event_json(const struct pea_event *e, bool with_attrs)
{
        json_t *o = json_object();
        if (e->has_exit_code)
                json_object_set_new(o, "ContainerExitCode", json_integer(e->exit_code));
        set_str(o, "ID", e->id);
        set_str(o, "Image", e->image);
        set_str(o, "Name", e->name);
        _cleanup_free_ char *t = pea_time_rfc3339(e->time);
        json_object_set_new(o, "Status", json_string(e->status ? e->status : ""));
        json_object_set_new(o, "Time", json_string(t));
        json_object_set_new(o, "Type", json_string(e->type ? e->type : ""));
        bool any = with_attrs && json_is_object(e->attrs) && json_object_size(e->attrs) > 0;
        json_object_set(o, "Attributes", any ? e->attrs : json_null());
        return o;
}

char *pea_event_to_json(const struct pea_event *e)
{
        _cleanup_json_ json_t *o = event_json(e, true);
        return pea_json_dumps(o, 0);
}

/* The line to write: whole, else without attributes, else with short strings. */
static char *line_for(const struct pea_event *e)
{
        _cleanup_json_ json_t *o = event_json(e, true);
        char *s = pea_json_dumps(o, 0);
        if (strlen(s) < PIPE_BUF - 1)
                return s;
        free(s);
        json_decref(o);
        o = event_json(e, false);
        s = pea_json_dumps(o, 0);
        if (strlen(s) < PIPE_BUF - 1)
                return s;
        free(s);
        struct pea_event cut = *e;
        _cleanup_free_ char *name = e->name ? xstrndup(e->name, 1000) : NULL;
        _cleanup_free_ char *image = e->image ? xstrndup(e->image, 1000) : NULL;
        _cleanup_free_ char *status = e->status ? xstrndup(e->status, 200) : NULL;
        _cleanup_free_ char *id = e->id ? xstrndup(e->id, 200) : NULL;
        cut.name = name;
        cut.image = image;
        cut.status = status;
        cut.id = id;
        json_decref(o);
        o = event_json(&cut, false);
        return pea_json_dumps(o, 0);
}

static int open_log(const char *run_root, struct pea_error **err)
{
        _cleanup_free_ char *path = pea_event_log_path(run_root);
        int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0 && errno == ENOENT) {
                _cleanup_free_ char *dir = xasprintf("%s/events", run_root);
                int r = pea_mkdir_p(dir, 0700, err);
                if (r < 0)
                        return r;
                fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        }
        if (fd < 0)
                return pea_error_syscall(err, errno, "opening the event log '%s'", path);
        return fd;
}

int pea_event_append(const char *run_root, const struct pea_event *e, struct pea_error **err)
{
        _cleanup_free_ char *line = line_for(e);
        size_t len = strlen(line);
        line = xrealloc(line, len + 2);
        line[len++] = '\n';
        line[len] = '\0';
        _cleanup_close_ int fd = open_log(run_root, err);
        if (fd < 0)
                return fd;
        /* one write: O_APPEND makes seek and write one step, so lines never mix */
        ssize_t n = write(fd, line, len);
        if (n < 0)
                return pea_error_syscall(err, errno, "writing the event log");
        if ((size_t)n != len)
                return pea_error_set(err, EIO, "short write to the event log");
        return 0;
}

int pea_event_write(const char *run_root, const char *type, const char *status, const char *id,
                    const char *name, const char *image, json_t *attrs, struct pea_error **err)
{
        if (!run_root)
                return 0;
        struct pea_event e = {
                .time = pea_now_ns(),
                .type = (char *)type,
                .status = (char *)status,
                .id = (char *)id,
                .name = (char *)name,
                .image = (char *)image,
                .attrs = attrs,
        };
        return pea_event_append(run_root, &e, err);
}

static char *dup_str(json_t *o, const char *key)
{
        const char *s = json_string_value(json_object_get(o, key));
        return s ? xstrdup(s) : NULL;
}

int pea_event_from_json(const char *line, struct pea_event *ret, struct pea_error **err)
{
        _cleanup_json_ json_t *o = json_loads(line, JSON_REJECT_DUPLICATES, NULL);
        const char *t = json_string_value(json_object_get(o, "Time"));
        const char *status = json_string_value(json_object_get(o, "Status"));
        const char *type = json_string_value(json_object_get(o, "Type"));
        int64_t ns = 0;
        if (!json_is_object(o) || !t || !status || !type || pea_time_parse_rfc3339(t, &ns) < 0)
                return pea_error_set(err, EBADMSG, "malformed event '%.80s'", line);
        struct pea_event e = {
                .time = ns,
                .type = xstrdup(type),
                .status = xstrdup(status),
                .id = dup_str(o, "ID"),
                .name = dup_str(o, "Name"),
                .image = dup_str(o, "Image"),
        };
        json_t *a = json_object_get(o, "Attributes");
        e.attrs = json_is_object(a) ? json_incref(a) : json_object();
        json_t *code = json_object_get(o, "ContainerExitCode");
        if (json_is_integer(code)) {
                e.has_exit_code = true;
                e.exit_code = (int)json_integer_value(code);
        }
        *ret = e;
        return 0;
}

static void append_attrs(char **s, json_t *attrs)
{
        const char *k;
        json_t *v;
        json_object_foreach(attrs, k, v) {
                char *n = xasprintf("%s, %s=%s", *s, k,
                                    json_string_value(v) ? json_string_value(v) : "");
                free(*s);
                *s = n;
        }
}

char *pea_event_to_text(const struct pea_event *e, bool trunc)
{
        _cleanup_free_ char *t = pea_time_go_string(e->time);
        const char *type = e->type ? e->type : "";
        const char *status = e->status ? e->status : "";
        _cleanup_free_ char *id = xstrndup(e->id ? e->id : "", trunc ? 12 : 64);
        const char *name = e->name ? e->name : "";
        if (streq(type, "container") || streq(type, "pod")) {
                char *s = xasprintf("%s %s %s %s (image=%s, name=%s", t, type, status, id,
                                    e->image ? e->image : "", name);
                append_attrs(&s, e->attrs);
                char *full = xasprintf("%s)", s);
                free(s);
                return full;
        }
        if (streq(type, "image"))
                return xasprintf("%s %s %s %s %s", t, type, status, id, name);
        if (streq(type, "volume"))
                return xasprintf("%s %s %s %s", t, type, status, name);
        if (*name)
                return xasprintf("%s %s %s %s", t, type, status, name);
        return xasprintf("%s %s %s", t, type, status);
}

json_t *pea_event_template_data(const struct pea_event *e)
{
        _cleanup_free_ char *t = pea_time_go_string(e->time);
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:I}", "ID", e->id ? e->id : "",
                              "Image", e->image ? e->image : "", "Name", e->name ? e->name : "",
                              "Status", e->status ? e->status : "", "Time", t, "Type",
                              e->type ? e->type : "", "ContainerExitCode", e->exit_code, "TimeNano",
                              (json_int_t)e->time);
        json_object_set_new(o, "Attributes", e->attrs ? json_deep_copy(e->attrs) : json_object());
        return o;
}
