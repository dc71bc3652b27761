#!/usr/bin/env bash
# 095: make run's sandbox tour works and cleans up after itself: the tour's
# own probes show the lock and the allowed destination, for the routed c1
# and for c3 on a bridge, and no namespace of the sandbox survives it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

hfw_init sandbox
need_agentd
out=$WORK/tour.out
if ! SANDBOX_TOUR_ONLY=1 AGENTD=$AGENTD "$HFW_ROOT/tools/sandbox" >"$out" 2>&1; then
	sed 's/^/# /' "$out"
	fail "the sandbox tour failed"
fi
step() { sed -n "/^.*$1/,/^.*$2/p" "$out"; }
check "before the lock, c1 reaches 203.0.113.11" \
	grep -q 'c1 .*203.0.113.11:443 .*passes' <(step "Nothing is filtered" "1. Lock")
check "locked, c1 times out to 203.0.113.10" \
	grep -q 'c1 .*203.0.113.10:443 .*times out' <(step "1. Lock" "2. Allow")
check "locked, c2 still passes" \
	grep -q 'c2 .*203.0.113.11:443 .*passes' <(step "1. Lock" "2. Allow")
check "before the lock, bridged c3 reaches 203.0.113.10" \
	grep -q 'c3 .*203.0.113.10:443 .*passes' <(step "Nothing is filtered" "1. Lock")
check "c1 locked, c3 still passes" \
	grep -q 'c3 .*203.0.113.10:443 .*passes' <(step "1. Lock" "2. Allow")
check "allowed, c1 reaches 203.0.113.10" \
	grep -q 'c1 .*203.0.113.10:443 .*passes' <(step "2. Allow" "3. Lock")
check "allowed, c1 still times out to 203.0.113.11" \
	grep -q 'c1 .*203.0.113.11:443 .*times out' <(step "2. Allow" "3. Lock")
check "bridged and locked, c3 times out to 203.0.113.10" \
	grep -q 'c3 .*203.0.113.10:443 .*times out' <(step "3. Lock" "4. What")
check "bridged and allowed, c3 reaches 203.0.113.11" \
	grep -q 'c3 .*203.0.113.11:443 .*passes' <(step "3. Lock" "4. What")
check "c1 stays as it was beside the bridged c3" \
	grep -q 'c1 .*203.0.113.10:443 .*passes' <(step "3. Lock" "4. What")
check "the agent turned br0's nf_call_iptables on" \
	grep -q 'nf_call_iptables 1' <(step "3. Lock" "4. What")
check "the dump shows the allow rule's description" grep -q '"Allow Stripe API"' "$out"
check "the sandbox removed its namespaces" \
	bash -c '! ip netns list | grep -q "^hfw-sbx-"'
finish
