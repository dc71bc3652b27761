#!/usr/bin/env bash
# 145: a pass that already knows the desired state checks each container
# against it instead of decoding it (nft_dump() with want, as the
# reconciler's and agentd --apply's passes do). Applying the same state
# twice must find every container as desired and send nothing; after
# each change another process makes to one container (a verdict moved to
# the other set, a description tail replaced, a rule deleted, a default
# tag rewritten), applying it again must find exactly that container
# changed and put it back. No packets: the table's contents are the test.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

hfw_init verify
need_agentd
command -v nft >/dev/null || skip "nft missing"
ns_add "$HOST"
NFT=(ip netns exec "$HOST" nft)

LONG=$("$PYTHON" -c 'print("a long description, its tail kept in the element: " + "x" * 200)')
cat >"$WORK/s.json" <<EOF
{"containers": {
  "c1": {"interface": "hc1", "default_action": "deny", "rules": [
    {"id": "web", "destination": "203.0.113.10/32", "destination_port": "443,8000-8100", "protocol": "tcp", "action": "allow", "description": "$LONG"},
    {"id": "net", "destination": "198.51.100.0/24", "protocol": "udp", "destination_port": "53", "action": "allow", "description": "dns"},
    {"id": "no11", "destination": "203.0.113.11/32", "protocol": "any", "action": "deny"}
  ]},
  "c2": {"interface": "hc2", "default_action": "allow", "rules": [
    {"id": "no80", "destination": "203.0.113.10/32", "destination_port": "80", "protocol": "tcp", "action": "deny", "description": "c2"}
  ]},
  "c3": {"interface": "hc3", "default_action": "deny", "rules": []}
}}
EOF

# reapply DESC UPDATED: apply s.json again; the summary must count
# UPDATED containers rewritten and the rest unchanged
reapply() {
	local desc=$1 updated=$2
	apply "$WORK/s.json"
	check "$desc: $updated rewritten, $((3 - updated)) found as desired" \
		grep -q "0 created, $updated updated, 0 removed, $((3 - updated)) unchanged" \
		"$WORK/apply.err"
	expect_dump_is "$desc: the kernel holds the state again" "$WORK/s.json"
}
# elem SET IFNAME N: the Nth key of IFNAME's elements in SET ("hc1" . 0x...)
elem() {
	"${NFT[@]}" list set inet "$TABLE" "$1" | tr ',{}' '\n\n\n' |
		grep -o "\"$2\" \. 0x[0-9a-f]*" | sed -n "${3}p"
}

apply "$WORK/s.json"
expect_dump_is "the state is in the kernel" "$WORK/s.json"
apply "$WORK/s.json"
check "the same state again: every container found as desired, nothing sent" \
	grep -q "already as desired (3 containers), nothing sent" "$WORK/apply.err"

key=$(elem allow hc1 2)
"${NFT[@]}" delete element inet "$TABLE" allow "{ $key }"
"${NFT[@]}" add element inet "$TABLE" deny "{ $key }"
reapply "an allow verdict moved to the deny set" 1

key=$(elem allow hc1 1)
"${NFT[@]}" delete element inet "$TABLE" allow "{ $key }"
"${NFT[@]}" add element inet "$TABLE" allow "{ $key comment \"other\" }"
reapply "an element's description tail replaced" 1

h=$("${NFT[@]}" -a list chain inet "$TABLE" c_c1 | grep -o 'handle [0-9]*' | sed -n 3p)
"${NFT[@]}" delete rule inet "$TABLE" c_c1 "$h"
reapply "one item of a port list deleted" 1

"${NFT[@]}" delete element inet "$TABLE" deftag "{ \"hc2\" }"
"${NFT[@]}" add element inet "$TABLE" deftag "{ \"hc2\" : 0x1 }"
reapply "a default tag rewritten" 1

finish
