#!/usr/bin/env bash
# 035: a container whose block of conntrack-mark tags crosses a multiple
# of 256 is enforced exactly. With 300 rules every block does, wherever the
# table's random first tag falls; each re-apply with new descriptions gives
# the container a fresh block. (The kernel compares ranges bytewise: a
# host-endian range check would misorder such a block and lock the
# container, or worse, let a claim be overwritten.)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

hfw_init tags
need_agentd
topo_up
servers_up

# state ROUND: c1 with 150 deny rules, then 150 allow rules, the allows that
# matter last; the descriptions carry ROUND so every apply rewrites c1
state() {
	"$PYTHON" - "$1" <<'EOF'
import json, sys
rnd = sys.argv[1]
rules = [{"id": f"d{i}", "destination": f"198.18.{i // 250}.{i % 250 + 1}/32",
          "protocol": "tcp", "destination_port": str(1000 + i), "action": "deny",
          "description": f"filler deny {i} round {rnd}"} for i in range(149)]
rules.append({"id": "d-11", "destination": "203.0.113.11/32", "protocol": "any",
              "action": "deny", "description": f"round {rnd}"})
rules += [{"id": f"a{i}", "destination": f"198.19.{i // 250}.{i % 250 + 1}/32",
           "protocol": "udp", "destination_port": str(2000 + i), "action": "allow",
           "description": f"filler allow {i} round {rnd}"} for i in range(147)]
rules += [
    {"id": "a-https", "destination": "203.0.113.10/32", "destination_port": "443",
     "protocol": "tcp", "action": "allow", "description": f"round {rnd}"},
    {"id": "a-net", "destination": "203.0.113.0/24", "protocol": "any",
     "action": "allow", "description": f"overridden for .11 by d-11, round {rnd}"},
    {"id": "a-dns", "destination": "203.0.113.20/32", "destination_port": "53",
     "protocol": "udp", "action": "allow", "description": f"round {rnd}"},
]
print(json.dumps({"containers": {
    "c1": {"interface": "hc1", "default_action": "deny", "rules": rules},
    "c2": {"interface": "hc2", "default_action": "allow", "rules": []}}}))
EOF
}

for round in 1 2 3 4; do
	state "$round" >"$WORK/state.$round.json"
	apply "$WORK/state.$round.json"
	dump "$WORK/dump.$round.json"
	base=$("$PYTHON" - "$WORK/dump.$round.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
print(len(d["containers"]["c1"]["rules"]))
EOF
	)
	check "round $round: the dump holds c1's 300 rules" [ "$base" = 300 ]
	batch_begin
	expect_ok "round $round: allowed tcp 203.0.113.10:443" tcp "$C1" 203.0.113.10 443
	expect_ok "round $round: allowed any 203.0.113.20 (tcp 80)" tcp "$C1" 203.0.113.20 80
	expect_ok "round $round: allowed udp 203.0.113.20:53" udp "$C1" 203.0.113.20 53
	expect_ok "round $round: allowed icmp 203.0.113.10" icmp "$C1" 203.0.113.10
	expect_blocked "round $round: denied 203.0.113.11 inside the allowed /24" tcp "$C1" 203.0.113.11 443
	expect_blocked "round $round: denied 203.0.113.11 icmp" icmp "$C1" 203.0.113.11
	expect_blocked "round $round: not allowed 198.51.100.2" tcp "$C1" 198.51.100.2 443
	expect_blocked "round $round: not allowed IPv6" tcp "$C1" fd00:ff::2 443
	expect_ok "round $round: c2 untouched" tcp "$C2" 203.0.113.11 443
	batch_end
done

finish
