#!/usr/bin/env bash
# 180: container lifecycle. With --container-ifprefix hc, an interface
# named hc* that no container owns has all its traffic dropped (before
# registration, after a detach, a new one appearing), while the uplink is
# never filtered. A container is attached by its namespace (a path or a
# process): the agent finds the host end of its veth from link attributes,
# and says clearly when there is none or more than one. Link events keep
# the API and the audit told whether each interface exists; a veth deleted
# and recreated under the same name is enforced again without any call.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

hfw_init life
need_agentd
command -v curl >/dev/null || skip "curl missing"
topo_up
servers_up
agentd_start --container-ifprefix hc

V=/api/v1/containers

batch_begin
expect_blocked "unregistered hc1: c1 -> remote dropped" tcp "$C1" 203.0.113.10 443
expect_blocked "unregistered hc1: c1 -> its gateway dropped" tcp "$C1" 10.10.1.1 8080
expect_blocked "unregistered hc2: c2 -> remote dropped" udp "$C2" 203.0.113.10 53
expect_ok "the uplink (hr0) is not filtered: remote -> host" tcp "$REMOTE" 198.51.100.1 8080
batch_end

# Attach by namespace path, then by process.
expect_api "attach c1 by its netns path" 201 PUT $V/c1 "{\"netns\": \"/run/netns/$C1\"}"
check "... resolved to hc1" test "$(api_field data.interface)" = hc1
check "... which is present" test "$(api_field data.interface_present)" = true
check "... and enforced" test "$(api_field data.enforcement)" = enforced
expect_api "c1: allow tcp 443 to 203.0.113.10" 201 POST $V/c1/firewall/egress \
	"$(rule_body 203.0.113.10/32 443 tcp allow)"
c2_pid=$(ip netns pids "$C2" | head -1)
[ -n "$c2_pid" ] || die "no process in $C2"
expect_api "attach c2 by a process in it (pid $c2_pid)" 201 PUT $V/c2 "{\"pid\": $c2_pid}"
check "... resolved to hc2" test "$(api_field data.interface)" = hc2
expect_api "c2: allow everything" 200 PUT $V/c2/firewall '{"default_action": "allow", "rules": []}'
batch_begin
expect_ok "attached c1: its allowed destination passes" tcp "$C1" 203.0.113.10 443
expect_blocked "... the rest is still dropped" tcp "$C1" 203.0.113.10 80
expect_ok "attached c2 (allow): passes" udp "$C2" 203.0.113.10 53
batch_end

# Namespaces that cannot be resolved change nothing.
LONE=$HFW_TAG-lone
ns_add "$LONE"
expect_api "a netns with no veth to the host" 400 PUT $V/c3 "{\"netns\": \"/run/netns/$LONE\"}"
check "... says so" test "$(api_field error.code)" = no_veth_peer
expect_api "a netns path that does not exist" 400 PUT $V/c3 '{"netns": "/run/netns/hfw-no-such-ns"}'
check "... says so" test "$(api_field error.code)" = netns_not_found
expect_api "a file that is not a namespace" 400 PUT $V/c3 '{"netns": "/etc/hostname"}'
expect_api "a relative netns path" 400 PUT $V/c3 '{"netns": "run/netns/x"}'
check "... names the field" test "$(api_field error.field)" = netns
expect_api "a pid that does not exist" 400 PUT $V/c3 '{"pid": 4194303}'
check "... says so" test "$(api_field error.code)" = netns_not_found
expect_api "a pid that is not a number" 400 PUT $V/c3 '{"pid": "1"}'
expect_api "interface and netns together" 400 PUT $V/c3 \
	"{\"interface\": \"hc9\", \"netns\": \"/run/netns/$C1\"}"
expect_api "c3 was never created" 404 GET $V/c3/firewall

# A second veth into c1's namespace: ambiguous, and unowned meanwhile.
ip -n "$HOST" link add hcx type veth peer name eth1 netns "$C1"
ip -n "$HOST" addr add 10.10.3.1/24 dev hcx
ip -n "$C1" addr add 10.10.3.2/24 dev eth1
ip -n "$HOST" link set hcx up
ip -n "$C1" link set eth1 up
poll 5 "hcx up" link_is_up "$HOST" hcx
expect_blocked "a new hc* interface no container owns: dropped" tcp "$C1" 10.10.3.1 8080
expect_api "c1's netns now has two veths" 400 PUT $V/c3 "{\"netns\": \"/run/netns/$C1\"}"
check "... named in the error" \
	test "$(api_field error.code)" = ambiguous_veth_peer -a -n "$(grep -o 'hc1, hcx\|hcx, hc1' "$WORK/api.out")"
