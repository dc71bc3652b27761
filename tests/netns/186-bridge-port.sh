#!/usr/bin/env bash
# 186: a container's veth that joins or leaves a Linux bridge is followed
# from link events, with no call, and its firewall never lapses: attached
# as a bridge port it is enforced on the bridged path (its allow rule
# passes, nothing else does), taken off the bridge it is enforced as
# routed, put back it is enforced as bridged again; right after each move,
# before the agent has heard of it, nothing the rule does not allow gets
# through. A port leaving its bridge is not taken for an interface that
# went away. The drop log names a bridged container's drops by its port.
# agentd --apply enforces a container on a bridge port on the bridged path.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

hfw_init brport
need_agentd
command -v curl >/dev/null || skip "curl missing"
HOODY=${HOODY:-$HFW_ROOT/build/hoody}
[ -x "$HOODY" ] || die "hoody not found at $HOODY (build it with make)"
topo_up
servers_up

# c3 behind a bridge of the host: br0 10.10.3.1/24, its port hb3
C3=$HFW_TAG-c3
ns_add "$C3"
ip -n "$HOST" link add br0 type bridge || skip "bridges not available"
ip -n "$HOST" link add hb3 type veth peer name eth0 netns "$C3"
ip -n "$HOST" link set hb3 master br0
ip -n "$HOST" addr add 10.10.3.1/24 dev br0
ip -n "$HOST" link set br0 up
ip -n "$HOST" link set hb3 up
ip -n "$C3" addr add 10.10.3.2/24 dev eth0
ip -n "$C3" link set eth0 up
ip -n "$C3" route add default via 10.10.3.1
ip -n "$REMOTE" route add 10.10.3.0/24 via 198.51.100.1 2>/dev/null || true
expect_ok "no agent yet: c3 on the bridge reaches the remote" tcp "$C3" 203.0.113.10 443

agentd_start --drop-log-rate 10

V=/api/v1/containers
# shellcheck disable=SC2317
enforcement_is() { api GET "$V/$1/firewall" && [ "$(api_field data.enforcement)" = "$2" ]; }

expect_api "attach box-3 to hb3, a bridge port" 201 PUT $V/box-3 '{"interface": "hb3"}'
check "... enforced" test "$(api_field data.enforcement)" = enforced
check "... with no warning" test "$(json_len "$WORK/api.out" data.warnings)" = 0
check "... interface_present is true" test "$(api_field data.interface_present)" = true
expect_api "reset box-3: deny-all" 200 POST $V/box-3/firewall/reset
expect_api "allow tcp 443 to the remote" 201 POST $V/box-3/firewall/egress \
	'{"action": "allow", "protocol": "tcp", "destination": "203.0.113.10/32", "destination_port": "443"}'
check "... still enforced" test "$(api_field data.enforcement)" = enforced
# locked: what its rule allows, and nothing else
expect_locked() {
	expect_ok "$1: c3 -> remote tcp 443, its allow rule" tcp "$C3" 203.0.113.10 443
	expect_blocked "$1: c3 -> remote tcp 80" tcp "$C3" 203.0.113.10 80
	expect_blocked "$1: c3 -> the bridge's address" tcp "$C3" 10.10.3.1 8080
}
expect_locked "on the bridge"
# drops_of ID: how many drops of container ID the API returns
drops_of() {
	api GET "$V/$1/firewall/drops?limit=4096"
	json_len "$WORK/api.out" data.drops
}
has_drops() { [ "$(drops_of "$1")" -ge 1 ]; }
check "the drop log names box-3's bridged drops" poll_quiet 5 has_drops box-3
expect_api "box-3's drops" 200 GET "$V/box-3/firewall/drops"
check "... on its port hb3, by the default" \
	test "$(api_field data.drops.0.interface)/$(api_field data.drops.0.rule_id)" = hb3/default
expect_api "health" 200 GET /api/v1/health
check "health counts nothing not enforced" test "$(api_field data.not_enforced)" = 0
"$HOODY" --socket "$SOCK" firewall list >"$WORK/cli.out" 2>&1 || true
check "hoody firewall list: box-3 on hb3 enforced" grep -Eq '^box-3 +hb3 +yes' "$WORK/cli.out"

# --- off the bridge: hb3 is routed, and the firewall follows at once
ip -n "$HOST" addr del 10.10.3.1/24 dev br0
ip -n "$HOST" link set hb3 nomaster
ip -n "$HOST" addr add 10.10.3.1/24 dev hb3
expect_blocked "right after leaving the bridge: c3 -> remote tcp 80" tcp "$C3" 203.0.113.10 80
check "box-3 is enforced as routed, with no call" \
	poll_quiet 5 enforcement_is box-3 enforced
check "... said so in the log" \
	poll_quiet 5 grep -q 'container box-3: interface hb3 left its bridge' "$WORK/agentd.log"
expect_locked "routed"
check "leaving the bridge is not an interface going away" \
	bash -c "! grep -q 'interface hb3 is gone' '$WORK/agentd.log'"

# --- back on the bridge: bridged again, never open in between
ip -n "$HOST" addr del 10.10.3.1/24 dev hb3
ip -n "$HOST" link set hb3 master br0
ip -n "$HOST" addr add 10.10.3.1/24 dev br0
expect_blocked "right after joining the bridge: c3 -> remote tcp 80" tcp "$C3" 203.0.113.10 80
check "box-3 is enforced on the bridge again, with no call" \
	poll_quiet 5 grep -q 'container box-3: interface hb3 is a bridge port now' "$WORK/agentd.log"
check "... enforced" poll_quiet 5 enforcement_is box-3 enforced
expect_locked "back on the bridge"

# --- agentd --apply, with no daemon: a bridge port is enforced as one
agentd_stop TERM
apply_json '{"containers": {}}'
apply_json '{"containers": {"box-3": {"interface": "hb3", "default_action": "deny", "rules": [
  {"destination": "203.0.113.10/32", "destination_port": "443", "protocol": "tcp", "action": "allow"}]}}}'
expect_locked "agentd --apply"

finish
