#!/usr/bin/env bash
# 192: a bridge whose frames never reach the IP hooks (br_netfilter off:
# the host-wide sysctls at 0 and --bridge-netfilter=leave, so the agent
# turns nothing on). A locked container's same-bridge traffic cannot be
# told apart from answers there, so it is dropped both ways, fail-closed;
# its traffic to the host and beyond is enforced as everywhere; ARP and
# neighbour discovery pass; containers the agent does not lock are
# untouched. Then the bridge's own option is turned on by hand: same-bridge
# traffic is enforced statefully again (the allowed peer passes, answers
# too), with no call.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/bridge.sh"

hfw_init brleave
need_agentd
command -v curl >/dev/null || skip "curl missing"
bridge_topo_up incus
bridge_servers_up
nsx "$HOST" sysctl -qw net.bridge.bridge-nf-call-iptables=0 net.bridge.bridge-nf-call-ip6tables=0
check "br_netfilter sysctls of the host namespace are 0/0" test "$(brnf_sysctls)" = 0/0
agentd_start --bridge-netfilter=leave

V=/api/v1/containers
R4=203.0.113.10
expect_api "attach box-1 to hv1" 201 PUT $V/box-1 '{"interface": "hv1"}'
expect_api "reset box-1: deny-all" 200 POST $V/box-1/firewall/reset
expect_api "allow tcp 443 to the remote" 201 POST $V/box-1/firewall/egress \
	'{"action": "allow", "protocol": "tcp", "destination": "203.0.113.10/32", "destination_port": "443"}'
expect_api "allow tcp 9000 to b2" 201 POST $V/box-1/firewall/egress \
	'{"action": "allow", "protocol": "tcp", "destination": "10.88.0.12/32", "destination_port": "9000"}'
check "br0's own options are untouched: 0/0" \
	test "$(ip -n "$HOST" -d link show br0 | grep -o 'nf_call_ip6\?tables [01]' | awk '{ printf "%s", $2 }')" = 00

batch_begin
expect_ok "b1 -> remote tcp 443, its rule" tcp "$B1" $R4 443
expect_blocked "b1 -> remote tcp 80" tcp "$B1" $R4 80
expect_blocked "b1 -> the bridge's address" tcp "$B1" "$BR_HOST4" 8080
expect_blocked "b1 -> peer b2 tcp 9000, allowed but unseen by the IP hooks: dropped" \
	tcp "$B1" "${B_ADDR4[2]}" 9000
expect_blocked "b1 -> peer b3 tcp 9000" tcp "$B1" "${B_ADDR4[3]}" 9000
expect_blocked "b1 -> peer b3 v6 udp 9000" udp "$B1" "${B_ADDR6[3]}" 9000
expect_blocked "b3 -> b1 tcp 7000: b1 cannot answer a peer" tcp "$B3" "${B_ADDR4[1]}" 7000
expect_ok "host -> b1 tcp 7000: answers off the bridge pass" tcp "$HOST" "${B_ADDR4[1]}" 7000
expect_ok "b3 (not attached) -> peer b2 tcp 9000" tcp "$B3" "${B_ADDR4[2]}" 9000
expect_ok "b3 (not attached) -> peer b2 v6 tcp 9000" tcp "$B3" "${B_ADDR6[2]}" 9000
batch_end
check "b1 resolved b3 (ARP)" neigh_resolved "$B1" "${B_ADDR4[3]}"
check "b1 resolved b3 (ND)" neigh_resolved "$B1" "${B_ADDR6[3]}"

# the bridge's own option on, by hand: the IP hooks see same-bridge frames
ip -n "$HOST" link set br0 type bridge nf_call_iptables 1 nf_call_ip6tables 1
batch_begin
expect_ok "nf_call on: b1 -> peer b2 tcp 9000, its rule" tcp "$B1" "${B_ADDR4[2]}" 9000
expect_blocked "nf_call on: b1 -> peer b3 tcp 9000" tcp "$B1" "${B_ADDR4[3]}" 9000
expect_ok "nf_call on: b3 -> b1 tcp 7000, b1 answers" tcp "$B3" "${B_ADDR4[1]}" 7000
expect_ok "nf_call on: b1 -> remote tcp 443" tcp "$B1" $R4 443
batch_end

finish