expect_api "c3 attached to hcx by name, allowing all" 201 PUT $V/c3 '{"interface": "hcx"}'
expect_api "c3: allow" 200 PUT $V/c3/firewall '{"default_action": "allow", "rules": []}'
expect_refused "hcx owned by c3 (allow): reaches the host (nothing listens there: a RST, not a drop)" \
	tcp "$C1" 10.10.3.1 8080

# Presence follows link events; a recreated veth is enforced at once.
ip -n "$HOST" link del hc1
c1_present() { api GET $V/c1/firewall && [ "$(api_field data.interface_present)" = "$1" ]; }
poll 5 "c1's interface to be reported gone" c1_present false
pass "hc1 deleted: c1's interface_present is false"
check "... and its enforcement interface_missing" test "$(api_field data.enforcement)" = interface_missing
expect_api "the audit after the deletion" 200 GET $V/c1/firewall/audit
check "... says the interface is not there" \
	test "$(api_field data.containers.0.interface_present)" = false
check "... and keeps enforcing c1 for when it is back" \
	test "$(api_field data.containers.0.enforced)" = true
check "... so c1 is in sync, and its enforcement interface_missing" \
	test "$(api_field data.containers.0.in_sync)/$(api_field data.containers.0.enforcement)" = true/interface_missing
check "the log says hc1 is gone" grep -q "container c1: interface hc1 is gone" "$WORK/agentd.log"
c1_veth_add
poll 5 "c1's interface to be reported back" c1_present true
pass "hc1 recreated: c1's interface_present is true"
check "... and it is enforced again" test "$(api_field data.enforcement)" = enforced
expect_api "the list shows it too" 200 GET $V
check "... c1 present, c3 present" \
	test "$(api_field data.containers.container_id=c1.interface_present) $(api_field data.containers.container_id=c3.interface_present)" = "true true"
batch_begin
expect_ok "recreated hc1, no call made: allowed 443 passes" tcp "$C1" 203.0.113.10 443
expect_blocked "... and port 80 is still dropped" tcp "$C1" 203.0.113.10 80
batch_end

# Detached: the interface is unowned again and fails closed.
expect_api "detach c1" 200 PUT $V/c1 '{"interface": null}'
check "... no interface, presence unknown" test "$(api_field data.interface_present)" = null
check "... warns that hc1 stays dropped: it matches --container-ifprefix hc" \
	test "$(api_field data.warnings.0.code)" = interface_dropped
expect_blocked "detached hc1: even the allowed destination is dropped" tcp "$C1" 203.0.113.10 443
expect_api "delete c3" 200 DELETE $V/c3
expect_blocked "deleted c3: hcx dropped again" tcp "$C1" 10.10.3.1 8080

HOODY=${HOODY:-$HFW_ROOT/build/hoody}
rc=0
"$HOODY" --socket "$SOCK" firewall attach -c c1 --netns "/run/netns/$C1" >"$WORK/cli.out" 2>&1 || rc=$?
check "hoody firewall attach --netns: two veths lead there now, exit 1" test "$rc" = 1
check "... and it says which" grep -q "hc1, hcx\|hcx, hc1" "$WORK/cli.out"
rc=0
"$HOODY" --socket "$SOCK" firewall attach -c c4 --pid "$c2_pid" >"$WORK/cli.out" 2>&1 || rc=$?
check "hoody firewall attach --pid: hc2 is c2's, exit 1 (409)" test "$rc" = 1
rc=0
"$HOODY" --socket "$SOCK" firewall attach -c c4 --pid 1 --interface hc9 >"$WORK/cli.out" 2>&1 || rc=$?
check "hoody firewall attach with two ways at once: a usage error" test "$rc" = 2
ip -n "$HOST" link del hcx
rc=0
"$HOODY" --socket "$SOCK" firewall attach -c c1 --netns "/run/netns/$C1" >"$WORK/cli.out" 2>&1 || rc=$?
check "hoody firewall attach --netns, one veth again: attached to hc1" \
	test "$rc" = 0 -a -n "$(grep -w hc1 "$WORK/cli.out")"

expect_api "the audit's header" 200 GET /api/v1/firewall/audit
check "... names the prefixes the kernel's table enforces" \
	test "$(api_field data.container_ifprefixes.0)" = hc
check "... and the drop log" test "$(api_field data.drop_log.rate)" -gt 0
finish
