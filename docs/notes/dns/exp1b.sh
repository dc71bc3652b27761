#!/bin/bash
# Q1 edge cases: host-side veth without IPv4 address / with only link-local IPv6; ctnetlink lookup by reply tuple
D=$(cd "$(dirname "$0")" && pwd)
. $D/topo.sh
echo "== tag $TAG"
ip -n $H addr del 10.10.1.1/24 dev hc1; ip -n $H addr del fd00:1::1/64 dev hc1
ip -n $H addr add fe80::1/64 dev hc1 nodad
hx sysctl -qw net.ipv4.conf.hc1.proxy_arp=1
ip -n $H route add 10.10.1.2/32 dev hc1; ip -n $H -6 route add fd00:1::2/128 dev hc1
ip -n $C1 route replace default via 169.254.1.1 dev eth0 onlink
ip -n $C1 -6 route replace default via fe80::1 dev eth0
ip -n $C1 neigh replace 169.254.1.1 lladdr $(ip -n $H -br link show hc1 | awk '{print $3}') dev eth0 nud permanent
echo "hc1 addresses now:"; ip -n $H -br addr show hc1
hx nft -f $D/rules.nft || exit 1
hx python3 -u $D/srv.py 5353 > $D/srv1b.log 2>&1 & PIDS+=($!)
sleep 0.7
for t in 203.0.113.53 2001:db8:53::53; do c1x python3 $D/cli.py udp $t 53; c1x python3 $D/cli.py tcp $t 53; done
echo "== server log"; grep -v bound $D/srv1b.log
echo "== counters"; hx nft list chain inet hfw filt_pre | grep -E 'orig|5353'
echo "== now give hc1 10.10.1.1/24 back and query again, then look the entry up by its REPLY tuple (conntrack -G)"
ip -n $H addr add 10.10.1.1/24 dev hc1
c1x python3 -c "
import socket; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(('10.10.1.2',40053)); s.settimeout(1)
s.sendto(b'\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x01\x00\x01',('203.0.113.53',53)); print('reply from', s.recvfrom(512)[1])"
echo '$ conntrack -G -p udp --reply-src 10.10.1.1 --reply-dst 10.10.1.2 --reply-port-src 5353 --reply-port-dst 40053'
hx conntrack -G -p udp --reply-src 10.10.1.1 --reply-dst 10.10.1.2 --reply-port-src 5353 --reply-port-dst 40053 2>&1
echo '$ python3 ctget.py 10.10.1.1 10.10.1.2 5353 40053   # raw ctnetlink GET with only CTA_TUPLE_REPLY'
hx python3 $D/ctget.py 10.10.1.1 10.10.1.2 5353 40053
echo "== server log tail"; tail -2 $D/srv1b.log
