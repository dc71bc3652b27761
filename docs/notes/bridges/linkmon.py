#!/usr/bin/python3
"""linkmon.py: print every RTM_NEWLINK / RTM_DELLINK of the current network
namespace (group RTNLGRP_LINK), decoded: family (unspec or bridge), name,
index, master, operstate, link kind, slave kind, and for bridges the
nf_call_iptables / ip6tables / arptables options."""
import socket, struct, sys, time
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)  # NETLINK_ROUTE
s.bind((0, 1))  # RTNLGRP_LINK
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
T0 = time.time()
OPER = {0: 'unknown', 1: 'notpresent', 2: 'down', 3: 'lowerdown', 4: 'testing', 5: 'dormant', 6: 'up'}
def attrs(buf):
    out, i = {}, 0
    while i + 4 <= len(buf):
        l, t = struct.unpack_from('HH', buf, i)
        if l < 4: break
        out[t & 0x3fff] = buf[i + 4:i + l]
        i += (l + 3) & ~3
    return out
out = open(sys.argv[1], 'a', buffering=1) if len(sys.argv) > 1 else sys.stdout
while True:
    data = s.recv(65536)
    i = 0
    while i + 16 <= len(data):
        l, typ, fl, seq, pid = struct.unpack_from('IHHII', data, i)
        if typ in (16, 17):
            fam, _, itype, idx, flags, change = struct.unpack_from('BBHiII', data, i + 16)
            a = attrs(data[i + 32:i + l])
            name = a.get(3, b'?').rstrip(b'\0').decode()
            f = ['%s %-7s' % ('NEWLINK' if typ == 16 else 'DELLINK', 'bridge' if fam == 7 else 'unspec'),
                 '%s(%d)' % (name, idx)]
            if 10 in a: f.append('master=%d' % struct.unpack('I', a[10])[0])
            if 16 in a: f.append('oper=%s' % OPER.get(a[16][0], a[16][0]))
            f.append('up' if flags & 1 else 'down')
            if 18 in a:
                li = attrs(a[18])
                if 1 in li: f.append('kind=%s' % li[1].rstrip(b'\0').decode())
                if 4 in li: f.append('slave_kind=%s' % li[4].rstrip(b'\0').decode())
                if 2 in li and li.get(1, b'').startswith(b'bridge'):
                    d = attrs(li[2])
                    nf = [str(d[k][0]) if k in d else '-' for k in (36, 37, 38)]
                    f.append('nf_call_ip/ip6/arp=%s' % '/'.join(nf))
            out.write('    %6.3f %s\n' % (time.time() - T0, ' '.join(f)))
        i += (l + 3) & ~3
