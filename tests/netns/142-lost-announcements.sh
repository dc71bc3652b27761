#!/usr/bin/env bash
# 142: when the kernel drops change announcements (the monitor socket
# overflowed, ENOBUFS), the daemon must read the whole table instead of
# trusting what it heard. The daemon runs with the smallest announcement
# buffer the kernel allows and no timer pass; while it is stopped
# (SIGSTOP), another process damages one container and then opens
# another. The first change's announcement fills the buffer, so the
# second one is lost: repairing only what was announced would leave the
# opened container open. After SIGCONT both must be repaired within 1 s.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

hfw_init lostann
need_agentd
command -v curl >/dev/null || skip "curl missing"
command -v nft >/dev/null || skip "nft missing"
topo_up
servers_up
agentd_start --no-table-owner --reconcile-interval 0 --monitor-buffer 1

V=/api/v1/containers
NFT=(ip netns exec "$HOST" nft)

expect_api "attach c1" 201 PUT $V/c1 '{"interface": "hc1"}'
expect_api "c1: allow tcp 443 to 203.0.113.10" 201 POST $V/c1/firewall/egress \
	"$(rule_body 203.0.113.10 443 tcp allow)"
expect_api "attach c2 (deny-all)" 201 PUT $V/c2 '{"interface": "hc2"}'
expect_ok "c1 -> 203.0.113.10 443 allowed" tcp "$C1" 203.0.113.10 443
expect_blocked "c2 -> 203.0.113.10 443 blocked" tcp "$C2" 203.0.113.10 443

lost() { grep -c "the kernel dropped change announcements" "$WORK/agentd.log" || true; }

# a tiny buffer still carries a lone change: repaired as usual
"${NFT[@]}" flush chain inet "$TABLE" c_c1
check "a lone change is repaired within 1 s" poll_quiet 1 in_sync
expect_ok "... c1 -> 203.0.113.10 443 allowed again" tcp "$C1" 203.0.113.10 443

before=$(lost)
kill -STOP "$AGENTD_PID"
"${NFT[@]}" flush chain inet "$TABLE" c_c1
"${NFT[@]}" add element inet "$TABLE" allow "{ \"hc2\" . $(deftag hc2) }"
expect_ok "while the daemon is stopped, c2 is open (the test works)" tcp "$C2" 203.0.113.10 443
t0=$(date +%s%N)
kill -CONT "$AGENTD_PID"
check "both containers repaired within 1 s of the daemon running again" \
	poll_quiet 1 in_sync
info "in sync $((($(date +%s%N) - t0) / 1000000)) ms after SIGCONT"
check "the daemon logged that announcements were lost" test "$(lost)" -gt "$before"
check "... and read the whole table" \
	grep -q "reconcile (announcements lost): table $TABLE" "$WORK/agentd.log"
expect_blocked "c2 -> 203.0.113.10 443 blocked again" tcp "$C2" 203.0.113.10 443
expect_ok "c1 -> 203.0.113.10 443 allowed again" tcp "$C1" 203.0.113.10 443

agentd_stop TERM
check "the daemon stopped cleanly" test "$AGENTD_RC" -eq 0
finish
