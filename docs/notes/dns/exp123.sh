#!/bin/bash
# Questions 1-3. usage: exp123.sh [fwmark_accept(0|1)] [nf_call_iptables(0|1)]
D=$(cd "$(dirname "$0")" && pwd)
. $D/topo.sh
FWA=${1:-0}; NFC=${2:-1}
echo "== kernel $(uname -r), tag $TAG"
ip -n $H link set br0 type bridge nf_call_iptables $NFC
echo "br0 nf_call_iptables: $(ip -n $H -d link show br0 | grep -o 'nf_call_iptables [01]')"
echo "host ns ip_forward=$(hx sysctl -n net.ipv4.ip_forward) ipv6 forwarding=$(hx sysctl -n net.ipv6.conf.all.forwarding)"
hx sysctl -qw net.ipv4.tcp_fwmark_accept=$FWA
echo "host ns tcp_fwmark_accept=$(hx sysctl -n net.ipv4.tcp_fwmark_accept)"
hx nft -f $D/rules.nft || exit 1
echo "ifindexes in host ns:"; hx ip -o link | awk '{print "  "$1,$2}'
hx python3 -u $D/srv.py 5353 > $D/srv.log 2>&1 & PIDS+=($!)
sleep 0.7
echo "== container 1 (routed veth hc1)"
for t in 203.0.113.53 8.8.8.8 10.10.1.1 fd00:1::1 2001:db8:53::53 2001:db8:99::1; do
  c1x python3 $D/cli.py udp $t 53
  c1x python3 $D/cli.py tcp $t 53
done
echo "== container 2 (bridged, hv1 in br0)"
for t in 203.0.113.53 10.20.0.1 fd00:2::1 2001:db8:53::53; do
  c2x python3 $D/cli.py udp $t 53
  c2x python3 $D/cli.py tcp $t 53
done
echo "== server log"; cat $D/srv.log
echo "== conntrack -L (host ns)"; hx conntrack -L 2>&1
echo "== conntrack -L --dst-nat -p udp -o extended"; hx conntrack -L --dst-nat -p udp -o extended 2>&1 | head -4; echo "== conntrack -L -p udp --reply-port-src 5353 --orig-src 10.20.0.2"; hx conntrack -L -p udp --reply-port-src 5353 --orig-src 10.20.0.2 2>&1
echo "== counters"; hx nft list chain inet hfw filt_pre | grep counter
