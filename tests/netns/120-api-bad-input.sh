#!/usr/bin/env bash
# 120: bad input over HTTP. Every refused call gets the right status and
# a message that names what was wrong, the daemon keeps serving, and
# neither the persisted state nor the kernel changes. Then 100 concurrent
# writers to one container (no lost update), and a full state directory
# (a small tmpfs in a private mount namespace): a change that needs room
# gets 507 and changes nothing; one that fits its file's slots commits.
# The same directory remounted read-only: every change gets 500 and
# changes nothing, and the agent serves changes again once it is writable.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

hfw_init badin
need_agentd
command -v curl >/dev/null || skip "curl missing"
command -v unshare >/dev/null || skip "unshare missing"
ns_add "$HOST"
agentd_start

V=/api/v1/containers
expect_api "attach c1" 201 PUT $V/c1 '{"interface": "hc1"}'
expect_api "c1: one rule" 201 POST $V/c1/firewall/egress "$(rule_body 203.0.113.10 443 tcp allow keep)"

snapshot() {
	cat "$STATE/containers/"*.state >"$1.state"
	dump "$1.dump"
	"$PYTHON" "$PROBE" statecmp "$1.dump" "$1.dump" --table "$TABLE" >/dev/null
	api GET $V/c1/firewall
	cp "$WORK/api.out" "$1.api"
}
snapshot "$WORK/before"

# refuse DESC STATUS CODE METHOD PATH [BODY [CONTENT_TYPE]]: the call is
# refused with STATUS and error code CODE, with a message
refuse() {
	local desc=$1 status=$2 code=$3 got
	shift 3
	api "$@"
	got=$(api_field error.code 2>/dev/null || echo "?")
	if [ "$API_STATUS" = "$status" ] && [ "$got" = "$code" ] &&
		[ -n "$(api_field error.message 2>/dev/null)" ]; then
		pass "$desc [$status $code: $(api_field error.message | cut -c1-110)]"
	else
		fail "$desc [expected $status $code, got $API_STATUS: ${API_BODY:0:200}]"
	fi
}
E=$V/c1/firewall/egress

# --- bodies that are not a JSON object
refuse "truncated JSON" 400 invalid_json POST $E '{"destination": "203.0.113.1", "act'
refuse "malformed JSON" 400 invalid_json POST $E '{destination: 1}'
refuse "a JSON array" 400 invalid_json POST $E '[]'
refuse "a JSON string" 400 invalid_json POST $E '"allow"'
refuse "trailing garbage" 400 invalid_json POST $E '{"destination": "203.0.113.1", "action": "allow"} x'
refuse "a NUL byte" 400 invalid_json POST $E "@$HFW_DIR/golden/nul-body.json"
refuse "empty body" 400 missing_body POST $E ''
refuse "text/plain" 415 unsupported_media_type POST $E '{"destination": "203.0.113.1", "action": "allow"}' text/plain
refuse "no content type" 415 unsupported_media_type POST $E '{"destination": "203.0.113.1", "action": "allow"}' ''

# --- wrong types and every refused rule form
refuse "destination a number" 400 invalid_destination POST $E '{"destination": 5, "action": "allow"}'
refuse "action a boolean" 400 invalid_action POST $E '{"destination": "203.0.113.1", "action": true}'
refuse "missing destination" 400 missing_field POST $E '{"action": "allow"}'
refuse "missing action" 400 missing_field POST $E '{"destination": "203.0.113.1"}'
refuse "a typo: destintion" 400 unknown_field POST $E '{"destintion": "203.0.113.1", "action": "allow"}'
for d in '*.com' 10.0.0.0/33 256.1.1.1 010.0.0.1 0x0a.0.0.1 10.1 10.0.0.1/8 " 10.0.0.1" ""; do
	refuse "destination \"$d\"" 400 invalid_destination POST $E "{\"destination\": \"$d\", \"action\": \"allow\"}"
done
for p in 0 65536 "9000-8000" "80," "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17" "http" "-1"; do
	refuse "destination_port \"$p\"" 400 invalid_port POST $E \
		"{\"destination\": \"203.0.113.1\", \"destination_port\": \"$p\", \"protocol\": \"tcp\", \"action\": \"allow\"}"
