#!/usr/bin/env bash
# 165: IPv6 rules through the daemon, with real packets. Every refused
# IPv6 form gets a 400 naming the destination and the reason, and changes
# neither the state file nor the kernel; accepted forms are stored and
# shown canonical. An established IPv6 TCP connection stops at once when
# its rule goes; counters carry across other changes; the audit shows the
# IPv6 rules in sync; the drop log names an IPv6 drop by rule, in the API,
# the log and the CLI. On a table other processes can change, a flushed
# IPv6 chain and a deleted dispatch6 element are repaired.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

hfw_init v6api
need_agentd
command -v curl >/dev/null || skip "curl missing"
command -v nft >/dev/null || skip "nft missing (to tamper, and as an oracle)"
topo_up
servers_up
agentd_start --drop-log-rate 10 --no-table-owner

V=/api/v1/containers
E=$V/c1/firewall/egress
HOODY=${HOODY:-$HFW_ROOT/build/hoody}
[ -x "$HOODY" ] || die "$HOODY missing: run make"
NFT=(ip netns exec "$HOST" nft)

expect_api "attach c1" 201 PUT $V/c1 '{"interface": "hc1"}'
expect_api "c1: allow tcp 443 to 2001:db8::10, written in upper case" 201 POST $E \
	'{"id": "web6", "destination": "2001:DB8::10", "destination_port": "443", "protocol": "tcp", "action": "allow", "description": "IPv6 web"}'
check "... stored and answered canonical: 2001:db8::10/128" \
	test "$(api_field data.destination)" = 2001:db8::10/128
expect_api "c1: deny 2001:db8::11 (any protocol)" 201 POST $E \
	'{"id": "no11", "destination": "2001:db8::11/128", "action": "deny"}'
expect_api "c1: allow icmp to 2001:db8:0001::/48 (leading zeros)" 201 POST $E \
	'{"id": "ping6", "destination": "2001:db8:0001::/48", "protocol": "icmp", "action": "allow"}'
check "... shown as 2001:db8:1::/48" test "$(api_field data.destination)" = 2001:db8:1::/48
expect_api "c1: the same rule again changes nothing" 200 POST $E \
	'{"id": "ping6", "destination": "2001:db8:1::/48", "protocol": "icmp", "action": "allow"}'

batch_begin
expect_ok "c1 -> tcp [2001:db8::10]:443 (web6)" tcp "$C1" 2001:db8::10 443
expect_ok "c1 -> icmpv6 2001:db8:1::20 (ping6)" icmp "$C1" 2001:db8:1::20
expect_blocked "c1 -> tcp [2001:db8::10]:80 (the default)" tcp "$C1" 2001:db8::10 80
expect_blocked "c1 -> tcp [2001:db8::11]:443 (no11)" tcp "$C1" 2001:db8::11 443
expect_blocked "c1 -> tcp 203.0.113.10:443 (IPv4: no rule)" tcp "$C1" 203.0.113.10 443
batch_end

# snapshot PREFIX: the state files, the dump, and nft's listing but for
# counters and the drop log's buckets, which move by themselves
snapshot() {
	cat "$STATE/containers/"*.state >"$1.state"
	dump "$1.dump"
	"${NFT[@]}" list table inet "$TABLE" | grep -v 'packets [0-9]* bytes' |
		sed 's/ expires [0-9a-z]*//' >"$1.nft"
}

