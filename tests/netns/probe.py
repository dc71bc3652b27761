#!/usr/bin/env python3
"""Traffic helpers for the hoody-firewall netns tests (stdlib only).

Run inside a namespace with `ip netns exec NS python3 probe.py ...`.

  serve  --tag T --addr A [--addr B ...] --tcp P,P,.. --udp P,.. --log F --ready F
         Echo responder: every TCP line and every UDP datagram is answered
         with "T <what was received>". Binds each (address, port) on its own
         socket so UDP replies leave from the address that was asked. Logs
         every accepted connection and datagram to --log; writes --ready once
         every socket is bound.
  tcp    DST PORT [-t SECS] [--src ADDR]   connect, send a token, read the echo
  udp    DST PORT [-t SECS] [--src ADDR]   send a token, read the echo
  icmp   DST [-t SECS]                     one ping (ICMP errors are not timeouts)
  multi  run many probes in parallel: stdin "IDX KIND DST [PORT] TIMEOUT",
         stdout "IDX RC TEXT"
  loop   KIND DST [PORT] -t SECS --stop F --log F [--pause S]
         repeat one probe until file F exists; log "START RC TEXT" per probe
  sendudp DST PORT [--src ADDR] [--dev IF] [--payload P] [--count N] [--interval S]
         fire and forget, from any source address (IP_TRANSPARENT)
  claim  ADDR [--dev IF] [--count N]
         claim ADDR for this interface's MAC on the link: a gratuitous ARP
         reply (IPv4) or an unsolicited neighbour advertisement with the
         override flag, to all nodes (IPv6); raw frames
  hold   DST PORT --log F [--interval S] [--duration S]
         Long-lived TCP client: sends "seq=N t=SENDTIME" every interval and
         logs "recv N SENDTIME RECVTIME" for every echo it gets back.
  holdstat LOG AFTER     print "<replies> <replies-to-lines-sent-after-AFTER>"
  json   FILE PATH       print a value from a JSON file (dotted path; a list
         element can be picked by a key: containers.c1.rules.id=web.packets);
         of an agent's state file (*.state), from its current state
  statecmp APPLIED DUMP --table T
         the dump holds exactly the applied state (counters ignored, rules
         compared by id, order ignored); prints the differences

Exit codes of tcp/udp/icmp: 0 reply read, 1 timed out (silent drop), 2 refused
(TCP RST / ICMP port unreachable), 3 other error (e.g. ICMP unreachable),
4 connected but no (or wrong) application reply.
"""

import argparse
import errno
import ipaddress
import json
import os
import selectors
import socket
import subprocess
import sys
import threading
import time
import types

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
import statefile  # noqa: E402

OK, TIMEOUT, REFUSED, ERROR, NOREPLY = 0, 1, 2, 3, 4


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def token():
    return "hfw-%d-%d" % (os.getpid(), time.monotonic_ns() % 1000000007)


def classify_oserror(e):
    if isinstance(e, ConnectionRefusedError) or e.errno == errno.ECONNREFUSED:
        return REFUSED, "refused"
    if isinstance(e, (socket.timeout, TimeoutError)):
        return TIMEOUT, "timeout"
    if isinstance(e, ConnectionResetError):
        return REFUSED, "reset"
    return ERROR, "error: %s" % (os.strerror(e.errno) if e.errno else e)


def cmd_tcp(a):
    deadline = time.monotonic() + a.timeout
    tok = token()
    s = socket.socket(family(a.dst), socket.SOCK_STREAM)
    try:
        if a.src:
            s.bind((a.src, 0))
        s.settimeout(a.timeout)
        try:
            s.connect((a.dst, a.port))
        except OSError as e:
            return classify_oserror(e)
        try:
            s.sendall((tok + "\n").encode())
            buf = b""
            while not buf.endswith(b"\n"):
                left = deadline - time.monotonic()
                if left <= 0:
                    return NOREPLY, "connected, no reply"
                s.settimeout(left)
                chunk = s.recv(4096)
                if not chunk:
                    return NOREPLY, "connected, closed without reply"
                buf += chunk
        except OSError as e:
            code, what = classify_oserror(e)
            return NOREPLY, "connected, then " + what
        line = buf.decode(errors="replace").strip()
        if tok not in line:
            return NOREPLY, "connected, wrong reply %r" % line
        return OK, "reply %r" % line
    finally:
        s.close()


