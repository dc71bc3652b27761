#!/usr/bin/env bash
# 020: deny with no rules (a reset) locks c1 completely: no egress at all,
# IPv4 or IPv6, to remote hosts, the other container or the host's own
# addresses; denied packets vanish silently (a connect times out, it is
# not refused). c2 (allow, no rules) is untouched, and c1 still answers
# connections others open towards it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

hfw_init lock
need_agentd
topo_up
servers_up

# both containers open first: the lock below is a transition
cat >"$WORK/open.json" <<'EOF'
{"containers": {
  "c1": {"interface": "hc1", "default_action": "allow", "rules": []},
  "c2": {"interface": "hc2", "default_action": "allow", "rules": []}
}}
EOF
cat >"$WORK/lock.json" <<'EOF'
{"containers": {
  "c1": {"interface": "hc1", "default_action": "deny", "rules": []},
  "c2": {"interface": "hc2", "default_action": "allow", "rules": []}
}}
EOF

apply "$WORK/open.json"
batch_begin
expect_ok "open c1 -> 203.0.113.10 tcp 443" tcp "$C1" 203.0.113.10 443
expect_ok "open c1 -> fd00:ff::2 tcp 443 (v6)" tcp "$C1" fd00:ff::2 443
expect_ok "open c1 -> host 10.10.1.1 tcp 8080" tcp "$C1" 10.10.1.1 8080
expect_ok "open c1 -> c2 tcp 9000" tcp "$C1" 10.10.2.2 9000
expect_refused "open c1 -> 198.51.100.2 tcp 1 (closed port) refused" tcp "$C1" 198.51.100.2 1
batch_end

apply "$WORK/lock.json"
t_lock=$(now)
HOST_LL=$(host_link_local hc1)

batch_begin
# remote, IPv4
expect_blocked "locked c1 -> 203.0.113.10 tcp 443" tcp "$C1" 203.0.113.10 443
expect_blocked "locked c1 -> 203.0.113.10 tcp 80" tcp "$C1" 203.0.113.10 80
expect_blocked "locked c1 -> 198.51.100.2 tcp 22" tcp "$C1" 198.51.100.2 22
expect_blocked "locked c1 -> 192.0.2.10 tcp 443" tcp "$C1" 192.0.2.10 443
expect_blocked "locked c1 -> 203.0.113.11 udp 53" udp "$C1" 203.0.113.11 53
expect_blocked "locked c1 -> 198.51.100.2 udp 5353" udp "$C1" 198.51.100.2 5353
expect_blocked "locked c1 -> 203.0.113.10 icmp" icmp "$C1" 203.0.113.10
expect_blocked "locked c1 -> 198.51.100.2 icmp" icmp "$C1" 198.51.100.2
# remote, IPv6
expect_blocked "locked c1 -> fd00:ff::2 tcp 443 (v6)" tcp "$C1" fd00:ff::2 443
expect_blocked "locked c1 -> fd00:ff::2 udp 53 (v6)" udp "$C1" fd00:ff::2 53
expect_blocked "locked c1 -> fd00:ff::2 icmp (v6)" icmp "$C1" fd00:ff::2
# the host's own addresses, gateway included
expect_blocked "locked c1 -> gateway 10.10.1.1 tcp 8080" tcp "$C1" 10.10.1.1 8080
expect_blocked "locked c1 -> gateway 10.10.1.1 udp 8080" udp "$C1" 10.10.1.1 8080
expect_blocked "locked c1 -> gateway 10.10.1.1 icmp" icmp "$C1" 10.10.1.1
expect_blocked "locked c1 -> host 10.99.0.1 tcp 8080" tcp "$C1" 10.99.0.1 8080
expect_blocked "locked c1 -> host 10.99.0.1 udp 8080" udp "$C1" 10.99.0.1 8080
expect_blocked "locked c1 -> host 10.99.0.1 icmp" icmp "$C1" 10.99.0.1
expect_blocked "locked c1 -> host 198.51.100.1 tcp 8080" tcp "$C1" 198.51.100.1 8080
expect_blocked "locked c1 -> host 10.10.2.1 tcp 8080" tcp "$C1" 10.10.2.1 8080
expect_blocked "locked c1 -> gateway fd00:1::1 tcp 8080 (v6)" tcp "$C1" fd00:1::1 8080
expect_blocked "locked c1 -> gateway fd00:1::1 udp 8080 (v6)" udp "$C1" fd00:1::1 8080
expect_blocked "locked c1 -> gateway fd00:1::1 icmp (v6)" icmp "$C1" fd00:1::1
expect_blocked "locked c1 -> host fd00:ff::1 tcp 8080 (v6)" tcp "$C1" fd00:ff::1 8080
if [ -n "$HOST_LL" ]; then
	expect_blocked "locked c1 -> host link-local $HOST_LL icmp (v6)" icmp "$C1" "$HOST_LL%eth0"
