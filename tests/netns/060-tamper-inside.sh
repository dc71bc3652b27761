#!/usr/bin/env bash
# 060: root inside the locked container tampers with everything it owns:
# flushes its nftables ruleset and installs accept-everything chains at
# priority -500, changes routes, addresses, its MAC and sysctls, and
# forges source addresses. None of it lets c1 reach a denied destination,
# because the firewall lives in the host namespace.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

hfw_init tamper
need_agentd
command -v nft >/dev/null || skip "nft (nftables) missing"
topo_up
servers_up

cat >"$WORK/state.json" <<'EOF'
{"containers": {
  "c1": {"interface": "hc1", "default_action": "deny", "rules": [
    {"id": "https", "destination": "203.0.113.10/32", "destination_port": "443", "protocol": "tcp", "action": "allow", "description": "the only way out"}
  ]},
  "c2": {"interface": "hc2", "default_action": "allow", "rules": []}
}}
EOF
apply "$WORK/state.json"

# expect_c1_confined WHEN: the allowed path works, the rest is dropped
expect_c1_confined() {
	local w=$1
	batch_begin
	expect_ok "$w: c1 -> 203.0.113.10 tcp 443 (allowed)" tcp "$C1" 203.0.113.10 443
	expect_blocked "$w: c1 -> 203.0.113.10 tcp 80" tcp "$C1" 203.0.113.10 80
	expect_blocked "$w: c1 -> 203.0.113.11 tcp 443" tcp "$C1" 203.0.113.11 443
	expect_blocked "$w: c1 -> 203.0.113.11 udp 53" udp "$C1" 203.0.113.11 53
	expect_blocked "$w: c1 -> 192.0.2.10 icmp" icmp "$C1" 192.0.2.10
	expect_blocked "$w: c1 -> 198.51.100.2 tcp 1 (no RST)" tcp "$C1" 198.51.100.2 1
	expect_blocked "$w: c1 -> fd00:ff::2 tcp 443 (v6)" tcp "$C1" fd00:ff::2 443
	expect_blocked "$w: c1 -> fd00:ff::2 icmp (v6)" icmp "$C1" fd00:ff::2
	expect_blocked "$w: c1 -> gateway 10.10.1.1 tcp 8080" tcp "$C1" 10.10.1.1 8080
	expect_blocked "$w: c1 -> host 10.99.0.1 tcp 8080" tcp "$C1" 10.99.0.1 8080
	expect_blocked "$w: c1 -> host 198.51.100.1 tcp 8080" tcp "$C1" 198.51.100.1 8080
	expect_blocked "$w: c1 -> gateway fd00:1::1 tcp 8080 (v6)" tcp "$C1" fd00:1::1 8080
	expect_blocked "$w: c1 -> c2 tcp 9000" tcp "$C1" 10.10.2.2 9000
	expect_blocked "$w: c1 -> c2 tcp 9000 (v6)" tcp "$C1" fd00:2::2 9000
	expect_ok "$w: c2 -> 203.0.113.11 tcp 443" tcp "$C2" 203.0.113.11 443
	expect_ok "$w: remote -> c1 tcp 7000 inbound" tcp "$REMOTE" 10.10.1.2 7000
	batch_end
}

expect_c1_confined "before tampering"

# 1. nftables inside c1: flush, then accept everything as early as possible
info "c1: nft flush ruleset + accept-all chains at priority -500"
nsx "$C1" nft flush ruleset
nsx "$C1" nft -f - <<'EOF'
table inet hfwevil {
	chain out { type filter hook output priority -500; policy accept; accept; }
	chain pre { type filter hook prerouting priority -500; policy accept; accept; }
	chain post { type filter hook postrouting priority -500; policy accept; accept; }
	chain in { type filter hook input priority -500; policy accept; accept; }
}
table ip hfwevil4 {
	chain out { type route hook output priority -500; policy accept; accept; }
}
table ip6 hfwevil6 {
	chain out { type filter hook output priority -500; policy accept; accept; }
}
EOF
# an egress hook on eth0 (kernels >= 5.16); fine if unsupported
nsx "$C1" nft -f - <<'EOF' 2>/dev/null || info "netdev egress hook not supported here"
table netdev hfwevilnd {
	chain eg { type filter hook egress device "eth0" priority -500; policy accept; accept; }
}
EOF
expect_c1_confined "after nft flush + accept-all"

