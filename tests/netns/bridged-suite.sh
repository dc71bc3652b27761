# shellcheck shell=bash
# The bridged-container suite; 190-bridged-docker.sh and 191-bridged-incus.sh
# source it with BRIDGE_MODE set (topology: bridge.sh). Every semantic of
# the README must hold for a container whose veth is a bridge port as for
# a routed one, checked with real packets:
#   1 without the agent every probe used later works (and NAT or routing
#     does what the mode says);
#   2 box-1 (b1 on hv1) reset and given one allow rule: only that rule
#     passes; the host (the bridge's addresses too), the peers b2 and b3,
#     other ports, UDP, ICMP and IPv6 are dropped, silently;
#   3 replies pass: b2, the host, a routed container and the remote
#     reach servers in b1; the remote reaches b2 (published port in docker
#     mode) while box-2 is deny-all;
#   4 identity is the port: b1 with b3's IPv4 address and MAC keeps box-1's
#     rules, b3 back keeps box-3's (attached by pid with the CLI);
#   5 ARP and neighbour discovery keep working for the locked b1;
#   6 revoke: an established connection stops when its rule is deleted;
#   7 the rule's counter moves, the audit says in sync and enforced;
#   8 a routed container on the same host stays enforced;
#   9 a deleted rule or element of the table is repaired; box-1 stays
#     locked while the agent is stopped and after it starts again;
#  10 a bridged container the agent does not lock reaches peers and the
#     remote, before and after its attach with default allow.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/bridge.sh"

hfw_init "br${BRIDGE_MODE:?set BRIDGE_MODE to docker or incus}"
need_agentd
command -v curl >/dev/null || skip "curl missing"
command -v nft >/dev/null || skip "nft missing"
HOODY=${HOODY:-$HFW_ROOT/build/hoody}
[ -x "$HOODY" ] || die "hoody not found at $HOODY (build it with make)"
bridge_topo_up "$BRIDGE_MODE"
bridge_servers_up

V=/api/v1/containers
R4=203.0.113.10
R6=2001:db8::10
NFT=(ip netns exec "$HOST" nft)
SETTLE=${SETTLE:-1.5} # how long to watch a revoked connection
# what the remote sees as the source of b1's connections
if [ "$BR_MODE" = docker ]; then B1_SEEN=198.51.100.1; else B1_SEEN=${B_ADDR4[1]}; fi

hoody() { "$HOODY" --socket "$SOCK" "$@"; }

# expect_b1_locked WHY: box-1's one allow rule passes, the rest is dropped
expect_b1_locked() {
	local why=$1
	expect_ok "b1 -> remote tcp 443, the allow rule$why" tcp "$B1" $R4 443
	expect_blocked "b1 -> remote tcp 80$why" tcp "$B1" $R4 80
	expect_blocked "b1 -> remote udp 443$why" udp "$B1" $R4 443
	expect_blocked "b1 -> remote v6 tcp 443$why" tcp "$B1" $R6 443
	expect_blocked "b1 -> bridge address tcp 8080$why" tcp "$B1" "$BR_HOST4" 8080
	expect_blocked "b1 -> peer b2 tcp 9000$why" tcp "$B1" "${B_ADDR4[2]}" 9000
}

# ------------------------------------------------ 1. without the agent
check "br_netfilter sysctls of the host namespace are 1/1" test "$(brnf_sysctls)" = 1/1
t0=$(now)
batch_begin
# b1: everything box-1 will allow or drop
expect_ok "no agent: b1 -> remote tcp 443" tcp "$B1" $R4 443
expect_ok "no agent: b1 -> remote tcp 80" tcp "$B1" $R4 80
expect_ok "no agent: b1 -> other remote address tcp 443" tcp "$B1" 203.0.113.11 443
expect_ok "no agent: b1 -> remote udp 443" udp "$B1" $R4 443
expect_ok "no agent: b1 -> remote udp 53" udp "$B1" $R4 53
expect_ok "no agent: b1 -> remote icmp" icmp "$B1" $R4
expect_ok "no agent: b1 -> remote v6 tcp 443" tcp "$B1" $R6 443
expect_ok "no agent: b1 -> remote v6 udp 443" udp "$B1" $R6 443
expect_ok "no agent: b1 -> remote v6 icmp" icmp "$B1" $R6
for a in "$BR_HOST4" "$BR_HOST6" 198.51.100.1 fd00:ff::1 10.99.0.1 10.10.1.1; do
	expect_ok "no agent: b1 -> host $a tcp 8080" tcp "$B1" "$a" 8080