fi
# the other container
expect_blocked "locked c1 -> c2 tcp 9000" tcp "$C1" 10.10.2.2 9000
expect_blocked "locked c1 -> c2 udp 9000" udp "$C1" 10.10.2.2 9000
expect_blocked "locked c1 -> c2 icmp" icmp "$C1" 10.10.2.2
expect_blocked "locked c1 -> c2 tcp 9000 (v6)" tcp "$C1" fd00:2::2 9000
expect_blocked "locked c1 -> c2 icmp (v6)" icmp "$C1" fd00:2::2
# silent: closed ports time out instead of being refused
expect_blocked "locked c1 -> 198.51.100.2 tcp 1 times out, no RST" tcp "$C1" 198.51.100.2 1
expect_blocked "locked c1 -> 203.0.113.10 tcp 1 times out, no RST" tcp "$C1" 203.0.113.10 1
expect_blocked "locked c1 -> fd00:ff::2 tcp 1 times out, no RST (v6)" tcp "$C1" fd00:ff::2 1
expect_blocked "locked c1 -> 203.0.113.10 udp 1 times out, no port unreachable" udp "$C1" 203.0.113.10 1
expect_blocked "locked c1 -> gateway 10.10.1.1 tcp 1 times out, no RST" tcp "$C1" 10.10.1.1 1
expect_blocked "locked c1 -> gateway fd00:1::1 tcp 1 times out, no RST (v6)" tcp "$C1" fd00:1::1 1
# c2 is untouched
expect_ok "c2 (allow) -> 203.0.113.10 tcp 443" tcp "$C2" 203.0.113.10 443
expect_ok "c2 (allow) -> 203.0.113.11 udp 53" udp "$C2" 203.0.113.11 53
expect_ok "c2 (allow) -> 192.0.2.10 icmp" icmp "$C2" 192.0.2.10
expect_ok "c2 (allow) -> fd00:ff::2 tcp 443 (v6)" tcp "$C2" fd00:ff::2 443
expect_ok "c2 (allow) -> gateway 10.10.2.1 tcp 8080" tcp "$C2" 10.10.2.1 8080
expect_ok "c2 (allow) -> host 10.99.0.1 tcp 8080" tcp "$C2" 10.99.0.1 8080
expect_refused "c2 (allow) -> 198.51.100.2 tcp 1 still refused" tcp "$C2" 198.51.100.2 1
# inbound to the locked c1 is still answered
expect_inbound_ok " (c1 locked)"
batch_end

# nothing c1 sent reached a responder (a UDP datagram would be logged
# even if only its reply had been dropped)
expect_no_contact "remote got nothing from locked c1" remote "$t_lock" 10.10.1.2 fd00:1::2
expect_no_contact "host got nothing from locked c1" host "$t_lock" 10.10.1.2 fd00:1::2
expect_no_contact "c2 got nothing from locked c1" c2 "$t_lock" 10.10.1.2 fd00:1::2

# re-applying the same state changes nothing
apply "$WORK/lock.json"
batch_begin
expect_blocked "re-applied lock: c1 -> 203.0.113.10 tcp 443" tcp "$C1" 203.0.113.10 443
expect_ok "re-applied lock: c2 -> 203.0.113.10 tcp 443" tcp "$C2" 203.0.113.10 443
expect_ok "re-applied lock: remote -> c1 tcp 7000 inbound" tcp "$REMOTE" 10.10.1.2 7000
batch_end

# and unlocking restores everything
apply "$WORK/open.json"
batch_begin
expect_ok "unlocked again: c1 -> 203.0.113.10 tcp 443" tcp "$C1" 203.0.113.10 443
expect_ok "unlocked again: c1 -> fd00:ff::2 tcp 443 (v6)" tcp "$C1" fd00:ff::2 443
expect_ok "unlocked again: c1 -> gateway 10.10.1.1 tcp 8080" tcp "$C1" 10.10.1.1 8080
expect_ok "unlocked again: c1 -> c2 tcp 9000" tcp "$C1" 10.10.2.2 9000
batch_end

finish
