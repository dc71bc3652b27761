#!/usr/bin/env python3
"""The clients of 220-crash: a stream of mixed API calls while the agent
is killed at random moments.

Each client thread owns containers no other touches, keeps a model of
them, and after every call reads its container back: a call answered
2xx must be there; any other (an error, or no answer because the agent
died) wholly there or wholly absent. A host thread, with the clients
held, PUTs the whole host with two containers of its own added and
an older one removed, and reads the host back the same way. Runs until --stop
exists, prints a JSON summary, exits 1 on any violation.

    crashload.py --socket SOCK --stop FILE [--clients 3] [--seed N]
"""

import argparse
import http.client
import json
import os
import random
import socket
import sys
import threading
import time

V = "/api/v1/containers"


class UnixHTTP(http.client.HTTPConnection):
    def __init__(self, path, timeout):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.unix_path)
        self.sock = s


def call(sock, method, path, body=None):
    """(status, document), or (None, None) when no answer came."""
    try:
        c = UnixHTTP(sock, 30)
        headers = {}
        data = None
        if body is not None:
            data = json.dumps(body)
            headers["Content-Type"] = "application/json"
        c.request(method, path, body=data, headers=headers)
        r = c.getresponse()
        raw = r.read()
        c.close()
        return r.status, (json.loads(raw) if raw else None)
    except (OSError, http.client.HTTPException, ValueError):
        return None, None


def wait_up(sock, deadline=60):
    end = time.time() + deadline
    while time.time() < end:
        st, _ = call(sock, "GET", "/api/v1/health")
        if st == 200:
            return True
        time.sleep(0.02)
    return False


class RWLock:
    """Clients share it; the host thread takes it alone."""

    def __init__(self):
        self.cond = threading.Condition()
        self.readers = 0
        self.writer = False

    def acquire_shared(self):
        with self.cond:
            while self.writer:
                self.cond.wait()
            self.readers += 1

    def release_shared(self):
        with self.cond:
            self.readers -= 1
            self.cond.notify_all()

    def acquire(self):
        with self.cond:
            while self.writer:
                self.cond.wait()
            self.writer = True
            while self.readers:
                self.cond.wait()

    def release(self):
        with self.cond:
            self.writer = False
            self.cond.notify_all()


def rule_view(r):
    return (r["destination"].split("/")[0], r.get("destination_port"), r["protocol"], r["action"])


def fw_view(doc):
    """What a firewall is for the model: interface and rules by id."""
    return {"interface": doc.get("interface"),
            "rules": {r["id"]: rule_view(r) for r in doc.get("rules", [])}}


class Run:
    def __init__(self, a):
        self.a = a
        self.lock = RWLock()
        self.mutex = threading.Lock()
        self.counts = {}
        self.violations = []

    def count(self, kind, outcome):
        with self.mutex:
            k = "%s %s" % (kind, outcome)
            self.counts[k] = self.counts.get(k, 0) + 1

    def violation(self, text):
        with self.mutex:
            self.violations.append(text)

    def read(self, path, view):
        """The answer of a GET that came, through any restart: view(data) or None for 404."""
        while True:
            st, doc = call(self.a.socket, "GET", path)
            if st == 200:
                return view(doc["data"])
            if st == 404:
                return None
            if not wait_up(self.a.socket):
                raise SystemExit("the agent did not come back")

    def judge(self, kind, what, st, before, after, seen):
        """Judge a call: seen must be after (2xx), or after or before (else)."""
        ok = st is not None and 200 <= st < 300
        outcome = "ok" if ok else ("no-answer" if st is None else "status-%d" % st)
        self.count(kind, outcome)
        if seen == after:
            return after
        if not ok and seen == before:
            return before
        self.violation("%s %s (%s): expected %s%s, read %s" % (
            kind, what, outcome, json.dumps(after),
            "" if ok else " or " + json.dumps(before), json.dumps(seen)))
        return seen


