#!/bin/bash
# Q4: address pinning of a bridge port in the bridge family (prerouting, -200).
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
topo_up docker
servers_up
brnf 0 0
C1MAC=02:00:00:00:00:11
hex6() { "$PY" -c 'import socket,sys; print("0x"+socket.inet_pton(socket.AF_INET6, sys.argv[1]).hex())' "$1"; }
LL1=fe80::ff:fe00:11
warm() {
	hx ip neigh flush dev br0; nsx "$C3" ip neigh flush dev eth0; nsx "$C1" ip neigh flush dev eth0
	hx ping -c1 -W1 10.88.0.12 >/dev/null; hx ping -c1 -W1 fd88::12 >/dev/null; nsx "$C3" ping -c1 -W1 10.88.0.12 >/dev/null
}
show() {
	printf '    host: %s | %s ; c3: %s\n' "$(hx ip neigh show 10.88.0.12 dev br0 | awk '{print $3}')" "$(hx ip neigh show fd88::12 dev br0 | awk '{print $3}')" "$(nsx "$C3" ip neigh show 10.88.0.12 dev eth0 | awk '{print $3}')"
}
p() { printf "  %-44s %s\n" "$1" "$(probe "$2" udp "$3" 0 40007 1 ${4:+"$4"})"; }
attacks() {
	warm
	echo "  neighbour entries for c2 (10.88.0.12 | fd88::12) before, c2 is 02:00:00:00:00:12:"; show
	sleep 1.2  # past the neighbour locktime (1 s), or the kernel ignores the override
	nsx "$C1" "$PY" "$HERE/nd.py" garp eth0 10.88.0.12
	nsx "$C1" "$PY" "$HERE/nd.py" na fd88::11 fd88::12 $C1MAC eth0
	sleep 0.3
	echo "  after c1 announces 10.88.0.12 (gratuitous ARP) and fd88::12 (NA, override) as its own:"; show
	printf '  c1 sends IPv4 from 10.88.0.12 to c2; c2 received: '
	nsx "$C2" "$PY" "$HERE/rawframe.py" recv eth0 1 & RX=$!; sleep 0.3
	nsx "$C1" "$PY" "$HERE/rawframe.py" send eth0 02:00:00:00:00:12 spoofsrc=10.88.0.12; wait $RX
	nsx "$C1" ip addr add 10.88.0.99/24 dev eth0; nsx "$C1" ip addr add fd88::99/64 dev eth0 nodad
	p "c1 from an extra address 10.88.0.99 -> host" "$C1" 10.88.0.1 10.88.0.99
	p "c1 from an extra address fd88::99 -> host" "$C1" fd88::1 fd88::99
	p "c1 from an extra address 10.88.0.99 -> c2" "$C1" 10.88.0.12 10.88.0.99
	nsx "$C1" ip addr del 10.88.0.99/24 dev eth0; nsx "$C1" ip addr del fd88::99/64 dev eth0
}
normal() {
	warm
	p "c1 -> c2" "$C1" 10.88.0.12
	p "c2 -> c1 (c1 answers ARP)" "$C2" 10.88.0.11
	p "c1 -> host" "$C1" 10.88.0.1
	p "c1 -> remote" "$C1" 198.51.100.2
	p "IPv6 c1 -> c2" "$C1" fd88::12
	p "IPv6 c2 -> c1 (c1 answers ND)" "$C2" fd88::11
	p "IPv6 c1 -> host (global)" "$C1" fd88::1
	printf '  %-44s %s\n' "IPv6 link-local ping host -> c1" "$(hx ping -c1 -W1 $LL1%br0 >/dev/null 2>&1 && echo ok || echo fail)"
	nsx "$C1" ip link set eth0 address 02:00:00:00:00:99
	hx ip neigh flush dev br0
	p "c1 with a new MAC -> host" "$C1" 10.88.0.1
	nsx "$C1" ip link set eth0 address $C1MAC
}
echo "== without pinning"
attacks
echo "== with hv1 pinned to 10.88.0.11, fd88::11, $LL1"
hx nft -f - <<NFT
table bridge pin {
	map ports { type ifname : verdict; elements = { "hv1" : jump pin_hv1 } }
	chain pre { type filter hook prerouting priority -200; policy accept; iifname vmap @ports; }
	chain pin_hv1 {
		ether type arp arp saddr ip != { 10.88.0.11, 0.0.0.0 } counter drop comment "ARP sender IP"
		ether type ip ip saddr != 10.88.0.11 counter drop comment "IPv4 source"
		ether type ip6 ip6 saddr != { fd88::11, $LL1, :: } counter drop comment "IPv6 source"
		ether type ip6 ip6 saddr :: icmpv6 type != nd-neighbor-solicit counter drop comment "unspecified source: DAD only"
		icmpv6 type nd-neighbor-advert @th,64,128 != { $(hex6 fd88::11), $(hex6 $LL1) } counter drop comment "NA target"
		icmpv6 type nd-router-advert counter drop comment "no router advertisements from a container"
	}
}
NFT
attacks
echo "== normal traffic with pinning"
normal
hx nft list chain bridge pin pin_hv1 | grep counter | sed -E 's/^\s+/    /'