# --- every refused form: 400, the field, the reason; nothing changes
snapshot "$WORK/before"
# refuse6 DEST WANT: POST a rule to DEST, expect a 400 whose message has WANT
refuse6() {
	local d=$1 want=$2 msg
	api POST $E "{\"destination\": \"$d\", \"action\": \"allow\"}"
	msg=$(api_field error.message 2>/dev/null || echo "?")
	if [ "$API_STATUS" = 400 ] && [ "$(api_field error.code)" = invalid_destination ] &&
		[ "$(api_field error.field)" = destination ] && [[ $msg == *"$want"* ]]; then
		pass "destination \"$d\": 400 [$msg]"
	else
		fail "destination \"$d\": expected 400 invalid_destination with \"$want\" [$API_STATUS: ${API_BODY:0:300}]"
	fi
}
refuse6 "::ffff:1.2.3.4" 'IPv4-mapped addresses are not accepted: IPv4 packets are matched by IPv4 destinations; write "1.2.3.4/32"'
refuse6 "fe80::1%eth0" "zone ids"
refuse6 "2001:db8::1/129" "the prefix length is over 128"
refuse6 "2001:db8::1/64" 'host bits set; did you mean "2001:db8::/64"?'
refuse6 ":::1" "three colons in a row"
refuse6 "::1.2.3.4" 'dotted-quad tails are not accepted; write the last 32 bits as hex groups: "::102:304/128"'
refuse6 "64:ff9b::192.0.2.1" "dotted-quad tails"
refuse6 "1:2:3:4:5:6:7:8:9" "more than 8 groups"
refuse6 "1::2::3" '"::" may appear only once'
refuse6 "2001:db8:12345::" "a group has more than 4 hex digits"
refuse6 "2001:db8::g" '"g" is not a hex digit'
refuse6 "1:2:3:4:5:6:7" "8 groups are needed"
refuse6 "[2001:db8::1]" "brackets"
refuse6 "" "empty"
refuse6 "[2001:db8::10]:443" "brackets"
refuse6 "203.0.113.10:443" "a port is not part of the destination"
api PUT $V/c1/firewall '{"rules": [{"destination": "2001:db8::/32", "action": "allow"}, {"id": "bad", "destination": "2001:db8::1/64", "action": "deny"}]}'
check "a whole firewall with one bad IPv6 rule: 400 invalid_destination [$API_STATUS]" \
	test "$API_STATUS" = 400 -a "$(api_field error.code)" = invalid_destination -a "$(api_field error.field)" = destination
printf '{"containers": {"c1": {"interface": "hc1", "rules": [{"destination": "fe80::1%%hc1", "action": "allow"}]}}}' >"$WORK/host.json"
api PUT /api/v1/firewall "@$WORK/host.json"
check "a host document with a zone id: 400 [$API_STATUS]" \
	test "$API_STATUS" = 400 -a "$(api_field error.code)" = invalid_destination
snapshot "$WORK/after"
check "refused IPv6 forms left the state file unchanged" cmp -s "$WORK/before.state" "$WORK/after.state"
check "... and the kernel: the dump" cmp -s "$WORK/before.dump" "$WORK/after.dump"
check "... and the kernel: nft's listing" cmp -s "$WORK/before.nft" "$WORK/after.nft"

# --- revocation of an established IPv6 connection; counters carry over
hold web6 "$C1" 2001:db8::10 443
expect_flowing web6 "c1 -> [2001:db8::10]:443 established connection delivers (web6)"
dump "$WORK/c1.json"
p1=$(json_get "$WORK/c1.json" containers.c1.rules.id=web6.packets)
expect_api "c1: another IPv6 rule" 201 POST $E \
	'{"id": "dns6", "destination": "2001:db8::10", "destination_port": "53", "protocol": "udp", "action": "allow"}'
t_add=$(now)
dump "$WORK/c2.json"
check "web6's counter survives another rule's addition ($p1 -> $(json_get "$WORK/c2.json" containers.c1.rules.id=web6.packets))" \
	test "$(json_get "$WORK/c2.json" containers.c1.rules.id=web6.packets)" -ge "$p1"
sleep 1.5
expect_still_flowing web6 "$t_add" "the connection survives another rule's addition"
expect_api "c1: delete web6" 200 DELETE $E/web6
t_del=$(now)
sleep 1.5
expect_stopped web6 "$t_del" "web6 deleted: the established IPv6 connection stops at once"
expect_blocked "web6 deleted: a new connection to [2001:db8::10]:443 is dropped" tcp "$C1" 2001:db8::10 443

# --- the audit
expect_api "audit of c1" 200 GET $V/c1/firewall/audit
cp "$WORK/api.out" "$WORK/audit.json"
au() { json_get "$WORK/audit.json" "data.containers.container_id=c1.$1"; }
check "the audit: c1 in sync" test "$(au in_sync)" = true
check "... its kernel side holds the IPv6 rule ping6, canonical" \
	test "$(au rules.id=ping6.destination)" = 2001:db8:1::/48
check "... which counted the echoes" test "$(au rules.id=ping6.packets)" -gt 0
check "... and both digests agree" test "$(au digest.kernel)" = "$(au digest.desired)"

