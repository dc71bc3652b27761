#!/usr/bin/env bash
# 205: the kernel's half of rules by name. An allow rule by name gets a
# set per family (d4_<id>, d6_<id>, commented with the name) that its
# claims match the destination against; what a lookup through the
# agent's resolver would put there is put here with nft, as the resolver
# will (an element that times out). Proven with packets: an address in
# the set connects on the rule's ports only, its sibling does not,
# another container's set opens nothing for this one; an element that
# times out refuses new connections but lets the established one go on;
# the sets and what they hold survive a rewrite of the container and a
# restart of the agent; deleting the rule deletes them and cuts its
# connection; a container whose chain was tampered with gets new ones.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

hfw_init names
need_agentd
command -v curl >/dev/null || skip "curl missing"
command -v nft >/dev/null || skip "nft missing"
topo_up
servers_up
# a plain table, so that nft can put in the sets what the resolver would;
# no resolver: the answers say rules by name open nothing
agentd_start --no-table-owner --dns-port 0

V=/api/v1/containers
NAME_RULE='{"id": "api", "destination": "API.example.com", "protocol": "tcp", "destination_port": "443,444", "action": "allow", "description": "by name"}'

expect_api "attach c1" 201 PUT $V/c1 '{"interface": "hc1"}'
expect_api "attach c2" 201 PUT $V/c2 '{"interface": "hc2"}'
expect_api "c1: allow tcp 443,444 to api.example.com" 201 POST $V/c1/firewall/egress "$NAME_RULE"
check "the rule is stored by its name, lower case" test "$(api_field data.destination)" = api.example.com
check "the answer warns that nothing resolves names yet" grep -q names_unresolved "$WORK/api.out"
expect_api "c2: the same rule" 201 POST $V/c2/firewall/egress "$NAME_RULE"
expect_api "a deny rule by name is refused (no resolver)" 400 POST $V/c1/firewall/egress \
	'{"destination": "*.example.com", "action": "deny"}'
expect_api "... also in a whole firewall" 400 PUT $V/c2/firewall \
	'{"rules": [{"destination": "*.github.com", "action": "deny"}]}'