done
expect_ok "no agent: b1 -> bridge address udp 8080" udp "$B1" "$BR_HOST4" 8080
expect_ok "no agent: b1 -> bridge address v6 udp 8080" udp "$B1" "$BR_HOST6" 8080
expect_ok "no agent: b1 -> bridge address icmp" icmp "$B1" "$BR_HOST4"
expect_ok "no agent: b1 -> bridge address v6 icmp" icmp "$B1" "$BR_HOST6"
for i in 2 3; do
	expect_ok "no agent: b1 -> peer b$i tcp 9000" tcp "$B1" "${B_ADDR4[$i]}" 9000
	expect_ok "no agent: b1 -> peer b$i v6 tcp 9000" tcp "$B1" "${B_ADDR6[$i]}" 9000
	expect_ok "no agent: b1 -> peer b$i udp 9000" udp "$B1" "${B_ADDR4[$i]}" 9000
	expect_ok "no agent: b1 -> peer b$i v6 udp 9000" udp "$B1" "${B_ADDR6[$i]}" 9000
	expect_ok "no agent: b1 -> peer b$i icmp" icmp "$B1" "${B_ADDR4[$i]}"
	expect_ok "no agent: b1 -> peer b$i v6 icmp" icmp "$B1" "${B_ADDR6[$i]}"
done
expect_ok "no agent: b1 -> routed c2 tcp 9000" tcp "$B1" 10.10.2.2 9000
# towards b1 and b2, and from b2 and b3
expect_ok "no agent: b2 -> b1 tcp 7000" tcp "$B2" "${B_ADDR4[1]}" 7000
expect_ok "no agent: b2 -> b1 v6 tcp 7000" tcp "$B2" "${B_ADDR6[1]}" 7000
expect_ok "no agent: b2 -> b1 udp 7000" udp "$B2" "${B_ADDR4[1]}" 7000
expect_ok "no agent: b2 -> remote tcp 443" tcp "$B2" $R4 443
expect_ok "no agent: host -> b1 tcp 7000" tcp "$HOST" "${B_ADDR4[1]}" 7000
expect_ok "no agent: host -> b1 v6 tcp 7000" tcp "$HOST" "${B_ADDR6[1]}" 7000
expect_ok "no agent: host -> b1 icmp" icmp "$HOST" "${B_ADDR4[1]}"
expect_ok "no agent: routed c2 -> b1 tcp 7000" tcp "$C2" "${B_ADDR4[1]}" 7000
if [ "$BR_MODE" = docker ]; then
	expect_ok "no agent: remote -> published port (b2) tcp" tcp "$REMOTE" 198.51.100.1 "$PUBLISHED"
	expect_ok "no agent: remote -> published port (b2) udp" udp "$REMOTE" 198.51.100.1 "$PUBLISHED"
	expect_ok "no agent: remote -> published port (b2) v6 tcp" tcp "$REMOTE" fd00:ff::1 "$PUBLISHED"
else
	expect_ok "no agent: remote -> b1 tcp 7000" tcp "$REMOTE" "${B_ADDR4[1]}" 7000
	expect_ok "no agent: remote -> b2 tcp 9000" tcp "$REMOTE" "${B_ADDR4[2]}" 9000
	expect_ok "no agent: remote -> b2 v6 tcp 9000" tcp "$REMOTE" "${B_ADDR6[2]}" 9000
