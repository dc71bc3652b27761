#!/usr/bin/env bash
# 144: the reconciler on a host where other software keeps committing to
# its own tables (as container runtimes do). A commit anywhere in the
# network namespace interrupts a table read in progress; the daemon must
# read again, not give up the pass, and its socket must stay usable. With
# 1500 containers a pass reads for long enough that commits every 0.2 s
# interrupt some readings; the test waits until one was read again and
# three timer passes completed, then checks that no reading failed as
# "interrupted", that a tamper is still repaired (a plain table, as in
# 140, so that the test can tamper) and that packets agree.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

hfw_init busy
need_agentd
command -v curl >/dev/null || skip "curl missing"
command -v nft >/dev/null || skip "nft missing"
topo_up
servers_up
agentd_start --no-table-owner --reconcile-interval 1 --debug

"$PYTHON" - >"$WORK/host.json" <<'EOF'
import json
cs = {"c1": {"interface": "hc1", "default_action": "deny", "rules": [
    {"destination": "203.0.113.10/32", "destination_port": "443", "protocol": "tcp",
     "action": "allow", "description": "web"}]}}
for i in range(1500):
    cs[f"f{i}"] = {"interface": f"hf{i}", "default_action": "deny", "rules": [
        {"destination": f"198.51.100.{r}/32", "destination_port": str(1000 + r),
         "protocol": "tcp", "action": "allow", "description": f"filler {r}"}
        for r in range(1, 11)]}
print(json.dumps({"containers": cs}))
EOF
expect_api "PUT 1501 containers (1500 on interfaces that do not exist)" 200 \
	PUT /api/v1/firewall "@$WORK/host.json"
expect_ok "c1 -> 203.0.113.10 443 allowed" tcp "$C1" 203.0.113.10 443

passes() { grep -c "reconcile (timer): table $TABLE holds the desired state" "$WORK/agentd.log" || true; }
reread() { grep -c "table $TABLE read [0-9]* times: other commits came in between" "$WORK/agentd.log" || true; }
at_least() { [ "$("$1")" -ge "$2" ]; } # FUNCTION N

STOP=$WORK/stop
(
	k=0
	while [ ! -e "$STOP" ]; do
		k=$((k + 1))
		nsx "$HOST" nft add table inet "bystander$k"
		sleep 0.2
	done
) &
CHURN=$!
HFW_BG+=("$CHURN")
p0=$(passes)
check "a reading interrupted by another table's commit is read again" \
	poll_quiet 60 at_least reread 1
check "... and three more timer passes complete while the commits go on" \
	poll_quiet 30 at_least passes $((p0 + 3))
h=$(nsx "$HOST" nft -a list chain inet "$TABLE" c_c1 | grep -o 'handle [0-9]*' | sed -n 2p)
nsx "$HOST" nft delete rule inet "$TABLE" c_c1 $h
check "a rule deleted meanwhile is repaired within 1 s" poll_quiet 1 in_sync
touch "$STOP"
wait "$CHURN"
info "$(passes) timer passes completed, $(reread) readings read again," \
	"$(grep -c 'kept changing' "$WORK/agentd.log" || true) passes gave up after five readings"
check "no reading failed as interrupted" \
	test "$(grep -c 'Interrupted system call' "$WORK/agentd.log" || true)" -eq 0
check "the daemon is in sync" in_sync
expect_ok "c1 -> 203.0.113.10 443 still allowed" tcp "$C1" 203.0.113.10 443
expect_blocked "c1 -> 203.0.113.10 80 still blocked" tcp "$C1" 203.0.113.10 80
agentd_stop TERM
check "the daemon stopped cleanly" test "$AGENTD_RC" -eq 0
finish