# --- the drop log names IPv6 drops
has_drop() {
	curl -s --unix-socket "$SOCK" "http://localhost$V/c1/firewall/drops?limit=50" | grep -q "$1"
}
PROBE_TIMEOUT=1 probe_tcp "$C1" 2001:db8::11 80 >/dev/null 2>&1 || true
poll 5 "the deny rule's IPv6 drop to be reported" has_drop '"rule_id":"no11"'
PROBE_TIMEOUT=1 probe_icmp "$C1" fd00:ff::2 >/dev/null 2>&1 || true
poll 5 "the default's ICMPv6 drop to be reported" has_drop '"protocol":"icmpv6"'
api GET "$V/c1/firewall/drops?limit=50"
cp "$WORK/api.out" "$WORK/drops.json"
# first DROP FIELD=VALUE: the first drop of the answer with FIELD=VALUE, as
# "rule protocol source destination destination_port"
first_drop() {
	"$PYTHON" - "$WORK/drops.json" "$1" "$2" <<'EOF2'
import json, sys
drops = json.load(open(sys.argv[1]))["data"]["drops"]
d = next(x for x in drops if str(x.get(sys.argv[2])) == sys.argv[3])
print(d["rule_id"], d["protocol"], d["source"], d["destination"], d.get("destination_port", "-"))
EOF2
}
check "the drop names rule no11, tcp from fd00:1::2 to 2001:db8::11 port 80" \
	test "$(first_drop rule_id no11)" = "no11 tcp fd00:1::2 2001:db8::11 80"
check "the ICMPv6 echo was dropped by the default, from fd00:1::2 to fd00:ff::2" \
	test "$(first_drop protocol icmpv6)" = "default icmpv6 fd00:1::2 fd00:ff::2 -"
check "the log has a line for the IPv6 drop" \
	grep -q "drop: container c1 rule no11: tcp fd00:1::2:[0-9]* -> 2001:db8::11:80 on hc1" "$WORK/agentd.log"
HOODY_FIREWALL_SOCKET=$SOCK "$HOODY" firewall drops -c c1 >"$WORK/cli.drops" 2>&1 || true
check "the CLI shows the IPv6 drop with its port: [2001:db8::11]:80" grep -q "no11 .*\[2001:db8::11\]:80" "$WORK/cli.drops"
HOODY_FIREWALL_SOCKET=$SOCK "$HOODY" firewall show -c c1 >"$WORK/cli.show" 2>&1 || true
check "the CLI's table shows the IPv6 rules" grep -q "ping6 .*icmp .*2001:db8:1::/48" "$WORK/cli.show"

# --- repairs of the IPv6 objects (the table is not owned: nft can change it)
r0=$(repairs)
"${NFT[@]}" flush chain inet "$TABLE" c6_c1
poll 5 "the flushed IPv6 chain to be repaired" at_least repairs $((r0 + 1))
poll 5 "the kernel to hold the desired state" in_sync
r0=$(repairs)
"${NFT[@]}" delete element inet "$TABLE" dispatch6 '{ "hc1" }'
poll 5 "the deleted dispatch6 element to be repaired" at_least repairs $((r0 + 1))
poll 5 "the kernel to hold the desired state" in_sync
batch_begin
expect_ok "repaired: c1 -> icmpv6 2001:db8:1::20 (ping6)" icmp "$C1" 2001:db8:1::20
expect_ok "repaired: c1 -> udp [2001:db8::10]:53 (dns6)" udp "$C1" 2001:db8::10 53
expect_blocked "repaired: c1 -> tcp [2001:db8::11]:53 (no11)" tcp "$C1" 2001:db8::11 53
expect_blocked "repaired: c1 -> tcp [2001:db8::10]:443 (deleted web6)" tcp "$C1" 2001:db8::10 443
batch_end

# --- the last IPv6 rules go: their chain and dispatch element go too
for r in no11 ping6 dns6; do
	expect_api "c1: delete $r" 200 DELETE $E/$r
done
check "no IPv6 rule left: no IPv6 chain" sh -c "! ${NFT[*]} list table inet $TABLE | grep -q 'chain c6_c1'"
check "... and no dispatch6 element" sh -c "! ${NFT[*]} list map inet $TABLE dispatch6 | grep -q hc1"
expect_blocked "c1 (no rules) -> icmpv6 2001:db8:1::20" icmp "$C1" 2001:db8:1::20
finish
