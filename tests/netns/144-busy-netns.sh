#!/usr/bin/env bash
# 144: the reconciler on a host where other software keeps committing to
# its own tables (as container runtimes do). Every commit moves the
# ruleset generation of the network namespace. Their announcements say
# they left the table alone, so timer passes read nothing; a reading of
# the table that such a commit interrupts (at start, or the pass after a
# repair) is read again, not given up. With 1500 containers a reading
# lasts long enough for commits every 0.2 s to interrupt some. The table
# is a plain one (as in 140), so that the test can tamper with it; at
# the end an owned one, whose readings other commits cannot spoil and
# whose API changes among other commits leave the timer nothing to read.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

hfw_init busy
need_agentd
command -v curl >/dev/null || skip "curl missing"
command -v nft >/dev/null || skip "nft missing"
topo_up
servers_up
ARGS=(--no-table-owner --reconcile-interval 1 --debug)
agentd_start "${ARGS[@]}"

# host1.json and host2.json differ in c1's description only
"$PYTHON" - "$WORK" <<'EOF'
import json, sys
for name, desc in (("host1.json", "web"), ("host2.json", "web, changed")):
    cs = {"c1": {"interface": "hc1", "default_action": "deny", "rules": [
        {"destination": "203.0.113.10/32", "destination_port": "443", "protocol": "tcp",
         "action": "allow", "description": desc}]}}
    for i in range(1500):
        cs[f"f{i}"] = {"interface": f"hf{i}", "default_action": "deny", "rules": [
            {"destination": f"198.51.100.{r}/32", "destination_port": str(1000 + r),
             "protocol": "tcp", "action": "allow", "description": f"filler {r}"}
            for r in range(1, 11)]}
    with open(f"{sys.argv[1]}/{name}", "w") as f:
        json.dump({"containers": cs}, f)
EOF
expect_api "PUT 1501 containers (1500 on interfaces that do not exist)" 200 \
	PUT /api/v1/firewall "@$WORK/host1.json"
expect_ok "c1 -> 203.0.113.10 443 allowed" tcp "$C1" 203.0.113.10 443

LOG=$WORK/agentd.log
count() { grep -c "$1" "$LOG" || true; }
timer_passes() { count "reconcile (timer): table $TABLE holds the desired state"; }
idle_ticks() { count "reconcile (timer): generation [0-9]* still holds the desired state"; }
start_rereads() { count "start-up: table $TABLE read [0-9]* times: other commits came in between"; }

STOP=$WORK/stop
(
	k=0
	while [ ! -e "$STOP" ]; do
		k=$((k + 1))
		# one refused commit must not end the churn (set -e holds here too)
		nsx "$HOST" nft add table inet "bystander$k" || true
		sleep 0.2
	done
) &
HFW_BG+=("$!")

passes=$(timer_passes)
check "while other tables change, three timer ticks read nothing" \
	poll_quiet 6 at_least idle_ticks $(($(idle_ticks) + 3))
check "... no timer pass read the table" test "$(timer_passes)" -eq "$passes"

# a reading (70 ms at 1,500 containers) meets a commit in about one start
# of ten: up to 100 starts, so that bad luck never fails the check
starts=0
while [ "$starts" -lt 100 ] && [ "$(start_rereads)" -eq 0 ]; do
	agentd_stop TERM
	[ "$AGENTD_RC" -eq 0 ] || fail "the daemon stopped with status $AGENTD_RC"
	agentd_start "${ARGS[@]}"
	starts=$((starts + 1))
done
check "a start whose reading another table's commit interrupted read it again [$starts starts]" \
	at_least start_rereads 1

passes=$(timer_passes)
h=$(nsx "$HOST" nft -a list chain inet "$TABLE" c_c1 | grep -o 'handle [0-9]*' | sed -n 2p)
nsx "$HOST" nft delete rule inet "$TABLE" c_c1 $h
check "a deleted rule is repaired, and the next timer pass reads the whole table meanwhile" \
	poll_quiet 5 at_least timer_passes $((passes + 1))

# As in production: the table owned by the agent. Commits elsewhere
# cannot touch it, so a reading they interrupt stands as read.
agentd_stop TERM
agentd_start --reconcile-interval 1 --debug
owned_reads() { count "$WHY: table $TABLE read while [0-9]* other commits came in"; }
rereads=$(count "read [0-9]* times: other commits came in between")
WHY=audit
calls=0
while [ "$calls" -lt 60 ] && [ "$(owned_reads)" -eq 0 ]; do
	api GET /api/v1/firewall/audit
	[ "$API_STATUS" = 200 ] || fail "an audit answered $API_STATUS"
	calls=$((calls + 1))
done
check "the owned table: an audit read while other commits came in stands [$calls audits]" \
	at_least owned_reads 1
# the control plane's whole-host call reads the table and commits the difference
WHY="host state"
calls=0
while [ "$calls" -lt 60 ] && [ "$(owned_reads)" -eq 0 ]; do
	calls=$((calls + 1))
	api PUT /api/v1/firewall "@$WORK/host$((calls % 2 + 1)).json"
	[ "$API_STATUS" = 200 ] || fail "a whole-host PUT answered $API_STATUS"
done
check "... a whole-host PUT read and committed while other commits came in [$calls PUTs]" \
	at_least owned_reads 1
check "... and no reading of the owned table was read again" \
	test "$(count "read [0-9]* times: other commits came in between")" -eq "$rereads"
# API calls among other commits: on the owned table those cannot touch it,
# so the kernel is still known to hold the desired state and the timer
# reads nothing
check "the timer finds the generation it left" \
	poll_quiet 5 at_least idle_ticks $(($(idle_ticks) + 1))
passes=$(timer_passes)
# more commits elsewhere meanwhile, as fast as nft runs
(for k in $(seq 150); do nsx "$HOST" nft add table inet "fast$k"; done) &
HFW_BG+=("$!")
for i in $(seq 100); do
	api POST /api/v1/containers/c1/firewall/egress "$(rule_body "192.0.2.$i" 443 tcp allow)"
	[ "$API_STATUS" = 201 ] || fail "a POST answered $API_STATUS"
	api DELETE "/api/v1/containers/c1/firewall/egress/$(api_field data.id)"
	[ "$API_STATUS" = 200 ] || fail "a DELETE answered $API_STATUS"
done
check "after 200 API calls among other commits two timer ticks read nothing" \
	poll_quiet 4 at_least idle_ticks $(($(idle_ticks) + 2))
check "... no timer pass read the table" test "$(timer_passes)" -eq "$passes"
touch "$STOP"
info "readings read again: $(count "read [0-9]* times: other commits came in between");" \
	"given up after five: $(count 'kept changing')"
check "no reading failed as interrupted" test "$(count 'Interrupted system call')" -eq 0
check "the daemon is in sync" in_sync
expect_ok "c1 -> 203.0.113.10 443 still allowed" tcp "$C1" 203.0.113.10 443
expect_blocked "c1 -> 203.0.113.10 80 still blocked" tcp "$C1" 203.0.113.10 80
agentd_stop TERM
check "the daemon stopped cleanly" test "$AGENTD_RC" -eq 0
finish