def cmd_udp(a):
    deadline = time.monotonic() + a.timeout
    tok = token()
    s = socket.socket(family(a.dst), socket.SOCK_DGRAM)
    try:
        if a.src:
            s.bind((a.src, 0))
        try:
            s.connect((a.dst, a.port))
            s.send(tok.encode())
            # resend once half-way, in case the first one raced ARP/ND
            resent = False
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    return TIMEOUT, "timeout"
                if not resent and left > a.timeout / 2:
                    s.settimeout(left - a.timeout / 2)
                else:
                    s.settimeout(left)
                try:
                    data = s.recv(4096)
                except (socket.timeout, TimeoutError):
                    if not resent:
                        resent = True
                        s.send(tok.encode())
                    continue
                line = data.decode(errors="replace").strip()
                if tok in line:
                    return OK, "reply %r" % line
        except OSError as e:
            return classify_oserror(e)
    finally:
        s.close()


def cmd_icmp(a):
    """One echo request with ping; an ICMP error reply is not a timeout."""
    w = "%g" % max(1, round(a.timeout))
    try:
        r = subprocess.run(["ping", "-n", "-q", "-c", "1", "-W", w, "-w", w, a.dst],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=a.timeout + 5)
    except subprocess.TimeoutExpired:
        return ERROR, "ping hung"
    out = r.stdout.decode(errors="replace")
    if r.returncode == 0:
        return OK, "echo reply"
    bad = [x for x in out.splitlines()
           if any(k in x.lower() for k in ("unreachable", "prohibited", "errors"))]
    if bad:
        return ERROR, "icmp error: " + bad[0].strip()
    if r.returncode == 1:
        return TIMEOUT, "timeout"
    return ERROR, "ping error: " + (out.strip().splitlines() or [""])[-1]


def cmd_multi(a):
    """Run many probes at once. stdin: "IDX KIND DST [PORT] TIMEOUT" lines;
    stdout: "IDX RC TEXT" lines, in input order."""
    jobs = []
    for line in sys.stdin:
        p = line.split()
        if not p:
            continue
        idx, kind, dst = p[0], p[1], p[2]
        port = int(p[3]) if len(p) > 4 else 0
        ns = types.SimpleNamespace(dst=dst, port=port, timeout=float(p[-1]), src=None)
        jobs.append((idx, {"tcp": cmd_tcp, "udp": cmd_udp, "icmp": cmd_icmp}[kind], ns))
    results = {}

    def run(idx, fn, ns):
        try:
            results[idx] = fn(ns)
        except Exception as e:  # report, never hang the batch
            results[idx] = (ERROR, "probe crashed: %r" % e)

    threads = [threading.Thread(target=run, args=j) for j in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for idx, _, _ in jobs:
        code, what = results[idx]
        print(idx, code, what)
    return OK, None


def cmd_loop(a):
    """Repeat one probe until --stop exists; log "START_TIME RC TEXT" lines."""
    fn = {"tcp": cmd_tcp, "udp": cmd_udp, "icmp": cmd_icmp}[a.kind]
    ns = types.SimpleNamespace(dst=a.dst, port=a.port, timeout=a.timeout, src=None)
    with open(a.log, "a", buffering=1) as log:
        while not os.path.exists(a.stop):
            t = time.time()
            try:
                code, what = fn(ns)
            except Exception as e:
                code, what = ERROR, "probe crashed: %r" % e
            log.write("%.6f %d %s\n" % (t, code, what))
            if a.pause:
                time.sleep(a.pause)
    return OK, None


def cmd_send_udp(a):
    """Fire-and-forget datagrams (used for spoofing attempts)."""
    s = socket.socket(family(a.dst), socket.SOCK_DGRAM)
    if a.src:
        # IP_TRANSPARENT (needs CAP_NET_ADMIN): bind and route from an
        # address this namespace does not own
        if family(a.src) == socket.AF_INET:
            s.setsockopt(socket.IPPROTO_IP, 19, 1)
        else:
            s.setsockopt(socket.IPPROTO_IPV6, 75, 1)
        s.bind((a.src, 0))
    if a.dev:
        # a route lookup from a foreign source needs an output interface
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, a.dev.encode())
    for _ in range(a.count):
        try:
            s.sendto(a.payload.encode(), (a.dst, a.port))
        except OSError:
            pass
        if a.interval > 0:
            time.sleep(a.interval)
    return OK, "sent"


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def claim_frame(mac, addr):
    """A frame that says addr is at mac, to everyone on the link."""
    if family(addr) == socket.AF_INET:
        ip = socket.inet_pton(socket.AF_INET, addr)
        arp = (b"\x00\x01\x08\x00\x06\x04\x00\x02" + mac + ip + b"\xff" * 6 + ip)
        return b"\xff" * 6 + mac + b"\x08\x06" + arp
    target = socket.inet_pton(socket.AF_INET6, addr)
    src = socket.inet_pton(socket.AF_INET6,
                           "fe80::%02x%02x:%02xff:fe%02x:%02x%02x" %
                           (mac[0] ^ 2, mac[1], mac[2], mac[3], mac[4], mac[5]))
    dst = socket.inet_pton(socket.AF_INET6, "ff02::1")
    # type 136, override flag, the target, its link-layer address option
    na = bytearray(b"\x88\x00\x00\x00\x20\x00\x00\x00" + target + b"\x02\x01" + mac)
    pseudo = src + dst + len(na).to_bytes(4, "big") + b"\x00\x00\x00\x3a"
    na[2:4] = checksum(pseudo + bytes(na)).to_bytes(2, "big")
    ip6 = (b"\x60\x00\x00\x00" + len(na).to_bytes(2, "big") + b"\x3a\xff" + src + dst)
    return b"\x33\x33\x00\x00\x00\x01" + mac + b"\x86\xdd" + ip6 + bytes(na)


