#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""token-server.py: a small Docker registry token server (token auth spec) for pea's tests.

    token-server.py --port P --key key.pem --cert cert.pem --issuer pea-test \\
        --service pea-registry --users pea:peapass[,reader:readpass:pull] [--expiry SECONDS] \\
        [--alg RS256|ES256] [--port-file FILE] [--quiet]

GET /token?service=S&scope=repository:NAME:pull,push[&scope=...]&account=U with HTTP Basic
credentials answers {"token", "access_token", "expires_in", "issued_at"}: a JWT signed with
key.pem whose header carries cert.pem as "x5c" (docker distribution 2.8 verifies that chain
against auth.token.rootcertbundle) and a libtrust "kid". A user may get every action, or
only those listed after a third ':' ("reader:readpass:pull"). Without credentials, or with
wrong ones, the answer is 401. GET /stats answers {"issued": N, "requests": [...]}, the
last 100 token requests (account, scopes, granted), for tests that check re-auth.

Only the Python 3 standard library; signing runs `openssl dgst -sha256 -sign key.pem`.
"""

import argparse
import base64
import datetime
import hashlib
import http.server
import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid

ALL_ACTIONS = ("pull", "push", "delete", "*")


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def pem_blocks(path, label):
    """The base64 bodies of the PEM blocks with this label, in order."""
    blocks, cur = [], None
    with open(path, encoding="ascii") as f:
        for line in f:
            line = line.strip()
            if line == f"-----BEGIN {label}-----":
                cur = []
            elif line == f"-----END {label}-----" and cur is not None:
                blocks.append("".join(cur))
                cur = None
            elif cur is not None:
                cur.append(line)
    if not blocks:
        sys.exit(f"token-server: no {label} in {path}")
    return blocks


def libtrust_kid(cert_path):
    """libtrust's key ID: base32 of the first 240 bits of sha256(DER SubjectPublicKeyInfo)."""
    spki = subprocess.run(
        ["openssl", "x509", "-in", cert_path, "-noout", "-pubkey"],
        check=True, capture_output=True).stdout
    der = subprocess.run(
        ["openssl", "pkey", "-pubin", "-outform", "DER"],
        input=spki, check=True, capture_output=True).stdout
    b32 = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode().rstrip("=")
    return ":".join(b32[i:i + 4] for i in range(0, len(b32), 4))


def der_ecdsa_to_raw(sig, size):
    """ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } to r||s (JWS ES256)."""
    if sig[0] != 0x30:
        raise ValueError("not a DER sequence")
    pos = 2 + (sig[1] & 0x7F if sig[1] & 0x80 else 0)
    out = b""
    for _ in range(2):
        if sig[pos] != 0x02:
            raise ValueError("not a DER integer")
        n = sig[pos + 1]
        value = sig[pos + 2:pos + 2 + n].lstrip(b"\0")
        out += value.rjust(size, b"\0")
        pos += 2 + n
    return out


class Signer:
    def __init__(self, key, cert, alg):
        self.key, self.alg = key, alg
        self.header = {"typ": "JWT", "alg": alg, "kid": libtrust_kid(cert),
                       "x5c": pem_blocks(cert, "CERTIFICATE")}

    def sign(self, claims):
        signing_input = (b64url(json.dumps(self.header).encode()) + "."
                         + b64url(json.dumps(claims).encode()))
        sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", self.key],
                             input=signing_input.encode(), check=True,
                             capture_output=True).stdout
        if self.alg == "ES256":
            sig = der_ecdsa_to_raw(sig, 32)
        return signing_input + "." + b64url(sig)


def parse_users(spec):
    users = {}
    for entry in filter(None, spec.split(",")):
        parts = entry.split(":")
        if len(parts) < 2:
            sys.exit(f"token-server: bad user '{entry}', expected user:password[:actions]")
        actions = parts[2].split("+") if len(parts) > 2 else list(ALL_ACTIONS)
        users[parts[0]] = (parts[1], actions)
    return users


