#!/usr/bin/env python3
"""cli.py udp|tcp ADDR PORT : send a DNS-like query, print who answered."""
import socket, sys, struct
proto, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
fam = socket.AF_INET6 if ':' in addr else socket.AF_INET
# DNS query: id 0x1234, RD, 1 question: example.com A
q = struct.pack('!HHHHHH', 0x1234, 0x0100, 1, 0, 0, 0) + b'\x07example\x03com\x00' + struct.pack('!HH', 1, 1)
try:
    if proto == 'udp':
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.settimeout(1.5)
        s.sendto(q, (addr, port))
        data, src = s.recvfrom(4096)
        print('udp -> %s:%d : reply %d bytes from %s QR=%d id=0x%04x' % (addr, port, len(data), src[:2], data[2] >> 7, struct.unpack('!H', data[:2])[0]))
    else:
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.settimeout(1.5)
        s.connect((addr, port))
        s.sendall(struct.pack('!H', len(q)) + q)
        data = s.recv(4096)
        print('tcp -> %s:%d : peer %s local %s reply %r' % (addr, port, s.getpeername()[:2], s.getsockname()[:2], data[:8]))
except OSError as e:
    print('%s -> %s:%d : ERROR %s' % (proto, addr, port, e))
