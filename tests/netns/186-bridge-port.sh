#!/usr/bin/env bash
# 186: a container whose veth is a port of a Linux bridge is not called
# enforced. Its packets reach the IP hooks as the bridge's, so a firewall
# keyed by the port's name filters nothing; until bridged containers are
# supported, every answer says "bridge_port" and the attach warns, and a
# probe shows the container is indeed open. Taken off the bridge, the same
# interface is routed and enforced (followed from link events, no call);
# put back, it is "bridge_port" again. A port leaving its bridge is not
# taken for an interface that went away.
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

agentd_start

V=/api/v1/containers
# shellcheck disable=SC2317
enforcement_is() { api GET "$V/$1/firewall" && [ "$(api_field data.enforcement)" = "$2" ]; }

expect_api "attach box-3 to hb3, a bridge port" 201 PUT $V/box-3 '{"interface": "hb3"}'
check "... enforcement bridge_port" test "$(api_field data.enforcement)" = bridge_port
check "... and a warning of that code naming the bridge" \
	test "$(api_field data.warnings.0.code)" = bridge_port
check "... interface_present is still true" test "$(api_field data.interface_present)" = true
expect_api "reset box-3: deny-all, as stored" 200 POST $V/box-3/firewall/reset
check "... still bridge_port" test "$(api_field data.enforcement)" = bridge_port
expect_ok "... and indeed nothing filters c3: it reaches the remote" tcp "$C3" 203.0.113.10 443
expect_api "health" 200 GET /api/v1/health
check "health counts it not enforced, as bridge_port" \
	test "$(api_field data.not_enforced)/$(api_field data.enforcement.bridge_port)" = 1/1
"$HOODY" --socket "$SOCK" firewall list >"$WORK/cli.out" 2>&1 || true
check "hoody firewall list: box-3 BRIDGE PORT" grep -Eq '^box-3 +hb3 +BRIDGE PORT' "$WORK/cli.out"

# --- off the bridge: hb3 is routed, and the firewall applies to it at once
ip -n "$HOST" addr del 10.10.3.1/24 dev br0
ip -n "$HOST" link set hb3 nomaster
ip -n "$HOST" addr add 10.10.3.1/24 dev hb3
if poll_quiet 5 enforcement_is box-3 enforced; then
	pass "hb3 off the bridge: box-3 is enforced, with no call"
else
	fail "hb3 off the bridge: box-3 is $(api_field data.enforcement), expected enforced"
fi
expect_blocked "... and c3 is locked" tcp "$C3" 203.0.113.10 443
check "leaving the bridge is not an interface going away" \
	bash -c "! grep -q 'interface hb3 is gone' '$WORK/agentd.log'"

# --- back on the bridge: not enforced again, and said so
ip -n "$HOST" addr del 10.10.3.1/24 dev hb3
ip -n "$HOST" link set hb3 master br0
ip -n "$HOST" addr add 10.10.3.1/24 dev br0
if poll_quiet 5 enforcement_is box-3 bridge_port; then
	pass "hb3 back on the bridge: box-3 is bridge_port again"
else
	fail "hb3 back on the bridge: box-3 is $(api_field data.enforcement), expected bridge_port"
fi
expect_ok "... and c3 is open again, as the answer says" tcp "$C3" 203.0.113.10 443

finish
