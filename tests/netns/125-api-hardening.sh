#!/usr/bin/env bash
# 125: what the agent does with hostile paths, files and bytes: a token
# file that others can read, or whose token a NUL or CR would cut, is
# refused whole; --socket never removes what is not a socket, nor goes
# in a directory others may write, and --socket-group lets that group's
# members in and no one else; a "netns" path opens nothing but a
# network namespace under /run/netns or /proc/PID/ns/net (a FIFO there
# does not hang the agent) and every refusal reads alike, so answers
# tell nothing of the host's files; bytes that are not UTF-8 in a path
# or a header never reach an answer raw.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

hfw_init harden
need_agentd
command -v curl >/dev/null || skip "curl missing"
topo_up

# agent_refuses WHY ARGS...: agentd with ARGS exits non-zero by itself
# (within 10 s), its last message in $WORK/refused.log
agent_refuses() {
	local why=$1 rc=0
	shift
	timeout 10 ip netns exec "$HOST" "$AGENTD" --table "${TABLE}x" --dns-port 0 \
		--state-dir "$WORK/xstate" "$@" >"$WORK/refused.log" 2>&1 || rc=$?
	check "$why (exit $rc: $(tail -1 "$WORK/refused.log"))" test "$rc" -ne 0 -a "$rc" -ne 124
}

# --- the bearer token's file
tok=$WORK/token
printf 's3cret-%s\n' "$$" >"$tok"
chmod 644 "$tok"
agent_refuses "a token file others may read is refused" \
	--socket "$WORK/x.sock" --listen 127.0.0.1:8185 --token-file "$tok"
check "... saying what mode it wants" grep -q "0600" "$WORK/refused.log"
printf 'ab\0long-rest-of-the-token\n' >"$tok"
chmod 600 "$tok"
agent_refuses "a token with a NUL inside is refused, not cut" \
	--socket "$WORK/x.sock" --listen 127.0.0.1:8185 --token-file "$tok"
printf 'ab\rlong-rest\n' >"$tok"
agent_refuses "... so is one with a CR inside" \
	--socket "$WORK/x.sock" --listen 127.0.0.1:8185 --token-file "$tok"
printf 'two words\n' >"$tok"
agent_refuses "... and one with a space" \
	--socket "$WORK/x.sock" --listen 127.0.0.1:8185 --token-file "$tok"
check "... saying what a token is" grep -q "visible ASCII" "$WORK/refused.log"
check "the token never appears in the log" sh -c "! grep -q 'long-rest' $WORK/refused.log"

# --- the socket's path
echo "someone's data" >"$WORK/file.sock"
agent_refuses "--socket on a regular file is refused" --socket "$WORK/file.sock"
check "... and the file is left as it was" grep -qx "someone's data" "$WORK/file.sock"
mkdir -m 0777 "$WORK/open"
agent_refuses "--socket in a directory others may write is refused" --socket "$WORK/open/a.sock"
check "... saying why" grep -q "others may write its directory" "$WORK/refused.log"
mkdir -m 1777 "$WORK/sticky"
SOCK=$WORK/sticky/agentd.sock
agentd_start --dns-port 0
check "... but a sticky one (as /tmp) is fine" test -n "$(api_up)"
agentd_stop TERM

# --- the socket's group: its members may use the API, others may not
agent_refuses "--socket-group of a group the host lacks is refused" \
	--socket "$WORK/x.sock" --socket-group "no-such-group-$$"
check "... saying which" grep -q "no group \"no-such-group-$$\"" "$WORK/refused.log"
chmod 0711 "$WORK" # others may pass through to the socket's directory
SOCK=$WORK/pub/agentd.sock
agentd_start --dns-port 0 --socket-group nogroup
check "the socket is nogroup's, mode 0660 [$(stat -c '%G %a' "$SOCK")]" \
	test "$(stat -c '%G %a' "$SOCK")" = "nogroup 660"
as_nobody() { # as_nobody GROUPS: GET health as nobody with those groups
	setpriv --reuid=nobody --regid=nogroup "$1" curl -s -o /dev/null -w '%{http_code}' \
		--max-time 5 --unix-socket "$SOCK" http://localhost/api/v1/health || true
}
check "nobody in the group is served [$(as_nobody --clear-groups)]" \
	test "$(as_nobody --clear-groups)" = 200
