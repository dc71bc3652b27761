#!/usr/bin/env bash
# 126: clients that hold connections without finishing a request. 300
# connections from one address send a header byte every second and never
# end their headers: the TCP listener keeps --max-per-address of them
# (closing the rest as they come), so another address is still served
# at once, and so is the Unix socket, which is served apart.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

hfw_init slow
need_agentd
command -v curl >/dev/null || skip "curl missing"
topo_up
printf 'slow-%s\n' "$$" >"$WORK/token"
chmod 600 "$WORK/token"
PORT=8187
agentd_start --dns-port 0 --listen 127.0.0.1:$PORT --token-file "$WORK/token" \
	--max-per-address 16 --idle-timeout 10

# tcp_health: health over TCP from 127.0.0.2, the status
tcp_health() {
	nsx "$HOST" curl -s --max-time 3 --interface 127.0.0.2 -o /dev/null -w '%{http_code}' \
		-H "Authorization: Bearer slow-$$" "http://127.0.0.1:$PORT/api/v1/health" || true
}
check "TCP health from 127.0.0.2 before: 200" test "$(tcp_health)" = 200

# 300 connections from 127.0.0.1, a header byte a second for 12 s; at the
# end, how many the agent closed
ip netns exec "$HOST" "$PYTHON" - "$PORT" >"$WORK/slow.out" <<'PY' &
import socket, sys, time
port = int(sys.argv[1])
socks = []
for i in range(300):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.setblocking(False)
    s.send(b"GET /api/v1/health HTTP/1.1\r\nHost: a\r\nX-Slow: ")
    socks.append(s)
closed = set()
end = time.time() + 12
while time.time() < end:
    for i, s in enumerate(socks):
        if i in closed:
            continue
        try:
            if s.recv(4096, socket.MSG_PEEK) == b"":
                closed.add(i)
                continue
        except BlockingIOError:
            pass
        except OSError:
            closed.add(i)
            continue
        try:
            s.send(b"a")
        except OSError:
            closed.add(i)
    time.sleep(1)
print(len(socks), len(closed))
PY
SLOW=$!
bg_track $SLOW
sleep 3 # the slow client's connections are up and trickling (its own clock ends it)
for i in 1 2 3; do
	t0=$(date +%s%3N)
	code=$(tcp_health)
	ms=$(($(date +%s%3N) - t0))
	check "during the slow clients, TCP health from another address: $code in $ms ms (200 within 2 s)" \
		test "$code" = 200 -a "$ms" -lt 2000
	check "... and over the Unix socket" test -n "$(api_up)"
done
wait $SLOW
read -r opened closed <"$WORK/slow.out"
check "the agent closed the slow address's connections past 16 ($closed of $opened)" \
	test "$closed" -ge $((opened - 16))
check "after them, TCP health: 200" test "$(tcp_health)" = 200
agentd_stop TERM
check "the daemon stopped cleanly" test "$AGENTD_RC" -eq 0
finish