fi
for i in 2 3; do
	expect_ok "no agent: b$i -> remote tcp 80" tcp "${BNS[$i]}" $R4 80
done
expect_ok "no agent: b3 -> peer b2 tcp 9000" tcp "$B3" "${B_ADDR4[2]}" 9000
expect_ok "no agent: b3 -> remote tcp 444" tcp "$B3" $R4 444
expect_ok "no agent: routed c1 -> remote tcp 443" tcp "$C1" $R4 443
expect_ok "no agent: routed c1 -> remote tcp 80" tcp "$C1" $R4 80
batch_end
check "no agent: the remote saw b1 as $B1_SEEN ($BR_MODE mode)" remote_saw remote "$t0" "$B1_SEEN"
if [ "$BR_MODE" = docker ]; then
	check "no agent: the published port reached b2 from the remote, not NAT'd" \
		remote_saw b2 "$t0" 198.51.100.2
fi

# ------------------------------------------------ the agent, the attaches
agentd_start --no-table-owner --reconcile-interval 1
expect_api "attach box-1 to hv1, a bridge port" 201 PUT $V/box-1 '{"interface": "hv1"}'
hoody firewall reset -c box-1 >"$WORK/cli.out" 2>&1 || fail "hoody firewall reset -c box-1"
hoody firewall egress create -c box-1 --action allow --protocol tcp --destination-port 443 \
	--destination $R4/32 --description "the one allowed service" >"$WORK/cli.out" 2>&1 ||
	fail "hoody firewall egress create -c box-1: $(cat "$WORK/cli.out")"
api GET $V/box-1/firewall
RULE=$(api_field data.rules.0.id)
check "box-1 holds the one allow rule ($RULE)" test "$(api_field data.rules.0.destination_port)" = 443
expect_api "attach box-2 to hv2" 201 PUT $V/box-2 '{"interface": "hv2"}'
expect_api "box-2: default allow, no rules" 200 PUT $V/box-2/firewall \
	'{"default_action": "allow", "rules": []}'
expect_api "attach routed-1 to hc1 (routed c1)" 201 PUT $V/routed-1 '{"interface": "hc1"}'
expect_api "routed-1: allow tcp 443 to the remote" 201 POST $V/routed-1/firewall/egress \
	"$(rule_body $R4/32 443 tcp allow)"

# ------------------------------------------------ 2, 3, 8, 10
t2=$(now)
batch_begin
expect_b1_locked ""
expect_blocked "b1 -> other remote address tcp 443" tcp "$B1" 203.0.113.11 443
expect_blocked "b1 -> remote udp 53" udp "$B1" $R4 53
expect_blocked "b1 -> remote icmp" icmp "$B1" $R4
expect_blocked "b1 -> remote v6 udp 443" udp "$B1" $R6 443
expect_blocked "b1 -> remote v6 icmp" icmp "$B1" $R6
for a in "$BR_HOST6" 198.51.100.1 fd00:ff::1 10.99.0.1 10.10.1.1; do
	expect_blocked "b1 -> host $a tcp 8080" tcp "$B1" "$a" 8080
done
expect_blocked "b1 -> bridge address udp 8080" udp "$B1" "$BR_HOST4" 8080
expect_blocked "b1 -> bridge address v6 udp 8080" udp "$B1" "$BR_HOST6" 8080
expect_blocked "b1 -> bridge address icmp" icmp "$B1" "$BR_HOST4"
expect_blocked "b1 -> bridge address v6 icmp" icmp "$B1" "$BR_HOST6"
expect_blocked "b1 -> peer b2 v6 tcp 9000" tcp "$B1" "${B_ADDR6[2]}" 9000
for i in 2 3; do
	[ "$i" = 2 ] || expect_blocked "b1 -> peer b$i tcp 9000" tcp "$B1" "${B_ADDR4[$i]}" 9000
	[ "$i" = 2 ] || expect_blocked "b1 -> peer b$i v6 tcp 9000" tcp "$B1" "${B_ADDR6[$i]}" 9000
	expect_blocked "b1 -> peer b$i udp 9000" udp "$B1" "${B_ADDR4[$i]}" 9000
	expect_blocked "b1 -> peer b$i v6 udp 9000" udp "$B1" "${B_ADDR6[$i]}" 9000
	expect_blocked "b1 -> peer b$i icmp" icmp "$B1" "${B_ADDR4[$i]}"
	expect_blocked "b1 -> peer b$i v6 icmp" icmp "$B1" "${B_ADDR6[$i]}"