def parse_scope(scope):
    """repository:NAME:a,b -> (type, name, [actions]); NAME may hold ':' (host:port)."""
    typ, _, rest = scope.partition(":")
    name, _, actions = rest.rpartition(":")
    if not typ or not name:
        return None
    return typ, name, [a for a in actions.split(",") if a]


class State:
    def __init__(self, args):
        self.args = args
        self.users = parse_users(args.users)
        self.signer = Signer(args.key, args.cert, args.alg)
        self.lock = threading.Lock()
        self.issued = 0
        self.requests = []

    def record(self, entry):
        with self.lock:
            self.issued += 1 if entry.get("granted") is not None else 0
            self.requests = (self.requests + [entry])[-100:]


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "pea-token-server/1"
    state = None  # set in main()

    def log_message(self, fmt, *args):  # noqa: N802 (http.server API)
        if not self.state.args.quiet:
            sys.stderr.write("token-server: %s\n" % (fmt % args))

    def send_json(self, code, obj, headers=()):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def unauthorized(self, message):
        self.send_json(401, {"errors": [{"code": "UNAUTHORIZED", "message": message}]},
                       [("WWW-Authenticate", 'Basic realm="pea-token-server"')])

    def account(self):
        auth = self.headers.get("Authorization", "")
        if not auth.lower().startswith("basic "):
            return None
        try:
            user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        known = self.state.users.get(user)
        if not known or known[0] != password:
            return False
        return user

    def do_GET(self):  # noqa: N802 (http.server API)
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/stats":
            with self.state.lock:
                self.send_json(200, {"issued": self.state.issued,
                                     "requests": self.state.requests})
            return
        if url.path != "/token":
            self.send_json(404, {"errors": [{"code": "NOT_FOUND", "message": "not found"}]})
            return
        self.token(urllib.parse.parse_qs(url.query))

    def token(self, query):
        args = self.state.args
        scopes = query.get("scope", [])
        user = self.account()
        entry = {"account": user or None, "scopes": scopes, "granted": None}
        if query.get("service", [args.service])[0] != args.service:
            self.state.record(entry)
            self.send_json(400, {"errors": [{"code": "DENIED", "message": "unknown service"}]})
            return
        if not user:
            self.state.record(entry)
            self.unauthorized("authentication required" if user is None
                              else "invalid username or password")
            return
        allowed = self.state.users[user][1]
        access = []
        for scope in scopes:
            parsed = parse_scope(scope)
            if not parsed:
                continue
            typ, name, actions = parsed
            granted = [a for a in actions if a in allowed or "*" in allowed]
            access.append({"type": typ, "name": name, "actions": granted})
        now = int(time.time())
        claims = {"iss": args.issuer, "sub": user, "aud": args.service,
                  "exp": now + args.expiry, "nbf": now - 1, "iat": now,
                  "jti": uuid.uuid4().hex, "access": access}
        token = self.state.signer.sign(claims)
        entry["granted"] = access
        self.state.record(entry)
        issued_at = datetime.datetime.fromtimestamp(now, datetime.timezone.utc)
        self.send_json(200, {"token": token, "access_token": token,
                             "expires_in": args.expiry,
                             "issued_at": issued_at.strftime("%Y-%m-%dT%H:%M:%SZ")})


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, required=True, help="0 picks a free port")
    p.add_argument("--port-file", help="write the port here once listening")
    p.add_argument("--key", required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--issuer", required=True)
    p.add_argument("--service", required=True)
    p.add_argument("--users", required=True, help="user:password[:action+action],...")
    p.add_argument("--expiry", type=int, default=300, help="token lifetime in seconds")
    p.add_argument("--alg", choices=("RS256", "ES256"), default="RS256")
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args()
    Handler.state = State(args)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    port = server.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w", encoding="ascii") as f:
            f.write(f"{port}\n")
        os.rename(tmp, args.port_file)
    sys.stderr.write(f"token-server: listening on 127.0.0.1:{port}\n")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
