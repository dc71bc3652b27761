#!/usr/bin/python3
"""nd.py na SRC TARGET MAC IFACE: send an unsolicited, overriding neighbour
advertisement for TARGET (with MAC as target link-layer address) from SRC to
ff02::1.   nd.py garp IFACE SENDER_IP: gratuitous ARP reply claiming
SENDER_IP for IFACE's MAC, broadcast."""
import socket, struct, sys
if sys.argv[1] == 'na':
    src, target, mac, iface = sys.argv[2:6]
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 255)
    s.bind((src, 0, 0, socket.if_nametoindex(iface)))
    lla = bytes(int(x, 16) for x in mac.split(':'))
    # type 136, code 0, checksum (kernel), flags R=0 S=0 O=1, target, option 2 (target LLA)
    msg = struct.pack('!BBHI', 136, 0, 0, 0x20000000) + socket.inet_pton(socket.AF_INET6, target) + struct.pack('!BB', 2, 1) + lla
    s.sendto(msg, ('ff02::1', 0, 0, socket.if_nametoindex(iface)))
else:
    iface, ip = sys.argv[2], sys.argv[3]
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    mac = s.getsockname()[4]
    arp = struct.pack('!HHBBH', 1, 0x0800, 6, 4, 2) + mac + socket.inet_aton(ip) + b'\xff' * 6 + socket.inet_aton(ip)
    s.send((b'\xff' * 6 + mac + struct.pack('!H', 0x0806) + arp).ljust(60, b'\0'))
