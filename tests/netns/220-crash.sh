#!/usr/bin/env bash
# 220: the agent killed with SIGKILL at random moments, 200 times, while
# three clients send a stream of mixed calls (attach, add, delete,
# reset, detach) and a fourth PUTs the whole host (crashload.py), and
# probes run from a locked container. After every call its client reads
# the container back: a call answered 2xx must be there, any other
# wholly there or wholly absent. The locked container is never open, the
# agent starts every time, and at the end the kernel holds the desired
# state. Then kills during the start itself. A mutant agent that loses
# answered changes or leaves them half done fails the clients' checks.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

KILLS=${KILLS:-200}
START_KILLS=${START_KILLS:-20}

hfw_init crash
need_agentd
topo_up
servers_up
agentd_start

V=/api/v1/containers
expect_api "attach c1" 201 PUT $V/c1 '{"interface": "hc1"}'
expect_api "c1: allow tcp 443 to 203.0.113.10" 201 POST $V/c1/firewall/egress \
	"$(rule_body 203.0.113.10 443 tcp allow "the one way out")"

STOP=$WORK/stop
PROBES=(
	"tcp $C1 203.0.113.10 443 ok c1-allowed"
	"tcp $C1 203.0.113.11 443 blocked c1-other-address"
	"tcp $C1 203.0.113.10 80 blocked c1-other-port"
	"udp $C1 203.0.113.10 443 blocked c1-udp"
	"tcp $C1 10.10.1.1 8080 blocked c1-gateway"
)
loops_start "$STOP" "${PROBES[@]}"
# on top of the loops, a datagram every 20 ms to a denied port for the
# whole run: the remote must log none of them
streams_start c1

"$PYTHON" "$HFW_DIR/crashload.py" --socket "$SOCK" --stop "$WORK/load.stop" --seed "$$" \
	>"$WORK/load.json" 2>"$WORK/load.err" &
LOAD=$!
bg_track "$LOAD"

# --- kill it at random moments while the calls go on
starts=0
for ((i = 0; i < KILLS; i++)); do
	# a moment 0-400 ms into its life: mid-call, mid-commit, mid-write
	sleep "0.$(printf '%03d' $((RANDOM % 400)))"
	agentd_stop KILL
	agentd_start
	starts=$((starts + 1))
done
check "killed with SIGKILL $KILLS times; it started again every time ($starts)" \
	test "$starts" -eq "$KILLS"

touch "$WORK/load.stop"
load_rc=0
wait "$LOAD" || load_rc=$?
summary=$(cat "$WORK/load.json")
info "calls: $summary"
check "the clients saw no call half done or lost (exit $load_rc)" test "$load_rc" -eq 0
calls() { # calls OUTCOME: how many calls ended so
	"$PYTHON" -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(sum(v for k, v in d["counts"].items() if k.endswith(" " + sys.argv[2])))' \
		"$WORK/load.json" "$1"
}
check "many calls answered 2xx ($(calls ok))" test "$(calls ok)" -ge 500
check "some calls lost their answer to a kill ($(calls no-answer))" test "$(calls no-answer)" -ge 10
check "whole-host PUTs ran too" grep -q '"host-put ok"' "$WORK/load.json"

poll 30 "the kernel to hold the desired state" in_sync
pass "the kernel holds the desired state"

# --- kills during the start: before it serves, while it loads and repairs
for ((i = 0; i < START_KILLS; i++)); do
	ip netns exec "$HOST" "$AGENTD" --socket "$SOCK" --state-dir "$STATE" --table "$TABLE" \
		>>"$WORK/agentd.log" 2>&1 &
	pid=$!
	sleep "0.$(printf '%03d' $((RANDOM % 150)))"
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
done
agentd_start
pass "killed $START_KILLS times during its start, it starts"
poll 30 "the kernel to hold the desired state" in_sync
pass "... and the kernel holds the desired state"
expect_api "c1's firewall is as it was" 200 GET $V/c1/firewall
check "... one rule, deny by default" sh -c "grep -q '\"default_action\":\"deny\"' $WORK/api.out &&
	test \$(grep -o '\"id\":' $WORK/api.out | wc -l) -eq 1"

loops_stop "$STOP"
loops_judge end "${PROBES[@]}"
streams_judge c1
finish
