#!/usr/bin/env bash
# 185: never look protected when it is not. Every answer, table and count
# says whether a container's firewall is really enforced, checked with
# packets: a container reset but never attached reaches the remote and is
# "not_attached"; one attached to an interface that does not exist (a
# typo) is "interface_missing", with a warning, until the interface
# appears, and from then on "enforced" and blocked; a detach warns that
# the interface is now unfiltered (and it is), or, with
# --container-ifprefix, that it is dropped (and it is). Health and the
# audit count the containers nothing enforces; the CLI shows it all.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

hfw_init enf
need_agentd
command -v curl >/dev/null || skip "curl missing"
HOODY=${HOODY:-$HFW_ROOT/build/hoody}
[ -x "$HOODY" ] || die "hoody not found at $HOODY (build it with make)"
topo_up
servers_up
agentd_start

V=/api/v1/containers
C3=$HFW_TAG-c3
ns_add "$C3"

# hoody_rc WANT DESC ARGS...: run the CLI; its output is in $WORK/cli.out, cli.err
hoody_rc() {
	local want=$1 desc=$2 rc=0
	shift 2
	"$HOODY" --socket "$SOCK" "$@" >"$WORK/cli.out" 2>"$WORK/cli.err" || rc=$?
	if [ "$rc" -eq "$want" ]; then
		pass "$desc [exit $rc]"
	else
		fail "$desc [expected exit $want, got $rc: $(head -c 300 "$WORK/cli.err")]"
	fi
}
# these are called through check and poll_quiet
# shellcheck disable=SC2317
out_has() { grep -qF -- "$1" "$WORK/cli.out"; }
# shellcheck disable=SC2317
err_has() { grep -qF -- "$1" "$WORK/cli.err"; }
# shellcheck disable=SC2317
out_re() { grep -Eq -- "$1" "$WORK/cli.out"; }
# enforcement_is ID WANT: the firewall of ID says enforcement WANT
# shellcheck disable=SC2317
enforcement_is() { api GET "$V/$1/firewall" && [ "$(api_field data.enforcement)" = "$2" ]; }
# health_is PATH WANT: the health answer's PATH is WANT
health_is() {
	api GET /api/v1/health
	if [ "$(api_field "$1")" = "$2" ]; then
		pass "health: $1 is $2"
	else
		fail "health: $1 is $(api_field "$1"), expected $2 [${API_BODY:0:400}]"
	fi
}

# --- reset, never attached: stored, not enforced, and the container is open
expect_api "reset agent-1, never attached" 201 POST $V/agent-1/firewall/reset
check "... default deny, as asked" test "$(api_field data.default_action)" = deny
check "... but enforcement says not_attached" test "$(api_field data.enforcement)" = not_attached
check "... and the answer warns not_attached" test "$(api_field data.warnings.0.code)" = not_attached
batch_begin
expect_ok "nothing enforces agent-1's deny: c1 -> remote tcp 443 passes" tcp "$C1" 203.0.113.10 443
expect_ok "... and c1 -> remote udp 53" udp "$C1" 203.0.113.10 53
batch_end
expect_api "GET the firewall" 200 GET $V/agent-1/firewall
check "... says not_attached" test "$(api_field data.enforcement)" = not_attached
expect_api "the container list" 200 GET $V
check "... says not_attached" test "$(api_field data.containers.container_id=agent-1.enforcement)" = not_attached
expect_api "the rules list" 200 GET $V/agent-1/firewall/egress
check "... says not_attached" test "$(api_field data.enforcement)" = not_attached
health_is data.not_enforced 1
health_is data.enforcement.not_attached 1
health_is data.enforcement.enforced 0
# the platform's own doing (not attached yet, a stopped container): ok, counted
health_is data.status ok
health_is data.kernel_in_sync true
health_is data.interfaces_followed true
expect_api "the audit" 200 GET /api/v1/firewall/audit
check "... agent-1 in sync (the kernel is to hold nothing for it)" \
	test "$(api_field data.containers.container_id=agent-1.in_sync)" = true
