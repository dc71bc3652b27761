#!/bin/bash
# Q7: the proposed mechanism end to end (proto.sh), and its behaviour during
# transitions: bridge netfilter turned off, bridge recreated, an unregistered
# port, a routed container moved onto the bridge, the mark rewritten by others.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/proto.sh"
topo_up docker
C4=$P-c4; C5=$P-c5; mkns "$C4"; mkns "$C5"
# c5: a routed container (hc5), later moved onto the bridge
hx ip link add hc5 type veth peer name eth0 netns "$C5"
hx ip addr add 10.77.0.1/24 dev hc5; hx ip link set hc5 up
nsx "$C5" ip addr add 10.77.0.2/24 dev eth0; nsx "$C5" ip link set eth0 up; nsx "$C5" ip route add default via 10.77.0.1
nsx "$R" ip route add 10.77.0.0/24 via 198.51.100.1
hx nft add rule ip natr post ip saddr 10.77.0.0/24 oifname hup masquerade
servers_up
# the agent's part: host-wide sysctl left at 0, the bridge's own options on
brnf 0 1
proto_ruleset | hx nft -f -
p() { printf '  %-44s %s\n' "$1" "$(probe "$2" udp "$3" 0 "${4:-40007}" 1)"; }
allc() { # allc LABEL NS: the usual destinations
	p "$1 -> remote:40007 (A, C5: allowed)" "$2" 198.51.100.2
	p "$1 -> host 192.0.2.1" "$2" 192.0.2.1
	p "$1 -> bridge address" "$2" 10.88.0.1
	p "$1 -> peer c2" "$2" 10.88.0.12
	p "$1 -> IPv6 remote" "$2" 2001:db8:ff::2
	p "$1 -> IPv6 peer c2" "$2" fd88::12
}
echo "== steady state: A=c1 locked (one allow), B=c2 default allow, c3 not ours"
allc "A" "$C1"
p "c2 -> A (A answers a peer)" "$C2" 10.88.0.11
p "host -> A (A answers the host)" "$H" 10.88.0.11
p "IPv6 c2 -> A" "$C2" fd88::11
p "B -> remote" "$C2" 198.51.100.2
p "B -> peer c3" "$C2" 10.88.0.13
p "c3 (not ours) -> host" "$C3" 192.0.2.1
p "c3 (not ours) -> peer A" "$C3" 10.88.0.11
nsx "$C1" ip link set eth0 address 02:00:00:00:00:77; hx ip neigh flush dev br0; nsx "$C2" ip neigh flush dev eth0
p "A with a new MAC -> peer c2" "$C1" 10.88.0.12
p "A with a new MAC -> remote:40007" "$C1" 198.51.100.2
nsx "$C1" ip link set eth0 address 02:00:00:00:00:11

echo "== someone turns the bridge's nf_call_iptables/ip6tables off (sysctl 0): same-bridge never reaches inet"
hx ip link set br0 type bridge nf_call_iptables 0 nf_call_ip6tables 0
p "A -> peer c2" "$C1" 10.88.0.12
p "IPv6 A -> peer c2" "$C1" fd88::12
p "B -> peer c3 (B allows all, stateless net drops)" "$C2" 10.88.0.13
p "c3 (not ours) -> peer c2 (c2 answers as B)" "$C3" 10.88.0.12
p "A -> host (inet still sees it)" "$C1" 192.0.2.1
p "A -> remote:40007" "$C1" 198.51.100.2
hx nft list chain bridge hfwb fw | grep 'counter packets' | sed -E 's/^\s+/  /'
hx ip link set br0 type bridge nf_call_iptables 1 nf_call_ip6tables 1
p "(options back on) B -> peer c3" "$C2" 10.88.0.13
p "(options back on) A -> peer c2" "$C1" 10.88.0.12

