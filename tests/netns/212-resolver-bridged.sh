#!/usr/bin/env bash
# 212: rules by name for containers on a bridge (bridge.sh's docker
# topology: masquerade out of the uplink). The IP hooks see their
# queries come in on the bridge, not on their ports; the table redirects
# them by the port id in the mark and the resolver reads it back. As in
# 210: a lookup opens exactly its answer for the container that asked,
# any name no rule allows gets NXDOMAIN and never leaves the host, and
# queries to any address (remote, the bridge's, a peer's on the bridge),
# over UDP and TCP (whose connections the kernel records, as an accepted
# socket shows no mark), IPv4 and IPv6, are the resolver's. A bridged
# container without rules by name keeps its DNS as its rules say.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/bridge.sh"

hfw_init rsbr
need_agentd
command -v curl >/dev/null || skip "curl missing"
bridge_topo_up docker
bridge_servers_up
dns_server_up

agentd_start --dns-upstream "$DNS" --dns-min-ttl 2 --dns-max-ttl 6

V=/api/v1/containers
for i in 1 2 3; do
	expect_api "attach box-$i (b$i on hv$i)" 201 PUT $V/box-$i "{\"interface\": \"hv$i\"}"
done
enforced() {
	api GET "$V/$1/firewall"
	[ "$(api_field data.enforcement)" = enforced ]
}
for i in 1 2 3; do
	check "box-$i enforced on the bridged path" poll_quiet 5 enforced box-$i
done
expect_api "box-1: allow tcp 443 to api.example.test" 201 POST $V/box-1/firewall/egress \
	'{"id": "api", "destination": "api.example.test", "protocol": "tcp", "destination_port": "443", "action": "allow"}'
check "no warning that names open nothing" sh -c "! grep -q names_unresolved $WORK/api.out"
expect_api "box-2: the same rule" 201 POST $V/box-2/firewall/egress \
	'{"id": "api", "destination": "api.example.test", "protocol": "tcp", "destination_port": "443", "action": "allow"}'
# box-3 has no rule by name: its DNS is its rules' to allow
expect_api "box-3: allow udp 53 to the server" 201 POST $V/box-3/firewall/egress \
	"{\"destination\": \"$DNS/32\", \"protocol\": \"udp\", \"destination_port\": \"53\", \"action\": \"allow\"}"

expect_lookup_opens b1 "$B1" "$B2" "b2 (which has the same rule)"
lookup "$B2" +short @"$DNS" api.example.test A >"$WORK/a2"
check "b2 resolves it itself" grep -qx 203.0.113.10 "$WORK/a2"
expect_ok "... and then connects" tcp "$B2" 203.0.113.10 443

# --- any address: remote, the bridge's, a peer's on the same bridge
for srv in 192.0.2.99 "$BR_HOST4" "${B_ADDR4[3]}"; do
	check "a query to $srv (UDP) is answered by the resolver" \
		sh -c "ip netns exec $B1 dig +short +tries=1 +timeout=2 @$srv api.example.test | grep -qx 203.0.113.10"
done
check "a query over IPv6 (to the remote) is answered" \
	sh -c "ip netns exec $B1 dig -6 +short +tries=1 +timeout=2 @2001:db8::53 api.example.test | grep -qx 203.0.113.10"
check "a query over IPv6 to a peer on the bridge is answered" \
	sh -c "ip netns exec $B1 dig -6 +short +tries=1 +timeout=2 @${B_ADDR6[3]} api.example.test | grep -qx 203.0.113.10"
# TCP: the accepted connection shows no mark; the kernel recorded whose it is
for srv in 192.0.2.99 "$BR_HOST4" "${B_ADDR4[3]}" 2001:db8::53 "${B_ADDR6[3]}"; do
	check "a query over TCP to $srv is answered by the resolver" \
		sh -c "ip netns exec $B1 dig +tcp +short +tries=1 +timeout=2 @$srv api.example.test | grep -qx 203.0.113.10"