agentd_stop TERM
agentd_start --dns-port 0
check "without --socket-group, root's group [$(stat -c '%G' "$SOCK")]; nobody is not served" \
	test "$(stat -c '%G' "$SOCK")" = root -a "$(as_nobody --clear-groups)" = 000
agentd_stop TERM
chmod 0700 "$WORK"

# --- "netns" paths, seen by an agent with a /run/netns of its own: a
# tmpfs (in a mount namespace of the test's) with a FIFO, a file, and
# c1's namespace bound as "c1"
touch "$WORK/c1ns"
NETNS_SETUP='mount --bind "/run/netns/$1" "$2/c1ns" &&
	mount -t tmpfs -o size=64k,mode=0755 tmpfs /run/netns &&
	mkfifo /run/netns/fifo && echo data >/run/netns/file && touch /run/netns/c1 &&
	mount --bind "$2/c1ns" /run/netns/c1 && shift 2 && exec "$@"'
ip netns exec "$HOST" unshare -m --propagation private sh -c "$NETNS_SETUP" sh "$C1" "$WORK" \
	"$AGENTD" --socket "$WORK/agentd.sock" --state-dir "$WORK/state" --table "$TABLE" \
	--dns-port 0 >>"$WORK/agentd.log" 2>&1 &
AGENTD_PID=$!
bg_track "$AGENTD_PID"
SOCK=$WORK/agentd.sock
poll 15 "the agent with its own /run/netns serves" api_up

V=/api/v1/containers
t0=$(date +%s%3N)
expect_api "a FIFO under /run/netns: refused" 400 PUT $V/a '{"netns": "/run/netns/fifo"}'
ms=$(($(date +%s%3N) - t0))
check "... at once (${ms} ms), the agent not stuck on it" test "$ms" -lt 3000
expect_api "... and the agent answers the next call" 200 GET /api/v1/health
norm() { api_field error.message | sed "s|netns $1:|netns PATH:|"; }
api PUT $V/a '{"netns": "/run/netns/fifo"}'
want="$(norm /run/netns/fifo) [$(api_field error.code)]"
for p in /run/netns/file /run/netns/no-such /etc/hostname /etc/shadow /dev/zero \
	/run/netns/../../etc/hostname /proc/1/ns/mnt /proc/self/ns/net; do
	api PUT $V/a "{\"netns\": \"$p\"}"
	check "$p: the same 400 as the FIFO's [$API_STATUS $(api_field error.code)]" \
		test "$API_STATUS $(norm "$p") [$(api_field error.code)]" = "400 $want"
done
info "the one answer: $want"
expect_api "/run/netns/c1, a namespace: attached" 201 PUT $V/c1 '{"netns": "/run/netns/c1"}'
check "... to hc1" test "$(api_field data.interface)" = hc1
ip netns exec "$C2" sleep 60 &
pid=$!
bg_track $pid
poll 5 "a process in c2" sh -c "ip netns identify $pid | grep -qx $C2"
expect_api "/proc/PID/ns/net of a process in c2: attached" 201 PUT $V/c2 "{\"netns\": \"/proc/$pid/ns/net\"}"

# --- bytes that are not UTF-8 never reach an answer raw
utf8_json() { "$PYTHON" -c 'import json, sys; json.loads(open(sys.argv[1], "rb").read().decode("utf-8"))' "$WORK/api.out"; }
expect_api "a rule id of bytes that are not UTF-8 (DELETE): 400" 400 \
	DELETE "$V/c1/firewall/egress/%FF%FEab"
check "... invalid_rule_id" test "$(api_field error.code)" = invalid_rule_id
check "... in an answer that is UTF-8 JSON" utf8_json
code=$(curl -s --unix-socket "$SOCK" -o "$WORK/api.out" -w '%{http_code}' -X POST \
	-H $'Content-Type: text/\xff\xfe' --data '{}' "http://localhost$V/c1/firewall/egress")
check "a Content-Type that is not UTF-8: 415 [$code]" test "$code" = 415
check "... in an answer that is UTF-8 JSON" utf8_json

kill -TERM "$AGENTD_PID"
wait "$AGENTD_PID" 2>/dev/null || true
finish
