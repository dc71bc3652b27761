#!/usr/bin/env bash
# 110: crash, restart and tamper with probes running all the time. The
# daemon is killed with SIGKILL, started again, stopped with SIGTERM and
# started again; meanwhile `nft flush ruleset` and `nft delete table` are
# tried in its namespace. No probe to a denied destination may ever pass,
# the rules after each restart equal those before, and allowed probes
# work once the daemon is back (in fact all along: the kernel keeps the
# rules while no agent runs).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

hfw_init restart
need_agentd
command -v curl >/dev/null || skip "curl missing"
command -v nft >/dev/null || skip "nft missing"
topo_up
servers_up
agentd_start

V=/api/v1/containers
T_OK=2

expect_api "attach c1" 201 PUT $V/c1 '{"interface": "hc1"}'
expect_api "c1: allow tcp 443 to 203.0.113.10" 201 POST $V/c1/firewall/egress \
	"$(rule_body 203.0.113.10 443 tcp allow "Allow Stripe API")"
expect_api "c1: allow icmp to 192.0.2.10" 201 POST $V/c1/firewall/egress \
	"$(rule_body 192.0.2.10 "" icmp allow)"
expect_api "attach c2 (deny-all)" 201 PUT $V/c2 '{"interface": "hc2"}'
expect_api "the firewall of c1 before" 200 GET $V/c1/firewall
cp "$WORK/api.out" "$WORK/before.c1.json"
expect_api "the container list before" 200 GET /api/v1/containers
cp "$WORK/api.out" "$WORK/before.list.json"

STOP=$WORK/stop
PROBES=(
	"tcp $C1 203.0.113.10 443 ok c1-https"
	"icmp $C1 192.0.2.10 0 ok c1-ping"
	"tcp $C1 203.0.113.10 80 blocked c1-http"
	"udp $C1 203.0.113.10 443 blocked c1-udp"
	"tcp $C1 fd00:ff::2 443 blocked c1-v6"
	"tcp $C1 10.10.1.1 8080 blocked c1-gateway"
	"tcp $C2 203.0.113.10 443 blocked c2-https"
	"icmp $C2 192.0.2.10 0 blocked c2-ping"
)
loops_start "$STOP" "${PROBES[@]}"
# The loops sample a denied destination about once a second; on top, a
# datagram every 20 ms from each container to a denied UDP port, for the
# whole run: the remote must log none of them.
streams_start c1 c2
# let every probe run at least once before the first disturbance
poll 10 "every probe ran" sh -c "for p in $WORK/loop.*; do [ -s \$p ] || exit 1; done; \
	[ \$(ls $WORK/loop.* | wc -l) -eq ${#PROBES[@]} ]"

# expect_same_state WHEN: the API answers what it answered before
expect_same_state() {
	expect_api "$1: c1's firewall" 200 GET $V/c1/firewall
	check "$1: c1's firewall equals the one before (rules, ids, revision)" \
		cmp -s <("$PYTHON" -m json.tool --sort-keys "$WORK/before.c1.json") \
		<("$PYTHON" -m json.tool --sort-keys "$WORK/api.out")
	expect_api "$1: the container list" 200 GET /api/v1/containers
	check "$1: the container list equals the one before" \
		cmp -s "$WORK/before.list.json" "$WORK/api.out"
	expect_api "$1: health" 200 GET /api/v1/health
	check "$1: the kernel holds the desired state" test "$(api_field data.kernel_in_sync)" = true
}

# --- kill -9, then start again
agentd_stop KILL
check "SIGKILL: the daemon died (status $AGENTD_RC)" test "$AGENTD_RC" -eq 137
dump "$WORK/after-kill.json"
check "with no agent running, the table is still in force" \
	test "$(json_get "$WORK/after-kill.json" containers.c1.interface)" = hc1
t0=$(date +%s%N)
agentd_start
info "restart after SIGKILL: serving after $((($(date +%s%N) - t0) / 1000000)) ms"
expect_same_state "after SIGKILL and restart"

# --- tamper while it runs: the owned table cannot be flushed or deleted
nsx "$HOST" nft flush ruleset 2>"$WORK/flush.err" || true
nsx "$HOST" nft delete table inet "$TABLE" 2>"$WORK/delete.err" && deleted=1 || deleted=0
check "nft delete table inet $TABLE is refused while the daemon runs" test "$deleted" -eq 0
expect_same_state "after nft flush ruleset and nft delete table"

# --- SIGTERM: a clean stop leaves the rules in force
agentd_stop TERM
check "SIGTERM: the daemon exits 0 (status $AGENTD_RC)" test "$AGENTD_RC" -eq 0
check "SIGTERM: the daemon said it stops and the kernel keeps enforcing" \
	grep -q "stopping; the kernel keeps enforcing" "$WORK/agentd.log"
check "SIGTERM: the socket file is gone" test ! -e "$SOCK"
# a mistyped --state-dir must not unlock the host
rc=0
ip netns exec "$HOST" "$AGENTD" --table "$TABLE" --socket "$WORK/other.sock" \
	--state-dir "$WORK/new-state" 2>"$WORK/fresh.err" || rc=$?
check "a new, empty state directory is refused while the table enforces containers (exit $rc)" \
	test "$rc" -ne 0
check "... saying why" grep -q "refusing to remove" "$WORK/fresh.err"
agentd_start
expect_same_state "after SIGTERM and restart"

loops_stop "$STOP"
loops_judge end "${PROBES[@]}"
streams_judge c1 c2

finish
