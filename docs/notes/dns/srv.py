#!/usr/bin/env python3
"""Test server: UDP+TCP on 0.0.0.0:PORT and [::]:PORT.
Logs source, destination (IP_PKTINFO / IPV6_PKTINFO), ifindex, orig dst
(IP_RECVORIGDSTADDR), mark (SO_RCVMARK) for UDP; for TCP logs peer, sockname,
SO_ORIGINAL_DST, SO_MARK. Replies: the query with QR bit set (UDP: from the
received dst address via pktinfo; TCP: on the accepted socket)."""
import socket, struct, select, sys, os

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 5353
import time
if len(sys.argv) > 2: time.sleep(float(sys.argv[2]))
SO_MARK = 36; SO_RCVMARK = 75
IP_PKTINFO = 8; IP_RECVORIGDSTADDR = 20; IP_ORIGDSTADDR = 20
IPV6_RECVPKTINFO = 49; IPV6_PKTINFO = 50; IPV6_RECVORIGDSTADDR = 74; IPV6_ORIGDSTADDR = 74
SO_ORIGINAL_DST = 80  # SOL_IP / SOL_IPV6 (IP6T_SO_ORIGINAL_DST)

def log(*a):
    print(*a, flush=True)

def ifname(idx):
    try: return socket.if_indextoname(idx)
    except OSError: return '?'

def try_opt(s, lvl, opt, name):
    try:
        s.setsockopt(lvl, opt, 1); return 'ok'
    except OSError as e:
        return 'ERR %s' % e

def mkudp(fam):
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if fam == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        r = [try_opt(s, socket.IPPROTO_IPV6, IPV6_RECVPKTINFO, 'pktinfo6'),
             try_opt(s, socket.IPPROTO_IPV6, IPV6_RECVORIGDSTADDR, 'origdst6')]
        s.bind(('::', PORT))
    else:
        r = [try_opt(s, socket.IPPROTO_IP, IP_PKTINFO, 'pktinfo'),
             try_opt(s, socket.IPPROTO_IP, IP_RECVORIGDSTADDR, 'origdst')]
        s.bind(('0.0.0.0', PORT))
    r.append(try_opt(s, socket.SOL_SOCKET, SO_RCVMARK, 'rcvmark'))
    log('udp%s bound; pktinfo=%s origdst=%s SO_RCVMARK=%s' % ('6' if fam == socket.AF_INET6 else '4', *r))
    return s

def mktcp(fam):
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if fam == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind(('::', PORT))
    else:
        s.bind(('0.0.0.0', PORT))
    r = try_opt(s, socket.SOL_SOCKET, SO_RCVMARK, 'rcvmark')
    s.listen(16)
    log('tcp%s listening; SO_RCVMARK=%s' % ('6' if fam == socket.AF_INET6 else '4', r))
    return s

def sin_str(b):
    fam = struct.unpack('=H', b[:2])[0]
    if fam == socket.AF_INET:
        port = struct.unpack('!H', b[2:4])[0]
        return '%s:%d' % (socket.inet_ntop(socket.AF_INET, b[4:8]), port)
    port = struct.unpack('!H', b[2:4])[0]
    return '[%s]:%d' % (socket.inet_ntop(socket.AF_INET6, b[8:24]), port)

def handle_udp(s):
    fam = s.family
    data, anc, flags, src = s.recvmsg(4096, 1024)
    info = []
    dst = None; dst_if = 0
    for lvl, typ, d in anc:
        if lvl == socket.IPPROTO_IP and typ == IP_PKTINFO:
            idx, spec, addr = struct.unpack('=I4s4s', d)
            dst = spec
            info.append('PKTINFO ifindex=%d(%s) spec_dst=%s addr=%s' % (idx, ifname(idx),
                        socket.inet_ntoa(spec), socket.inet_ntoa(addr)))
        elif lvl == socket.IPPROTO_IPV6 and typ == IPV6_PKTINFO:
            addr, idx = struct.unpack('=16sI', d)
            dst = addr; dst_if = idx
            info.append('PKTINFO6 ifindex=%d(%s) addr=%s' % (idx, ifname(idx), socket.inet_ntop(socket.AF_INET6, addr)))
        elif (lvl, typ) in ((socket.IPPROTO_IP, IP_ORIGDSTADDR), (socket.IPPROTO_IPV6, IPV6_ORIGDSTADDR)):
            info.append('ORIGDSTADDR=%s' % sin_str(d))
        elif lvl == socket.SOL_SOCKET and typ == SO_MARK:
            info.append('MARK=0x%08x' % struct.unpack('=I', d[:4])[0])
        else:
            info.append('cmsg(%d,%d,%r)' % (lvl, typ, d))
    log('UDP%s from %s len=%d %s' % ('6' if fam == socket.AF_INET6 else '4', src[:2], len(data), ' '.join(info)))
    if len(data) >= 12:
        reply = data[:2] + bytes([data[2] | 0x80]) + data[3:]
    else:
        reply = b'REPLY:' + data
    if fam == socket.AF_INET:
        cm = [(socket.IPPROTO_IP, IP_PKTINFO, struct.pack('=I4s4s', 0, dst, b'\0' * 4))]
    else:
        cm = [(socket.IPPROTO_IPV6, IPV6_PKTINFO, struct.pack('=16sI', dst, dst_if))]
    s.sendmsg([reply], cm, 0, src)

def handle_tcp(ls):
    c, peer = ls.accept()
    fam = c.family
    info = ['sockname=%s' % (c.getsockname()[:2],)]
    try:
        lvl = socket.IPPROTO_IPV6 if fam == socket.AF_INET6 else socket.IPPROTO_IP
        b = c.getsockopt(lvl, SO_ORIGINAL_DST, 28)
        info.append('SO_ORIGINAL_DST=%s' % sin_str(b))
    except OSError as e:
        info.append('SO_ORIGINAL_DST ERR %s' % e)
    info.append('SO_MARK(getsockopt)=0x%08x' % (c.getsockopt(socket.SOL_SOCKET, SO_MARK) & 0xffffffff))
    c.settimeout(2)
    try:
        data, anc, flags, _ = c.recvmsg(4096, 1024)
    except OSError as e:
        data, anc = b'', []
        info.append('recv ERR %s' % e)
    info.append('cmsgs=%r' % [(l, t) for l, t, d in anc])
    log('TCP%s from %s len=%d %s' % ('6' if fam == socket.AF_INET6 else '4', peer[:2], len(data), ' '.join(info)))
    if data:
        c.sendall(b'REPLY:' + data)
    c.close()

socks = {}
for f in (socket.AF_INET, socket.AF_INET6):
    u = mkudp(f); socks[u.fileno()] = (u, handle_udp)
    t = mktcp(f); socks[t.fileno()] = (t, handle_tcp)
log('ready pid=%d port=%d at %s' % (os.getpid(), PORT, time.strftime('%H:%M:%S') + ('%.6f' % (time.time() % 1))[1:]))
while True:
    r, _, _ = select.select(list(socks), [], [])
    for fd in r:
        s, h = socks[fd]
        try:
            h(s)
        except Exception as e:
            log('handler error: %r' % e)
