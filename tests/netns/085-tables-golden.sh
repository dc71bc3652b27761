#!/usr/bin/env bash
# 085: the read-back is exact and tables are independent.
#  - A fixture with every rule form (address and CIDR, single port, list,
#    range, a JSON integer port, any/udp/icmp, ids given and assigned,
#    quotes, backslashes and UTF-8 in descriptions, a 256-byte description
#    that spans rule and element userdata) dumps exactly as golden/.
#  - Two tables of the program side by side in one namespace (as two test
#    suites would run) never see each other's objects: applying or
#    emptying one leaves the other exactly as it was.
#  - nft, as an independent oracle, sees the chains and elements we wrote.
#  - A fixture with IPv6 rules of every form (a host written in upper case
#    with leading zeros, a /48, a /29, ::/0 for icmp and for any, fe80::/10,
#    an assigned id) beside IPv4 ones dumps exactly as golden/, and nft
#    sees its IPv6 chain and dispatch6 element.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

hfw_init golden
need_agentd
ns_add "$HOST"
GOLDEN=$HFW_DIR/golden
A=hfwgolden_a
B=hfwgolden_b

apply_to() { # TABLE FILE
	ip netns exec "$HOST" "$AGENTD" --apply "$2" --table "$1" 2>"$WORK/apply.err" ||
		die "apply to $1 failed: $(cat "$WORK/apply.err")"
}
dump_of() { # TABLE OUT
	ip netns exec "$HOST" "$AGENTD" --dump --table "$1" | "$PYTHON" -m json.tool >"$2"
}

apply_to "$A" "$GOLDEN/fixture.json"
dump_of "$A" "$WORK/a.json"
# the golden file names table A
if diff -u "$GOLDEN/fixture.dump.json" "$WORK/a.json" >"$WORK/diff"; then
	pass "the dump of the fixture is exactly golden/fixture.dump.json"
else
	sed 's/^/# /' "$WORK/diff"
	fail "the dump of the fixture differs from golden/fixture.dump.json"
fi

cat >"$WORK/b.json" <<'EOF'
{"containers": {
  "web-1": {"interface": "hc9", "default_action": "allow", "rules": [
    {"id": "x", "destination": "192.0.2.1/32", "action": "deny"}]},
  "other": {"interface": "hc1", "default_action": "deny", "rules": []}
}}
EOF
apply_to "$B" "$WORK/b.json"
TABLE=$B expect_dump_is "table B holds exactly its own state" "$WORK/b.json"
dump_of "$A" "$WORK/a2.json"
check "table A is untouched by table B's apply" cmp -s "$WORK/a.json" "$WORK/a2.json"

printf '{"containers": {}}\n' >"$WORK/empty.json"
apply_to "$B" "$WORK/empty.json"
dump_of "$A" "$WORK/a3.json"
check "emptying table B leaves table A as it was" cmp -s "$WORK/a.json" "$WORK/a3.json"
TABLE=$B expect_dump_is "table B is empty" "$WORK/empty.json"
apply_to "$A" "$GOLDEN/fixture.json"
check "re-applying A's state to A sends nothing" grep -q "nothing sent" "$WORK/apply.err"

# nft's own view of table A: one chain per container, one dispatch element each
nft_a() { ip netns exec "$HOST" nft list table inet "$A"; }
check "nft sees a chain per container" \
	test "$(nft_a | grep -cE '^\s*chain c_(web-1|open\.2|empty_3) ')" -eq 3
check "nft sees the dispatch map jump to each container's chain" \
	test "$(nft_a | grep -oE '"(hc1|hc2|veth-abc\.3)" : jump c_[a-z0-9_.-]+' | wc -l)" -eq 3
check "nft sees web-1's list as three items of one claim each" \
	test "$(ip netns exec "$HOST" nft list chain inet "$A" c_web-1 | grep -c 'th dport')" -eq 5
check "table A has no IPv6 chain and an empty dispatch6" \
	test "$(nft_a | grep -cE '^\s*chain c6_|jump c6_')" -eq 0

# IPv6 rules beside IPv4 ones; the golden file names table C
C=hfwgolden_c
apply_to "$C" "$GOLDEN/fixture6.json"
dump_of "$C" "$WORK/c.json"
if diff -u "$GOLDEN/fixture6.dump.json" "$WORK/c.json" >"$WORK/diff6"; then
	pass "the dump of the IPv6 fixture is exactly golden/fixture6.dump.json"
else
	sed 's/^/# /' "$WORK/diff6"
	fail "the dump of the IPv6 fixture differs from golden/fixture6.dump.json"
fi
apply_to "$C" "$GOLDEN/fixture6.json"
check "re-applying the IPv6 fixture sends nothing" grep -q "nothing sent" "$WORK/apply.err"
nft_c() { ip netns exec "$HOST" nft list table inet "$C"; }
check "nft sees dual's IPv6 chain, dispatched from hc1, and none for v4only" \
	test "$(nft_c | grep -oE '"hc[12]" : jump c6_[a-z0-9]+' | tr '\n' ' ')" = '"hc1" : jump c6_dual '
check "nft sees the /29 masked inside a byte and the /48 unmasked" \
	sh -c "nft_out=\$(ip netns exec $HOST nft list chain inet $C c6_dual); \
		echo \"\$nft_out\" | grep -q '@nh,192,32 & 0xfffffff8 == 0x20010db8 th dport 53' && \
		echo \"\$nft_out\" | grep -q '@nh,192,48 0x20010db80001 th dport 80 '"
check "nft sees ICMPv6 matched by conntrack's protocol" \
	sh -c "ip netns exec $HOST nft list chain inet $C c6_dual | grep -q 'ct protocol ipv6-icmp'"
dump_of "$A" "$WORK/a4.json"
check "table A is untouched by table C" cmp -s "$WORK/a.json" "$WORK/a4.json"
finish
