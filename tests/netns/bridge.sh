# shellcheck shell=bash
# Bridged containers, next to lib.sh's routed ones. Source it after lib.sh
# and hfw_init:
#
#   bridge_topo_up docker    # or incus; lib.sh's topo_up, then the bridge
#   bridge_servers_up        # lib.sh's responders, and the bridged ones
#
# In the host namespace, a Linux bridge with three container ports:
#
#   b1 eth0 10.88.0.11/24 fd88::11/64 --- hv1 \
#   b2 eth0 10.88.0.12/24 fd88::12/64 --- hv2  br0 10.88.0.1/24 fd88::1/64 (host)
#   b3 eth0 10.88.0.13/24 fd88::13/64 --- hv3 /   + its link-local address
#
# each with its default routes via the bridge; lib.sh's routed c1 (hc1)
# and c2 (hc2), its remote behind the uplink hr0 (198.51.100.1,
# fd00:ff::1) and its responders stay as they are.
#
# docker: ip and ip6 masquerade of 10.88.0.0/24 and fd88::/64 out of hr0,
#         and a published port: the uplink's addresses, port $PUBLISHED,
#         DNAT'd to b2's (table ip/ip6 $BR_NAT_TABLE of the host namespace).
# incus:  no NAT; the remote routes 10.88.0.0/24 and fd88::/64 via the host.
#
# The host namespace's net.bridge.bridge-nf-call-iptables and -ip6tables
# are set to 1 (this kernel's default in a new namespace, made explicit).
#
# Responders: b1 tcp/udp 7000, b2 and b3 tcp/udp 9000, on their own
# addresses; the host's 8080 responder also on the bridge's addresses.

BR_MODE=
BR_NAT_TABLE=hfwt_nat
PUBLISHED=9000
BR_HOST4=10.88.0.1
BR_HOST6=fd88::1
B_ADDR4=(- 10.88.0.11 10.88.0.12 10.88.0.13)
B_ADDR6=(- fd88::11 fd88::12 fd88::13)
B_MAC=(- 02:88:00:00:00:11 02:88:00:00:00:12 02:88:00:00:00:13)
B_PORT=(- 7000 9000 9000)

# bridge_topo_up MODE: the routed topology, the bridge and its containers
bridge_topo_up() {
	BR_MODE=$1
	case $BR_MODE in
	docker | incus) ;;
	*) die "bridge_topo_up: unknown mode $BR_MODE" ;;
	esac
	B1=$HFW_TAG-b1
	B2=$HFW_TAG-b2
	B3=$HFW_TAG-b3
	BNS=(- "$B1" "$B2" "$B3")
	topo_up
	[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ] ||
		skip "no br_netfilter (net.bridge.bridge-nf-call-iptables missing)"
	nsx "$HOST" sysctl -qw net.bridge.bridge-nf-call-iptables=1 \
		net.bridge.bridge-nf-call-ip6tables=1
	ip -n "$HOST" link add br0 type bridge || skip "bridges not available"
	ip -n "$HOST" link set br0 address 02:88:00:00:00:01
	ip -n "$HOST" addr add "$BR_HOST4/24" dev br0
	ip -n "$HOST" addr add "$BR_HOST6/64" dev br0 nodad

	local i
	for i in 1 2 3; do
		ns_add "${BNS[$i]}"
		ip -n "$HOST" link add "hv$i" type veth peer name eth0 netns "${BNS[$i]}"
		ip -n "$HOST" link set "hv$i" master br0
		ip -n "$HOST" link set "hv$i" up
	done
	ip -n "$HOST" link set br0 up

	if [ "$BR_MODE" = docker ]; then
		command -v nft >/dev/null || skip "nft missing (docker mode's NAT)"
		nsx "$HOST" nft -f - <<EOF