def cmd_claim(a):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((a.dev, 0))
    frame = claim_frame(s.getsockname()[4], a.addr)
    for _ in range(a.count):
        s.send(frame)
    return OK, "sent"


def cmd_serve(a):
    log = open(a.log, "a", buffering=1)
    sel = selectors.DefaultSelector()
    tag = a.tag.encode()
    ports_tcp = [int(p) for p in a.tcp.split(",") if p] if a.tcp else []
    ports_udp = [int(p) for p in a.udp.split(",") if p] if a.udp else []
    for addr in a.addr:
        fam = family(addr)
        for port in ports_tcp:
            s = socket.socket(fam, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if fam == socket.AF_INET6:
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            s.bind((addr, port))
            s.listen(128)
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ, ("listen", addr, port))
        for port in ports_udp:
            s = socket.socket(fam, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if fam == socket.AF_INET6:
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            s.bind((addr, port))
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ, ("udp", addr, port))
    with open(a.ready + ".tmp", "w") as f:
        f.write("%d\n" % os.getpid())
    os.rename(a.ready + ".tmp", a.ready)
    bufs = {}
    while True:
        for key, _ in sel.select():
            kind, addr, port = key.data
            s = key.fileobj
            if kind == "listen":
                try:
                    c, peer = s.accept()
                except OSError:
                    continue
                c.setblocking(False)
                bufs[c] = b""
                sel.register(c, selectors.EVENT_READ, ("conn", addr, port))
                log.write("%.6f tcp %s %d from %s\n" % (time.time(), addr, port, peer[0]))
            elif kind == "udp":
                try:
                    data, peer = s.recvfrom(65535)
                except OSError:
                    continue
                log.write("%.6f udp %s %d from %s %s\n" % (
                    time.time(), addr, port, peer[0],
                    data[:80].decode(errors="replace").strip()))
                try:
                    s.sendto(tag + b" " + data, peer)
                except OSError:
                    pass
            else:
                try:
                    data = s.recv(65536)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if not data:
                    sel.unregister(s)
                    bufs.pop(s, None)
                    s.close()
                    continue
                buf = bufs[s] + data
                out = b""
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    out += tag + b" " + line + b"\n"
                bufs[s] = buf[-65536:]
                if out:
                    try:
                        s.setblocking(True)
                        s.settimeout(2)
                        s.sendall(out)
                        s.setblocking(False)
                    except OSError:
                        sel.unregister(s)
                        bufs.pop(s, None)
                        s.close()