check "... and not_attached" test "$(api_field data.containers.container_id=agent-1.enforcement)" = not_attached
check "... the header: 1 of 1 in sync, yet 0 enforced and 1 not" \
	test "$(api_field data.containers_in_sync)/$(api_field data.containers_enforced)/$(api_field data.containers_not_enforced)" = 1/0/1

hoody_rc 0 "hoody firewall reset -c agent-1" firewall reset -c agent-1
check "... prints enforced: NOT ATTACHED" out_has "enforced: NOT ATTACHED"
check "... and warns on stderr" err_has "hoody: warning: container agent-1 is not attached"
check "... with the code" err_has "(not_attached)"
hoody_rc 0 "hoody firewall list" firewall list
check "... has an ENFORCED column" out_re '^CONTAINER +INTERFACE +ENFORCED '
check "... agent-1: NOT ATTACHED" out_re '^agent-1 +- +NOT ATTACHED +deny +0 +'
hoody_rc 0 "hoody firewall show -c agent-1" firewall show -c agent-1
check "... enforced: NOT ATTACHED" out_re '^enforced: +NOT ATTACHED$'
hoody_rc 0 "hoody status" status
check "... counts it" out_re '^not enforced: +1 \(1 not attached\)$'
check "... status stays ok" out_re '^status: +ok$'
check "... unattached interfaces are not filtered (no --container-ifprefix)" \
	out_re '^unattached interfaces: +NOT FILTERED'
hoody_rc 0 "hoody firewall audit" firewall audit
check "... the header does not read as protected" out_re '1 of 1 containers in sync, 1 NOT ENFORCED$'
check "... agent-1's row: in sync, NOT ATTACHED" out_re '^agent-1 +- .* yes +NOT ATTACHED$'

# --- attached to an interface that does not exist (a typo for hc1)
expect_api "attach agent-1 to hc11 (no such interface)" 200 PUT $V/agent-1 '{"interface": "hc11"}'
check "... interface_present false" test "$(api_field data.interface_present)" = false
check "... enforcement interface_missing" test "$(api_field data.enforcement)" = interface_missing
check "... warns interface_missing" \
	test "$(api_field data.warnings.0.code)/$(json_len "$WORK/api.out" data.warnings)" = interface_missing/1
check "... naming the interface" grep -q 'interface hc11 does not exist' "$WORK/api.out"
expect_ok "the typo leaves c1 open: c1 -> remote tcp 443" tcp "$C1" 203.0.113.10 443
health_is data.not_enforced 1
health_is data.enforcement.interface_missing 1
expect_api "the audit" 200 GET $V/agent-1/firewall/audit
check "... the kernel holds the chain, in sync, but interface_missing" \
	test "$(api_field data.containers.0.enforced)/$(api_field data.containers.0.in_sync)/$(api_field data.containers.0.enforcement)" = true/true/interface_missing
hoody_rc 0 "hoody firewall attach -c agent-1 --interface hc11 (again)" \
	firewall attach -c agent-1 --interface hc11
check "... prints enforced: INTERFACE MISSING" out_has "enforced: INTERFACE MISSING"
check "... and warns on stderr" err_has "(interface_missing)"
hoody_rc 0 "hoody firewall list" firewall list
check "... agent-1: INTERFACE MISSING" out_re '^agent-1 +hc11 +INTERFACE MISSING +deny'
hoody_rc 0 "hoody firewall audit" firewall audit
check "... agent-1's row: in sync, INTERFACE MISSING" out_re '^agent-1 +hc11 +deny .* yes +INTERFACE MISSING$'