echo "== the bridge is deleted and recreated (new bridge: nf_call 0), ports re-added"
hx ip link del br0
hx ip link add br0 type bridge; hx ip link set br0 address 02:00:00:00:00:fe
hx ip addr add 10.88.0.1/24 dev br0; hx ip addr add fd88::1/64 dev br0 nodad
for i in 1 2 3; do hx ip link set hv$i master br0; done; hx ip link set br0 up; sleep 0.5
hx ip -d link show br0 | grep -o 'nf_call_iptables [01] nf_call_ip6tables [01]' | sed 's/^/  new bridge: /'
p "A -> peer c2 (before the agent reacts)" "$C1" 10.88.0.12
p "A -> host" "$C1" 192.0.2.1
p "A -> remote:40007" "$C1" 198.51.100.2
p "B -> peer c3 (before the agent reacts)" "$C2" 10.88.0.13
brnf 0 1
p "B -> peer c3 (agent set nf_call 1)" "$C2" 10.88.0.13
p "A -> peer c2 (agent set nf_call 1)" "$C1" 10.88.0.12

echo "== a new port vx4 (prefix vx*) joins before the agent registers it"
hx ip link add vx4 type veth peer name eth0 netns "$C4"
hx ip link set vx4 master br0 up
nsx "$C4" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
nsx "$C4" ip addr add 10.88.0.14/24 dev eth0; nsx "$C4" ip addr add fd88::14/64 dev eth0 nodad
nsx "$C4" ip link set eth0 up; nsx "$C4" ip route add default via 10.88.0.1
sleep 0.3
p "c4 -> remote" "$C4" 198.51.100.2
p "c4 -> peer c2" "$C4" 10.88.0.12
p "c4 -> IPv6 peer c2" "$C4" fd88::12
hx nft list chain inet hfw bridged | grep 'unknown or unregistered' | sed -E 's/^\s+/  /'

echo "== a routed container (hc5, allowed only udp remote:40007) is moved onto the bridge"
p "C5 routed -> remote:40007" "$C5" 198.51.100.2
p "C5 routed -> host 192.0.2.1" "$C5" 192.0.2.1
hx ip addr flush dev hc5; hx ip link set hc5 master br0
nsx "$C5" ip addr flush dev eth0; nsx "$C5" ip addr add 10.88.0.15/24 dev eth0; nsx "$C5" ip route add default via 10.88.0.1
sleep 0.3
p "C5 bridged -> remote:40007" "$C5" 198.51.100.2
p "C5 bridged -> host 192.0.2.1" "$C5" 192.0.2.1
p "C5 bridged -> peer c2" "$C5" 10.88.0.12

echo "== another program rewrites the whole mark in prerouting mangle (like wg-quick: UDP mark := ct mark)"
hx nft -f - <<'NFT'
table ip wglike {
	chain premangle {
		type filter hook prerouting priority mangle;
		meta l4proto udp meta mark set ct mark
	}
}
NFT
p "A -> remote:40007 (allowed, but its id is gone)" "$C1" 198.51.100.2
p "A -> host 192.0.2.1" "$C1" 192.0.2.1
p "B -> remote (allowed, id gone)" "$C2" 198.51.100.2
printf '  %-44s %s\n' "B -> remote over TCP (not rewritten)" "$(probe "$C2" tcp 198.51.100.2 0 40007 1)"
hx nft list chain inet hfw pre | grep 'rewritten' | sed -E 's/^\s+/  /'
hx nft delete table ip wglike
echo "  the host's own multicast, looped back to it on br0, is not caught by that rule:"
hx "$PY" - <<'PY'
import socket, struct, time
r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); r.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
r.bind(('239.1.2.3', 40020))
r.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, struct.pack('4s4s', socket.inet_aton('239.1.2.3'), socket.inet_aton('10.88.0.1')))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton('10.88.0.1'))
s.sendto(b'loop', ('239.1.2.3', 40020)); r.settimeout(1)
try: print('  host received its own multicast on br0:', r.recv(10) == b'loop')
except socket.timeout: print('  host received its own multicast on br0: no')
PY
hx nft list chain inet hfw pre | grep 'rewritten' | sed -E 's/^\s+/  /'
