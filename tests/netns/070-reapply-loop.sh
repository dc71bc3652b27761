#!/usr/bin/env bash
# 070: a large state (c1, c2 and $EXTRA more containers on interfaces that
# do not exist, 10 rules each) is re-applied in a loop, alternating two
# variants that differ in the extra containers' rules and in c1's
# descriptions (so c1 is rewritten each time, its meaning unchanged).
# Meanwhile probes run back to back: a probe to a denied destination must
# never pass and one to an allowed destination must never fail.
#
# DURATION (s, default 8) and MIN_APPLIES (default 4) bound the run.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

EXTRA=${EXTRA:-2000}
DURATION=${DURATION:-8}
MIN_APPLIES=${MIN_APPLIES:-4}
MAX_SECONDS=${MAX_SECONDS:-240}
T_OK=2 # deadline of a probe that must pass

hfw_init loop
need_agentd
topo_up
servers_up

"$PYTHON" - "$WORK" "$EXTRA" <<'EOF'
import json, sys
work, extra = sys.argv[1], int(sys.argv[2])

def c1(variant):
    d = "variant %s" % variant
    return {"interface": "hc1", "default_action": "deny", "rules": [
        {"id": "https", "destination": "203.0.113.10/32", "destination_port": "443",
         "protocol": "tcp", "action": "allow", "description": "https " + d},
        {"id": "dns", "destination": "203.0.113.10/32", "destination_port": "53",
         "protocol": "udp", "action": "allow", "description": "dns " + d},
        {"id": "ping", "destination": "192.0.2.10/32", "protocol": "icmp",
         "action": "allow", "description": "ping " + d},
        {"id": "range", "destination": "203.0.113.0/24", "destination_port": "8000-8100",
         "protocol": "tcp", "action": "allow", "description": "range " + d},
        {"id": "no11", "destination": "203.0.113.11/32", "protocol": "any",
         "action": "deny", "description": "deny " + d},
    ]}

def c2(variant):
    return {"interface": "hc2", "default_action": "allow", "rules": [
        {"id": "no80", "destination": "203.0.113.10/32", "destination_port": "80",
         "protocol": "tcp", "action": "deny", "description": "c2 deny " + variant},
    ]}

def extra_container(i, variant):
    shift = 0 if variant == "A" else 1
    rules = []
    for j in range(10):
        proto = ("tcp", "udp", "icmp", "any")[(j + shift) % 4]
        r = {"id": "x%d" % j,
             "destination": "10.%d.%d.%d/28" % (100 + i // 256, i % 256, j * 16),
             "protocol": proto,
             "action": "allow" if (i + j + shift) % 3 else "deny",
             "description": "extra %d rule %d %s" % (i, j, variant)}
        if proto in ("tcp", "udp"):
            lo = 1000 + 10 * j + shift
            r["destination_port"] = "%d,%d-%d" % (lo, lo + 100, lo + 200)
        rules.append(r)
    return {"interface": "hx%d" % i,
            "default_action": "deny" if (i + shift) % 2 else "allow",
            "rules": rules}

for v in "AB":
    cs = {"c1": c1(v), "c2": c2(v)}
    for i in range(extra):
        cs["x%d" % i] = extra_container(i, v)
    with open("%s/big-%s.json" % (work, v), "w") as f:
        json.dump({"containers": cs}, f)
EOF
info "state: $((EXTRA + 2)) containers, $(du -k "$WORK/big-A.json" | cut -f1) KiB per variant"

t0=$(date +%s%N)
apply "$WORK/big-A.json"
info "first apply took $((($(date +%s%N) - t0) / 1000000)) ms"

batch_begin
expect_ok "before the loop: c1 -> 203.0.113.10 tcp 443" tcp "$C1" 203.0.113.10 443
expect_blocked "before the loop: c1 -> 203.0.113.10 tcp 80" tcp "$C1" 203.0.113.10 80
expect_blocked "before the loop: c2 -> 203.0.113.10 tcp 80" tcp "$C2" 203.0.113.10 80
batch_end

# the apply loop, alternating the variants
STOP=$WORK/stop
(
	n=0
	while [ ! -e "$STOP" ]; do
		for v in B A; do
			[ ! -e "$STOP" ] || break
			if ip netns exec "$HOST" "$AGENTD" --apply "$WORK/big-$v.json" \
				--table "$TABLE" 2>>"$WORK/loop.err"; then
				n=$((n + 1))
				echo "$n" >"$WORK/applies"
			else
				echo "apply $v failed" >>"$WORK/loop.fail"
			fi
		done
	done
) &
loop_pid=$!
bg_track "$loop_pid"

# the probe loops: KIND NS DST PORT EXPECT(ok|blocked) NAME
PROBES=(
	"tcp $C1 203.0.113.10 443 ok c1-https"
	"udp $C1 203.0.113.10 53 ok c1-dns"
	"icmp $C1 192.0.2.10 0 ok c1-ping"
	"tcp $C1 203.0.113.20 8050 ok c1-range"
	"tcp $REMOTE 10.10.1.2 7000 ok remote-c1-inbound"
	"tcp $C2 203.0.113.10 443 ok c2-https"
	"tcp $C1 203.0.113.10 80 blocked c1-http"
	"tcp $C1 203.0.113.11 8050 blocked c1-deny11"
	"udp $C1 203.0.113.11 53 blocked c1-dns11"
	"tcp $C1 203.0.113.20 8101 blocked c1-range-out"
	"tcp $C1 fd00:ff::2 443 blocked c1-v6"
	"tcp $C1 10.10.1.1 8080 blocked c1-gateway"
	"tcp $C1 10.10.2.2 9000 blocked c1-c2"
	"tcp $C2 203.0.113.10 80 blocked c2-http"
)
loops_start "$STOP" "${PROBES[@]}"

start=$(date +%s)
while :; do
	sleep 0.5
	el=$(($(date +%s) - start))
	n=$(cat "$WORK/applies" 2>/dev/null || echo 0)
	if [ "$el" -ge "$DURATION" ] && [ "$n" -ge "$MIN_APPLIES" ]; then break; fi
	if [ "$el" -ge "$MAX_SECONDS" ]; then
		info "giving up waiting for $MIN_APPLIES applies after ${el}s"
		break
	fi
	[ ! -s "$WORK/loop.fail" ] || break
done
touch "$STOP"
wait "$loop_pid" || true
loops_stop "$STOP"
el=$(($(date +%s) - start))
n=$(cat "$WORK/applies" 2>/dev/null || echo 0)

if [ -s "$WORK/loop.fail" ]; then
	fail "re-apply failed: $(head -1 "$WORK/loop.fail"); agentd said: $(tail -3 "$WORK/loop.err" | tr '\n' ' ')"
else
	pass "every re-apply succeeded"
fi
check "at least $MIN_APPLIES re-applies during the run (got $n in ${el}s)" test "$n" -ge "$MIN_APPLIES"

loops_judge always "${PROBES[@]}"
info "$n applies of $((EXTRA + 2)) containers and $LOOPS_TOTAL probes in ${el}s"

# the state after the loop is one of the two variants and still correct
batch_begin
expect_ok "after the loop: c1 -> 203.0.113.10 tcp 443" tcp "$C1" 203.0.113.10 443
expect_blocked "after the loop: c1 -> 203.0.113.10 tcp 80" tcp "$C1" 203.0.113.10 80
batch_end

finish
