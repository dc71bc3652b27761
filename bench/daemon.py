#!/usr/bin/env python3
"""The daemon's figures for make bench; run inside the bench's namespace.

  daemon.py start LOG -- AGENTD ARGS...
      start agentd in the background with a NOTIFY_SOCKET of our own and
      print its pid and the seconds from exec to READY=1 (the moment it
      serves; systemd waits for the same message)
  daemon.py latency CALLS WARMUP SOCK:N [SOCK:N...]
      POST .../firewall/egress of a new rule to a container picked at
      random (fixed seed) of each daemon in turn, call by call, so that
      drift on the machine falls on every daemon alike; each is undone
      by an untimed DELETE. Prints one line per daemon: the latencies in
      ms, sorted. WARMUP calls per daemon come first and are not kept.
"""
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time


def start(log, argv):
    d = tempfile.mkdtemp()
    path = os.path.join(d, "notify")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    env = dict(os.environ, NOTIFY_SOCKET=path)
    with open(log, "w") as f:
        t0 = time.perf_counter()
        p = subprocess.Popen(argv, env=env, stdout=f, stderr=f, start_new_session=True)
    s.settimeout(0.1)
    deadline = time.monotonic() + 300
    while True:
        try:
            if b"READY=1" in s.recv(4096).split(b"\n"):
                break
        except socket.timeout:
            pass
        if p.poll() is not None:
            sys.exit(f"agentd exited with status {p.returncode} before it was ready")
        if time.monotonic() > deadline:
            p.kill()
            sys.exit("agentd did not get ready within 300 s")
    ready = time.perf_counter() - t0
    if p.poll() is not None:
        sys.exit("agentd exited")
    os.unlink(path)
    os.rmdir(d)
    print(p.pid, f"{ready:.4f}")


class UnixHTTP(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=60)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(60)
        self.sock.connect(self.path)


def call(conn, method, url, body=None):
    hdr = {"Content-Type": "application/json"} if body is not None else {}
    conn.request(method, url, body, hdr)
    r = conn.getresponse()
    return r.status, r.read()


def one(conn, rng, n, i):
    """One timed POST and its untimed DELETE; returns ms."""
    cid = f"ct{rng.randrange(n)}"
    body = json.dumps({"destination": f"192.0.2.{i % 250 + 1}/32", "destination_port": "443",
                       "action": "allow", "protocol": "tcp",
                       "description": "bench: one rule added"})
    url = f"/api/v1/containers/{cid}/firewall/egress"
    t0 = time.perf_counter()
    status, data = call(conn, "POST", url, body)
    ms = (time.perf_counter() - t0) * 1000
    if status != 201:
        sys.exit(f"POST {url}: {status} {data[:200]!r}")
    rid = json.loads(data)["data"]["id"]
    status, data = call(conn, "DELETE", f"{url}/{rid}")
    if status != 200:
        sys.exit(f"DELETE {url}/{rid}: {status} {data[:200]!r}")
    return ms


def latency(calls, warmup, targets):
    ds = []
    for t in targets:
        path, n = t.rsplit(":", 1)
        ds.append((UnixHTTP(path), int(n), []))
    rng = random.Random(7919)
    for i in range(warmup + calls):
        for conn, n, lat in ds:
            ms = one(conn, rng, n, i)
            if i >= warmup:
                lat.append(ms)
    for _, _, lat in ds:
        print(" ".join(f"{x:.3f}" for x in sorted(lat)))


def main():
    a = sys.argv[1:]
    if len(a) >= 4 and a[0] == "start" and a[2] == "--":
        start(a[1], a[3:])
    elif len(a) >= 4 and a[0] == "latency":
        latency(int(a[1]), int(a[2]), a[3:])
    else:
        sys.exit(__doc__)


main()
