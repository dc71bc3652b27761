#!/usr/bin/env python3
"""DNS clients for make bench's parts (k), (l) and (m); run in a namespace.

  dnsq.py lat [--pause S] SERVER NAMES...
      ask for the A records of each name in turn, over UDP with EDNS
      (4096 bytes), and print the milliseconds from send to an answer
      with addresses, one per line; a name without one is an error.
      --pause: S seconds between lookups (a client within its rate)
  dnsq.py flood SERVER SECONDS INFLIGHT NAME
      keep INFLIGHT queries for NAME under way for SECONDS (NAME "*":
      a random label under refused.bench.test for each, as an exfiltration
      attempt would); print the answers received per second
"""
import os
import select
import socket
import struct
import sys
import time


def query(qid, name, qtype=1):
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 1)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\0" + struct.pack(">HH", qtype, 1)
    # EDNS: room for 64 addresses in one answer
    return q + b"\0" + struct.pack(">HHIH", 41, 4096, 0, 0)


def ancount(a):
    return struct.unpack(">H", a[6:8])[0] if len(a) >= 12 else 0


def lat(server, names, pause=0.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    for i, name in enumerate(names):
        qid = i & 0xFFFF
        t0 = time.perf_counter()
        s.sendto(query(qid, name), (server, 53))
        while True:
            a = s.recv(65536)
            if struct.unpack(">H", a[:2])[0] == qid:
                break
        t1 = time.perf_counter()
        if a[3] & 0xF != 0 or ancount(a) == 0:
            sys.exit(f"dnsq: {name}: no addresses (rcode {a[3] & 0xF})")
        print(f"{(t1 - t0) * 1000:.3f}")
        if pause:
            time.sleep(pause)


def flood(server, seconds, inflight, name):
    """Until SECONDS pass, or SIGINT (how the bench ends a flood)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setblocking(False)
    sent = {}
    got = 0
    qid = 0
    start = time.monotonic()
    end = start + seconds
    try:
        while time.monotonic() < end:
            now = time.monotonic()
            # a query unanswered for 1 s (dropped over a rate) frees its place
            for k in [k for k, t in sent.items() if now - t > 1]:
                del sent[k]
            while len(sent) < inflight:
                qid = (qid + 1) & 0xFFFF
                n = name if name != "*" else os.urandom(8).hex() + ".refused.bench.test"
                try:
                    s.sendto(query(qid, n), (server, 53))
                except BlockingIOError:
                    break
                sent[qid] = now
            r, _, _ = select.select([s], [], [], 0.05)
            while r:
                try:
                    a = s.recv(65536)
                except BlockingIOError:
                    break
                if sent.pop(struct.unpack(">H", a[:2])[0], None) is not None:
                    got += 1
    except KeyboardInterrupt:
        pass
    print(f"{got / (time.monotonic() - start):.0f}")


def main():
    if len(sys.argv) >= 5 and sys.argv[1:3] == ["lat", "--pause"]:
        lat(sys.argv[4], sys.argv[5:], float(sys.argv[3]))
    elif len(sys.argv) >= 3 and sys.argv[1] == "lat":
        lat(sys.argv[2], sys.argv[3:])
    elif len(sys.argv) == 6 and sys.argv[1] == "flood":
        flood(sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    else:
        sys.exit(__doc__)


main()
