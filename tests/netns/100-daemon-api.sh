#!/usr/bin/env bash
# 100: the daemon, driven over its Unix socket with curl, with the platform
# docs' calls (attach, reset, egress create with the documented body), and
# every change checked with packets: rules, deletes, declarative PUT,
# firewall calls before the attach, detach, delete, revocation of an
# established connection, counters that survive changes, and the TCP
# listener's bearer token. Every thread of the daemon, those that serve
# the API included, holds CAP_NET_ADMIN and no other capability.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

hfw_init api
need_agentd
command -v curl >/dev/null || skip "curl missing"
topo_up
servers_up
agentd_start

# caps_wide PID: the threads of PID holding any capability but
# CAP_NET_ADMIN (bit 12), effective, permitted or in the bounding set;
# capabilities are per thread, so each one is read
caps_wide() {
	local t
	for t in /proc/"$1"/task/*; do
		awk -v t="${t##*/}" '/^Cap(Eff|Prm|Bnd):/ && $2 != "0000000000001000" {
			print t ":" $1 $2 }' "$t/status"
	done
}
threads() { ls /proc/"$1"/task | wc -l; }

V=/api/v1/containers
STRIPE='{"destination": "203.0.113.10/32", "destination_port": "443", "action": "allow", "protocol": "tcp", "description": "Allow Stripe API"}'

expect_api "health answers" 200 GET /api/v1/health
check "the daemon's $(threads "$AGENTD_PID") threads hold CAP_NET_ADMIN only [$(caps_wide "$AGENTD_PID")]" \
	test -z "$(caps_wide "$AGENTD_PID")"
check "health: kernel in sync with an empty state" test "$(api_field data.kernel_in_sync)" = true
status_of() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
check "... and no-new-privileges [NoNewPrivs $(status_of "$AGENTD_PID" NoNewPrivs)]" \
	test "$(status_of "$AGENTD_PID" NoNewPrivs)" = 1
RPID=$(for p in $(ip netns pids "$HOST"); do
	[ "$(cat "/proc/$p/comm" 2>/dev/null)" = hoody-resolver ] && echo "$p"
done | head -1)
check "the resolver (pid $RPID) runs as nobody [uid $(status_of "$RPID" Uid)]" \
	test "$(status_of "$RPID" Uid)" = "$(id -u nobody)"
check "... with no capability, effective, permitted or bounding [$(grep -E '^Cap(Eff|Prm|Bnd)' "/proc/$RPID/status" | tr -s '\t\n' '  ')]" \
	test "$(grep -cE '^Cap(Eff|Prm|Bnd):[[:space:]]+0000000000000000$' "/proc/$RPID/status")" = 3
check "... and no-new-privileges" test "$(status_of "$RPID" NoNewPrivs)" = 1
expect_api "no containers yet" 200 GET /api/v1/containers
check "the list is empty" test "$(api_field data.containers)" = "[]"

# --- the platform docs' sequence
expect_api "attach c1 to hc1 (creates it deny-all)" 201 PUT $V/c1 '{"interface": "hc1"}'
check "a new container starts deny-all at revision 1" \
	test "$(api_field data.default_action) $(api_field data.revision)" = "deny 1"
batch_begin
expect_blocked "attached, deny-all: c1 -> 203.0.113.10 tcp 443" tcp "$C1" 203.0.113.10 443
expect_ok "c2 is not known to the agent: untouched" tcp "$C2" 203.0.113.10 443
batch_end

expect_api "reset c1" 200 POST $V/c1/firewall/reset
expect_api "egress create, the documented body" 201 POST $V/c1/firewall/egress "$STRIPE"
rid=$(api_field data.id)
check "the created rule has an id ($rid)" test -n "$rid"
check "the created rule is returned as stored" \
	test "$(api_field data.destination) $(api_field data.destination_port) $(api_field data.description)" = \
	"203.0.113.10/32 443 Allow Stripe API"
rev=$(api_field data.revision)
check "the log names who made the change, and what it was" grep -Eq \
	"api: change by uid=0 pid=[0-9]+: POST $V/c1/firewall/egress: 201 .*rule=$rid revision=$rev" \
	"$WORK/agentd.log"
expect_api "the same rule again is not stored twice" 200 POST $V/c1/firewall/egress "$STRIPE"
check "... and the existing rule comes back" test "$(api_field data.id)" = "$rid"
check "... and the revision did not move" test "$(api_field data.revision)" = "$rev"

