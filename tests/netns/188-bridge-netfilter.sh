#!/usr/bin/env bash
# 188: agentd keeps br_netfilter on for the bridges that carry an attached
# container's port, and only for them. With the host namespace's sysctls
# at 0, br0 (ports hb1, hb2) gets nf_call_iptables and nf_call_ip6tables
# on in the attach call itself; br1 (port hb9, no container) is left
# alone. Turned off by hand, or the bridge recreated, they come back on
# from the link events; a whole-host PUT and a restart turn them on too.
# Health and the audit list the bridges with their options and the
# sysctls. Attaching a bridge itself is refused and changes nothing, as
# is a port another container has (409).
# With --bridge-netfilter=leave nothing is set; a bad value exits 2.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

hfw_init brnf
need_agentd
command -v curl >/dev/null || skip "curl missing"

C9=$HFW_TAG-c9
ns_add "$HOST"
ns_add "$C1"
ns_add "$C2"
ns_add "$C9"
[ -d "/proc/sys/net/bridge" ] && nsx "$HOST" test -d /proc/sys/net/bridge ||
	skip "no br_netfilter (/proc/sys/net/bridge absent)"
nsx "$HOST" sysctl -qw net.bridge.bridge-nf-call-iptables=0 \
	net.bridge.bridge-nf-call-ip6tables=0
ip -n "$HOST" link add br0 type bridge || skip "bridges not available"
ip -n "$HOST" link add br1 type bridge
ip -n "$HOST" link add hb1 type veth peer name eth0 netns "$C1"
ip -n "$HOST" link add hb2 type veth peer name eth0 netns "$C2"
ip -n "$HOST" link add hb9 type veth peer name eth0 netns "$C9"
ip -n "$HOST" link set hb1 master br0
ip -n "$HOST" link set hb2 master br0
ip -n "$HOST" link set hb9 master br1
for l in br0 br1 hb1 hb2 hb9; do ip -n "$HOST" link set "$l" up; done

# nf BRIDGE: "nf_call_iptables/nf_call_ip6tables" as the kernel has them
nf() {
	ip -n "$HOST" -d link show "$1" |
		awk '{ for (i = 1; i < NF; i++) { if ($i == "nf_call_iptables") a = $(i + 1);
			if ($i == "nf_call_ip6tables") b = $(i + 1) } } END { print a "/" b }'
}
# shellcheck disable=SC2317 # called through poll_quiet
nf_is() { [ "$(nf "$1")" = "$2" ]; }
expect_nf() {
	local what=$1 br=$2 want=$3 got
	got=$(nf "$br")
	if [ "$got" = "$want" ]; then pass "$what [$br $got]"; else fail "$what [$br $got, expected $want]"; fi
}
poll_nf() {
	local what=$1 br=$2 want=$3
	if poll_quiet 5 nf_is "$br" "$want"; then
		pass "$what [$br $(nf "$br")]"
	else
		fail "$what [$br still $(nf "$br") after 5 s, expected $want]"
	fi
}
logged() { grep -qF -- "$1" "$WORK/agentd.log"; }

expect_nf "before the agent: br0 off" br0 0/0
agentd_start
expect_nf "agent up, no container attached: br0 still off" br0 0/0

V=/api/v1/containers
expect_api "attach box-1 to hb1, a port of br0" 201 PUT $V/box-1 '{"interface": "hb1"}'
# no poll: the call turns them on before it answers
expect_nf "... br0 on when the call answers" br0 1/1
expect_nf "... br1 (no attached port) untouched" br1 0/0
check "... the log says so" logged \
	"bridge br0: turned on nf_call_iptables and nf_call_ip6tables (port hb1 of container box-1)"
check "... the host-wide sysctl untouched" \
	test "$(nsx "$HOST" cat /proc/sys/net/bridge/bridge-nf-call-iptables)" = 0

expect_api "health" 200 GET /api/v1/health
check "health: bridge_netfilter on" test "$(api_field data.bridge_netfilter)" = on
check "health: one bridge listed, br0" \
	test "$(json_len "$WORK/api.out" data.bridges)/$(api_field data.bridges.0.name)" = 1/br0
check "health: br0's options true, the sysctls false" test \
	"$(api_field data.bridges.0.nf_call_iptables)/$(api_field data.bridges.0.nf_call_ip6tables)/$(api_field data.bridges.0.host_nf_call_iptables)/$(api_field data.bridges.0.host_nf_call_ip6tables)" = true/true/false/false
check "health: same-bridge traffic filtered, v4 and v6" test \
	"$(api_field data.bridges.0.same_bridge_filtered.ipv4)/$(api_field data.bridges.0.same_bridge_filtered.ipv6)" = true/true
expect_api "audit" 200 GET /api/v1/firewall/audit
check "audit: bridge_netfilter on, br0 with nf_call_iptables true" test \
	"$(api_field data.bridge_netfilter)/$(api_field data.bridges.0.name)/$(api_field data.bridges.0.nf_call_iptables)" = on/br0/true

# --- turned off by hand: back on from its link event
ip -n "$HOST" link set br0 type bridge nf_call_iptables 0
poll_nf "br0's nf_call_iptables turned off by hand: back on" br0 1/1
check "... the log says it was found off" logged \
	"bridge br0: found nf_call_iptables off; turned nf_call_iptables and nf_call_ip6tables on again (port hb1 of container box-1)"