done
for i in 1 2; do
	expect_api "box-$i: allow tcp 443 to *.github.test" 201 POST $V/box-$i/firewall/egress \
		'{"id": "gh", "destination": "*.github.test", "protocol": "tcp", "destination_port": "443", "action": "allow"}'
done
lookup "$B2" +tcp +short @"$DNS" a.github.test >"$WORK/gh2"
check "b2 resolves a.github.test over TCP" grep -qx 192.0.2.10 "$WORK/gh2"
batch_begin
expect_ok "... which opens 192.0.2.10:443 for b2" tcp "$B2" 192.0.2.10 443
expect_blocked "... and not for b1, whose rule is the same" tcp "$B1" 192.0.2.10 443
batch_end
lookup "$B1" +tcp @"$DNS" other.example.test >"$WORK/other-tcp"
check "a name no rule allows, over TCP: NXDOMAIN" grep -q 'status: NXDOMAIN' "$WORK/other-tcp"
lookup "$B1" +short @"$DNS" api.example.test AAAA >"$WORK/aaaa"
check "AAAA: 2001:db8::10 [$(tr '\n' ' ' <"$WORK/aaaa")]" grep -qx 2001:db8::10 "$WORK/aaaa"
expect_ok "... which connects over IPv6" tcp "$B1" 2001:db8::10 443
expect_blocked "DNS over TLS to the server (tcp 853) stays blocked" tcp "$B1" "$DNS" 853

# --- names no rule allows never leave the host
before=$(wc -l <"$WORK/dnsmasq.log")
expect_names_refused b1 "$B1"
after=$(tail -n +"$((before + 1))" "$WORK/dnsmasq.log")
check "the server saw neither other.example.test nor the TXT query" \
	sh -c "! printf '%s' \"\$1\" | grep -q 'other.example\|query\[TXT\]'" sh "$after"
api GET "$V/box-1/firewall/drops?limit=100"
check "the refusal is in box-1's drop log (kind dns)" \
	sh -c "grep -q '\"kind\":\"dns\"' $WORK/api.out && grep -q 'other.example.test' $WORK/api.out"

# --- a bridged container without rules by name is not redirected
lookup "$B3" +short @"$DNS" other.example.test A >"$WORK/b3"
check "b3 (no rule by name) asks the server itself: other.example.test resolves" \
	grep -qx 203.0.113.11 "$WORK/b3"
lookup "$B3" +short +tries=1 @192.0.2.99 api.example.test A >"$WORK/b3x" || true
check "... and its query elsewhere is not answered" grep -q "timed out" "$WORK/b3x"

# --- the audit shows what box-1's lookups opened (open for 6 s at most)
lookup "$B1" +short @"$DNS" api.example.test >/dev/null
expect_api "box-1's audit" 200 GET "$V/box-1/firewall/audit"
check "it lists 203.0.113.10 among what box-1's lookups opened" \
	grep -q '"address": *"203.0.113.10"' "$WORK/api.out"
# --- an agent restart: the new agent gives the resolver the ports' marks again
expect_restart_keeps_dns "$B1" "b1's" --dns-upstream "$DNS" --dns-min-ttl 2 --dns-max-ttl 6
check "over TCP after the restart, b1 is told apart again" \
	sh -c "ip netns exec $B1 dig +tcp +short +tries=1 +timeout=2 @192.0.2.99 api.example.test | grep -qx 203.0.113.10"

# the audit reads the table back: the resolver's rules recognised as written
api GET /api/v1/firewall/audit
check "the audit reads the host's table in sync" test "$(api_field data.in_sync)" = true
if command -v nft >/dev/null; then
	check "nft lists the table (the dns chain and dnsb)" \
		sh -c "ip netns exec $HOST nft list table inet $TABLE | grep -q '@dnsb redirect to'"
fi
agentd_stop TERM
check "the daemon stopped cleanly" test "$AGENTD_RC" -eq 0
finish