# --- the interface appears: enforced from then on, with no call
ip -n "$HOST" link add hc11 type veth peer name eth0 netns "$C3"
ip -n "$HOST" addr add 10.10.11.1/24 dev hc11
ip -n "$C3" addr add 10.10.11.2/24 dev eth0
ip -n "$HOST" link set hc11 up
ip -n "$C3" link set eth0 up
ip -n "$C3" route add default via 10.10.11.1
poll 5 "hc11 up" link_is_up "$HOST" hc11
poll 5 "eth0 up in c3" link_is_up "$C3" eth0
if poll_quiet 5 enforcement_is agent-1 enforced; then
	pass "hc11 created: agent-1 is reported enforced, no call made"
else
	fail "hc11 created: agent-1 still $(api_field data.enforcement) after 5 s"
fi
batch_begin
expect_blocked "enforced: agent-1's deny drops c3 -> remote tcp 443" tcp "$C3" 203.0.113.10 443
expect_blocked "... and c3 -> its gateway" tcp "$C3" 10.10.11.1 8080
expect_ok "hc1 was never agent-1's: c1 -> remote still passes" tcp "$C1" 203.0.113.10 443
batch_end
health_is data.not_enforced 0
health_is data.enforcement.enforced 1
expect_api "the audit" 200 GET /api/v1/firewall/audit
check "... agent-1 enforced, all enforced" \
	test "$(api_field data.containers.0.enforcement)/$(api_field data.containers_not_enforced)" = enforced/0
# the audit's reading must not make the cheap answers say otherwise
expect_api "the list after the audit" 200 GET $V
check "... agent-1 still enforced" test "$(api_field data.containers.0.enforcement)" = enforced
hoody_rc 0 "hoody firewall list" firewall list
check "... agent-1: yes" out_re '^agent-1 +hc11 +yes +deny'
hoody_rc 0 "hoody firewall audit" firewall audit
check "... the header says all enforced" out_re '1 of 1 containers in sync, all enforced$'

# --- attached the moment its veth is made: not called missing
ip -n "$HOST" link add hc12 type veth peer name eth1 netns "$C3"
expect_api "attach agent-2 to hc12 right after it was made" 201 PUT $V/agent-2 '{"interface": "hc12"}'
check "... present and enforced, with no warning" \
	test "$(api_field data.interface_present)/$(api_field data.enforcement)/$(json_len "$WORK/api.out" data.warnings)" = true/enforced/0
expect_api "delete agent-2" 200 DELETE $V/agent-2
check "... warns that hc12 is unfiltered now" \
	test "$(api_field data.warnings.0.code)" = interface_unfiltered
check "... naming it" grep -q 'interface hc12 has no container now' "$WORK/api.out"

# --- the interface goes: interface_missing again
ip -n "$HOST" link del hc12
ip -n "$HOST" link set hc11 down
ip -n "$HOST" link set hc11 name hc11x
if poll_quiet 5 enforcement_is agent-1 interface_missing; then
	pass "hc11 renamed away: agent-1 is interface_missing again"
else
	fail "hc11 renamed away: agent-1 is $(api_field data.enforcement)"
fi
ip -n "$HOST" link set hc11x name hc11
ip -n "$HOST" link set hc11 up
ip -n "$C3" route replace default via 10.10.11.1
poll 5 "hc11 up again" link_is_up "$HOST" hc11
if poll_quiet 5 enforcement_is agent-1 enforced; then
	pass "hc11 back: agent-1 enforced again"
else
	fail "hc11 back: agent-1 is $(api_field data.enforcement)"
fi
expect_blocked "... and c3 -> remote dropped again" tcp "$C3" 203.0.113.10 443

# --- detach: the answer says the interface is unfiltered now, and it is
expect_api "detach agent-1" 200 PUT $V/agent-1 '{"interface": null}'
check "... not_attached" test "$(api_field data.enforcement)" = not_attached
check "... one warning: interface_unfiltered (not_attached is what was asked)" \
	test "$(api_field data.warnings.0.code)/$(json_len "$WORK/api.out" data.warnings)" = interface_unfiltered/1
check "... saying everything on hc11 passes" \
	grep -q 'interface hc11 has no container now (it was agent-1.s) and is no longer filtered' "$WORK/api.out"