done
refuse "a port with icmp" 400 invalid_port POST $E \
	'{"destination": "203.0.113.1", "destination_port": "443", "protocol": "icmp", "action": "allow"}'
refuse "a port with any" 400 invalid_port POST $E \
	'{"destination": "203.0.113.1", "destination_port": "443", "action": "allow"}'
refuse "protocol sctp" 400 invalid_protocol POST $E '{"destination": "203.0.113.1", "protocol": "sctp", "action": "allow"}'
refuse "action permit" 400 invalid_action POST $E '{"destination": "203.0.113.1", "action": "permit"}'
long=$(printf 'x%.0s' $(seq 257))
refuse "a 257-byte description" 400 invalid_description POST $E \
	"{\"destination\": \"203.0.113.1\", \"action\": \"allow\", \"description\": \"$long\"}"
refuse "a description with invalid UTF-8" 400 invalid_description POST $E "@$HFW_DIR/golden/bad-utf8-body.json"

# --- sizes
head -c $((2 << 20)) /dev/zero | tr '\0' ' ' >"$WORK/big.json"
refuse "a 2 MiB body" 413 payload_too_large POST $E "@$WORK/big.json"
api_chunked() {
	curl -s --max-time 20 --unix-socket "$SOCK" -X POST -H 'Transfer-Encoding: chunked' \
		-H 'Content-Type: application/json' --data-binary "@$WORK/big.json" \
		-o "$WORK/api.out" -w '%{http_code}' "http://localhost$E"
}
check "a 2 MiB chunked body (no length announced): 413" test "$(api_chunked)" = 413
# 64 MiB of [0,0,...] for the whole host: cJSON would spend some 2 GB on it
"$PYTHON" -c 'import sys; n = (32 << 20) - 1; sys.stdout.write("[" + "0," * (n - 1) + "0]")' >"$WORK/dense.json"
refuse "a 64 MiB body of 33 million values, to the whole-host call" 400 invalid_json \
	PUT /api/v1/firewall "@$WORK/dense.json"
hwm=$(awk '$1 == "VmHWM:" {print $2}' "/proc/$AGENTD_PID/status")
check "... refused before parsing: the agent's peak RSS is $((hwm / 1024)) MiB (under 256)" \
	test "$hwm" -lt $((256 << 10))
rm -f "$WORK/dense.json"

# --- paths, methods, ids
refuse "unknown path" 404 not_found GET /api/v1/nothing
refuse "outside the API" 404 not_found GET /index.html
refuse "unknown deeper path" 404 not_found GET $V/c1/firewall/ingress
refuse "wrong method on egress" 405 method_not_allowed PUT $E '{}'
refuse "wrong method on health" 405 method_not_allowed DELETE /api/v1/health
refuse "an id with /" 400 invalid_container_id GET $V/a%2Fb/firewall
refuse "an id .." 400 invalid_container_id GET $V/../firewall
refuse "an id %2E%2E" 400 invalid_container_id GET $V/%2E%2E/firewall
refuse "a 200-character id" 400 invalid_container_id POST "$V/$(printf 'a%.0s' $(seq 200))/firewall/reset"
refuse "an id with a space" 400 invalid_container_id POST "$V/a%20b/firewall/reset"
refuse "a bad escape in the path" 404 not_found GET $V/%zz/firewall
refuse "attach: unknown field" 400 unknown_field PUT $V/c1 '{"interface": "hc1", "rules": []}'
refuse "attach: no interface" 400 missing_field PUT $V/c1 '{}'
refuse "attach: bad interface name" 400 invalid_interface PUT $V/c1 '{"interface": "a/b"}'
refuse "attach: interface too long" 400 invalid_interface PUT $V/c1 '{"interface": "abcdefghijklmnop"}'
refuse "PUT firewall with an interface" 400 unknown_field PUT $V/c1/firewall '{"interface": "hc9", "rules": []}'
refuse "PUT firewall: bad rule" 400 invalid_destination PUT $V/c1/firewall '{"rules": [{"destination": "x", "action": "allow"}]}'
refuse "PUT firewall: bad default" 400 invalid_default_action PUT $V/c1/firewall '{"default_action": "maybe"}'
refuse "reset with parameters" 400 unknown_field POST $V/c1/firewall/reset '{"default_action": "allow"}'
refuse "egress on an unknown container" 404 container_not_found POST $V/c9/firewall/egress "$(rule_body 203.0.113.1 "" any allow)"
refuse "delete an unknown rule" 404 rule_not_found DELETE $E/nope
refuse "delete an unknown container" 404 container_not_found DELETE $V/c9
refuse "a rule that exists with another description" 409 rule_conflict POST $E "$(rule_body 203.0.113.10 443 tcp allow other)"
expect_api "the daemon still serves" 200 GET /api/v1/health

