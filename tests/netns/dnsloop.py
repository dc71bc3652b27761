#!/usr/bin/env python3
"""dnsloop.py SERVER SECONDS: ask SERVER (UDP port 53) for api.example.test A
every 50 ms for SECONDS, as a client that asks again once after 1 s would;
print how many queries got an answer with an address and how many did not."""
import socket
import struct
import sys
import time


def ask(server, i):
    q = struct.pack(">HHHHHH", i, 0x0100, 1, 0, 0, 0)
    q += b"\3api\7example\4test\0" + struct.pack(">HH", 1, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for timeout in (1, 1):
        s.settimeout(timeout)
        s.sendto(q, (server, 53))
        try:
            a = s.recv(4096)
            if (struct.unpack(">H", a[:2])[0] == i and (a[3] & 0xF) == 0
                    and struct.unpack(">H", a[6:8])[0] > 0):
                return True
        except socket.timeout:
            pass
    return False


def main():
    server, seconds = sys.argv[1], float(sys.argv[2])
    ok = lost = i = 0
    end = time.time() + seconds
    while time.time() < end:
        i += 1
        if ask(server, i & 0xFFFF):
            ok += 1
        else:
            lost += 1
        time.sleep(0.05)
    print(ok, lost)


main()