batch_begin
expect_ok "detached: c3 -> remote tcp 443 passes" tcp "$C3" 203.0.113.10 443
expect_refused "detached: c3 reaches its gateway (nothing listens there: a RST, not a drop)" \
	tcp "$C3" 10.10.11.1 8080
batch_end
health_is data.not_enforced 1
hoody_rc 0 "hoody firewall attach -c agent-1 --interface hc11" firewall attach -c agent-1 --interface hc11
check "... enforced: yes" out_has "enforced: yes"
check "... no warning" test ! -s "$WORK/cli.err"
expect_blocked "attached again: c3 -> remote dropped" tcp "$C3" 203.0.113.10 443
hoody_rc 0 "hoody firewall detach -c agent-1" firewall detach -c agent-1
check "... prints enforced: NOT ATTACHED" out_has "enforced: NOT ATTACHED"
check "... warns on stderr that hc11 is unfiltered" err_has "and is no longer filtered"
check "... with the code" err_has "(interface_unfiltered)"
expect_ok "detached with the CLI: c3 -> remote passes" tcp "$C3" 203.0.113.10 443

# --- the whole host at once
expect_api "PUT the host: agent-1 on hc11, web-9 on hc99 (missing), lone unattached" 200 \
	PUT /api/v1/firewall \
	'{"containers": {"agent-1": {"interface": "hc11"}, "web-9": {"interface": "hc99"}, "lone": {}}}'
check "... counts 2 not enforced" test "$(api_field data.not_enforced)" = 2
check "... warns web-9's interface is missing" \
	grep -q 'interface hc99 does not exist' <<<"$(api_field data.warnings.code=interface_missing.message)"
check "... warns lone is not attached" \
	grep -q 'container lone is not attached' <<<"$(api_field data.warnings.code=not_attached.message)"
check "... and nothing else" test "$(json_len "$WORK/api.out" data.warnings)" = 2
health_is data.not_enforced 2
health_is data.enforcement.enforced 1
health_is data.enforcement.interface_missing 1
health_is data.enforcement.not_attached 1
expect_blocked "agent-1 enforced by the host PUT: c3 -> remote dropped" tcp "$C3" 203.0.113.10 443

# --- with --container-ifprefix, a detached interface stays dropped, and is said to
agentd_stop TERM
check "the agent stopped cleanly" test "$AGENTD_RC" -eq 0
agentd_start --container-ifprefix hc
health_is data.container_ifprefixes.0 hc
hoody_rc 0 "hoody status" status
check "... unattached hc* interfaces are dropped" out_re '^unattached interfaces: +dropped when named hc\*'
expect_api "detach agent-1 (prefix hc)" 200 PUT $V/agent-1 '{"interface": null}'
check "... warns interface_dropped" \
	test "$(api_field data.warnings.0.code)/$(json_len "$WORK/api.out" data.warnings)" = interface_dropped/1
check "... naming the prefix" grep -q 'it matches --container-ifprefix hc, so everything arriving on it is dropped' "$WORK/api.out"
batch_begin
expect_blocked "detached, but hc* fails closed: c3 -> remote dropped" tcp "$C3" 203.0.113.10 443
expect_ok "the uplink is not filtered: remote -> host" tcp "$REMOTE" 198.51.100.1 8080
batch_end
hoody_rc 0 "hoody firewall attach -c agent-1 --interface hc11" firewall attach -c agent-1 --interface hc11
hoody_rc 0 "hoody firewall detach -c agent-1 (prefix hc)" firewall detach -c agent-1
check "... warns on stderr that hc11 is still dropped" err_has "matches --container-ifprefix hc"
check "... with the code" err_has "(interface_dropped)"
check "... and not that it is unfiltered" bash -c "! grep -q 'no longer filtered' '$WORK/cli.err'"
expect_blocked "detached with the CLI, prefix hc: c3 -> remote dropped" tcp "$C3" 203.0.113.10 443

finish