def cmd_hold(a):
    log = open(a.log, "a", buffering=1)
    s = socket.socket(family(a.dst), socket.SOCK_STREAM)
    s.settimeout(3)
    try:
        s.connect((a.dst, a.port))
    except OSError as e:
        log.write("connect-failed %s\n" % e)
        return classify_oserror(e)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    log.write("connected %.6f\n" % time.time())
    stop = time.monotonic() + a.duration

    def reader():
        buf = b""
        s.settimeout(None)
        while True:
            try:
                chunk = s.recv(4096)
            except OSError as e:
                log.write("read-error %.6f %s\n" % (time.time(), e))
                return
            if not chunk:
                log.write("closed %.6f\n" % time.time())
                return
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                f = dict(x.split("=", 1) for x in line.decode().split()[1:] if "=" in x)
                if "seq" in f and "t" in f:
                    log.write("recv %s %s %.6f\n" % (f["seq"], f["t"], time.time()))

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    seq = 0
    while time.monotonic() < stop:
        seq += 1
        try:
            s.sendall(b"seq=%d t=%.6f\n" % (seq, time.time()))
        except OSError as e:
            log.write("send-error %.6f %s\n" % (time.time(), e))
            break
        time.sleep(a.interval)
    log.write("done %.6f sent=%d\n" % (time.time(), seq))
    return OK, "done"


def cmd_holdstat(a):
    total = after = 0
    with open(a.log) as f:
        for line in f:
            p = line.split()
            if p and p[0] == "recv":
                total += 1
                if float(p[2]) > a.after:
                    after += 1
    print(total, after)
    return OK, None


def cmd_json(a):
    if a.file.endswith(".state"):
        v = json.loads(statefile.read(a.file))
    else:
        with open(a.file) as f:
            v = json.load(f)
    for part in a.path.split(".") if a.path else []:
        if isinstance(v, list) and "=" in part:
            k, want = part.split("=", 1)
            hits = [x for x in v if isinstance(x, dict) and str(x.get(k)) == want]
            if len(hits) != 1:
                print("json: %d elements with %s" % (len(hits), part), file=sys.stderr)
                return ERROR, None
            v = hits[0]
        elif isinstance(v, list):
            v = v[int(part)]
        else:
            v = v[part]
    if isinstance(v, str):
        print(v)
    else:
        print(json.dumps(v, sort_keys=True))
    return OK, None


RULE_KEYS = ("id", "destination", "destination_port", "protocol", "action", "description")


def project(doc, dumped):
    """The meaning of a state: what an apply must leave in a dump. An
    applied IPv6 destination is shown in canonical form (RFC 5952), as
    Python's ipaddress writes it."""
    out = {}
    for cid, c in doc["containers"].items():
        rules = []
        for r in c.get("rules") or []:
            x = {k: r.get(k) for k in RULE_KEYS}
            if not dumped and x["description"] is None:
                x["description"] = ""
            if not dumped and x["protocol"] is None:
                x["protocol"] = "any"
            if not dumped and ":" in str(x["destination"]):
                x["destination"] = str(ipaddress.IPv6Network(x["destination"]))
            rules.append(x)
        out[cid] = {"interface": c.get("interface"),
                    "default_action": c.get("default_action", None if dumped else "deny"),
                    "rules": sorted(rules, key=lambda r: str(r["id"]))}
    return out


