/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/*
 * lib/events: the event journal behind `pea events`.
 *
 * One append-only file, <run_root>/events/events.log, holds one JSON object
 * per line in podman's `events --format json` shape:
 *   {"ContainerExitCode":0,"ID":"...","Image":"...","Name":"...",
 *    "Status":"create","Time":"2025-05-20T00:00:00.5Z","Type":"container",
 *    "Attributes":{"k":"v"}}
 * (ID, Image, Name and ContainerExitCode are left out when empty, Attributes
 * is null when there are none). Each line goes out in one write() on an
 * O_APPEND descriptor and stays below PIPE_BUF, so concurrent writers never
 * interleave. The runtime dir is a tmpfs: the journal starts over on reboot,
 * as podman's file backend does.
 */

struct json_t;
struct pea_error;

struct pea_event {
        int64_t time;         /* unix ns */
        char *type;           /* container, image, volume, pod, system */
        char *status;         /* create, start, died, pull, ... */
        char *id;             /* may be NULL */
        char *name;           /* may be NULL */
        char *image;          /* may be NULL */
        struct json_t *attrs; /* an object (may be empty), owned */
        bool has_exit_code;
        int exit_code; /* "died" events */
};

void pea_event_done(struct pea_event *e);

/* <run_root>/events/events.log */
char *pea_event_log_path(const char *run_root);

/*
 * Appends an event stamped now. id, name, image and attrs (an object of
 * strings, borrowed) may be NULL. Attributes that would make the line longer
 * than PIPE_BUF are dropped, then the image and name are cut.
 */
int pea_event_write(const char *run_root, const char *type, const char *status, const char *id,
                    const char *name, const char *image, struct json_t *attrs,
                    struct pea_error **err);

/* Appends e as it is (time included). */
int pea_event_append(const char *run_root, const struct pea_event *e, struct pea_error **err);

/* The JSON line of e, without the newline. Never NULL. */
char *pea_event_to_json(const struct pea_event *e);

/* Parses a journal line; -EBADMSG when it is not an event. */
int pea_event_from_json(const char *line, struct pea_event *ret, struct pea_error **err);

/*
 * podman's human-readable line: "<time> container start <id> (image=..., name=..., k=v)",
 * "<time> image pull <id> <name>", "<time> volume create <name>". trunc: 12-character IDs.
 */
char *pea_event_to_text(const struct pea_event *e, bool trunc);

/* The object a --format template sees: ID, Image, Name, Status, Time (Go's
 * time.String()), Type, Attributes, ContainerExitCode. */
struct json_t *pea_event_template_data(const struct pea_event *e);

/*
 * --filter KEY=VALUE: type, event (also status), container (ID prefix or
 * name), image (name, ID prefix or the image of a container event), label
 * (KEY or KEY=VALUE of the attributes), pod, volume. Same keys are ORed,
 * different keys ANDed. pea_event_filters_check: -EINVAL on an unknown key.
 */
int pea_event_filters_check(char *const *filters, struct pea_error **err);
bool pea_event_match(const struct pea_event *e, char *const *filters);

/*
 * A Go duration ("300ms", "1.5h", "2h45m", "10s"; a bare "0" is 0) in ns;
 * -EINVAL when malformed or negative.
 */
int pea_duration_parse(const char *s, int64_t *ret_ns, struct pea_error **err);

/*
 * --since/--until: RFC 3339 ("2025-05-20T10:00:00Z", with offset or
 * fraction), "2025-05-20T10:00:00" and "2025-05-20" (UTC), unix seconds
 * ("1700000000", "1700000000.5"), or a duration counted back from now_ns
 * ("10m": ten minutes ago). -EINVAL otherwise.
 */
int pea_event_parse_time(const char *s, int64_t now_ns, int64_t *ret_ns, struct pea_error **err);