batch_begin
expect_ok "allowed: c1 -> 203.0.113.10 tcp 443" tcp "$C1" 203.0.113.10 443
expect_blocked "c1 -> 203.0.113.10 tcp 80" tcp "$C1" 203.0.113.10 80
expect_blocked "c1 -> 203.0.113.10 udp 443 (tcp only)" udp "$C1" 203.0.113.10 443
expect_blocked "c1 -> 203.0.113.11 tcp 443" tcp "$C1" 203.0.113.11 443
expect_blocked "c1 -> IPv6 remote tcp 443" tcp "$C1" fd00:ff::2 443
expect_blocked "c1 -> the gateway" tcp "$C1" 10.10.1.1 8080
expect_blocked "c1 -> c2" tcp "$C1" 10.10.2.2 9000
expect_ok "inbound remote -> c1 still answered" tcp "$REMOTE" 10.10.1.2 7000
batch_end

expect_api "list the rules" 200 GET $V/c1/firewall/egress
check "one rule, with its id" test "$(api_field data.rules.0.id)" = "$rid"
expect_api "show the firewall" 200 GET $V/c1/firewall
check "firewall: interface hc1, deny, revision $rev" \
	test "$(api_field data.interface) $(api_field data.default_action) $(api_field data.revision)" = "hc1 deny $rev"

# --- counters move with traffic and survive a change to another rule
PROBE_TIMEOUT=2 probe_tcp "$C1" 203.0.113.10 443 >/dev/null
dump "$WORK/d1.json"
p1=$(json_get "$WORK/d1.json" "containers.c1.rules.id=$rid.packets")
check "the rule's counter moved ($p1 packets)" test "$p1" -gt 0
expect_api "add a udp rule" 201 POST $V/c1/firewall/egress "$(rule_body 203.0.113.10 53 udp allow dns)"
dns=$(api_field data.id)
dump "$WORK/d2.json"
p2=$(json_get "$WORK/d2.json" "containers.c1.rules.id=$rid.packets")
check "adding a rule kept the other rule's counter ($p1 -> $p2)" test "$p2" -ge "$p1"

# --- a deny inside the allow wins; deleting it restores
expect_api "deny 203.0.113.0/24 tcp 443" 201 POST $V/c1/firewall/egress \
	"$(rule_body 203.0.113.0/24 443 tcp deny "no 443 to the /24")"
deny=$(api_field data.id)
batch_begin
expect_blocked "deny beats allow: c1 -> 203.0.113.10 tcp 443" tcp "$C1" 203.0.113.10 443
expect_ok "the udp rule still works" udp "$C1" 203.0.113.10 53
batch_end
expect_api "delete the deny rule" 200 DELETE "$V/c1/firewall/egress/$deny"
expect_api "delete it again: unknown" 404 DELETE "$V/c1/firewall/egress/$deny"
expect_ok "deny gone: c1 -> 203.0.113.10 tcp 443" tcp "$C1" 203.0.113.10 443

# --- an established connection stops when its rule is deleted
hold web "$C1" 203.0.113.10 443
expect_flowing web "established c1 -> 203.0.113.10:443 delivers"
expect_api "delete the allow rule" 200 DELETE "$V/c1/firewall/egress/$rid"
t_del=$(now)
sleep 1.5 # a window to watch: nothing sent after the delete may be answered
expect_stopped web "$t_del" "rule deleted over the API: the established connection stops at once"
expect_blocked "rule deleted: a new connection is dropped" tcp "$C1" 203.0.113.10 443

# --- the declarative call
FW='{"default_action": "deny", "rules": [
  {"id": "https", "destination": "203.0.113.20", "destination_port": "443,8000-8100", "protocol": "tcp", "action": "allow"},
  {"id": "ping", "destination": "192.0.2.10", "protocol": "icmp", "action": "allow"}]}'
expect_api "PUT the whole firewall" 200 PUT $V/c1/firewall "$FW"
rev=$(api_field data.revision)
expect_api "PUT the same firewall again" 200 PUT $V/c1/firewall "$FW"
check "an identical PUT leaves the revision at $rev" test "$(api_field data.revision)" = "$rev"
batch_begin
expect_ok "PUT: c1 -> 203.0.113.20 tcp 8050" tcp "$C1" 203.0.113.20 8050
expect_ok "PUT: c1 -> 192.0.2.10 icmp" icmp "$C1" 192.0.2.10
expect_blocked "PUT: the dns rule is gone" udp "$C1" 203.0.113.10 53
expect_blocked "PUT: c1 -> 203.0.113.20 tcp 8101" tcp "$C1" 203.0.113.20 8101
batch_end
check "PUT kept the interface" test "$(api_field data.interface)" = hc1

# --- firewall calls before the attach; enforced from the attach on
expect_api "reset c2 before it is attached" 201 POST $V/c2/firewall/reset
expect_api "allow c2 tcp 443 before the attach" 201 POST $V/c2/firewall/egress \
	"$(rule_body 203.0.113.10 443 tcp allow)"