sets() { nsx "$HOST" nft -j list sets inet | "$PYTHON" -c '
import json, sys
for o in json.load(sys.stdin)["nftables"]:
    s = o.get("set")
    if s and s["table"] == sys.argv[1] and s["name"][:3] in ("d4_", "d6_"):
        print(s["name"], s.get("comment", ""))' "$TABLE" | sort; }
sets >"$WORK/sets"
check "two sets per rule by name and container: 4 [$(tr '\n' ' ' <"$WORK/sets")]" \
	test "$(wc -l <"$WORK/sets")" -eq 4
check "each commented with the name" test "$(grep -c ' api.example.com$' "$WORK/sets")" -eq 4
# c1's sets are those its chain looks up
D4=$(nsx "$HOST" nft list chain inet "$TABLE" c_c1 | grep -o 'd4_[0-9a-f]*' | head -1)
D6=$(nsx "$HOST" nft list chain inet "$TABLE" c6_c1 | grep -o 'd6_[0-9a-f]*' | head -1)
D4_C2=$(nsx "$HOST" nft list chain inet "$TABLE" c_c2 | grep -o 'd4_[0-9a-f]*' | head -1)
check "c1's chains look up its sets ($D4, $D6)" test -n "$D4" -a "${D6#d6_}" = "${D4#d4_}"
check "c2's are others ($D4_C2)" test -n "$D4_C2" -a "$D4_C2" != "$D4"
learn() { nsx "$HOST" nft add element inet "$TABLE" "$1" "{ $2 timeout $3 }"; }

batch_begin
expect_blocked "nothing learned: 203.0.113.10:443 refused" tcp "$C1" 203.0.113.10 443
batch_end
learn "$D4" 203.0.113.10 60s
learn "$D6" 2001:db8::10 60s
batch_begin
expect_ok "learned 203.0.113.10: tcp 443 connects" tcp "$C1" 203.0.113.10 443
expect_ok "... and tcp 444" tcp "$C1" 203.0.113.10 444
expect_blocked "... not tcp 80: the rule's ports only" tcp "$C1" 203.0.113.10 80
expect_blocked "... not udp 443" udp "$C1" 203.0.113.10 443
expect_blocked "its sibling 203.0.113.11 (not learned) refused" tcp "$C1" 203.0.113.11 443
expect_ok "learned 2001:db8::10: tcp 443 over IPv6 connects" tcp "$C1" 2001:db8::10 443
expect_blocked "2001:db8::11 (not learned) refused" tcp "$C1" 2001:db8::11 443
expect_blocked "c1's lookups open nothing for c2" tcp "$C2" 203.0.113.10 443
batch_end

# --- what was learned stays with the rule
expect_api "c1: another rule (the container is rewritten)" 201 POST $V/c1/firewall/egress \
	"$(rule_body 192.0.2.10 "" icmp allow)"
check "the rule keeps its sets" sh -c "ip netns exec $HOST nft list chain inet $TABLE c_c1 | grep -q $D4"
expect_ok "after the rewrite: 203.0.113.10:443 still connects" tcp "$C1" 203.0.113.10 443
agentd_stop KILL
agentd_start --no-table-owner --dns-port 0
poll 10 "the kernel in sync after the restart" in_sync
pass "the restarted agent finds the kernel as it left it"
check "the restart kept the sets" sh -c "ip netns exec $HOST nft list set inet $TABLE $D4 | grep -q 203.0.113.10"
expect_api "c1's firewall after the restart" 200 GET $V/c1/firewall/egress
check "... holds the rule by name" grep -q '"destination":"api.example.com"' "$WORK/api.out"
expect_api "the audit" 200 GET $V/c1/firewall/audit
check "the audit decodes the rule by name from the kernel" \
	grep -q '"destination":"api.example.com"' "$WORK/api.out"
check "... and finds the kernel in sync" test "$(api_field data.in_sync)" = true
learned_of() { "$PYTHON" -c '
import json, sys
for c in json.load(open(sys.argv[1]))["data"]["containers"]:
    for r in c.get("rules", []):
        for l in r.get("learned", []):
            print(r["id"], l["address"], l["expires_in"])' "$WORK/api.out"; }
learned_of >"$WORK/learned"
check "the audit shows what rule api holds open [$(tr '\n' ';' <"$WORK/learned")]" \
	sh -c "grep -q '^api 203.0.113.10 ' $WORK/learned && grep -q '^api 2001:db8::10 ' $WORK/learned"
check "... with the seconds each has left (1-60)" \
	awk '$3 < 1 || $3 > 60 { bad = 1 } END { exit bad || NR != 2 }' "$WORK/learned"
HOODY=${HOODY:-$HFW_ROOT/build/hoody}
HOODY_FIREWALL_SOCKET=$SOCK "$HOODY" firewall audit -c c1 >"$WORK/cli.audit" 2>&1 || true
check "hoody firewall audit prints them" \
	grep -q 'c1: rule api (api.example.com): 203.0.113.10 ([0-9]* s), 2001:db8::10' "$WORK/cli.audit"

# --- an address whose time is up: new connections refused, established ones go on
learn "$D4" 203.0.113.20 3s
hold lease "$C1" 203.0.113.20 443
expect_flowing lease "learned for 3s: a connection to 203.0.113.20:443 delivers"
gone_from_set() { nft_lacks "$HOST" 203.0.113.20 list set inet "$TABLE" "$D4"; }
poll 8 "the element of 203.0.113.20 to time out" gone_from_set
t_out=$(now)
sleep 1.5
expect_still_flowing lease "$t_out" "its time up: the established connection goes on"
expect_blocked "its time up: a new connection to 203.0.113.20:443 is refused" tcp "$C1" 203.0.113.20 443

# --- the rule goes: its sets go, its connection stops
hold api "$C1" 203.0.113.10 443
expect_flowing api "a connection by the rule delivers"
expect_api "delete the rule by name" 200 DELETE $V/c1/firewall/egress/api
t_del=$(now)
sleep 1.5
expect_stopped api "$t_del" "rule deleted: its connection stops at once"
expect_stopped lease "$t_del" "rule deleted: the connection past its time stops too"
check "rule deleted: its sets are gone" \
	nft_lacks "$HOST" "set $D4" list table inet "$TABLE"
check "c2's sets stay" sh -c "ip netns exec $HOST nft list table inet $TABLE | grep -q 'set $D4_C2'"
expect_blocked "rule deleted: 203.0.113.10:443 refused" tcp "$C1" 203.0.113.10 443

# --- someone deletes a claim of the rule: the container is rewritten whole,
# with new sets: a damaged container's rules are not trusted, nor what
# its sets learned (closed until the next lookup)
expect_api "c2: reset" 200 POST $V/c2/firewall/reset
expect_api "c2: the rule by name again" 201 POST $V/c2/firewall/egress "$NAME_RULE"
D4_C2=$(nsx "$HOST" nft list chain inet "$TABLE" c_c2 | grep -o 'd4_[0-9a-f]*' | head -1)
learn "$D4_C2" 203.0.113.10 60s
expect_ok "c2 learned 203.0.113.10: connects" tcp "$C2" 203.0.113.10 443
nsx "$HOST" nft delete rule inet "$TABLE" c_c2 handle "$(rule_handle c_c2 1)"
poll 10 "the reconciler to repair c2" in_sync
pass "c2 repaired"
D4_NEW=$(nsx "$HOST" nft list chain inet "$TABLE" c_c2 | grep -o 'd4_[0-9a-f]*' | head -1)
check "... on new sets ($D4_C2 -> $D4_NEW)" test -n "$D4_NEW" -a "$D4_NEW" != "$D4_C2"
check "... the old ones gone" nft_lacks "$HOST" "set $D4_C2" list table inet "$TABLE"
expect_blocked "... so 203.0.113.10:443 is refused until looked up again" tcp "$C2" 203.0.113.10 443

finish
