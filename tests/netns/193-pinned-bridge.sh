#!/usr/bin/env bash
# 193: a container on a bridge cannot take another's place when its port
# is pinned to its addresses ("addresses" in the attach call). box-1 (b1
# on hv1) is pinned to 10.88.0.11 and fd88::11 and allows everything;
# box-3 (b3 on hv3) allows everything and is not pinned, the control that
# shows each forgery would work. Checked with real frames:
#   1 b1's own traffic passes: to a peer, the host and the remote, IPv4
#     and IPv6, and ARP and neighbour discovery;
#   2 datagrams with another source (a peer's address, an extra one, the
#     remote's) never arrive, IPv4 and IPv6; b3's forgeries do;
#   3 b1 claiming b2's addresses (gratuitous ARP, neighbour advertisement
#     with override) changes nothing in the host's neighbour table; b3's
#     claims do;
#   4 the pins are in the answers and survive a restart; detached and
#     attached again without addresses, b1 may claim anything, as before.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/bridge.sh"

hfw_init pin
need_agentd
command -v curl >/dev/null || skip "curl missing"
bridge_topo_up incus
bridge_servers_up
# the host takes a neighbour update at once (locktime is 1 s by default)
nsx "$HOST" sysctl -qw net.ipv4.neigh.br0.locktime=0
agentd_start

V=/api/v1/containers
R4=203.0.113.10
PIN1='["10.88.0.11", "fd88::11"]'

# lladdr_of ADDR: the host's neighbour entry for ADDR on br0, its MAC
lladdr_of() { nsx "$HOST" ip neigh show "$1" dev br0 | awk '{ for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i + 1) }'; }
lladdr_is() { [ "$(lladdr_of "$1")" = "$2" ]; }
# known_as ADDR I: the host's entry for ADDR is b<I>'s MAC, made so now
known_as() {
	nsx "$HOST" ip neigh replace "$1" lladdr "${B_MAC[$2]}" dev br0 nud stale
	lladdr_is "$1" "${B_MAC[$2]}"
}
# claims FROM ADDR: b<FROM> says ADDR is its; the host must (not) believe it
claim() { nsx "${BNS[$1]}" "$PYTHON" "$PROBE" claim "$2" >/dev/null; }

expect_api "attach box-1 to hv1, pinned to its addresses" 201 PUT $V/box-1 \
	"{\"interface\": \"hv1\", \"addresses\": $PIN1}"
check "... the answer shows the addresses" \
	test "$(api_field data.addresses.0)/$(api_field data.addresses.1)" = 10.88.0.11/fd88::11
check "... enforced" test "$(api_field data.enforcement)" = enforced
expect_api "box-1: default allow" 200 PUT $V/box-1/firewall '{"default_action": "allow", "rules": []}'
expect_api "attach box-3 to hv3, not pinned" 201 PUT $V/box-3 '{"interface": "hv3"}'
expect_api "box-3: default allow" 200 PUT $V/box-3/firewall '{"default_action": "allow", "rules": []}'

# ------------------------------------------------ 1. b1's own traffic
expect_pinned_ok() {
	expect_ok "b1 -> peer b2 tcp 9000$1" tcp "$B1" "${B_ADDR4[2]}" 9000
	expect_ok "b1 -> peer b2 v6 udp 9000$1" udp "$B1" "${B_ADDR6[2]}" 9000
	expect_ok "b1 -> bridge address tcp 8080$1" tcp "$B1" "$BR_HOST4" 8080
	expect_ok "b1 -> remote tcp 443$1" tcp "$B1" $R4 443
	expect_ok "host -> b1 v6 tcp 7000$1" tcp "$HOST" "${B_ADDR6[1]}" 7000
	expect_ok "b1 -> bridge link-local ping$1" icmp "$B1" "$(host_link_local br0)%eth0"
}
expect_pinned_ok ""
nsx "$B1" ip neigh flush dev eth0
expect_ok "after a neighbour flush: b1 -> peer b2 v6 tcp 9000" tcp "$B1" "${B_ADDR6[2]}" 9000
check "b1 resolved b2 (ND)" neigh_resolved "$B1" "${B_ADDR6[2]}"
expect_ok "after a neighbour flush: b1 -> peer b2 tcp 9000" tcp "$B1" "${B_ADDR4[2]}" 9000
check "b1 resolved b2 (ARP)" neigh_resolved "$B1" "${B_ADDR4[2]}"

