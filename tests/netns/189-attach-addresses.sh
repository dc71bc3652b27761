#!/usr/bin/env bash
# 189: the attach call's "addresses", the addresses a container's port
# may claim. Every refused form gets 400 invalid_address naming the field
# and the reason, and changes neither the state file nor the kernel; a
# good list comes back sorted and canonical from GET, the container list
# and the state file, survives a restart of the agent, and is replaced
# (or dropped) by the next attach.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

hfw_init pin
need_agentd
command -v curl >/dev/null || skip "curl missing"
ns_add "$HOST"
agentd_start

V=/api/v1/containers
expect_api "attach c1, nothing pinned" 201 PUT $V/c1 '{"interface": "hc1"}'
check "... shows no addresses" test "$(api_field data.addresses)" = "[]"

snapshot() {
	cat "$STATE/containers/"*.state >"$1.state"
	dump "$1.dump"
	api GET $V/c1/firewall
	cp "$WORK/api.out" "$1.api"
}
snapshot "$WORK/before"

# refuse DESC BODY WHY: PUT $V/c1 BODY gets 400 invalid_address on
# "addresses", with WHY in the message
refuse() {
	local msg
	api PUT $V/c1 "$2"
	msg=$(api_field error.message 2>/dev/null || echo "?")
	if [ "$API_STATUS" = 400 ] && [ "$(api_field error.code)" = invalid_address ] &&
		[ "$(api_field error.field)" = addresses ] && [[ $msg == *"$3"* ]]; then
		pass "$1 [$(cut -c1-110 <<<"$msg")]"
	else
		fail "$1 [expected 400 invalid_address naming \"$3\", got $API_STATUS: ${API_BODY:0:200}]"
	fi
}
A() { printf '{"interface": "hc1", "addresses": %s}' "$1"; }
refuse "not an array" "$(A '"10.0.3.7"')" "expected an array"
refuse "an entry that is no string" "$(A '[7]')" "addresses[0]: got a number"
refuse "an IPv4 prefix" "$(A '["10.0.3.7", "10.0.0.1/24"]')" 'addresses[1] "10.0.0.1/24": a prefix; give one address'
refuse "an IPv4 /32" "$(A '["10.0.3.7/32"]')" "a prefix; give one address"
refuse "an IPv6 prefix" "$(A '["fd42::/64"]')" "a prefix; give one address"
refuse "a zone id" "$(A '["fe80::1%hc1"]')" "zone ids"
refuse "an IPv4-mapped address" "$(A '["::ffff:10.0.3.7"]')" 'IPv4-mapped addresses are not accepted; write "10.0.3.7"'
refuse "a dotted-quad tail" "$(A '["::10.0.3.7"]')" '"::a00:307"'
refuse "a port" "$(A '["10.0.3.7:80"]')" "a port is not part of an address"
refuse "a host name" "$(A '["c1.example"]')" "hostnames are not accepted"
refuse "leading zeros" "$(A '["10.0.3.07"]')" "leading zeros"
refuse "a short form" "$(A '["10.7"]')" "short forms"
refuse "an empty entry" "$(A '[""]')" 'addresses[0] "": empty'
refuse "the unspecified address" "$(A '["::"]')" "the unspecified address"
refuse "a multicast address" "$(A '["224.0.0.251"]')" "a multicast address"
refuse "the broadcast address" "$(A '["255.255.255.255"]')" "the broadcast address"
refuse "a duplicate" "$(A '["10.0.3.7", "10.0.3.7"]')" "the same address as addresses[0]"
refuse "a duplicate once canonical" "$(A '["fd42::7", "FD42:0:0::0007"]')" \
	'addresses[1] "FD42:0:0::0007": the same address as addresses[0] (fd42::7)'
seventeen=$("$PYTHON" -c 'import json; print(json.dumps(["10.0.3.%d" % i for i in range(1, 18)]))')
refuse "17 addresses" "$(A "$seventeen")" "17 given; at most 16"
refuse "a detach with addresses" '{"interface": null, "addresses": ["10.0.3.7"]}' "pins nothing"
refuse "by netns: checked before the namespace is looked for" \
	'{"netns": "/nonexistent/ns", "addresses": ["10.0.3.7/24"]}' "a prefix"
expect_api "by netns, good addresses: the namespace is looked for" 400 PUT $V/c1 \
	'{"netns": "/nonexistent/ns", "addresses": ["10.0.3.7"]}'
