#!/usr/bin/env bash
# 170: the drop log. Packets the firewall drops are reported through
# NFLOG and read by the daemon: each names container, rule (or default),
# protocol, addresses and ports; the API returns the newest first; each is
# logged. The kernel limits the reports per container: a flood from one
# container is dropped in full but reported only at the limit, and does
# not hide another container's drops. Without a drop log the table has
# none of its objects and the call says so.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

hfw_init drops
need_agentd
command -v curl >/dev/null || skip "curl missing"
command -v nft >/dev/null || skip "nft missing (the oracle)"
topo_up
servers_up
agentd_start --drop-log-rate 10

# The reports wait in the drop log socket's receive buffer between reads:
# the agent asks 1 MiB for it (the kernel doubles what it is given, and
# the default is a fifth of that). Every netfilter socket of the host
# namespace but the kernel's is the agent's: none may be left at less.
rcvbufs() {
	ip netns exec "$HOST" ss -f netlink -a -m | awk '$4 ~ /^nft:/ && $4 != "nft:kernel" {
		match($0, /rb[0-9]+/); print substr($0, RSTART + 2, RLENGTH - 2) }'
}
check "the agent's netfilter sockets: the monitor, the requests, the drop log" \
	test "$(rcvbufs | wc -l)" -ge 3
check "... each with a receive buffer of at least 1 MiB [$(rcvbufs | tr '\n' ' ')]" \
	test "$(rcvbufs | awk '$1 < 2 * 1048576' | wc -l)" -eq 0

V=/api/v1/containers
HOODY=${HOODY:-$HFW_ROOT/build/hoody}
[ -x "$HOODY" ] || die "$HOODY missing: run make"

expect_api "attach c1" 201 PUT $V/c1 '{"interface": "hc1"}'
expect_api "c1: allow tcp 443 to 203.0.113.10" 201 POST $V/c1/firewall/egress \
	'{"id": "web", "destination": "203.0.113.10/32", "destination_port": "443", "protocol": "tcp", "action": "allow"}'
expect_api "c1: deny udp 53 to 192.0.2.0/24" 201 POST $V/c1/firewall/egress \
	'{"id": "nodns", "destination": "192.0.2.0/24", "destination_port": "53", "protocol": "udp", "action": "deny"}'
expect_api "attach c2 (deny-all)" 201 PUT $V/c2 '{"interface": "hc2"}'

# drops_count ID [LIMIT]: how many drops of ID the API returns
drops_count() {
	api GET "$V/$1/firewall/drops?limit=${2:-4096}"
	json_len "$WORK/api.out" data.drops
}
has_drops() { [ "$(drops_count "$1")" -ge "$2" ]; }

expect_ok "c1 -> 203.0.113.10 443 (allowed: not a drop)" tcp "$C1" 203.0.113.10 443
expect_blocked "c1 -> 203.0.113.10 80 (the default drops it)" tcp "$C1" 203.0.113.10 80
poll 5 "c1's first drop to be reported" has_drops c1 1
expect_api "c1's drops" 200 GET "$V/c1/firewall/drops"
check "the newest names the default" test "$(api_field data.drops.0.rule_id)" = default
check "... tcp from c1 to 203.0.113.10 port 80" \
	test "$(api_field data.drops.0.protocol) $(api_field data.drops.0.source) $(api_field data.drops.0.destination) $(api_field data.drops.0.destination_port)" = \
	"tcp 10.10.1.2 203.0.113.10 80"
check "... on hc1, with its source port and a time" \
	test "$(api_field data.drops.0.interface)" = hc1 -a "$(api_field data.drops.0.source_port)" -gt 0 \
	-a -n "$(api_field data.drops.0.time)"
check "... and the answer names the container" test "$(api_field data.container_id)" = c1
check "the allowed connection was not reported" test "$(drops_count c1)" -le 2

PROBE_TIMEOUT=1 probe_udp "$C1" 192.0.2.10 53 >/dev/null 2>&1 || true
poll 5 "the deny rule's drop to be reported" \
	sh -c "curl -s --unix-socket '$SOCK' 'http://localhost$V/c1/firewall/drops?limit=1' | grep -q '\"rule_id\":\"nodns\"'"
check "limit=1 gives one drop of the two or more" test "$(drops_count c1 1)" = 1
check "... as does limit=%31, percent-encoded" test "$(drops_count c1 %31)" = 1
check "... naming the deny rule, udp to 192.0.2.10 port 53" \
	test "$(api_field data.drops.0.rule_id) $(api_field data.drops.0.protocol) $(api_field data.drops.0.destination) $(api_field data.drops.0.destination_port)" = \
	"nodns udp 192.0.2.10 53"
