# shellcheck shell=bash
# Throwaway topology for the bridge research. Source it, then call topo_up MODE
# (docker: masquerade + published port; incus: routed remote access).
#
#   c1 eth0 10.88.0.11 fd88::11 --- hv1 \
#   c2 eth0 10.88.0.12 fd88::12 --- hv2  br0 10.88.0.1/24 fd88::1/64   host
#   c3 eth0 10.88.0.13 fd88::13 --- hv3 /  lo 192.0.2.1/32 2001:db8:1::1/128
#   remote eth0 198.51.100.2 2001:db8:ff::2 --- hup 198.51.100.1 2001:db8:ff::1
#
# docker: ip/ip6 masquerade of 10.88.0.0/24 and fd88::/64 out of hup, published
#         port 198.51.100.1:40007 (and [2001:db8:ff::1]:40007) -> c2:40007 (DNAT).
# incus:  remote routes 10.88.0.0/24 and fd88::/64 via the host, no NAT.
# Every namespace is brr-<pid>-*; the EXIT trap kills what we started and deletes them.
set -euo pipefail
P=brr-$$
H=$P-host; C1=$P-c1; C2=$P-c2; C3=$P-c3; R=$P-remote
NSS=()
BG=()
TMPF=()
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=/usr/bin/python3
cleanup() {
	local p n
	for p in "${BG[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
	for n in "${NSS[@]:-}"; do
		[ -n "$n" ] || continue
		for p in $(ip netns pids "$n" 2>/dev/null); do kill "$p" 2>/dev/null || true; done
		ip netns del "$n" 2>/dev/null || true
	done
	for p in "${TMPF[@]:-}"; do if [ -n "$p" ]; then rm -f "$p"; fi; done
	return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM
nsx() { local n=$1; shift; ip netns exec "$n" "$@"; }
hx() { nsx "$H" "$@"; }
mkns() { ip netns add "$1"; NSS+=("$1"); nsx "$1" ip link set lo up; }

topo_up() {
	local mode=$1 i
	for n in "$H" "$C1" "$C2" "$C3" "$R"; do mkns "$n"; done
	hx sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
		net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0
	hx ip link add br0 type bridge
	hx ip addr add 10.88.0.1/24 dev br0
	hx ip addr add fd88::1/64 dev br0 nodad
	hx ip link set br0 address 02:00:00:00:00:fe
	for i in 1 2 3; do
		local c=$P-c$i
		nsx "$c" sysctl -qw net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0
		hx ip link add hv$i type veth peer name eth0 netns "$c"
		hx ip link set hv$i master br0 up
		nsx "$c" ip link set eth0 address 02:00:00:00:00:1$i
		nsx "$c" ip addr add 10.88.0.1$i/24 dev eth0
		nsx "$c" ip addr add fd88::1$i/64 dev eth0 nodad
		nsx "$c" ip link set eth0 up
		nsx "$c" ip route add default via 10.88.0.1
		nsx "$c" ip -6 route add default via fd88::1
	done
	hx ip link set br0 up
	nsx "$R" sysctl -qw net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0
	hx ip link add hup type veth peer name eth0 netns "$R"
	hx ip addr add 198.51.100.1/24 dev hup
	hx ip addr add 2001:db8:ff::1/64 dev hup nodad
	hx ip link set hup up
	hx ip addr add 192.0.2.1/32 dev lo
	hx ip addr add 2001:db8:1::1/128 dev lo
	nsx "$R" ip addr add 198.51.100.2/24 dev eth0
	nsx "$R" ip addr add 2001:db8:ff::2/64 dev eth0 nodad
	nsx "$R" ip link set eth0 up
	nsx "$R" ip route add 192.0.2.1/32 via 198.51.100.1
	nsx "$R" ip -6 route add 2001:db8:1::1/128 via 2001:db8:ff::1
	if [ "$mode" = incus ]; then
		nsx "$R" ip route add 10.88.0.0/24 via 198.51.100.1
		nsx "$R" ip -6 route add fd88::/64 via 2001:db8:ff::1
	else
		hx nft -f - <<'NFT'
table ip natr {
	chain pre { type nat hook prerouting priority dstnat; iifname "hup" tcp dport 40007 dnat to 10.88.0.12:40007; iifname "hup" udp dport 40007 dnat to 10.88.0.12:40007; }
	chain post { type nat hook postrouting priority srcnat; ip saddr 10.88.0.0/24 oifname "hup" masquerade; }
}
table ip6 natr6 {
	chain pre { type nat hook prerouting priority dstnat; iifname "hup" tcp dport 40007 dnat to [fd88::12]:40007; iifname "hup" udp dport 40007 dnat to [fd88::12]:40007; }
	chain post { type nat hook postrouting priority srcnat; ip6 saddr fd88::/64 oifname "hup" masquerade; }
}
NFT
	fi
}

# Set the host-wide sysctls (this netns only) and the bridge's own options.
brnf() { # brnf SYSCTL BRIDGEOPT [bridge]
	local b=${3:-br0}
	hx sysctl -qw net.bridge.bridge-nf-call-iptables="$1" net.bridge.bridge-nf-call-ip6tables="$1"
	hx ip link set "$b" type bridge nf_call_iptables "$2" nf_call_ip6tables "$2"
}

# UDP/TCP echo responders on port 40007 in every namespace.
servers_up() {
	local n
	for n in "$H" "$C1" "$C2" "$C3" "$R"; do
		nsx "$n" "$PY" "$HERE/probe.py" serve 40007 >/dev/null 2>&1 &
		BG+=($!)
	done
	sleep 0.5
}
# probe NS udp|tcp DST [SPORT] [DPORT]: prints ok / fail
probe() { local n=$1 pr=$2 d=$3 sp=${4:-0} dp=${5:-40007}; shift 5 2>/dev/null || shift $#; nsx "$n" "$PY" "$HERE/probe.py" "$pr" "$d" "$sp" "$dp" "$@"; }