def cmd_statecmp(a):
    """Compare an applied state file with a dump (counters ignored)."""
    with open(a.applied) as f:
        want = project(json.load(f), False)
    with open(a.dump) as f:
        doc = json.load(f)
    diffs = []
    if doc.get("table") != a.table:
        diffs.append("table is %r, want %r" % (doc.get("table"), a.table))
    got = project(doc, True)
    for cid in sorted(set(want) | set(got)):
        if cid not in got:
            diffs.append("container %s missing from the dump" % cid)
        elif cid not in want:
            diffs.append("container %s in the dump but not applied" % cid)
        elif want[cid] != got[cid]:
            w, g = want[cid], got[cid]
            for k in ("interface", "default_action"):
                if w[k] != g[k]:
                    diffs.append("%s.%s: dump %r, applied %r" % (cid, k, g[k], w[k]))
            wr = {r["id"]: r for r in w["rules"]}
            gr = {r["id"]: r for r in g["rules"]}
            for rid in sorted(set(wr) | set(gr), key=str):
                if rid not in gr:
                    diffs.append("%s rule %s missing from the dump" % (cid, rid))
                elif rid not in wr:
                    diffs.append("%s rule %s in the dump but not applied" % (cid, rid))
                elif wr[rid] != gr[rid]:
                    for k in RULE_KEYS:
                        if wr[rid][k] != gr[rid][k]:
                            diffs.append("%s rule %s %s: dump %r, applied %r"
                                         % (cid, rid, k, gr[rid][k], wr[rid][k]))
            if len(w["rules"]) != len(g["rules"]):
                diffs.append("%s: %d rules dumped, %d applied"
                             % (cid, len(g["rules"]), len(w["rules"])))
    for cid, c in doc["containers"].items():
        for r in c.get("rules") or []:
            for k in ("packets", "bytes"):
                if not isinstance(r.get(k), int) or r[k] < 0:
                    diffs.append("%s rule %s: %s is %r" % (cid, r.get("id"), k, r.get(k)))
        d = c.get("dropped")
        if not isinstance(d, dict) or not all(isinstance(d.get(k), int) for k in ("packets", "bytes")):
            diffs.append("%s: dropped is %r" % (cid, d))
    for d in diffs:
        print(d)
    return (ERROR if diffs else OK), None


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("tcp", "udp"):
        p = sub.add_parser(name)
        p.add_argument("dst")
        p.add_argument("port", type=int)
        p.add_argument("-t", "--timeout", type=float, default=2.0)
        p.add_argument("--src")
    p = sub.add_parser("icmp")
    p.add_argument("dst")
    p.add_argument("-t", "--timeout", type=float, default=2.0)
    sub.add_parser("multi")
    p = sub.add_parser("loop")
    p.add_argument("kind", choices=("tcp", "udp", "icmp"))
    p.add_argument("dst")
    p.add_argument("port", type=int, nargs="?", default=0)
    p.add_argument("-t", "--timeout", type=float, default=2.0)
    p.add_argument("--stop", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--pause", type=float, default=0.0)
    p = sub.add_parser("sendudp")
    p.add_argument("dst")
    p.add_argument("port", type=int)
    p.add_argument("--src")
    p.add_argument("--payload", default="hfw-spoof")
    p.add_argument("--count", type=int, default=5)
    p.add_argument("--interval", type=float, default=0.02)
    p.add_argument("--dev")
    p = sub.add_parser("claim")
    p.add_argument("addr")
    p.add_argument("--dev", default="eth0")
    p.add_argument("--count", type=int, default=3)
    p = sub.add_parser("serve")
    p.add_argument("--tag", required=True)
    p.add_argument("--addr", action="append", required=True)
    p.add_argument("--tcp", default="")
    p.add_argument("--udp", default="")
    p.add_argument("--log", required=True)
    p.add_argument("--ready", required=True)
    p = sub.add_parser("hold")
    p.add_argument("dst")
    p.add_argument("port", type=int)
    p.add_argument("--log", required=True)
    p.add_argument("--interval", type=float, default=0.1)
    p.add_argument("--duration", type=float, default=30)
    p = sub.add_parser("holdstat")
    p.add_argument("log")
    p.add_argument("after", type=float)
    p = sub.add_parser("json")
    p.add_argument("file")
    p.add_argument("path", nargs="?", default="")
    p = sub.add_parser("statecmp")
    p.add_argument("applied")
    p.add_argument("dump")
    p.add_argument("--table", required=True)
    a = ap.parse_args()
    fn = {"tcp": cmd_tcp, "udp": cmd_udp, "icmp": cmd_icmp, "multi": cmd_multi, "loop": cmd_loop,
          "sendudp": cmd_send_udp, "claim": cmd_claim, "serve": cmd_serve, "hold": cmd_hold,
          "holdstat": cmd_holdstat, "json": cmd_json, "statecmp": cmd_statecmp}[a.cmd]
    code, what = fn(a)
    if what is not None and a.cmd in ("tcp", "udp", "icmp"):
        print(what)
    return code


if __name__ == "__main__":
    sys.exit(main())