check "the log has a line per drop" \
	grep -q "drop: container c1 rule nodns: udp 10.10.1.2:[0-9]* -> 192.0.2.10:53 on hc1" "$WORK/agentd.log"

PROBE_TIMEOUT=1 probe_icmp "$C2" 203.0.113.10 >/dev/null 2>&1 || true
poll 5 "c2's ping to be reported" has_drops c2 1
expect_api "c2's drops" 200 GET "$V/c2/firewall/drops"
check "c2's ping is there, as icmp by default" \
	test "$(api_field data.drops.0.protocol) $(api_field data.drops.0.rule_id)" = "icmp default"
check "... without ports" "$PYTHON" -c \
	'import json,sys; d=json.load(open(sys.argv[1]))["data"]["drops"][0]; sys.exit("destination_port" in d)' \
	"$WORK/api.out"

expect_api "limit=0 is refused" 400 GET "$V/c1/firewall/drops?limit=0"
check "... naming the field" test "$(api_field error.field)" = limit
expect_api "limit=abc is refused" 400 GET "$V/c1/firewall/drops?limit=abc"
expect_api "limit over the ring is refused" 400 GET "$V/c1/firewall/drops?limit=100000"
expect_api "drops of an unknown container" 404 GET "$V/nope/firewall/drops"

# A flood: every datagram is dropped, few are reported.
c1_dropped() {
	ip netns exec "$HOST" "$AGENTD" --dump --table "$TABLE" |
		"$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["containers"]["c1"]["dropped"]["packets"])'
}
before_c1=$(drops_count c1)
before_dflt=$(c1_dropped)
t0=$(now)
nsx "$C1" "$PYTHON" "$PROBE" sendudp 203.0.113.10 9000 --count 3000 --interval 0 \
	--payload flood
t1=$(now)
PROBE_TIMEOUT=1 probe_udp "$C2" 203.0.113.11 9000 >/dev/null 2>&1 || true
poll 5 "c2's drop after c1's flood to be reported" has_drops c2 2
after_dflt=$(c1_dropped)
flood=$((after_dflt - before_dflt))
reported=$(($(drops_count c1) - before_c1))
# burst 10, then 10 a second while the flood lasted (plus one second of slack)
bound=$("$PYTHON" -c "import math,sys; print(10 + 10 * math.ceil($t1 - $t0 + 1))")
info "flood: $flood datagrams dropped in $("$PYTHON" -c "print(round($t1 - $t0, 3))") s, $reported reported (bound $bound)"
check "the kernel dropped the whole flood" test "$flood" -ge 3000
check "... and reported some of it" test "$reported" -ge 5
check "... but no more than the per-container limit allows" test "$reported" -le "$bound"
check "nothing of the flood reached the remote" \
	sh -c "! grep -q flood '$WORK/serve.remote.log'"
check "the kernel keeps one bucket per interface, expiring" \
	sh -c "ip netns exec '$HOST' nft list set inet '$TABLE' droprate | grep -q '\"hc1\" limit rate 10/second .* expires'"
check "the kernel's buckets did not look like tampering to the reconciler" \
	sh -c "! grep -q 'was changed by' '$WORK/agentd.log'"
expect_api "c2's drops after the flood" 200 GET "$V/c2/firewall/drops?limit=1"
check "c2's own drop was reported despite c1's flood" \
	test "$(api_field data.drops.0.protocol) $(api_field data.drops.0.destination)" = "udp 203.0.113.11"

"$HOODY" --socket "$SOCK" firewall drops -c c1 --limit 4096 >"$WORK/cli.out"
check "hoody firewall drops: a header row" grep -q "^TIME *RULE *PROTO *SOURCE *DESTINATION" "$WORK/cli.out"
check "... and the deny rule's drop" grep -Eq "nodns +udp +10\.10\.1\.2:[0-9]+ +192\.0\.2\.10:53" "$WORK/cli.out"
"$HOODY" --socket "$SOCK" firewall drops -c c2 -o json >"$WORK/cli.json"
check "hoody firewall drops -o json: the API's data" \
	test "$(json_get "$WORK/cli.json" container_id)" = c2

# No drop log: its objects go, the call says it is off, drops still drop.
agentd_stop TERM
agentd_start --drop-log-rate 0
check "without a drop log the table has no drops chain" \
	nft_lacks "$HOST" 'chain drops' list table inet "$TABLE"
check "... and no droprate set" \
	nft_lacks "$HOST" droprate list table inet "$TABLE"
expect_blocked "c1 -> 203.0.113.10 80 still dropped" tcp "$C1" 203.0.113.10 80
expect_api "the drops call says the log is off" 409 GET "$V/c1/firewall/drops"
check "... with its code" test "$(api_field error.code)" = drop_log_off
finish