def client(run, k, rng):
    a = run.a
    ids = ["k%d-%d" % (k, i) for i in range(2)]
    model = {c: None for c in ids}
    n = 0
    while not os.path.exists(a.stop):
        c = rng.choice(ids)
        m = model[c]
        n += 1
        run.lock.acquire_shared()
        try:
            if m is None or rng.random() < 0.1:
                kind = "attach"
                ifname = "x%d%d%s" % (k, n % 100, rng.choice("ab"))
                req = ("PUT", "%s/%s" % (V, c), {"interface": ifname})
                after = {"interface": ifname, "rules": dict(m["rules"]) if m else {}}
            elif m["rules"] and (len(m["rules"]) > 30 or rng.random() < 0.3):
                kind = "delete"
                rid = rng.choice(sorted(m["rules"]))
                req = ("DELETE", "%s/%s/firewall/egress/%s" % (V, c, rid), None)
                after = {"interface": m["interface"],
                         "rules": {i: r for i, r in m["rules"].items() if i != rid}}
            elif rng.random() < 0.08:
                kind = "reset"
                req = ("POST", "%s/%s/firewall/reset" % (V, c), None)
                after = {"interface": m["interface"], "rules": {}}
            elif rng.random() < 0.04:
                kind = "detach"
                req = ("DELETE", "%s/%s" % (V, c), None)
                after = None
            else:
                kind = "add"
                rid = "r%d" % n
                dst = "198.51.100.%d" % (n % 250 + 1)
                port = str(1000 + n)
                req = ("POST", "%s/%s/firewall/egress" % (V, c),
                       {"id": rid, "destination": dst + "/32", "protocol": "tcp",
                        "destination_port": port, "action": "allow"})
                rules = dict(m["rules"])
                rules[rid] = (dst, port, "tcp", "allow")
                after = {"interface": m["interface"], "rules": rules}
            st, _ = call(a.socket, *req)
            seen = run.read("%s/%s/firewall" % (V, c), fw_view)
            model[c] = run.judge(kind, c, st, m, after, seen)
        finally:
            run.lock.release_shared()


def host_view(doc):
    return {cid: fw_view(c) for cid, c in doc["containers"].items()}


def host(run, rng):
    a = run.a
    n = 0
    mine = []
    while not os.path.exists(a.stop):
        time.sleep(rng.uniform(0.0, 0.1))
        n += 1
        run.lock.acquire()
        try:
            st, doc = call(a.socket, "GET", "/api/v1/firewall")
            if st != 200:
                wait_up(a.socket)
                continue
            containers = doc["data"]["containers"]
            for c in containers.values():
                c.pop("revision", None)
            before = host_view(doc["data"])
            # one container of its own goes, two come: a change of several
            # containers must happen whole or not at all
            if len(mine) > 4:
                del containers[mine.pop(0)]
            for j in range(2):
                cid = "h-%d-%d" % (n, j)
                mine.append(cid)
                containers[cid] = {"rules": [
                    {"id": "h%d" % n, "destination": "203.0.113.%d/32" % (n % 250 + 1),
                     "protocol": "udp", "destination_port": "53", "action": "allow"}]}
            after = host_view({"containers": containers})
            st, _ = call(a.socket, "PUT", "/api/v1/firewall", {"containers": containers})
            seen = run.read("/api/v1/firewall", host_view)
            got = run.judge("host-put", "", st, before, after, seen)
            mine = [c for c in mine if c in got]
        finally:
            run.lock.release()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--socket", required=True)
    p.add_argument("--stop", required=True)
    p.add_argument("--clients", type=int, default=3)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    run = Run(a)
    if not wait_up(a.socket):
        raise SystemExit("the agent is not up")
    threads = [threading.Thread(target=client, args=(run, k, random.Random(a.seed * 100 + k)))
               for k in range(a.clients)]
    threads.append(threading.Thread(target=host, args=(run, random.Random(a.seed))))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps({"counts": run.counts, "violations": run.violations[:20],
                      "nviolations": len(run.violations)}, sort_keys=True))
    return 1 if run.violations else 0


if __name__ == "__main__":
    sys.exit(main())