done
expect_blocked "b1 -> routed c2 tcp 9000" tcp "$B1" 10.10.2.2 9000
# 3: replies of the locked b1 pass
expect_ok "reply: b2 (default allow) -> b1 tcp 7000" tcp "$B2" "${B_ADDR4[1]}" 7000
expect_ok "reply: b2 (default allow) -> b1 v6 tcp 7000" tcp "$B2" "${B_ADDR6[1]}" 7000
expect_ok "reply: b2 (default allow) -> b1 udp 7000" udp "$B2" "${B_ADDR4[1]}" 7000
expect_ok "reply: host -> b1 tcp 7000" tcp "$HOST" "${B_ADDR4[1]}" 7000
expect_ok "reply: host -> b1 v6 tcp 7000" tcp "$HOST" "${B_ADDR6[1]}" 7000
expect_ok "reply: host -> b1 icmp" icmp "$HOST" "${B_ADDR4[1]}"
expect_ok "reply: routed c2 -> b1 tcp 7000" tcp "$C2" "${B_ADDR4[1]}" 7000
[ "$BR_MODE" = docker ] ||
	expect_ok "reply: remote -> b1 tcp 7000" tcp "$REMOTE" "${B_ADDR4[1]}" 7000
# 8: the routed container next to the bridge
expect_ok "routed c1 (routed-1) -> remote tcp 443, its allow rule" tcp "$C1" $R4 443
expect_blocked "routed c1 (routed-1) -> remote tcp 80" tcp "$C1" $R4 80
expect_blocked "routed c1 (routed-1) -> b1 tcp 7000" tcp "$C1" "${B_ADDR4[1]}" 7000
# 10: b2 attached with default allow, b3 not attached: open
expect_ok "open b2 (box-2, default allow) -> remote tcp 80" tcp "$B2" $R4 80
expect_ok "open b2 (box-2, default allow) -> peer b3 tcp 9000" tcp "$B2" "${B_ADDR4[3]}" 9000
expect_ok "open b3 (not attached) -> remote tcp 80" tcp "$B3" $R4 80
expect_ok "open b3 (not attached) -> remote v6 tcp 443" tcp "$B3" $R6 443
expect_ok "open b3 (not attached) -> peer b2 tcp 9000" tcp "$B3" "${B_ADDR4[2]}" 9000
expect_ok "open b3 (not attached) -> peer b2 v6 udp 9000" udp "$B3" "${B_ADDR6[2]}" 9000
expect_ok "open b3 (not attached) -> locked b1 tcp 7000" tcp "$B3" "${B_ADDR4[1]}" 7000
expect_ok "open b3 (not attached) -> bridge address tcp 8080" tcp "$B3" "$BR_HOST4" 8080
batch_end
check "the allowed connection reached the remote from $B1_SEEN" remote_saw remote "$t2" "$B1_SEEN"
expect_no_contact "nothing of b1 reached b2's responder" b2 "$t2" "${B_ADDR4[1]}" "${B_ADDR6[1]}"

# ------------------------------------------------ 5. ARP and ND
ip -n "$B1" neigh flush dev eth0
batch_begin
expect_ok "after a neighbour flush: b1 -> remote tcp 443" tcp "$B1" $R4 443
expect_blocked "after a neighbour flush: b1 -> remote v6 tcp 443" tcp "$B1" $R6 443
batch_end
check "b1 resolved the gateway $BR_HOST4 (ARP)" poll_quiet 3 neigh_resolved "$B1" "$BR_HOST4"
check "b1 resolved the gateway $BR_HOST6 (ND)" poll_quiet 3 neigh_resolved "$B1" "$BR_HOST6"
info "b1's neighbours: $(nsx "$B1" ip neigh show dev eth0 | tr '\n' ';')"

