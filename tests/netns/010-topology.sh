#!/usr/bin/env bash
# 010: sanity of lib.sh with NO firewall. Every probe the later scripts
# expect to be blocked must succeed here, and the closed port must be
# refused, so a "blocked" result later really comes from the firewall.
# Needs no agentd.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

hfw_init topo
topo_up
servers_up
info "topology up in $HFW_TAG-*"

batch_begin
# c1 -> remote, every remote address, tcp / udp / icmp, v4 and v6
for a in $REMOTE_ADDRS4; do
	expect_ok "c1 -> $a icmp" icmp "$C1" "$a"
done
for p in ${REMOTE_TCP_PORTS//,/ }; do
	expect_ok "c1 -> 203.0.113.10 tcp $p" tcp "$C1" 203.0.113.10 "$p"
	expect_ok "c1 -> 203.0.113.20 tcp $p" tcp "$C1" 203.0.113.20 "$p"
done
for a in 198.51.100.2 203.0.113.11 192.0.2.10 192.0.2.11; do
	expect_ok "c1 -> $a tcp 443" tcp "$C1" "$a" 443
	expect_ok "c1 -> $a tcp 80" tcp "$C1" "$a" 80
done
for p in ${REMOTE_UDP_PORTS//,/ }; do
	for a in 203.0.113.10 203.0.113.11 203.0.113.20; do
		expect_ok "c1 -> $a udp $p" udp "$C1" "$a" "$p"
	done
done
expect_ok "c1 -> 192.0.2.10 udp 53" udp "$C1" 192.0.2.10 53
expect_ok "c1 -> fd00:ff::2 tcp 443 (v6)" tcp "$C1" fd00:ff::2 443
expect_ok "c1 -> fd00:ff::2 tcp 80 (v6)" tcp "$C1" fd00:ff::2 80
expect_ok "c1 -> fd00:ff::2 udp 53 (v6)" udp "$C1" fd00:ff::2 53
expect_ok "c1 -> fd00:ff::2 icmp (v6)" icmp "$C1" fd00:ff::2
# c1 -> the host's own addresses
for a in $HOST_ADDRS; do
	expect_ok "c1 -> host $a tcp 8080" tcp "$C1" "$a" 8080
	expect_ok "c1 -> host $a udp 8080" udp "$C1" "$a" 8080
	expect_ok "c1 -> host $a icmp" icmp "$C1" "$a"
done
HOST_LL=$(host_link_local hc1)
[ -n "$HOST_LL" ] || die "hc1 has no link-local address"
expect_ok "c1 -> host link-local $HOST_LL%eth0 icmp" icmp "$C1" "$HOST_LL%eth0"
# c1 -> c2
expect_ok "c1 -> c2 tcp 9000 v4" tcp "$C1" 10.10.2.2 9000
expect_ok "c1 -> c2 tcp 9000 v6" tcp "$C1" fd00:2::2 9000
expect_ok "c1 -> c2 udp 9000 v4" udp "$C1" 10.10.2.2 9000
expect_ok "c1 -> c2 icmp v4" icmp "$C1" 10.10.2.2
expect_ok "c1 -> c2 icmp v6" icmp "$C1" fd00:2::2
# c2 -> remote (the other container's baseline)
expect_ok "c2 -> 203.0.113.10 tcp 443" tcp "$C2" 203.0.113.10 443
expect_ok "c2 -> fd00:ff::2 tcp 443 (v6)" tcp "$C2" fd00:ff::2 443
expect_ok "c2 -> 203.0.113.11 udp 53" udp "$C2" 203.0.113.11 53
expect_ok "c2 -> c1 tcp 7000" tcp "$C2" 10.10.1.2 7000
# inbound towards c1
expect_inbound_ok ""
# closed ports are refused (RST / port unreachable), not silently dropped:
# the later "times out, not refused" checks rely on this difference
expect_refused "c1 -> remote 198.51.100.2 tcp 1 closed port refused" tcp "$C1" 198.51.100.2 1
expect_refused "c1 -> remote 203.0.113.10 tcp 1 closed port refused" tcp "$C1" 203.0.113.10 1
expect_refused "c1 -> remote fd00:ff::2 tcp 1 closed port refused (v6)" tcp "$C1" fd00:ff::2 1
expect_refused "c1 -> remote 203.0.113.10 udp 1 closed port refused" udp "$C1" 203.0.113.10 1
expect_refused "c1 -> host 10.10.1.1 tcp 1 closed port refused" tcp "$C1" 10.10.1.1 1
expect_refused "c1 -> host 10.99.0.1 tcp 1 closed port refused" tcp "$C1" 10.99.0.1 1
batch_end

# a container sending from a foreign source address reaches the remote
# when nothing filters (the tamper test relies on this)
t0=$(now)
spoof_udp "$C1" 10.10.2.2 203.0.113.10 53 "hfw-spoof-$$-a" >/dev/null
spoof_udp "$C1" 10.10.1.99 203.0.113.10 53 "hfw-spoof-$$-b" >/dev/null
check "spoofed source 10.10.2.2 from c1 reaches the remote" poll_quiet 3 saw_payload remote "hfw-spoof-$$-a"
check "spoofed source 10.10.1.99 from c1 reaches the remote" poll_quiet 3 saw_payload remote "hfw-spoof-$$-b"
check "responder log lists c1's probes (contacts helper works)" \
	test -n "$(contacts remote "$t0" 10.10.2.2)"

# the probe must see a silent drop as "timed out": drop in the remote's
# own input (our namespace), no firewall on the path otherwise
if command -v nft >/dev/null; then
	nsx "$REMOTE" nft -f - <<'EOF'
table inet hfwsanity {
	chain in {
		type filter hook input priority 0; policy accept;
		ip daddr 192.0.2.11 drop
	}
}
EOF
	batch_begin
	expect_blocked "silent drop at the remote is seen as timeout (tcp)" tcp "$C1" 192.0.2.11 443
	expect_blocked "silent drop at the remote is seen as timeout (udp)" udp "$C1" 192.0.2.11 53
	expect_blocked "silent drop at the remote is seen as timeout (icmp)" icmp "$C1" 192.0.2.11
	expect_ok "other addresses unaffected by the remote drop" tcp "$C1" 192.0.2.10 443
	batch_end
fi

finish