table ip $BR_NAT_TABLE {
	chain pre {
		type nat hook prerouting priority dstnat;
		iifname "hr0" ip daddr 198.51.100.1 meta l4proto { tcp, udp } th dport $PUBLISHED dnat to ${B_ADDR4[2]}
	}
	chain post {
		type nat hook postrouting priority srcnat;
		ip saddr 10.88.0.0/24 oifname "hr0" masquerade
	}
}
table ip6 $BR_NAT_TABLE {
	chain pre {
		type nat hook prerouting priority dstnat;
		iifname "hr0" ip6 daddr fd00:ff::1 meta l4proto { tcp, udp } th dport $PUBLISHED dnat to ${B_ADDR6[2]}
	}
	chain post {
		type nat hook postrouting priority srcnat;
		ip6 saddr fd88::/64 oifname "hr0" masquerade
	}
}
EOF
	else
		ip -n "$REMOTE" route add 10.88.0.0/24 via 198.51.100.1
		ip -n "$REMOTE" -6 route add fd88::/64 via fd00:ff::1
	fi

	for i in 1 2 3; do
		bridge_container_config "$i"
		poll 5 "hv$i up" link_is_up "$HOST" "hv$i"
		poll 5 "no tentative IPv6 address in b$i" no_tentative "${BNS[$i]}"
	done
	poll 5 "br0 up" link_is_up "$HOST" br0
	# forwarded IPv6 towards the containers needs a link-local source
	# for the bridge's neighbour solicitations
	poll 5 "a link-local address on br0" has_link_local br0
	poll 5 "no tentative IPv6 address in the host" no_tentative "$HOST"
}

# bridge_container_config I [IP4 MAC]: (re)configure b<I>'s eth0 with its
# addresses and MAC, or the IPv4 address and MAC given, bring it up and
# route via the bridge. A link going down loses its IPv6 addresses, so
# everything is set again.
bridge_container_config() {
	local i=$1 ns=${BNS[$1]} a4=${2:-${B_ADDR4[$1]}} mac=${3:-${B_MAC[$1]}}
	ip -n "$ns" link set eth0 down
	ip -n "$ns" addr flush dev eth0 scope global
	ip -n "$ns" link set eth0 address "$mac"
	ip -n "$ns" addr add "$a4/24" dev eth0
	ip -n "$ns" addr add "${B_ADDR6[$i]}/64" dev eth0 nodad
	ip -n "$ns" link set eth0 up
	poll 5 "eth0 up in b$i" link_is_up "$ns" eth0
	# the IPv6 prefix route comes a little after the link
	poll 5 "an IPv4 default route via the bridge in b$i" \
		ip -n "$ns" route replace default via "$BR_HOST4"
	poll 5 "an IPv6 default route via the bridge in b$i" \
		ip -n "$ns" -6 route replace default via "$BR_HOST6"
}

has_link_local() { [ -n "$(host_link_local "$1")" ]; }

# bridge_servers_up: lib.sh's responders (the host's also on br0) and the
# bridged containers' own
bridge_servers_up() {
	HOST_ADDRS+=" $BR_HOST4 $BR_HOST6"
	servers_up
	local i
	for i in 1 2 3; do
		serve "${BNS[$i]}" "b$i" "${B_PORT[$i]}" "${B_PORT[$i]}" "${B_ADDR4[$i]}" "${B_ADDR6[$i]}"
	done
}

# brnf_sysctls: the host namespace's br_netfilter sysctls, "IP/IP6"
brnf_sysctls() {
	printf '%s/%s' "$(nsx "$HOST" sysctl -n net.bridge.bridge-nf-call-iptables)" \
		"$(nsx "$HOST" sysctl -n net.bridge.bridge-nf-call-ip6tables)"
}

# remote_saw TAG SINCE SRC: the responder TAG logged a contact from SRC
# after SINCE (see lib.sh's contacts)
remote_saw() { [ -n "$(contacts "$1" "$2" "$3")" ]; }

# neigh_resolved NS ADDR: NS holds a usable neighbour entry for ADDR
# (REACHABLE, STALE, DELAY or PROBE; not FAILED or INCOMPLETE)
neigh_resolved() {
	nsx "$1" ip neigh show "$2" | grep -Eq ' (REACHABLE|STALE|DELAY|PROBE) *$'
}