# ------------------------------------------------ 7. counters, audit, enforcement
api GET $V/box-1/firewall
check "box-1's enforcement is enforced [$(api_field data.enforcement)]" \
	test "$(api_field data.enforcement)" = enforced
api GET $V/box-1/firewall/audit
pk=$(api_field "data.containers.0.rules.id=$RULE.packets" || echo 0)
check "audit: box-1's allow rule counted the allowed connections [$pk packets]" test "$pk" -gt 0
check "audit: box-1 in sync" test "$(api_field data.containers.0.in_sync)" = true
check "audit: box-1 enforced [$(api_field data.containers.0.enforcement)]" \
	test "$(api_field data.containers.0.enforcement)" = enforced
api GET /api/v1/firewall/audit
check "audit: the host in sync" test "$(api_field data.in_sync)" = true
check "audit: every container enforced [$(api_field data.containers_not_enforced) not]" \
	test "$(api_field data.containers_not_enforced)" = 0

# ------------------------------------------------ 3. box-2 deny-all, still reachable
expect_api "reset box-2: deny-all" 200 POST $V/box-2/firewall/reset
batch_begin
expect_blocked "box-2 deny-all: b2 -> remote tcp 443" tcp "$B2" $R4 443
expect_blocked "box-2 deny-all: b2 -> peer b3 tcp 9000" tcp "$B2" "${B_ADDR4[3]}" 9000
if [ "$BR_MODE" = docker ]; then
	expect_ok "reply: remote -> published port (b2, deny-all) tcp" \
		tcp "$REMOTE" 198.51.100.1 "$PUBLISHED"
	expect_ok "reply: remote -> published port (b2, deny-all) udp" \
		udp "$REMOTE" 198.51.100.1 "$PUBLISHED"
	expect_ok "reply: remote -> published port (b2, deny-all) v6 tcp" \
		tcp "$REMOTE" fd00:ff::1 "$PUBLISHED"
else
	expect_ok "reply: remote -> b2 (deny-all) tcp 9000" tcp "$REMOTE" "${B_ADDR4[2]}" 9000
	expect_ok "reply: remote -> b2 (deny-all) v6 tcp 9000" tcp "$REMOTE" "${B_ADDR6[2]}" 9000
fi
expect_ok "reply: b3 -> b2 (deny-all) tcp 9000" tcp "$B3" "${B_ADDR4[2]}" 9000
batch_end

# ------------------------------------------------ 4. identity is the port
b3_pid=$(ip netns pids "$B3" | head -1)
[ -n "$b3_pid" ] || die "no process in $B3"
if hoody firewall attach -c box-3 --pid "$b3_pid" >"$WORK/cli.out" 2>&1; then
	pass "hoody firewall attach -c box-3 --pid $b3_pid"
else
	fail "hoody firewall attach -c box-3 --pid $b3_pid: $(head -c 300 "$WORK/cli.out")"
fi
api GET $V/box-3/firewall
check "box-3 is attached to hv3, b3's port [$(api_field data.interface)]" \
	test "$(api_field data.interface)" = hv3
expect_api "box-3: default allow, deny tcp 444 to the remote" 200 PUT $V/box-3/firewall \
	"{\"default_action\": \"allow\", \"rules\": [$(rule_body $R4/32 444 tcp deny)]}"
batch_begin
expect_ok "box-3 (allow, one deny): b3 -> remote tcp 80" tcp "$B3" $R4 80
expect_blocked "box-3 (allow, one deny): b3 -> remote tcp 444" tcp "$B3" $R4 444
expect_ok "box-3 (allow, one deny): b3 -> peer b1 tcp 7000" tcp "$B3" "${B_ADDR4[1]}" 7000
batch_end

