#!/usr/bin/env bash
# 080: --dump decodes the kernel state: ids, descriptions and the rest of
# every rule exactly as applied; per-rule packet/byte counters that grow
# with the traffic they match; a per-container counter of default drops.
# Applying B after A leaves exactly B. A bad file is refused (exit 1, the
# message names container, rule and field) and changes nothing; usage
# errors exit 2.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

hfw_init dump
need_agentd
topo_up
servers_up

cat >"$WORK/a.json" <<'EOF'
{"containers": {
  "c1": {"interface": "hc1", "default_action": "deny", "rules": [
    {"id": "web", "destination": "203.0.113.10/32", "destination_port": "443", "protocol": "tcp", "action": "allow", "description": "web \"quoted\" \\ backslash — ünïcode ✓"},
    {"id": "range", "destination": "203.0.113.0/24", "destination_port": "8000-8100,9000", "protocol": "tcp", "action": "allow", "description": "range and list"},
    {"id": "block11", "destination": "203.0.113.11/32", "destination_port": null, "protocol": "any", "action": "deny", "description": ""},
    {"id": "dns", "destination": "203.0.113.10/32", "destination_port": "53", "protocol": "udp", "action": "allow"},
    {"id": "ping", "destination": "192.0.2.0/24", "protocol": "icmp", "action": "allow", "description": "icmp"}
  ]},
  "c2": {"interface": "hc2", "default_action": "allow", "rules": [
    {"id": "c2-no80", "destination": "203.0.113.10/32", "destination_port": "80", "protocol": "tcp", "action": "deny", "description": "c2"}
  ]}
}}
EOF
# B: c1 loses web, gains new rules and opens up; c2 is gone; c3 is new
# (on an interface that does not exist)
cat >"$WORK/b.json" <<'EOF'
{"containers": {
  "c1": {"interface": "hc1", "default_action": "allow", "rules": [
    {"id": "range", "destination": "203.0.113.0/24", "destination_port": "8000-8100,9000", "protocol": "tcp", "action": "allow", "description": "range and list, still"},
    {"id": "newrule", "destination": "198.51.100.0/24", "destination_port": "22,80,443", "protocol": "tcp", "action": "deny", "description": "new"},
    {"id": "block11", "destination": "203.0.113.11/32", "protocol": "any", "action": "deny", "description": ""}
  ]},
  "c3": {"interface": "hx3", "default_action": "deny", "rules": [
    {"id": "only", "destination": "0.0.0.0/0", "destination_port": "443", "protocol": "tcp", "action": "allow", "description": "anything on 443"}
  ]}
}}
EOF

apply "$WORK/a.json"
expect_dump_is "dump after A holds exactly A (ids, descriptions, ports...)" "$WORK/a.json"
dump "$WORK/d0.json"
check "dump names the table" test "$(json_get "$WORK/d0.json" table)" = "$TABLE"
check "dump: c1 interface hc1" test "$(json_get "$WORK/d0.json" containers.c1.interface)" = hc1
check "dump: description with quotes, backslash and UTF-8 intact" \
	test "$(json_get "$WORK/d0.json" containers.c1.rules.id=web.description)" = 'web "quoted" \ backslash — ünïcode ✓'
check "dump: destination_port of an all-ports rule is null" \
	test "$(json_get "$WORK/d0.json" containers.c1.rules.id=block11.destination_port)" = null
check "dump: missing description reads as \"\"" \
	test -z "$(json_get "$WORK/d0.json" containers.c1.rules.id=dns.description)"

# rc: the packets / bytes counters of a rule or of the default drop
rc() { json_get "$1" "containers.$2.rules.id=$3.$4"; }
dc() { json_get "$1" "containers.$2.dropped.$3"; }
# shellcheck disable=SC2317 # called through check
gt() { [ "$1" -gt "$2" ]; }

# traffic through "web"
batch_begin
for i in 1 2 3; do
	expect_ok "traffic $i: c1 -> 203.0.113.10 tcp 443" tcp "$C1" 203.0.113.10 443