check "... and is not found" test "$(api_field error.code)" = netns_not_found
expect_api "addresses given twice" 400 PUT $V/c1 '{"pid": 1, "addresses": [], "addresses": []}'
check "... is a duplicate_field" test "$(api_field error.code)" = duplicate_field
expect_api "PUT firewall with addresses" 400 PUT $V/c1/firewall '{"addresses": ["10.0.3.7"]}'
check "... names the attach call" test "$(api_field error.code) $(api_field error.field)" = "unknown_field addresses"

snapshot "$WORK/after"
check "refused calls left the state file unchanged" cmp -s "$WORK/before.state" "$WORK/after.state"
check "refused calls left the kernel unchanged" \
	"$PYTHON" "$PROBE" statecmp "$WORK/before.dump" "$WORK/after.dump" --table "$TABLE"
check "refused calls left the firewall and its revision unchanged" cmp -s "$WORK/before.api" "$WORK/after.api"

# --- a good list: sorted (IPv4 first), canonical, everywhere
PIN='["FD42:0::7", "10.0.3.7", "fe80::7", "10.0.3.10"]'
WANT='["10.0.3.7", "10.0.3.10", "fd42::7", "fe80::7"]'
canon() { "$PYTHON" -c 'import json,sys; print(json.dumps(json.loads(sys.argv[1])))' "$1"; }
expect_api "pin four addresses" 200 PUT $V/c1 "$(A "$PIN")"
check "the answer shows them sorted and canonical" test "$(canon "$(api_field data.addresses)")" = "$(canon "$WANT")"
rev=$(api_field data.revision)
expect_api "the same attach again" 200 PUT $V/c1 "$(A "$WANT")"
check "... changes nothing (revision $rev)" test "$(api_field data.revision)" = "$rev"
expect_api "GET the firewall" 200 GET $V/c1/firewall
check "... shows them" test "$(canon "$(api_field data.addresses)")" = "$(canon "$WANT")"
expect_api "the container list" 200 GET $V
check "... shows them" test "$(canon "$(api_field data.containers.0.addresses)")" = "$(canon "$WANT")"
check "the state file holds them" \
	test "$(canon "$(json_get "$STATE/containers/c1.state" firewall.addresses)")" = "$(canon "$WANT")"
expect_api "PUT firewall (rules only)" 200 PUT $V/c1/firewall '{"default_action": "allow"}'
check "... keeps the attachment and its addresses" \
	test "$(api_field data.interface) $(canon "$(api_field data.addresses)")" = "hc1 $(canon "$WANT")"

agentd_stop TERM
agentd_start
expect_api "after a restart" 200 GET $V/c1/firewall
check "... the addresses are back from the state file" \
	test "$(canon "$(api_field data.addresses)")" = "$(canon "$WANT")"
expect_api "health after the restart" 200 GET /api/v1/health
check "... the kernel is in sync" test "$(api_field data.kernel_in_sync)" = true

expect_api "attach again without addresses" 200 PUT $V/c1 '{"interface": "hc1"}'
check "... pins nothing: PUT replaces the attachment" test "$(api_field data.addresses)" = "[]"
check "... and the state file says so" test "$(json_get "$STATE/containers/c1.state" firewall.addresses)" = "[]"

# --- the CLI sends each --address and shows them
HOODY=${HOODY:-$HFW_ROOT/build/hoody}
if [ -x "$HOODY" ]; then
	cli() { HOODY_FIREWALL_SOCKET=$SOCK "$HOODY" "$@" >"$WORK/cli.out" 2>&1; }
	check "hoody firewall attach --address twice" \
		cli firewall attach -c c2 --interface hc2 --address fd42::8 --address 10.0.3.8
	expect_api "... pinned both" 200 GET $V/c2/firewall
	check "... as given" test "$(canon "$(api_field data.addresses)")" = "$(canon '["10.0.3.8", "fd42::8"]')"
	check "hoody firewall show lists them" cli firewall show -c c2
	check "... on one line" grep -Eq '^addresses: +10\.0\.3\.8,fd42::8$' "$WORK/cli.out"
	check "hoody firewall list" cli firewall list
	check "... shows them in their column" grep -Eq '^c2 +hc2 .* 10\.0\.3\.8,fd42::8$' "$WORK/cli.out"
	cli_fails() { ! cli "$@"; }
	check "a refused --address exits non-zero" \
		cli_fails firewall attach -c c2 --interface hc2 --address 10.0.3.8/24
	check "... saying why" grep -qF 'a prefix; give one address' "$WORK/cli.out"
	check "attach without --address" cli firewall attach -c c2 --interface hc2
	check "... pins nothing" cli firewall show -c c2
	check "... and show says so" grep -Eq '^addresses: +none pinned$' "$WORK/cli.out"
else
	info "hoody not built: its checks skipped"
fi

finish
