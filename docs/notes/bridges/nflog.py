#!/usr/bin/python3
"""nflog.py GROUP: read NFLOG group GROUP (conntrack info on) in the current
network namespace; print one line per logged packet:
  prefix iif>oif phys=physin>physout mark=0x.. ct=NEW|EST|EST_REPLY|- proto sport>dport
Interface indexes are turned into names in this namespace."""
import os, socket, struct, sys

NETLINK_NETFILTER = 12
GROUP = int(sys.argv[1])
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
s.bind((0, 0))
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)

def nla(t, data):
    l = 4 + len(data)
    return struct.pack('HH', l, t) + data + b'\0' * ((4 - l % 4) % 4)

seq = 0
def cfg(attrs, family=0):
    global seq
    seq += 1
    body = struct.pack('BBH', family, 0, socket.htons(GROUP)) + attrs
    hdr = struct.pack('IHHII', 16 + len(body), (4 << 8) | 1, 1 | 4, seq, 0)
    s.send(hdr + body)
    s.recv(65535)

cfg(nla(1, struct.pack('B', 1)))  # NFULNL_CFG_CMD_BIND
cfg(nla(2, struct.pack('>IBB', 0xffff, 2, 0)))  # copy packet
cfg(nla(6, struct.pack('>H', 4)))  # NFULNL_CFG_F_CONNTRACK
cfg(nla(4, struct.pack('>I', 0)))  # NFULA_CFG_TIMEOUT: flush at once
CTI = {0: 'EST', 1: 'REL', 2: 'NEW', 3: 'EST_REPLY', 4: 'REL_REPLY', 7: 'UNTRACKED'}

def ifn(i):
    if not i:
        return ''
    try:
        return socket.if_indextoname(i)
    except OSError:
        return '#%d' % i

def attrs(buf):
    out = {}
    i = 0
    while i + 4 <= len(buf):
        l, t = struct.unpack_from('HH', buf, i)
        if l < 4:
            break
        out[t & 0x7fff] = buf[i + 4:i + l]
        i += (l + 3) & ~3
    return out

out = sys.stdout
while True:
    data = s.recv(1 << 20)
    i = 0
    while i + 16 <= len(data):
        l, t, f, sq, pid = struct.unpack_from('IHHII', data, i)
        if l < 16:
            break
        if t == (4 << 8) | 0:
            a = attrs(data[i + 20:i + l])
            fam = data[i + 16]
            u32 = lambda k: struct.unpack('>I', a[k])[0] if k in a else 0
            prefix = a.get(10, b'').rstrip(b'\0').decode()
            pay = a.get(9, b'')
            proto = sp = dp = None
            if pay and pay[0] >> 4 == 4:
                ihl = (pay[0] & 15) * 4
                proto = pay[9]
                src, dst = socket.inet_ntop(socket.AF_INET, pay[12:16]), socket.inet_ntop(socket.AF_INET, pay[16:20])
                l4 = pay[ihl:]
            elif pay and pay[0] >> 4 == 6:
                proto = pay[6]
                src, dst = socket.inet_ntop(socket.AF_INET6, pay[8:24]), socket.inet_ntop(socket.AF_INET6, pay[24:40])
                l4 = pay[40:]
            else:
                src = dst = '?'; l4 = b''
            if proto in (6, 17) and len(l4) >= 4:
                sp, dp = struct.unpack('>HH', l4[:4])
            ct = CTI.get(u32(19), str(u32(19))) if 19 in a else '-'
            phys = ''
            if 6 in a or 7 in a:
                phys = ' phys=%s>%s' % (ifn(u32(6)), ifn(u32(7)))
            out.write('%s %s>%s%s mark=%#x%s %s %s:%s>%s:%s\n' % (
                prefix, ifn(u32(4)), ifn(u32(5)), phys, u32(2), '' if ct == '-' else ' ctinfo=' + ct,
                {6: 'tcp', 17: 'udp'}.get(proto, proto), src, sp, dst, dp))
            out.flush()
        i += (l + 3) & ~3
