#!/usr/bin/python3
"""rawframe.py send IFACE DSTMAC KIND  |  rawframe.py recv IFACE SECONDS
send: one Ethernet frame from IFACE: KIND = custom (ethertype 0x88b5),
      vlan (802.1Q id 5 carrying IPv4/UDP 10.88.0.11 -> 10.88.0.12:40007),
      ipv4 (plain IPv4/UDP, same addresses), spoofsrc=A.B.C.D (IPv4/UDP from A.B.C.D),
      udp=SRC:SPORT>DST:DPORT (any IPv4/UDP datagram).
recv: count frames arriving on IFACE for SECONDS by kind (payload 'rawprobe')."""
import socket, struct, sys, time

def csum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

def ipv4_udp(src, dst, sport, dport, payload):
    udp = struct.pack('!HHHH', sport, dport, 8 + len(payload), 0) + payload
    hdr = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0,
                      socket.inet_aton(src), socket.inet_aton(dst))
    hdr = hdr[:10] + struct.pack('!H', csum(hdr)) + hdr[12:]
    return hdr + udp

def mac(s):
    return bytes(int(x, 16) for x in s.split(':'))

if sys.argv[1] == 'send':
    iface, dst, kind = sys.argv[2], mac(sys.argv[3]), sys.argv[4]
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    src = s.getsockname()[4]
    pl = b'rawprobe-' + kind.encode()
    if kind == 'custom':
        f = dst + src + struct.pack('!H', 0x88b5) + pl
    elif kind == 'vlan':
        f = dst + src + struct.pack('!HHH', 0x8100, 5, 0x0800) + ipv4_udp('10.88.0.11', '10.88.0.12', 44444, 40007, pl)
    elif kind == 'ipv4':
        f = dst + src + struct.pack('!H', 0x0800) + ipv4_udp('10.88.0.11', '10.88.0.12', 44445, 40007, pl)
    elif kind.startswith('udp='):
        a, b = kind[4:].split('>')
        (sa, sp), (da, dp) = a.split(':'), b.split(':')
        f = dst + src + struct.pack('!H', 0x0800) + ipv4_udp(sa, da, int(sp), int(dp), pl)
    elif kind.startswith('spoofsrc='):
        f = dst + src + struct.pack('!H', 0x0800) + ipv4_udp(kind[9:], '10.88.0.12', 44446, 40007, pl)
    s.send(f.ljust(60, b'\0'))
else:
    iface, secs = sys.argv[2], float(sys.argv[3])
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
    s.bind((iface, 0))
    s.settimeout(0.2)
    end = time.time() + secs
    seen = {}
    while time.time() < end:
        try:
            f, a = s.recvfrom(2048)
        except socket.timeout:
            continue
        if a[2] == socket.PACKET_OUTGOING:
            continue
        i = f.find(b'rawprobe-')
        if i >= 0:
            k = f[i + 9:i + 9 + 20].split(b'\0')[0].decode(errors='replace')
            seen[k] = seen.get(k, 0) + 1
    print(' '.join('%s=%d' % kv for kv in sorted(seen.items())) or 'nothing')