snapshot "$WORK/after"
check "refused calls left the state file unchanged" cmp -s "$WORK/before.state" "$WORK/after.state"
check "refused calls left the kernel unchanged" \
	"$PYTHON" "$PROBE" statecmp "$WORK/before.dump" "$WORK/after.dump" --table "$TABLE"
check "refused calls left the revision unchanged" cmp -s "$WORK/before.api" "$WORK/after.api"
check "no temporary file was left behind" test -z "$(ls "$STATE/containers" | grep -v '\.state$')"

# --- 100 concurrent writers to one container
rev0=$(json_get "$WORK/after.api" data.revision)
writers=()
for i in $(seq 100); do
	curl -s --max-time 30 --unix-socket "$SOCK" -X POST -H 'Content-Type: application/json' \
		--data-binary "$(rule_body "10.1.$((i / 250)).$((i % 250))" 443 tcp allow "writer $i")" \
		-o /dev/null -w '%{http_code}\n' "http://localhost$E" >"$WORK/w.$i" &
	writers+=($!)
done
for p in "${writers[@]}"; do wait "$p" || true; done
ok=$(cat "$WORK"/w.* | grep -c '^201$' || true)
check "100 concurrent writers: all 201 (got $ok)" test "$ok" -eq 100
expect_api "the rules after the writers" 200 GET $V/c1/firewall
n=$(json_len "$WORK/api.out" data.rules)
check "no lost update: 101 rules (got $n)" test "$n" -eq 101
check "the revision grew by exactly 100" test "$(api_field data.revision)" -eq $((rev0 + 100))
dump "$WORK/writers.dump"
kn=$(json_len "$WORK/writers.dump" containers.c1.rules)
check "the kernel holds the 101 rules (got $kn)" test "$kn" -eq 101
check "the state file holds the 101 rules" test "$(json_len "$STATE/containers/c1.state" firewall.rules)" -eq 101

# --- a full state directory: a second agent on its own table, its state on a tiny tmpfs
FULL=$WORK/full
mkdir -p "$FULL"
ip netns exec "$HOST" unshare -m --propagation private sh -c \
	'mount -t tmpfs -o size=64k tmpfs "$1" && exec "$2" --table "$3" --socket "$4" --state-dir "$1/state" --dns-port 0' \
	sh "$FULL" "$AGENTD" "${TABLE}full" "$WORK/full.sock" >>"$WORK/agentd-full.log" 2>&1 &
FPID=$!
bg_track "$FPID"
SOCK_MAIN=$SOCK
SOCK=$WORK/full.sock
poll 15 "the second agent" api_up
expect_api "full: create c1 while there is room" 201 PUT $V/c1 '{"interface": "hf1"}'
expect_api "full: one rule" 201 POST $E "$(rule_body 203.0.113.10 443 tcp allow)"
inside() { nsenter -t "$FPID" -m "$@"; }
inside cat "$FULL/state/containers/c1.state" >"$WORK/full.before"
ip netns exec "$HOST" "$AGENTD" --dump --table "${TABLE}full" >"$WORK/full.dump.before"
inside sh -c "cat /dev/zero > '$FULL/filler'" 2>/dev/null || true
# 40 rules do not fit the slots of a file made for one: the file must be made anew
big=$("$PYTHON" -c 'import json; print(json.dumps({"default_action": "deny", "rules": [
	{"destination": "198.51.100.%d" % i, "destination_port": "443", "protocol": "tcp",
	 "action": "allow", "description": "rule %d of a firewall too big for the file" % i}
	for i in range(1, 41)]}))')
