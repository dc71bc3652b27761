#!/usr/bin/env bash
# 200: rules that expire. A rule created with "ttl" (or "expires_at")
# stops matching in the kernel at its time, also while agentd is killed:
# its established connection stops, a new one is refused, and a deny
# rule that expires lets the default through. The next agentd takes it
# out of the desired state; a running agentd does so at the time. Bad
# expiries are refused with 400 and change nothing.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

hfw_init expiry
need_agentd
command -v curl >/dev/null || skip "curl missing"
command -v nft >/dev/null || skip "nft missing"
HOODY=${HOODY:-$HFW_ROOT/build/hoody}
[ -x "$HOODY" ] || die "hoody not found at $HOODY (build it with make)"
topo_up
servers_up
agentd_start
export HOODY_FIREWALL_SOCKET=$SOCK

V=/api/v1/containers
TTL=${TTL:-8} # long enough for the checks before the time

expect_api "attach c1 (deny)" 201 PUT $V/c1 '{"interface": "hc1"}'
expect_api "attach c2" 201 PUT $V/c2 '{"interface": "hc2"}'
expect_api "c2: default allow" 200 PUT $V/c2/firewall '{"default_action": "allow"}'

# --- bad input: 400 naming the field, nothing changed
expect_api "c1's firewall before the bad calls" 200 GET $V/c1/firewall
cp "$WORK/api.out" "$WORK/fw.before"
# the drop log's buckets list their time left: compare what the calls could touch
kernel_of() { nsx "$HOST" nft list chain inet "$TABLE" "c_$1"; nsx "$HOST" nft list set inet "$TABLE" allow; }
kernel_of c1 >"$WORK/nft.before"
bad() {
	local desc=$1 field=$2 body=$3
	expect_api "refused: $desc" 400 POST $V/c1/firewall/egress "$body"
	check "... names field $field" test "$(api_field error.field)" = "$field"
}
r='"destination": "203.0.113.10/32", "protocol": "tcp", "destination_port": "443", "action": "allow"'
bad "ttl 0" ttl "{$r, \"ttl\": 0}"
bad "ttl -5" ttl "{$r, \"ttl\": -5}"
bad "ttl of 366 days" ttl "{$r, \"ttl\": 31622400}"
bad "ttl 1.5" ttl "{$r, \"ttl\": 1.5}"
bad "ttl as a string" ttl "{$r, \"ttl\": \"10m\"}"
bad "ttl and expires_at together" ttl "{$r, \"ttl\": 60, \"expires_at\": \"2099-01-01T00:00:00Z\"}"
bad "expires_at that has passed" expires_at "{$r, \"expires_at\": \"2020-01-01T00:00:00Z\"}"
bad "expires_at more than a year ahead" expires_at "{$r, \"expires_at\": \"2999-01-01T00:00:00Z\"}"
bad "expires_at not UTC" expires_at "{$r, \"expires_at\": \"2027-01-01T00:00:00+01:00\"}"
bad "expires_at with a fraction" expires_at "{$r, \"expires_at\": \"2027-01-01T00:00:00.5Z\"}"
bad "expires_at on no such day" expires_at "{$r, \"expires_at\": \"2027-02-29T00:00:00Z\"}"
bad "expires_at as a date" expires_at "{$r, \"expires_at\": \"2027-01-01\"}"
bad "expires_at as a number" expires_at "{$r, \"expires_at\": 1800000000}"
expect_api "a firewall with a rule that has passed" 400 PUT $V/c1/firewall \
	"{\"rules\": [{$r, \"expires_at\": \"2020-01-01T00:00:00Z\"}]}"
expect_api "a host state with a ttl of 0" 400 PUT /api/v1/firewall \
	"{\"containers\": {\"c1\": {\"interface\": \"hc1\", \"rules\": [{$r, \"ttl\": 0}]}}}"
expect_api "c1's firewall after the bad calls" 200 GET $V/c1/firewall
check "the bad calls changed no firewall" cmp -s "$WORK/fw.before" "$WORK/api.out"
kernel_of c1 >"$WORK/nft.after"
check "the bad calls changed nothing in the kernel" cmp -s "$WORK/nft.before" "$WORK/nft.after"

# --- rules that expire while agentd is killed
t0=$(date +%s)
expect_api "c1: allow tcp 443 to 203.0.113.10 for ${TTL}s" 201 POST $V/c1/firewall/egress \
	"{$r, \"id\": \"web\", \"ttl\": $TTL, \"description\": \"for a while\"}"
exp=$(api_field data.expires_at)
t_exp=$(date -u -d "$exp" +%s)
check "the answer says when it expires ($exp)" \
	test "$t_exp" -ge $((t0 + TTL)) -a "$t_exp" -le $((t0 + TTL + 2))
expect_api "c1: allow tcp 443 to 203.0.113.20 for good" 201 POST $V/c1/firewall/egress \
	"$(rule_body 203.0.113.20 443 tcp allow stays)"
expect_api "c2: deny tcp 80 to 198.51.100.2 until the same time" 201 POST $V/c2/firewall/egress \
	"{\"destination\": \"198.51.100.2\", \"protocol\": \"tcp\", \"destination_port\": 80, \"action\": \"deny\", \"expires_at\": \"$exp\"}"
# in a default-allow container an allow rule that expires: its flows stop
# at the time (their tag has no verdict) until the agent takes it out
expect_api "c2: allow tcp 443 to 203.0.113.10 until the same time" 201 POST $V/c2/firewall/egress \
	"{$r, \"expires_at\": \"$exp\"}"