done
batch_end
dump "$WORK/d1.json"
p1=$(rc "$WORK/d1.json" c1 web packets)
b1=$(rc "$WORK/d1.json" c1 web bytes)
check "web counter counts packets after traffic (packets=$p1)" gt "$p1" 0
check "web counter counts bytes after traffic (bytes=$b1)" gt "$b1" 0
check "web counter: bytes >= 20 * packets ($b1 >= 20 * $p1)" test "$b1" -ge $((20 * p1))
check "counter of a rule without traffic stays 0 (dns)" test "$(rc "$WORK/d1.json" c1 dns packets)" -eq 0
check "counter of a rule without traffic stays 0 (range)" test "$(rc "$WORK/d1.json" c1 range packets)" -eq 0

batch_begin
for i in 4 5 6; do
	expect_ok "traffic $i: c1 -> 203.0.113.10 tcp 443" tcp "$C1" 203.0.113.10 443
done
expect_ok "traffic: c1 -> 203.0.113.20 tcp 9000 (range)" tcp "$C1" 203.0.113.20 9000
expect_ok "traffic: c1 -> 203.0.113.10 udp 53 (dns)" udp "$C1" 203.0.113.10 53
batch_end
dump "$WORK/d2.json"
p2=$(rc "$WORK/d2.json" c1 web packets)
b2=$(rc "$WORK/d2.json" c1 web bytes)
check "web packets grow with more traffic ($p1 -> $p2)" gt "$p2" "$p1"
check "web bytes grow with more traffic ($b1 -> $b2)" gt "$b2" "$b1"
check "range counter counts its traffic" gt "$(rc "$WORK/d2.json" c1 range packets)" 0
check "dns counter counts its traffic" gt "$(rc "$WORK/d2.json" c1 dns packets)" 0

# default drops and deny-rule drops
dp2=$(dc "$WORK/d2.json" c1 packets)
db2=$(dc "$WORK/d2.json" c1 bytes)
k2=$(rc "$WORK/d2.json" c1 block11 packets)
n2=$(rc "$WORK/d2.json" c2 c2-no80 packets)
batch_begin
expect_blocked "denied by default: c1 -> 198.51.100.2 tcp 80" tcp "$C1" 198.51.100.2 80
expect_blocked "denied by default: c1 -> 198.51.100.2 udp 53" udp "$C1" 198.51.100.2 53
expect_blocked "denied by block11: c1 -> 203.0.113.11 tcp 443" tcp "$C1" 203.0.113.11 443
expect_blocked "denied by c2-no80: c2 -> 203.0.113.10 tcp 80" tcp "$C2" 203.0.113.10 80
batch_end
dump "$WORK/d3.json"
dp3=$(dc "$WORK/d3.json" c1 packets)
db3=$(dc "$WORK/d3.json" c1 bytes)
check "c1 default drop packets grow after denied probes ($dp2 -> $dp3)" gt "$dp3" "$dp2"
check "c1 default drop bytes grow after denied probes ($db2 -> $db3)" gt "$db3" "$db2"
check "deny rule block11 counts its drops ($k2 -> $(rc "$WORK/d3.json" c1 block11 packets))" \
	gt "$(rc "$WORK/d3.json" c1 block11 packets)" "$k2"
check "c2's deny rule counts its drops ($n2 -> $(rc "$WORK/d3.json" c2 c2-no80 packets))" \
	gt "$(rc "$WORK/d3.json" c2 c2-no80 packets)" "$n2"
check "c2 (default allow) has no default drops" test "$(dc "$WORK/d3.json" c2 packets)" -eq 0