refuse "full: a firewall that needs a bigger file" 507 storage_full PUT $V/c1/firewall "$big"
refuse "full: a new container" 507 storage_full PUT $V/c2 '{"interface": "hf2"}'
inside cat "$FULL/state/containers/c1.state" >"$WORK/full.after"
ip netns exec "$HOST" "$AGENTD" --dump --table "${TABLE}full" >"$WORK/full.dump.after"
check "full: the old state file is unchanged" cmp -s "$WORK/full.before" "$WORK/full.after"
check "full: the kernel is unchanged" \
	"$PYTHON" "$PROBE" statecmp "$WORK/full.dump.before" "$WORK/full.dump.after" --table "${TABLE}full"
check "full: no temporary file left" test -z "$(inside ls "$FULL/state/containers" | grep -v '\.state$')"
# a change within the file's slots takes no new room on the disk
expect_api "full: a rule that fits the file's slots is added" 201 POST $E "$(rule_body 203.0.113.11 443 tcp allow)"
inside cat "$FULL/state/containers/c1.state" >"$WORK/full.inplace.state"
check "full: ... and is in the state file" test "$(json_len "$WORK/full.inplace.state" firewall.rules)" -eq 2
inside rm -f "$FULL/filler"
expect_api "full: with room again the big firewall is put" 200 PUT $V/c1/firewall "$big"

# --- the state directory remounted read-only mid-run, as a failing disk
# is: every change gets an error that says so and changes nothing;
# writable again, the same calls work, with no restart
expect_api "c3, before the disk fails" 201 PUT $V/c3 '{"interface": "hf3"}'
inside mount -o remount,ro "$FULL"
inside cat "$FULL/state/containers/c1.state" >"$WORK/ro.before"
ip netns exec "$HOST" "$AGENTD" --dump --table "${TABLE}full" >"$WORK/ro.dump.before"
refuse "read-only: a rule" 500 storage_error POST $E "$(rule_body 203.0.113.12 443 tcp allow)"
check "... saying why" grep -q "Read-only file system" "$WORK/api.out"
refuse "read-only: a reset" 500 storage_error POST $V/c1/firewall/reset
refuse "read-only: a new container" 500 storage_error PUT $V/c4 '{"interface": "hf4"}'
# it removes c1 and c3: its journal, refused, stops it before the kernel
refuse "read-only: a whole-host PUT" 500 storage_error PUT /api/v1/firewall '{"containers": {}}'
inside cat "$FULL/state/containers/c1.state" >"$WORK/ro.after"
ip netns exec "$HOST" "$AGENTD" --dump --table "${TABLE}full" >"$WORK/ro.dump.after"
check "read-only: the state file is unchanged" cmp -s "$WORK/ro.before" "$WORK/ro.after"
check "read-only: the kernel is unchanged" \
	"$PYTHON" "$PROBE" statecmp "$WORK/ro.dump.before" "$WORK/ro.dump.after" --table "${TABLE}full"
expect_api "read-only: c1's firewall is still the one stored" 200 GET $V/c1/firewall
check "... its 40 rules" test "$(json_len "$WORK/api.out" data.rules)" -eq 40
inside mount -o remount,rw "$FULL"
expect_api "writable again: the rule is added" 201 POST $E "$(rule_body 203.0.113.12 443 tcp allow)"
inside cat "$FULL/state/containers/c1.state" >"$WORK/rw.state"
check "... and is in the state file" test "$(json_len "$WORK/rw.state" firewall.rules)" -eq 41
expect_api "writable again: a new container" 201 PUT $V/c4 '{"interface": "hf4"}'
SOCK=$SOCK_MAIN
expect_api "the first agent still serves" 200 GET /api/v1/health

finish