expect_api "c1's rules" 200 GET $V/c1/firewall/egress
check "the rule lists its expiry" grep -qF "\"expires_at\":\"$exp\"" "$WORK/api.out"
"$HOODY" firewall egress list -c c1 >"$WORK/cli.list" 2>&1 || true
check "hoody firewall egress list shows it" grep -qF "$exp" "$WORK/cli.list"
check "... and 'never' for the rule that stays" grep -q "never" "$WORK/cli.list"
check "the kernel's claim tests the clock" \
	sh -c "ip netns exec $HOST nft list chain inet $TABLE c_c1 | grep -q 'meta time'"

hold web "$C1" 203.0.113.10 443
hold keep "$C1" 203.0.113.20 443
hold c2web "$C2" 203.0.113.10 443
expect_flowing web "before its time: the connection of rule web delivers"
expect_flowing keep "the connection of rule stays delivers"
batch_begin
expect_ok "before its time: a new connection to 203.0.113.10:443" tcp "$C1" 203.0.113.10 443
expect_blocked "before its time: c2's deny rule drops tcp 80" tcp "$C2" 198.51.100.2 80
batch_end

agentd_stop KILL
info "agentd killed (exit $AGENTD_RC); the rules expire at $exp"
# the clock, not an event, is what this waits for
clock_past() { [ "$(date +%s)" -ge "$1" ]; }
poll $((TTL + 5)) "the time of rule web ($exp)" clock_past "$t_exp"
t_after=$(now)
sleep 1.5
expect_stopped web "$t_after" "after its time, no agent: the connection of rule web stops"
expect_still_flowing keep "$t_after" "after its time: the connection of rule stays goes on"
expect_stopped c2web "$t_after" "after its time, no agent: c2's connection by the expired allow rule stops (closed, though c2's default allows)"
batch_begin
expect_blocked "after its time, no agent: a new connection to 203.0.113.10:443" tcp "$C1" 203.0.113.10 443
expect_ok "after its time, no agent: rule stays still opens 203.0.113.20:443" tcp "$C1" 203.0.113.20 443
expect_ok "after its time, no agent: c2's deny rule expired, the default allows tcp 80" tcp "$C2" 198.51.100.2 80
batch_end

agentd_start
expect_api "c1's firewall after the restart" 200 GET $V/c1/firewall/egress
check "the expired rule is gone from c1's desired state" \
	sh -c "! grep -q '\"id\":\"web\"' $WORK/api.out"
check "... and rule stays is there" grep -q '"description":"stays"' "$WORK/api.out"
expect_api "c2's firewall after the restart" 200 GET $V/c2/firewall/egress
check "c2's expired rules are gone" test "$(json_len "$WORK/api.out" data.rules)" -eq 0
t_back=$(now)
sleep 1.5
expect_still_flowing c2web "$t_back" "the rule taken out: c2's default allows that connection again"
check "the agent logged the expiry" grep -q "rule web expired" "$WORK/agentd.log"
json_get "$STATE/containers/c1.state" firewall.rules >"$WORK/c1.rules"
check "c1's state file no longer holds it" sh -c "! grep -q '\"web\"' $WORK/c1.rules"
check "... but rule stays" grep -q stays "$WORK/c1.rules"
poll 10 "the kernel in sync" in_sync
pass "the kernel holds the desired state"

# --- a rule that expires while agentd runs; posting it again renews it
t0=$(date +%s)
expect_api "c1: allow tcp 443 to 203.0.113.10 for 3s, agent running" 201 POST \
	$V/c1/firewall/egress "{$r, \"id\": \"short\", \"ttl\": 3}"
expect_api "the same rule with a ttl of an hour renews it" 200 POST \
	$V/c1/firewall/egress "{$r, \"id\": \"short\", \"ttl\": 3600}"
t_renew=$(date -u -d "$(api_field data.expires_at)" +%s)
check "its expiry is an hour away now" test "$t_renew" -ge $((t0 + 3600))
expect_api "and again with a ttl of 3s" 200 POST $V/c1/firewall/egress \
	"{$r, \"id\": \"short\", \"ttl\": 3}"
gone() {
	api GET $V/c1/firewall/egress
	! grep -q '"id":"short"' "$WORK/api.out"
}
poll 8 "the running agent to take rule short out" gone
t_gone=$(date +%s)
check "taken out at its time, not before (after $((t_gone - t0))s)" test $((t_gone - t0)) -ge 3
expect_blocked "rule short expired: 203.0.113.10:443 refused again" tcp "$C1" 203.0.113.10 443
poll 10 "the kernel in sync after the expiry" in_sync
pass "the kernel holds the state after the expiry"

# --- the CLI
"$HOODY" firewall egress create -c c1 --action allow --protocol tcp --destination-port 443 \
	--destination 203.0.113.30/32 --ttl 10m >"$WORK/cli.out" 2>&1
check "hoody ... --ttl 10m shows the expiry" grep -q "$(date -u -d '+10 min' +%Y-%m-%dT)" "$WORK/cli.out"
rc=0
"$HOODY" firewall egress create -c c1 --action allow --destination 203.0.113.31 \
	--ttl 10x >"$WORK/cli.out" 2>"$WORK/cli.err" || rc=$?
check "hoody ... --ttl 10x is refused (exit $rc)" test "$rc" -ne 0
rc=0
"$HOODY" firewall egress create -c c1 --action allow --destination 203.0.113.31 \
	--ttl 5m --expires-at 2027-01-01T00:00:00Z >"$WORK/cli.out" 2>"$WORK/cli.err" || rc=$?
check "hoody ... --ttl with --expires-at is refused by the agent (exit $rc)" test "$rc" -eq 1

finish