# B after A leaves exactly B
apply "$WORK/b.json"
expect_dump_is "dump after B (applied over A) holds exactly B" "$WORK/b.json"
batch_begin
expect_ok "after B: c1 (allow) -> 203.0.113.10 tcp 80" tcp "$C1" 203.0.113.10 80
expect_blocked "after B: c1 -> 198.51.100.2 tcp 80 (newrule)" tcp "$C1" 198.51.100.2 80
expect_blocked "after B: c1 -> 203.0.113.11 tcp 443 (block11)" tcp "$C1" 203.0.113.11 443
expect_ok "after B: c2 no longer managed -> 203.0.113.10 tcp 80" tcp "$C2" 203.0.113.10 80
batch_end
dump "$WORK/d4.json"

# refused files: exit 1, a message naming container, rule and field, and
# the kernel state untouched
# refuse NAME WANT... : apply $WORK/NAME.json, expect exit 1 and WANT words
refuse() {
	local name=$1 rc=0 w missing=""
	shift
	ip netns exec "$HOST" "$AGENTD" --apply "$WORK/$name.json" --table "$TABLE" \
		>"$WORK/$name.out" 2>"$WORK/$name.err" || rc=$?
	check "$name: refused with exit 1 (got $rc)" test "$rc" -eq 1
	for w in "$@"; do
		grep -qF -- "$w" "$WORK/$name.err" || missing+=" $w"
	done
	check "$name: message names:$(printf ' %s' "$@")${missing:+ (missing:$missing; stderr: $(head -c 300 "$WORK/$name.err"))}" \
		test -z "$missing"
	expect_dump_is "$name: kernel state unchanged (still B)" "$WORK/b.json"
}

sed 's/"id": "newrule", "destination"/"id": "newrule", "destintion"/' "$WORK/b.json" >"$WORK/typo.json"
grep -q destintion "$WORK/typo.json" || die "fixture typo.json not made"
refuse typo c1 newrule destintion

sed 's|"198.51.100.0/24"|"198.51.100.0/33"|' "$WORK/b.json" >"$WORK/badcidr.json"
refuse badcidr c1 newrule destination

sed 's|"8000-8100,9000"|"8100-8000"|' "$WORK/b.json" >"$WORK/badrange.json"
refuse badrange c1 range destination_port

sed 's|"protocol": "any", "action": "deny", "description": ""|"protocol": "sctp", "action": "deny", "description": ""|' \
	"$WORK/b.json" >"$WORK/badproto.json"
refuse badproto c1 block11 protocol

sed 's|"interface": "hx3"|"interface": "hc1"|' "$WORK/b.json" >"$WORK/dupif.json"
refuse dupif interface

printf '{"containers": {"c1": ' >"$WORK/notjson.json"
refuse notjson

# a refused file must not have reset counters either
dump "$WORK/d5.json"
check "counters survive refused applies (newrule packets $(rc "$WORK/d4.json" c1 newrule packets) -> $(rc "$WORK/d5.json" c1 newrule packets))" \
	test "$(rc "$WORK/d5.json" c1 newrule packets)" -ge "$(rc "$WORK/d4.json" c1 newrule packets)"

# usage errors exit 2
usage() {
	local rc=0
	ip netns exec "$HOST" "$AGENTD" "$@" >/dev/null 2>&1 || rc=$?
	check "usage error exits 2: agentd $* (got $rc)" test "$rc" -eq 2
}
usage --frobnicate
usage --apply
usage --dump --socket x
expect_dump_is "usage errors: kernel state unchanged (still B)" "$WORK/b.json"

# stdin
if ip netns exec "$HOST" "$AGENTD" --apply - --table "$TABLE" <"$WORK/a.json" 2>"$WORK/stdin.err"; then
	pass "--apply - reads the state from stdin"
else
	fail "--apply - reads the state from stdin [$(head -c 300 "$WORK/stdin.err")]"
fi
expect_dump_is "dump after A from stdin holds exactly A" "$WORK/a.json"
batch_begin
expect_blocked "A again: c1 -> 203.0.113.10 tcp 80" tcp "$C1" 203.0.113.10 80
expect_ok "A again: c1 -> 203.0.113.10 tcp 443" tcp "$C1" 203.0.113.10 443
batch_end

finish
