#!/usr/bin/env bash
# 150: the control plane's whole-host calls. PUT /api/v1/firewall sets
# every container at once (those not named are removed) and says what
# changed; the same PUT again changes nothing and says so; GET returns
# it; packets and the kernel follow; bad input changes nothing.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

hfw_init host
need_agentd
command -v curl >/dev/null || skip "curl missing"
topo_up
servers_up
agentd_start

H=/api/v1/firewall
V=/api/v1/containers

expect_api "a container set up one call at a time" 201 PUT $V/old '{"interface": "hc2"}'

cat >"$WORK/host1.json" <<'EOF'
{"containers": {
  "c1": {"interface": "hc1", "default_action": "deny", "rules": [
    {"id": "web", "destination": "203.0.113.10/32", "destination_port": "443",
     "protocol": "tcp", "action": "allow", "description": "Allow Stripe API"}]},
  "c2": {"interface": "hc2", "default_action": "deny", "rules": []}
}}
EOF
expect_api "PUT the whole host" 200 PUT $H "@$WORK/host1.json"
check "it says what changed" test "$(api_field data.changed)" = true
check "... created c1 and c2" test "$(api_field data.created)" = '["c1", "c2"]'
check "... removed the container it did not name" test "$(api_field data.removed)" = '["old"]'
check "... and counts the host's containers" test "$(api_field data.containers)" = 2
expect_ok "c1 -> 203.0.113.10 443 (allowed)" tcp "$C1" 203.0.113.10 443
expect_blocked "c1 -> 203.0.113.10 80 (not allowed)" tcp "$C1" 203.0.113.10 80
expect_blocked "c2 -> 203.0.113.10 443 (deny-all; the interface moved from old to c2)" \
	tcp "$C2" 203.0.113.10 443
expect_api "the removed container is gone" 404 GET $V/old/firewall

expect_api "the same PUT again" 200 PUT $H "@$WORK/host1.json"
check "... changes nothing and says so" test "$(api_field data.changed)" = false
check "... with every container unchanged" test "$(api_field data.unchanged)" = 2
expect_api "c1's revision" 200 GET $V/c1/firewall
check "... is still 1" test "$(api_field data.revision)" = 1

expect_api "GET the whole host" 200 GET $H
check "GET returns what was PUT (c1's rule, with its id and description)" \
	test "$(api_field data.containers.c1.rules.id=web.description)" = "Allow Stripe API"
check "... and c2" test "$(api_field data.containers.c2.interface)" = hc2

# change one, keep one, remove one, add one
cat >"$WORK/host2.json" <<'EOF'
{"containers": {
  "c1": {"interface": "hc1", "default_action": "deny", "rules": [
    {"id": "web", "destination": "203.0.113.10/32", "destination_port": "443",
     "protocol": "tcp", "action": "allow", "description": "Allow Stripe API"},
    {"destination": "203.0.113.10/32", "destination_port": "80", "protocol": "tcp",
     "action": "allow"}]},
  "c3": {"interface": "hc9", "default_action": "deny", "rules": []}
}}
EOF
expect_api "PUT a changed host" 200 PUT $H "@$WORK/host2.json"
check "c1 updated" test "$(api_field data.updated)" = '["c1"]'
check "c3 created" test "$(api_field data.created)" = '["c3"]'
check "c2 removed" test "$(api_field data.removed)" = '["c2"]'
expect_ok "c1 -> 203.0.113.10 80 (allowed now)" tcp "$C1" 203.0.113.10 80
expect_ok "c2 -> 203.0.113.10 443 (c2 removed: hc2 is no container's)" tcp "$C2" 203.0.113.10 443
expect_api "c1's revision" 200 GET $V/c1/firewall
check "... went up by one" test "$(api_field data.revision)" = 2
check "the state directory holds exactly c1 and c3" \
	test "$(ls "$STATE/containers" | tr '\n' ' ')" = "c1.state c3.state "

# bad input changes nothing
dump "$WORK/before.json"
cp -r "$STATE/containers" "$WORK/files-before"
expect_api "a rule with a bad destination" 400 PUT $H \
	'{"containers": {"c1": {"interface": "hc1", "rules": [{"destination": "10.0.0.1/8", "action": "allow"}]}}}'
check "... names the field" test "$(api_field error.field)" = destination
expect_api "two containers on one interface" 400 PUT $H \
	'{"containers": {"a": {"interface": "hc1"}, "b": {"interface": "hc1"}}}'
check "... says which" test "$(api_field error.code)" = duplicate_interface
expect_api "no containers member" 400 PUT $H '{"container": {}}'
expect_api "not an object" 400 PUT $H '[]'
dump "$WORK/after.json"
check "the kernel is unchanged by every refused call" \
	cmp -s "$WORK/before.json" "$WORK/after.json"
check "the state files are unchanged by every refused call" \
	diff -r "$WORK/files-before" "$STATE/containers"

# an empty host removes everything
expect_api "PUT an empty host" 200 PUT $H '{"containers": {}}'
check "... removed c1 and c3" test "$(api_field data.removed)" = '["c1", "c3"]'
expect_ok "c1 -> 203.0.113.10 22 (no longer a container: unfiltered)" tcp "$C1" 203.0.113.10 22

finish