expect_ok "not attached yet: c2 -> 203.0.113.10 tcp 80 untouched" tcp "$C2" 203.0.113.10 80
expect_api "attach c1's interface to c2: taken" 409 PUT $V/c2 '{"interface": "hc1"}'
expect_api "attach c2 to hc2" 200 PUT $V/c2 '{"interface": "hc2"}'
batch_begin
expect_blocked "attached: c2 -> 203.0.113.10 tcp 80" tcp "$C2" 203.0.113.10 80
expect_ok "attached: c2 -> 203.0.113.10 tcp 443" tcp "$C2" 203.0.113.10 443
batch_end
expect_api "list: two containers" 200 GET /api/v1/containers
check "list: c1 and c2 with rule counts" \
	test "$(api_field data.containers.0.container_id):$(api_field data.containers.0.rule_count) $(api_field data.containers.1.container_id):$(api_field data.containers.1.rule_count)" = "c1:2 c2:1"

# --- detach keeps the firewall, delete forgets the container
expect_api "detach c2" 200 PUT $V/c2 '{"interface": null}'
check "detached c2 keeps its rule" test "$(api_field data.rules.0.destination_port)" = 443
expect_ok "detached: c2 -> 203.0.113.10 tcp 80 untouched" tcp "$C2" 203.0.113.10 80
expect_api "attach c2 again" 200 PUT $V/c2 '{"interface": "hc2"}'
expect_blocked "re-attached: c2 -> 203.0.113.10 tcp 80" tcp "$C2" 203.0.113.10 80
expect_api "delete c2" 200 DELETE $V/c2
check "c2's state file is gone" test ! -e "$STATE/containers/c2.state"
expect_api "c2 is unknown now" 404 GET $V/c2/firewall
expect_ok "deleted: c2 -> 203.0.113.10 tcp 80 untouched" tcp "$C2" 203.0.113.10 80
expect_api "egress on an unknown container" 404 POST $V/c9/firewall/egress "$STRIPE"
check "... logs no change" sh -c "! grep -q 'change by .*/c9/' $WORK/agentd.log"

# --- the kernel holds exactly the desired state
expect_api "health" 200 GET /api/v1/health
check "health: kernel in sync after all that" test "$(api_field data.kernel_in_sync)" = true
dump "$WORK/final.json"
check "the kernel has c1 and only c1" \
	test "$(json_get "$WORK/final.json" containers | "$PYTHON" -c 'import json,sys; print(sorted(json.load(sys.stdin)))')" = "['c1']"
check "the state file holds revision $rev" \
	test "$(json_get "$STATE/containers/c1.state" revision)" = "$rev"

# --- the TCP listener wants the token (a second agent on its own table)
echo "s3cret-token-$$" >"$WORK/token"
chmod 600 "$WORK/token"
ip netns exec "$HOST" "$AGENTD" --table "${TABLE}tcp" --socket "$WORK/tcp.sock" --dns-port 0 \
	--state-dir "$WORK/tcpstate" --listen 127.0.0.1:8181 --token-file "$WORK/token" \
	>>"$WORK/agentd-tcp.log" 2>&1 &
tcp_pid=$!
bg_track $tcp_pid
tcp_call() { nsx "$HOST" curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$@" http://127.0.0.1:8181/api/v1/containers; }
poll 10 "the TCP listener" tcp_listening "$HOST" 8181
check "tcp without a token: 401" test "$(tcp_call)" = 401
check "tcp with a wrong token: 401" test "$(tcp_call -H 'Authorization: Bearer wrong')" = 401
check "tcp with the token: 200" test "$(tcp_call -H "Authorization: Bearer s3cret-token-$$")" = 200
check "with both listeners, $(threads "$tcp_pid") threads, CAP_NET_ADMIN only [$(caps_wide "$tcp_pid")]" \
	test -z "$(caps_wide "$tcp_pid")"
HOODY=${HOODY:-$HFW_ROOT/build/hoody}
check "hoody over TCP with --url and --token-file" \
	nsx "$HOST" "$HOODY" --url http://127.0.0.1:8181 --token-file "$WORK/token" firewall list
echo wrong >"$WORK/wrong-token"
rc=0
nsx "$HOST" "$HOODY" --url http://127.0.0.1:8181 --token-file "$WORK/wrong-token" firewall list \
	>/dev/null 2>&1 || rc=$?
check "hoody over TCP with a wrong token: API error, exit 1 (got $rc)" test "$rc" -eq 1
rc=0
ip netns exec "$HOST" "$AGENTD" --table "${TABLE}x" --listen 127.0.0.1:8182 2>/dev/null || rc=$?
check "--listen without --token-file is refused (exit $rc)" test "$rc" -eq 2

finish