ip -n "$B3" link set eth0 down
bridge_container_config 1 "${B_ADDR4[3]}" "${B_MAC[3]}"
batch_begin
expect_ok "b1 as b3 (${B_ADDR4[3]}, b3's MAC) -> remote tcp 443, box-1's rule" tcp "$B1" $R4 443
expect_blocked "b1 as b3 -> remote tcp 80 (box-3 would allow it)" tcp "$B1" $R4 80
expect_blocked "b1 as b3 -> peer b2 tcp 9000" tcp "$B1" "${B_ADDR4[2]}" 9000
expect_blocked "b1 as b3 -> bridge address tcp 8080" tcp "$B1" "$BR_HOST4" 8080
batch_end
bridge_container_config 1
bridge_container_config 3
batch_begin
expect_b1_locked " (b1 itself again)"
expect_ok "b3 back: remote tcp 80, box-3's default allow" tcp "$B3" $R4 80
expect_blocked "b3 back: remote tcp 444, box-3's deny rule" tcp "$B3" $R4 444
batch_end

# ------------------------------------------------ 9. reconcile and restart
# shellcheck disable=SC2317 # called through poll_quiet
repaired_since() { [ "$(repairs)" -gt "$1" ] && in_sync; }
# tamper DESC CMD...: run CMD, then the table must be repaired
tamper() {
	local desc=$1 before
	shift
	before=$(repairs)
	if "$@"; then
		check "$desc: repaired" poll_quiet 5 repaired_since "$before"
	else
		fail "$desc: the tamper itself failed"
	fi
}
tamper "a rule of box-1's chain deleted" \
	"${NFT[@]}" delete rule inet "$TABLE" c_box-1 handle "$(rule_handle c_box-1 1)"
# map_holding PATTERN: the first map of the table with an element matching
map_holding() {
	"${NFT[@]}" list table inet "$TABLE" |
		awk -v pat="$1" '$1 == "map" { m = $2 } !found && $0 ~ pat { print m; found = 1 }'
}
map=$(map_holding '"hv1" : (jump|goto) ')
[ -n "$map" ] || map=$(map_holding '"hv1" : ')
if [ -n "$map" ]; then
	tamper "box-1's element deleted from map $map" \
		"${NFT[@]}" delete element inet "$TABLE" "$map" '{ "hv1" }'
else
	fail "no map element of hv1 in table $TABLE to delete"
fi
batch_begin
expect_b1_locked " (after the repairs)"
batch_end

agentd_stop TERM
batch_begin
expect_b1_locked " (agent stopped)"
batch_end
agentd_start --no-table-owner --reconcile-interval 1
check "agent restarted: in sync" poll_quiet 5 in_sync
batch_begin
expect_b1_locked " (agent restarted)"
batch_end
api GET $V/box-1/firewall
check "agent restarted: box-1 enforced [$(api_field data.enforcement)]" \
	test "$(api_field data.enforcement)" = enforced

# ------------------------------------------------ 6. revoke
hold web "$B1" $R4 443
hold open "$B3" $R4 80
expect_flowing web "b1 -> remote:443 established connection delivers (rule $RULE)"
expect_flowing open "b3 (box-3, default allow) -> remote:80 established connection delivers"
expect_api "delete box-1's allow rule" 200 DELETE "$V/box-1/firewall/egress/$RULE"
t6=$(now)
sleep "$SETTLE" # watch both connections for a while
expect_stopped web "$t6" "rule deleted: b1's established connection stops at once"
expect_still_flowing open "$t6" "b3's established connection still delivers"
batch_begin
expect_blocked "rule deleted: a new b1 -> remote tcp 443 is dropped" tcp "$B1" $R4 443
expect_ok "rule deleted: b3 -> b1 tcp 7000 still answered" tcp "$B3" "${B_ADDR4[1]}" 7000
batch_end

finish
