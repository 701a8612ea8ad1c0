#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A tiny read-only OCI registry serving crafted, mostly malformed images.

For pea's pull tests (tests/system/030-pull.bats): every repository below is
something a real registry would never serve, and pea must refuse it (or, for
the symlink escape, keep everything inside its store) with one error line.

  good         a valid one-layer image (the fake itself works)
  traversal    a layer with a "../escape" entry
  symlink      a layer with "evil -> ESCAPE" and then "evil/owned" (ESCAPE: --escape)
  symlink2     the same split over two layers
  badmanifest  pulled by digest D, the registry answers with other bytes
  truncated    a layer blob that ends halfway (Content-Length says so too)
  badconfig    a config blob whose bytes do not match its digest
  baddiffid    a config whose diff_ids do not match the layer

usage: fake-registry.py [--escape PATH] [--port-file FILE]
Listens on 127.0.0.1 on a free port, prints "PORT" (and writes it to FILE),
serves until killed. `--print-digest REPO` prints the manifest digest of REPO
and exits (the by-digest reference for badmanifest).
"""
import argparse
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def tar_layer(entries):
    """entries: (name, kind, value) with kind "file" (content), "dir" or "symlink" (target)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, kind, value in entries:
            info = tarfile.TarInfo(name)
            info.mtime = 1700000000
            if kind == "dir":
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                t.addfile(info)
            elif kind == "symlink":
                info.type = tarfile.SYMTYPE
                info.linkname = value
                t.addfile(info)
            else:
                data = value.encode()
                info.size = len(data)
                info.mode = 0o644
                t.addfile(info, io.BytesIO(data))
    tar = raw.getvalue()
    return tar, gzip.compress(tar, mtime=0)


class Image:
    """An image: blobs by digest plus the manifest (bytes) served for "latest"."""

    def __init__(self, layers, diff_ids=None):
        self.blobs = {}
        descs, diffs = [], []
        for tar, blob in layers:
            self.blobs[sha256(blob)] = blob
            descs.append({"mediaType": LAYER_GZIP, "digest": sha256(blob), "size": len(blob)})
            diffs.append(sha256(tar))
        config = json.dumps({
            "architecture": "amd64",
            "os": "linux",
            "created": "2024-01-01T00:00:00Z",
            "config": {"Cmd": ["sh"]},
            "rootfs": {"type": "layers", "diff_ids": diff_ids or diffs},
        }, separators=(",", ":")).encode()
        self.config_digest = sha256(config)
        self.blobs[self.config_digest] = config
        self.manifest = json.dumps({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": self.config_digest,
                       "size": len(config)},
            "layers": descs,
        }, separators=(",", ":")).encode()
        self.digest = sha256(self.manifest)
        self.manifests = {"latest": self.manifest, self.digest: self.manifest}
        self.sizes = {}  # digest -> bytes actually served (truncation)


def build(escape):
    images = {}
    images["good"] = Image([tar_layer([("etc", "dir", None), ("etc/good", "file", "good\n")])])
    images["traversal"] = Image([tar_layer([("ok", "file", "ok\n"),
                                            ("../escape", "file", "escaped\n")])])
    images["symlink"] = Image([tar_layer([("evil", "symlink", escape),
                                          ("evil/owned", "file", "owned\n")])])
    images["symlink2"] = Image([tar_layer([("evil", "symlink", escape)]),
                                tar_layer([("evil/owned", "file", "owned\n")])])

    bad = Image([tar_layer([("a", "file", "a\n")])])
    other = Image([tar_layer([("b", "file", "b\n")])])
    bad.manifests = {bad.digest: other.manifest, "latest": other.manifest}
    images["badmanifest"] = bad

    big = "".join("%06d\n" % i for i in range(40000))
    trunc = Image([tar_layer([("big", "file", big)])])
    layer = [d for d in trunc.blobs if d != trunc.config_digest][0]
    trunc.sizes[layer] = len(trunc.blobs[layer]) // 2
    images["truncated"] = trunc

    badcfg = Image([tar_layer([("c", "file", "c\n")])])
    badcfg.blobs[badcfg.config_digest] = badcfg.blobs[badcfg.config_digest].replace(
        b'"sh"', b'"id"')
    images["badconfig"] = badcfg

    images["baddiffid"] = Image([tar_layer([("d", "file", "d\n")])],
                                diff_ids=["sha256:" + "0" * 64])
    return images


class Handler(BaseHTTPRequestHandler):
    images = {}
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def send(self, code, body, ctype="application/json", digest=None, head=False):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Docker-Distribution-API-Version", "registry/2.0")
        if digest:
            self.send_header("Docker-Content-Digest", digest)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def error(self, code, err, msg, head=False):
        body = json.dumps({"errors": [{"code": err, "message": msg}]}).encode()
        self.send(code, body, head=head)

    def route(self, head):
        parts = self.path.split("?")[0].split("/")
        if self.path.rstrip("/") == "/v2":
            return self.send(200, b"{}", head=head)
        if len(parts) < 5 or parts[1] != "v2":
            return self.error(404, "NOT_FOUND", "not found", head)
        name, kind, ref = "/".join(parts[2:-2]), parts[-2], parts[-1]
        img = self.images.get(name)
        if not img:
            return self.error(404, "NAME_UNKNOWN", "repository name not known to registry", head)
        if kind == "manifests":
            body = img.manifests.get(ref)
            if body is None:
                return self.error(404, "MANIFEST_UNKNOWN", "manifest unknown", head)
            return self.send(200, body, OCI_MANIFEST, sha256(body), head)
        if kind == "blobs":
            blob = img.blobs.get(ref)
            if blob is None:
                return self.error(404, "BLOB_UNKNOWN", "blob unknown to registry", head)
            blob = blob[:img.sizes.get(ref, len(blob))]
            return self.send(200, blob, "application/octet-stream", ref, head)
        return self.error(404, "NOT_FOUND", "not found", head)

    def do_GET(self):
        self.route(False)

    def do_HEAD(self):
        self.route(True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--escape", default="/tmp/pea-fake-registry-escape")
    ap.add_argument("--port-file")
    ap.add_argument("--print-digest")
    args = ap.parse_args()
    Handler.images = build(args.escape)
    if args.print_digest:
        print(Handler.images[args.print_digest].digest)
        return 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port = server.server_address[1]
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write("%d\n" % port)
        os.rename(args.port_file + ".tmp", args.port_file)
    print(port, flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