# --- the bridge deleted and recreated (a new index, options 0)
ip -n "$HOST" link del br0
ip -n "$HOST" link add br0 type bridge
expect_nf "br0 recreated: off" br0 0/0
ip -n "$HOST" link set hb1 master br0
ip -n "$HOST" link set br0 up
poll_nf "hb1 back on the new br0: on again" br0 1/1

# --- a bridge is not a container's interface
expect_api "attach box-1 to br0 itself: refused" 400 PUT $V/box-1 '{"interface": "br0"}'
check "... code invalid_interface, field interface" \
	test "$(api_field error.code)/$(api_field error.field)" = invalid_interface/interface
check "... the message says it is a bridge and to attach the port" \
	bash -c "grep -q 'is a Linux bridge' '$WORK/api.out' && grep -q 'its veth' '$WORK/api.out'"
expect_api "GET box-1" 200 GET $V/box-1/firewall
check "... box-1 still on hb1" test "$(api_field data.interface)" = hb1
expect_api "whole-host PUT naming br1 as an interface: refused" 400 PUT /api/v1/firewall \
	'{"containers": {"box-1": {"interface": "hb1"}, "box-9": {"interface": "br1"}}}'
expect_nf "... br1 untouched" br1 0/0
api GET $V/box-9/firewall
check "... box-9 not created" test "$API_STATUS" = 404

# --- a bridge port another container has is taken, as a routed veth is
expect_api "attach box-2 to hb2" 201 PUT $V/box-2 '{"interface": "hb2"}'
cat "$STATE/containers/"*.state >"$WORK/taken.before.state"
dump "$WORK/taken.before.dump"
expect_api "attach box-3 to hb1, box-1's port: refused" 409 PUT $V/box-3 '{"interface": "hb1"}'
check "... code interface_in_use, field interface" \
	test "$(api_field error.code)/$(api_field error.field)" = interface_in_use/interface
expect_api "move box-2 to hb1, box-1's port: refused" 409 PUT $V/box-2 '{"interface": "hb1"}'
cat "$STATE/containers/"*.state >"$WORK/taken.after.state"
check "... the state file unchanged" cmp -s "$WORK/taken.before.state" "$WORK/taken.after.state"
# counters ignored: the containers' own IPv6 chatter counts as drops
expect_dump_is "... the kernel unchanged" "$WORK/taken.before.dump"
api GET $V/box-3/firewall
check "... box-3 not created" test "$API_STATUS" = 404
expect_api "GET box-2" 200 GET $V/box-2/firewall
check "... box-2 still on hb2" test "$(api_field data.interface)" = hb2
expect_api "detach box-2" 200 PUT $V/box-2 '{"interface": null}'

# --- a whole-host PUT attaching hb9 turns br1 on in the call
expect_api "whole-host PUT: box-1 on hb1, box-9 on hb9" 200 PUT /api/v1/firewall \
	'{"containers": {"box-1": {"interface": "hb1"}, "box-9": {"interface": "hb9"}}}'
expect_nf "... br1 on when the call answers" br1 1/1

# --- leave: nothing is set
agentd_stop TERM
ip -n "$HOST" link set br1 type bridge nf_call_iptables 0 nf_call_ip6tables 0
agentd_start --bridge-netfilter=leave
expect_api "health under leave" 200 GET /api/v1/health
check "health: bridge_netfilter leave" test "$(api_field data.bridge_netfilter)" = leave
expect_nf "leave: br1 (box-9's) stays off at start" br1 0/0
ip -n "$HOST" link add br2 type bridge
ip -n "$HOST" link add hb4 type veth peer name eth1 netns "$C9"
ip -n "$HOST" link set hb4 master br2
expect_api "leave: attach box-4 to hb4 on a fresh br2" 201 PUT $V/box-4 '{"interface": "hb4"}'
expect_nf "... br2 stays off" br2 0/0
ip -n "$HOST" link set br0 type bridge nf_call_iptables 0
# shellcheck disable=SC2317 # called through poll_quiet
br0_seen_off() {
	api GET /api/v1/health
	"$PYTHON" -c 'import json,sys
d = json.load(open(sys.argv[1]))["data"]["bridges"]
sys.exit(0 if any(b["name"] == "br0" and b["nf_call_iptables"] is False for b in d) else 1)' "$WORK/api.out"
}
if poll_quiet 5 br0_seen_off; then
	pass "leave: health reports br0's nf_call_iptables false once seen"
else
	fail "leave: health never reported br0's nf_call_iptables false"
fi
expect_nf "... and br0 stays so" br0 0/1
check "... same_bridge_filtered ipv4 false for br0" "$PYTHON" -c 'import json,sys
d = json.load(open(sys.argv[1]))["data"]["bridges"]
sys.exit(0 if [b["same_bridge_filtered"] for b in d if b["name"] == "br0"] == [{"ipv4": False, "ipv6": True}] else 1)' "$WORK/api.out"

# --- on again: the start turns on every bridge an attached port is on
agentd_stop TERM
agentd_start
poll_nf "restarted with the default: br0 on again" br0 1/1
poll_nf "... br1 too" br1 1/1
poll_nf "... br2 too" br2 1/1

# --- a bad value
rc=0
"$AGENTD" --bridge-netfilter=off >"$WORK/bad.out" 2>&1 || rc=$?
check "--bridge-netfilter=off: exit 2" test "$rc" = 2
check "... naming the accepted values" \
	bash -c "grep -q 'expected on' '$WORK/bad.out' && grep -q leave '$WORK/bad.out'"

finish
