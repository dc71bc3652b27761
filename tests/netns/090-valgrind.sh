#!/usr/bin/env bash
# 090: agentd --apply (first apply, update, identical re-apply, stdin,
# refused file) and --dump run clean under valgrind: no memory errors, no
# definite or indirect leaks. Needs valgrind (skips without it).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

command -v valgrind >/dev/null || skip "valgrind missing"
hfw_init vg
need_agentd

# one namespace is enough: two veth ends named like the real ones
ns_add "$HOST"
ip -n "$HOST" link add hc1 type veth peer name hc2 || skip "veth not available"
ip -n "$HOST" link set hc1 up
ip -n "$HOST" link set hc2 up

cat >"$WORK/a.json" <<'EOF'
{"containers": {
  "c1": {"interface": "hc1", "default_action": "deny", "rules": [
    {"id": "web", "destination": "203.0.113.10/32", "destination_port": "443", "protocol": "tcp", "action": "allow", "description": "web — ünïcode"},
    {"id": "range", "destination": "203.0.113.0/24", "destination_port": "80,8000-8100,9000", "protocol": "tcp", "action": "allow", "description": "range"},
    {"destination": "203.0.113.11/32", "protocol": "any", "action": "deny", "description": "no id"},
    {"id": "dns", "destination": "203.0.113.10/32", "destination_port": "53", "protocol": "udp", "action": "allow"},
    {"id": "ping", "destination": "192.0.2.0/24", "protocol": "icmp", "action": "allow"}
  ]},
  "c2": {"interface": "hc2", "default_action": "allow", "rules": [
    {"id": "no80", "destination": "203.0.113.10/32", "destination_port": "80", "protocol": "tcp", "action": "deny"}
  ]},
  "c3": {"interface": "hx3", "default_action": "deny", "rules": []}
}}
EOF
cat >"$WORK/b.json" <<'EOF'
{"containers": {
  "c1": {"interface": "hc1", "default_action": "allow", "rules": [
    {"id": "range", "destination": "203.0.113.0/24", "destination_port": "8000-8100", "protocol": "tcp", "action": "deny", "description": "changed"}
  ]},
  "c4": {"interface": "hx4", "default_action": "deny", "rules": [
    {"id": "all443", "destination": "0.0.0.0/0", "destination_port": "443", "protocol": "tcp", "action": "allow"}
  ]}
}}
EOF
sed 's/"destination"/"destintion"/' "$WORK/b.json" >"$WORK/bad.json"

VG=(valgrind -q --error-exitcode=99 --leak-check=full
	"--errors-for-leak-kinds=definite,indirect" "--show-leak-kinds=definite,indirect")

# vg DESC WANT_RC [<FILE] ARGS...: run agentd under valgrind in the namespace
vg() {
	local desc=$1 want=$2 rc=0 in=/dev/null
	shift 2
	if [ "${1:0:1}" = "<" ]; then
		in=${1:1}
		shift
	fi
	ip netns exec "$HOST" "${VG[@]}" --log-file="$WORK/vg.log" "$AGENTD" "$@" \
		<"$in" >"$WORK/vg.out" 2>"$WORK/vg.err" || rc=$?
	if [ "$rc" -eq "$want" ]; then
		pass "valgrind clean: $desc (exit $rc)"
	else
		local why=""
		[ "$rc" -ne 99 ] || why=" (99: valgrind found errors or leaks)"
		fail "valgrind: $desc: exit $rc, want $want$why"
		sed 's/^/#   /' "$WORK/vg.log" | head -40
		sed 's/^/#   stderr: /' "$WORK/vg.err" | head -5
	fi
}

vg "--apply A (first apply, creates the table)" 0 --apply "$WORK/a.json" --table "$TABLE"
vg "--dump after A" 0 --dump --table "$TABLE"
vg "--apply A again (identical)" 0 --apply "$WORK/a.json" --table "$TABLE"
vg "--apply B (update)" 0 --apply "$WORK/b.json" --table "$TABLE"
vg "--dump after B" 0 --dump --table "$TABLE"
vg "--apply - (stdin)" 0 "<$WORK/a.json" --apply - --table "$TABLE"
vg "--apply of a refused file" 1 --apply "$WORK/bad.json" --table "$TABLE"
vg "--dump after the refused file" 0 --dump --table "$TABLE"
vg "usage error" 2 --frobnicate

finish
