#!/usr/bin/env bash
# 130: the hoody CLI against the real daemon, with the platform docs'
# commands, checked with packets; its output forms and exit codes
# (0 done, 1 refused by the API, 2 usage, 3 agent unreachable).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

hfw_init cli
need_agentd
HOODY=${HOODY:-$HFW_ROOT/build/hoody}
[ -x "$HOODY" ] || die "hoody not found at $HOODY (build it with make)"
topo_up
servers_up
agentd_start
export HOODY_FIREWALL_SOCKET=$SOCK

# hoody_rc WANT DESC ARGS...: run the CLI; its output is in $WORK/cli.out
hoody_rc() {
	local want=$1 desc=$2 rc=0
	shift 2
	"$HOODY" "$@" >"$WORK/cli.out" 2>"$WORK/cli.err" || rc=$?
	if [ "$rc" -eq "$want" ]; then
		pass "$desc [exit $rc]"
	else
		fail "$desc [expected exit $want, got $rc: $(head -c 300 "$WORK/cli.err")]"
	fi
}
out_has() { grep -qF -- "$1" "$WORK/cli.out"; }
err_has() { grep -qF -- "$1" "$WORK/cli.err"; }

hoody_rc 0 "hoody firewall attach -c c1 --interface hc1" firewall attach -c c1 --interface hc1
check "attach says it is enforced" out_has "enforced: yes"
check "... and warns of nothing" test ! -s "$WORK/cli.err"
hoody_rc 0 "hoody firewall reset -c c1" firewall reset -c c1
check "reset says it is enforced" out_has "enforced: yes"
hoody_rc 0 "hoody firewall egress create (the documented command)" \
	firewall egress create -c c1 --action allow --protocol tcp --destination-port 443 \
	--destination 203.0.113.10/32 --description "Allow Stripe API"
check "create names the new rule" grep -q 'r[0-9a-f]\{8\}' "$WORK/cli.out"
batch_begin
expect_ok "CLI rule: c1 -> 203.0.113.10 tcp 443" tcp "$C1" 203.0.113.10 443
expect_blocked "CLI lock: c1 -> 203.0.113.10 tcp 80" tcp "$C1" 203.0.113.10 80
batch_end

hoody_rc 0 "egress list (table)" firewall egress list -c c1
check "the table shows the rule and its description" out_has "Allow Stripe API"
check "the table has a header" out_has "DESTINATION"
# a description may hold any character the API takes: a terminal must
# still show the line as it is (no C1 controls, no bidi overrides)
expect_api "a rule whose description holds U+0085, U+202E and U+2066" 201 \
	POST /api/v1/containers/c1/firewall/egress \
	'{"destination": "198.51.100.7", "action": "allow", "description": "evil\u0085\u202eexe.txt\u2066x"}'
hoody_rc 0 "egress list (table) with it" firewall egress list -c c1
check "the table shows it with '?' for each, in order" out_has "evil??exe.txt?x"
check "... and none of those characters" "$PYTHON" -c 'import sys
sys.exit(any(c in open(sys.argv[1], encoding="utf-8").read() for c in "\u0085\u202e\u2066"))' "$WORK/cli.out"
expect_api "... the rule goes" 200 DELETE "/api/v1/containers/c1/firewall/egress/$(api_field data.id)"
hoody_rc 0 "egress list -o json" firewall egress list -c c1 -o json
rid=$(json_get "$WORK/cli.out" rules.0.id)
check "-o json prints the API's data (rule $rid)" test "$(json_get "$WORK/cli.out" rules.0.destination)" = 203.0.113.10/32
hoody_rc 0 "show -o json" firewall show -c c1 -o json
check "show: interface and policy" \
	test "$(json_get "$WORK/cli.out" interface) $(json_get "$WORK/cli.out" default_action)" = "hc1 deny"
hoody_rc 0 "firewall list" firewall list
check "list shows c1 on hc1" grep -q 'c1 .*hc1' "$WORK/cli.out"
check "... enforced" grep -Eq '^c1 +hc1 +yes +deny' "$WORK/cli.out"
hoody_rc 0 "status" status
check "status: nothing unenforced" grep -Eq '^not enforced: +0$' "$WORK/cli.out"

hoody_rc 0 "egress delete" firewall egress delete -c c1 "$rid"
expect_blocked "rule deleted with the CLI: c1 -> 203.0.113.10 tcp 443" tcp "$C1" 203.0.113.10 443
hoody_rc 1 "deleting it again is an API error" firewall egress delete -c c1 "$rid"
check "... and the API's message is printed" err_has "rule_not_found"
hoody_rc 1 "a bad destination is refused by the API" \
	firewall egress create -c c1 --action allow --destination 10.0.0.1/8
check "... with the API's message naming the fix" err_has "10.0.0.0/8"

printf '{"default_action": "deny", "rules": [{"destination": "192.0.2.10", "protocol": "icmp", "action": "allow"}]}' >"$WORK/fw.json"
hoody_rc 0 "firewall set -f FILE" firewall set -c c1 -f "$WORK/fw.json"
expect_ok "set: c1 -> 192.0.2.10 icmp" icmp "$C1" 192.0.2.10
hoody_rc 0 "detach" firewall detach -c c1
check "detach says NOT ATTACHED" out_has "enforced: NOT ATTACHED"
check "... and warns that hc1 is unfiltered now" err_has "hoody: warning: interface hc1 has no container now"
expect_ok "detached: c1 -> 203.0.113.10 tcp 80 untouched" tcp "$C1" 203.0.113.10 80
hoody_rc 0 "status after the detach" status
check "status: one not enforced, not attached" grep -Eq '^not enforced: +1 \(1 not attached\)$' "$WORK/cli.out"
hoody_rc 0 "detach -o json" -o json firewall detach -c c1
check "... stdout is the answer's JSON, with enforcement" \
	test "$(json_get "$WORK/cli.out" enforcement)" = not_attached
hoody_rc 0 "delete" firewall delete -c c1
hoody_rc 1 "show after delete: not found" firewall show -c c1

# usage errors: exit 2 with a hint
hoody_rc 2 "no command" 
hoody_rc 2 "unknown command" firewall frobnicate
hoody_rc 2 "create without --action" firewall egress create -c c1 --destination 203.0.113.1
check "... with a hint" err_has "--help"
hoody_rc 2 "reset without -c" firewall reset
hoody_rc 0 "hoody --help" --help
hoody_rc 0 "hoody firewall egress create --help" firewall egress create --help
check "the help names --destination-port" out_has "--destination-port"

# unreachable agent: exit 3, saying where it looked
hoody_rc 3 "no agent behind the socket" --socket "$WORK/nothing.sock" firewall list
check "... saying where it looked" err_has "$WORK/nothing.sock"

finish
