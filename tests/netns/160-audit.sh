#!/usr/bin/env bash
# 160: the audit, generated from the kernel: rules decoded with their
# counters after real traffic, default drops, agreement with the desired
# state and both sides' digests (equal when they agree, stable while
# nothing changes, moving with a change), which containers are enforced
# (a container in sync need not be), one container or all, and the CLI's
# table.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

hfw_init audit
need_agentd
command -v curl >/dev/null || skip "curl missing"
topo_up
servers_up
agentd_start

V=/api/v1/containers
HOODY=${HOODY:-$HFW_ROOT/build/hoody}
[ -x "$HOODY" ] || die "$HOODY missing: run make"

expect_api "attach c1" 201 PUT $V/c1 '{"interface": "hc1"}'
expect_api "c1: allow tcp 443 to 203.0.113.10" 201 POST $V/c1/firewall/egress \
	'{"id": "web", "destination": "203.0.113.10/32", "destination_port": "443", "protocol": "tcp", "action": "allow", "description": "Allow Stripe API"}'
expect_api "attach c2 (deny-all)" 201 PUT $V/c2 '{"interface": "hc2"}'
expect_api "c3: a firewall not attached yet" 201 POST $V/c3/firewall/reset

for i in 1 2 3; do
	expect_ok "c1 -> 203.0.113.10 443 ($i)" tcp "$C1" 203.0.113.10 443
done
expect_blocked "c1 -> 203.0.113.10 80" tcp "$C1" 203.0.113.10 80
expect_blocked "c2 -> 203.0.113.10 443" tcp "$C2" 203.0.113.10 443

expect_api "audit of the host" 200 GET /api/v1/firewall/audit
cp "$WORK/api.out" "$WORK/audit1.json"
a() { json_get "$WORK/audit1.json" "$1"; }
check "the header names the table" test "$(a data.table)" = "$TABLE"
check "... says it is owned" test "$(a data.owned)" = true
check "... and gives the ruleset generation" test "$(a data.generation)" -gt 0
check "every container is in sync" test "$(a data.in_sync)" = true
check "... all three of them" test "$(a data.containers_in_sync)/$(a data.containers_total)" = 3/3
check "c1 is enforced on hc1" test "$(a data.containers.container_id=c1.interface)" = hc1
check "c1's rule is decoded from the kernel with its description" \
	test "$(a data.containers.container_id=c1.rules.id=web.description)" = "Allow Stripe API"
check "c1's rule counted the allowed connections (at least 3 SYNs)" \
	test "$(a data.containers.container_id=c1.rules.id=web.packets)" -ge 3
check "c1's default drop counted the blocked probe" \
	test "$(a data.containers.container_id=c1.dropped.packets)" -ge 1
check "c2's default drop counted its blocked probe" \
	test "$(a data.containers.container_id=c2.dropped.packets)" -ge 1
check "c3 is not enforced (no interface) and that is in sync" \
	test "$(a data.containers.container_id=c3.enforced)/$(a data.containers.container_id=c3.in_sync)" = false/true
check "... and its enforcement says why: not_attached" \
	test "$(a data.containers.container_id=c3.enforcement)" = not_attached
check "c1 and c2 are enforced" \
	test "$(a data.containers.container_id=c1.enforcement)/$(a data.containers.container_id=c2.enforcement)" = enforced/enforced
check "the header: 3 in sync, yet only 2 enforced" \
	test "$(a data.containers_in_sync)/$(a data.containers_enforced)/$(a data.containers_not_enforced)" = 3/2/1
check "c1's kernel digest equals its desired digest" \
	test "$(a data.containers.container_id=c1.digest.kernel)" = \
	"$(a data.containers.container_id=c1.digest.desired)"
check "... and is a sha256" \
	grep -Eq '^sha256:[0-9a-f]{64}$' <<<"$(a data.containers.container_id=c1.digest.kernel)"
check "the host's digests agree" test "$(a data.digest.kernel)" = "$(a data.digest.desired)"

expect_api "the audit again, nothing changed" 200 GET /api/v1/firewall/audit
check "the host digest is stable" test "$(api_field data.digest.kernel)" = "$(a data.digest.kernel)"

expect_api "one container's audit" 200 GET $V/c1/firewall/audit
check "... holds that container only" test "$(api_field data.containers_total)" = 1
check "... with the same digest as in the host's audit" \
	test "$(api_field data.containers.0.digest.kernel)" = \
	"$(a data.containers.container_id=c1.digest.kernel)"
expect_api "the audit of an unknown container" 404 GET $V/nope/firewall/audit

expect_api "a change: c1 allows udp 53 too" 201 POST $V/c1/firewall/egress \
	"$(rule_body 203.0.113.10 53 udp allow)"
expect_api "the audit after the change" 200 GET $V/c1/firewall/audit
check "c1's digest moved" test "$(api_field data.containers.0.digest.kernel)" != \
	"$(a data.containers.container_id=c1.digest.kernel)"
check "... and both sides still agree" test "$(api_field data.containers.0.digest.kernel)" = \
	"$(api_field data.containers.0.digest.desired)"

"$HOODY" --socket "$SOCK" firewall audit >"$WORK/cli.out"
check "hoody firewall audit: a header with the sync count, and what is not enforced" \
	grep -q "^table $TABLE (owned), generation [0-9]*, .*: 3 of 3 containers in sync, 1 NOT ENFORCED$" "$WORK/cli.out"
check "... and c1's row: hc1, deny, 2 rules, hits, in sync, enforced" \
	grep -Eq '^c1 +hc1 +deny +2 +[1-9][0-9]* +[1-9][0-9]* +yes +yes$' "$WORK/cli.out"
check "... and c3's row: in sync, NOT ATTACHED" \
	grep -Eq '^c3 +- .* yes +NOT ATTACHED$' "$WORK/cli.out"
"$HOODY" --socket "$SOCK" -o json firewall audit -c c2 >"$WORK/cli.json"
check "hoody firewall audit -c c2 -o json: the API's data" \
	test "$(json_get "$WORK/cli.json" containers.0.container_id)" = c2

finish