# ------------------------------------------------ 2. forged sources
forge() { # forge FROM SRC DST TAG: datagrams from b<FROM> with source SRC to DST:9000
	spoof_udp "${BNS[$1]}" "$2" "$3" 9000 "hfw-pin-$$-$4" >/dev/null || true
}
forge 1 "${B_ADDR4[3]}" "${B_ADDR4[2]}" b1-as-b3
forge 1 10.88.0.99 "${B_ADDR4[2]}" b1-extra
forge 1 $R4 "${B_ADDR4[2]}" b1-as-remote
forge 1 fd88::99 "${B_ADDR6[2]}" b1-extra6
forge 1 "${B_ADDR6[3]}" "${B_ADDR6[2]}" b1-as-b3-6
forge 3 10.88.0.98 "${B_ADDR4[2]}" b3-extra
forge 3 fd88::98 "${B_ADDR6[2]}" b3-extra6
# the control first: once b3's arrived, b1's would have too
check "control: b3's forged IPv4 source reached b2" poll_quiet 5 saw_payload b2 "hfw-pin-$$-b3-extra"
check "control: b3's forged IPv6 source reached b2" poll_quiet 5 saw_payload b2 "hfw-pin-$$-b3-extra6"
for t in b1-as-b3 b1-extra b1-as-remote b1-extra6 b1-as-b3-6; do
	check "pinned b1's datagrams as $t never reached b2" \
		bash -c "! grep -qF -- 'hfw-pin-$$-$t' '$WORK/serve.b2.log'"
done

# ------------------------------------------------ 3. claiming a peer's address
# b3 claims a marker address after b1's claim: once the host believes
# b3's, it has seen b1's frames, which went before
for a in "${B_ADDR4[2]}" "${B_ADDR6[2]}"; do
	case $a in *:*) marker=fd88::200 ;; *) marker=10.88.0.200 ;; esac
	check "control: the host knows $a as b2's" known_as "$a" 2
	claim 3 "$a"
	check "control: b3 claims $a, and the host believes it" poll_quiet 5 lladdr_is "$a" "${B_MAC[3]}"
	check "the host knows $a as b2's again" known_as "$a" 2
	check "... and $marker as b2's" known_as "$marker" 2
	claim 1 "$a"
	claim 3 "$marker"
	check "b3's later claim of $marker is believed" poll_quiet 5 lladdr_is "$marker" "${B_MAC[3]}"
	check "pinned b1 claimed $a: the host still knows it as b2's" lladdr_is "$a" "${B_MAC[2]}"
done

# b3's claims went to every node on the link: b1 believed them too
nsx "$B1" ip neigh flush dev eth0

# ------------------------------------------------ 4. answers, restart, unpinned
expect_api "GET box-1" 200 GET $V/box-1/firewall
check "... shows its addresses" \
	test "$(api_field data.addresses.0)/$(api_field data.addresses.1)" = 10.88.0.11/fd88::11
agentd_stop TERM
agentd_start
expect_api "GET box-1 after a restart" 200 GET $V/box-1/firewall
check "... still pinned" \
	test "$(api_field data.addresses.0)/$(api_field data.addresses.1)" = 10.88.0.11/fd88::11
forge 1 10.88.0.97 "${B_ADDR4[2]}" b1-after-restart
forge 3 10.88.0.96 "${B_ADDR4[2]}" b3-after-restart
check "control: b3's forgery after the restart reached b2" \
	poll_quiet 5 saw_payload b2 "hfw-pin-$$-b3-after-restart"
check "pinned b1's forgery after the restart never reached b2" \
	bash -c "! grep -qF -- 'hfw-pin-$$-b1-after-restart' '$WORK/serve.b2.log'"
expect_pinned_ok " (after the restart)"

expect_api "attach box-1 again, without addresses" 200 PUT $V/box-1 '{"interface": "hv1"}'
check "... no addresses in the answer" test "$(json_len "$WORK/api.out" data.addresses)" = 0
forge 1 10.88.0.95 "${B_ADDR4[2]}" b1-unpinned
check "unpinned, b1's forged source reaches b2 again" \
	poll_quiet 5 saw_payload b2 "hfw-pin-$$-b1-unpinned"

finish