# 2. sysctls and routes
info "c1: sysctls, routes, proxy settings"
nsx "$C1" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
	net.ipv4.conf.all.rp_filter=0 net.ipv4.ip_nonlocal_bind=1 \
	net.ipv4.conf.all.accept_local=1 net.ipv6.conf.all.disable_ipv6=0 \
	net.ipv4.conf.eth0.proxy_arp=1 net.ipv6.conf.eth0.accept_ra=2 || true
nsx "$C1" ip route replace default via 10.10.1.1 dev eth0 onlink
nsx "$C1" ip route add 203.0.113.0/24 dev eth0 2>/dev/null || true	# on-link: ARP instead of the gateway
nsx "$C1" ip route add 192.0.2.0/24 via 10.10.1.1 dev eth0 metric 1 2>/dev/null || true
nsx "$C1" ip -6 route replace default via fd00:1::1 dev eth0 metric 1
nsx "$C1" ip route add 10.99.0.1/32 dev eth0 2>/dev/null || true
nsx "$C1" ip route flush cache
# the on-link route would defeat even the allowed path (no proxy ARP on
# the host); drop it again, the point was to try
nsx "$C1" ip route del 203.0.113.0/24 dev eth0 2>/dev/null || true
expect_c1_confined "after sysctl + route changes"

# 3. a new MAC, a new address (same subnet) and new IPv6 addresses
info "c1: new MAC, new addresses"
nsx "$C1" ip link set eth0 down
nsx "$C1" ip link set eth0 address 02:00:00:00:c1:99
nsx "$C1" ip link set eth0 up
nsx "$C1" ip addr flush dev eth0 scope global
nsx "$C1" ip addr add 10.10.1.77/24 dev eth0
nsx "$C1" ip addr add 10.10.1.2/24 dev eth0
nsx "$C1" ip addr add fd00:1::77/64 dev eth0 nodad
nsx "$C1" ip addr add fd00:1::2/64 dev eth0 nodad
nsx "$C1" ip route replace default via 10.10.1.1 dev eth0
nsx "$C1" ip -6 route replace default via fd00:1::1 dev eth0
poll 5 "c1 eth0 up again" link_is_up "$C1" eth0
poll 5 "host hc1 up again" link_is_up "$HOST" hc1
expect_c1_confined "after MAC and address changes"

# 4. forged source addresses (other container, remote, host, unused)
info "c1: datagrams with forged source addresses"
t_spoof=$(now)
for src in 10.10.2.2 10.10.1.99 198.51.100.2 10.99.0.1 203.0.113.10; do
	spoof_udp "$C1" "$src" 203.0.113.11 53 "hfw-forged-$$-$src" >/dev/null || true
	spoof_udp "$C1" "$src" 10.10.2.2 9000 "hfw-forged-$$-$src" >/dev/null || true
	spoof_udp "$C1" "$src" 10.99.0.1 8080 "hfw-forged-$$-$src" >/dev/null || true
done
spoof_udp "$C1" fd00:2::2 fd00:ff::2 53 "hfw-forged-$$-v6" >/dev/null || true
spoof_udp "$C1" fd00:1::99 fd00:ff::2 53 "hfw-forged-$$-v6" >/dev/null || true
sleep 0.5
for tag in remote c2 host; do
	if grep -q "hfw-forged-$$" "$WORK/serve.$tag.log" 2>/dev/null; then
		fail "forged-source datagrams from c1 reached $tag: $(grep "hfw-forged-$$" "$WORK/serve.$tag.log" | head -2 | tr '\n' ';')"
	else
		pass "forged-source datagrams from c1 never reached $tag"
	fi
done
expect_no_contact "remote got no denied traffic from c1's addresses since the forgery" \
	remote "$t_spoof" 10.10.1.77 fd00:1::77
expect_c1_confined "after forged sources"

finish
