#!/bin/bash
# Q3: br_netfilter off for the bridge ("leave" mode): same-bridge frames never
# reach inet; what a bridge-family chain can do statelessly; kernel options.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
echo "== kernel options"
zcat /proc/config.gz | grep -E '^(# )?CONFIG_(NF_CONNTRACK_BRIDGE|NFT_BRIDGE_META|NFT_BRIDGE_REJECT|BRIDGE_NETFILTER|NF_TABLES_BRIDGE)[ =]'
topo_up docker
servers_up
echo "== what nft accepts in a bridge table here"
for r in 'ct state established accept' 'ct mark 1' 'meta ibrname "br0"' 'reject' 'meta mark set meta mark & 0x000fffff | 0x00100000' 'icmpv6 type nd-neighbor-advert' 'arp saddr ip 10.88.0.11'; do
	printf '%s\n' "table bridge t {" "chain c { type filter hook forward priority 0;" "$r" "}" "}" | hx nft -f - >/dev/null 2>"$HERE/logs.err" && echo "  ok:     $r" || echo "  refused: $r -> $(grep -o 'Error: .*' "$HERE/logs.err" | head -1)"
	hx nft delete table bridge t 2>/dev/null || true
done
rm -f "$HERE/logs.err"
brnf 0 0
for d in 10.88.0.12 fd88::12; do nsx "$C1" ping -c1 -W1 $d >/dev/null 2>&1 || true; done
hx nft -f - <<'NFT'
table inet seen {
	chain pre { type filter hook prerouting priority -150; iifname "br0" ip saddr 10.88.0.0/24 ip daddr 10.88.0.0/24 ip daddr != 10.88.0.1 counter comment "same-bridge IPv4 in inet prerouting"; }
}
NFT
p() { printf '  %-38s %s\n' "$1" "$(probe "$2" udp "$3" 0)"; }
echo "== leave mode (sysctl 0, bridge nf_call 0), no lock"
p "c1 -> c2 10.88.0.12" "$C1" 10.88.0.12
hx nft list chain inet seen pre | grep counter
echo "== c1 locked statelessly in bridge forward: IPv4/IPv6 from hv1 dropped except ND; ARP passes"
hx nft -f - <<'NFT'
table bridge lock {
	set locked { type ifname; elements = { "hv1" } }
	chain fw {
		type filter hook forward priority -200; policy accept;
		iifname != @locked accept
		ether type arp counter accept
		ip6 nexthdr icmpv6 icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } ip6 hoplimit 255 counter accept
		counter drop
	}
}
NFT
hx ip neigh flush dev br0 >/dev/null 2>&1 || true
for c in "$C1" "$C2"; do nsx "$c" ip neigh flush dev eth0; done
p "c1 -> c2 10.88.0.12 (c1 asks)" "$C1" 10.88.0.12
p "c2 -> c1 10.88.0.11 (c1 answers)" "$C2" 10.88.0.11
p "IPv6 c1 -> c2 fd88::12" "$C1" fd88::12
p "IPv6 c2 -> c1 fd88::11" "$C2" fd88::11
p "c1 -> remote (not bridged: inet's job)" "$C1" 198.51.100.2
p "c1 -> bridge address" "$C1" 10.88.0.1
p "c3 -> c2 (not locked)" "$C3" 10.88.0.12
echo "  neighbour entries in c1 (ARP and ND still resolve):"
nsx "$C1" ip neigh show dev eth0 | grep -E '10.88.0.12|fd88::12' | sed 's/^/    /'
hx nft list chain bridge lock fw | grep counter | sed 's/^/  /'
hx nft delete table bridge lock

echo "== frames br_netfilter never hands to inet, with nf_call on and c1 'locked' in inet prerouting"
brnf 0 1
hx nft -f - <<'NFT'
table inet lockc1 {
	chain pre { type filter hook prerouting priority 0; iifname "br0" ip saddr 10.88.0.11 counter drop; iifname "br0" ip6 saddr fd88::11 counter drop; }
}
NFT
C2MAC=02:00:00:00:00:12
rx() { nsx "$C2" "$PY" "$HERE/rawframe.py" recv eth0 1.5 & RX=$!; sleep 0.3; for k in "$@"; do nsx "$C1" "$PY" "$HERE/rawframe.py" send eth0 $C2MAC $k; done; wait $RX; }
printf '  c2 received: '; rx ipv4 custom vlan
hx nft list chain inet lockc1 pre | grep 'ip saddr' | sed 's/^/  /'
echo "== the same with a bridge rule: only ARP, IPv4, IPv6 from hv1"
hx nft -f - <<'NFT'
table bridge l2only {
	chain pre { type filter hook prerouting priority -200; iifname "hv1" ether type != { arp, ip, ip6 } counter drop; }
}
NFT
printf '  c2 received: '; rx ipv4 custom vlan
hx nft list chain bridge l2only pre | grep counter | sed 's/^/  /'
