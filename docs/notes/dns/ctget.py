#!/usr/bin/env python3
"""ctget.py REPLY_SRC REPLY_DST REPLY_SPORT REPLY_DPORT  (IPv4/UDP)
IPCTNL_MSG_CT_GET with only CTA_TUPLE_REPLY; prints the ORIGINAL tuple."""
import socket, struct, sys
NETLINK_NETFILTER = 12
NFNL_SUBSYS_CTNETLINK = 1; IPCTNL_MSG_CT_GET = 1
NLM_F_REQUEST = 1; NLM_F_ACK = 4; NLA_F_NESTED = 0x8000
CTA_TUPLE_ORIG, CTA_TUPLE_REPLY, CTA_STATUS = 1, 2, 3
CTA_TUPLE_IP, CTA_TUPLE_PROTO = 1, 2
CTA_IP_V4_SRC, CTA_IP_V4_DST = 1, 2
CTA_PROTO_NUM, CTA_PROTO_SRC_PORT, CTA_PROTO_DST_PORT = 1, 2, 3

def nla(t, payload):
    l = 4 + len(payload)
    return struct.pack('=HH', l, t) + payload + b'\0' * ((4 - l % 4) % 4)

rs, rd, rsp, rdp = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
tup = nla(CTA_TUPLE_IP | NLA_F_NESTED, nla(CTA_IP_V4_SRC, socket.inet_aton(rs)) + nla(CTA_IP_V4_DST, socket.inet_aton(rd))) + \
      nla(CTA_TUPLE_PROTO | NLA_F_NESTED, nla(CTA_PROTO_NUM, bytes([17])) +
          nla(CTA_PROTO_SRC_PORT, struct.pack('!H', rsp)) + nla(CTA_PROTO_DST_PORT, struct.pack('!H', rdp)))
body = struct.pack('=BBH', socket.AF_INET, 0, 0) + nla(CTA_TUPLE_REPLY | NLA_F_NESTED, tup)
hdr = struct.pack('=IHHII', 16 + len(body), (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET, NLM_F_REQUEST, 1, 0)
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
s.send(hdr + body)
msg = s.recv(65536)
ln, typ, fl, seq, pid = struct.unpack('=IHHII', msg[:16])
if typ == 2:  # NLMSG_ERROR
    print('error', struct.unpack('=i', msg[16:20])[0]); sys.exit(1)

def attrs(b):
    out = {}
    while len(b) >= 4:
        l, t = struct.unpack('=HH', b[:4])
        out[t & 0x7fff] = b[4:l]
        b = b[(l + 3) & ~3:]
    return out
a = attrs(msg[20:ln])
o = attrs(a[CTA_TUPLE_ORIG]); ip = attrs(o[CTA_TUPLE_IP]); pr = attrs(o[CTA_TUPLE_PROTO])
st = struct.unpack('!I', a[CTA_STATUS])[0]
print('original: %s:%d -> %s:%d status=0x%x (DST_NAT bit 0x20: %s)' % (
    socket.inet_ntoa(ip[CTA_IP_V4_SRC]), struct.unpack('!H', pr[CTA_PROTO_SRC_PORT])[0],
    socket.inet_ntoa(ip[CTA_IP_V4_DST]), struct.unpack('!H', pr[CTA_PROTO_DST_PORT])[0], st, bool(st & 0x20)))
