#!/usr/bin/env bash
# 050: a connection the container opened is checked packet by packet.
# Long-lived TCP connections send a line every 100 ms and count the echoes.
# Re-applying without the allow rule, or a reset (deny, no rules), must
# stop them at once: no line written after the apply returned is answered.
# Connections whose rule stays keep working.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

hfw_init revoke
need_agentd
topo_up
servers_up

SETTLE=${SETTLE:-1.5} # how long to watch a revoked connection

cat >"$WORK/a.json" <<'EOF'
{"containers": {
  "c1": {"interface": "hc1", "default_action": "deny", "rules": [
    {"id": "web", "destination": "203.0.113.10/32", "destination_port": "443", "protocol": "tcp", "action": "allow", "description": "to be revoked"},
    {"id": "keep", "destination": "203.0.113.20/32", "destination_port": "443", "protocol": "tcp", "action": "allow", "description": "stays"}
  ]},
  "c2": {"interface": "hc2", "default_action": "allow", "rules": []}
}}
EOF
cat >"$WORK/b.json" <<'EOF'
{"containers": {
  "c1": {"interface": "hc1", "default_action": "deny", "rules": [
    {"id": "keep", "destination": "203.0.113.20/32", "destination_port": "443", "protocol": "tcp", "action": "allow", "description": "stays"}
  ]},
  "c2": {"interface": "hc2", "default_action": "allow", "rules": []}
}}
EOF
cat >"$WORK/reset.json" <<'EOF'
{"containers": {
  "c1": {"interface": "hc1", "default_action": "deny", "rules": []},
  "c2": {"interface": "hc2", "default_action": "deny", "rules": []}
}}
EOF


# --- revoke one allow rule by re-applying without it
apply "$WORK/a.json"
hold web "$C1" 203.0.113.10 443
hold keep "$C1" 203.0.113.20 443
hold c2 "$C2" 198.51.100.2 80
expect_flowing web "c1 -> 203.0.113.10:443 established connection delivers (rule web)"
expect_flowing keep "c1 -> 203.0.113.20:443 established connection delivers (rule keep)"
expect_flowing c2 "c2 (allow) -> 198.51.100.2:80 established connection delivers"

apply "$WORK/b.json"
t_b=$(now)
sleep "$SETTLE"
expect_stopped web "$t_b" "rule web removed: the established connection stops at once"
expect_still_flowing keep "$t_b" "rule keep unchanged: its established connection still delivers"
expect_still_flowing c2 "$t_b" "c2 untouched: its established connection still delivers"
batch_begin
expect_blocked "rule web removed: a new connection to 203.0.113.10:443 is dropped" tcp "$C1" 203.0.113.10 443
expect_ok "rule keep unchanged: a new connection to 203.0.113.20:443 works" tcp "$C1" 203.0.113.20 443
batch_end

# --- reset (deny, no rules) stops everything, also an unlocked container's
apply "$WORK/a.json"
hold web2 "$C1" 203.0.113.10 443
expect_flowing web2 "rule web back: a new established connection delivers"
expect_flowing keep "rule keep: the first connection still delivers"

apply "$WORK/reset.json"
t_r=$(now)
sleep "$SETTLE"
expect_stopped web2 "$t_r" "reset c1: established connection (rule web) stops at once"
expect_stopped keep "$t_r" "reset c1: established connection (rule keep) stops at once"
expect_stopped c2 "$t_r" "reset c2 (was allow): its established connection stops at once"
batch_begin
expect_blocked "reset c1: new connection to 203.0.113.20:443 is dropped" tcp "$C1" 203.0.113.20 443
expect_blocked "reset c2: new connection to 198.51.100.2:80 is dropped" tcp "$C2" 198.51.100.2 80
expect_ok "reset c1: inbound remote -> c1 tcp 7000 still answered" tcp "$REMOTE" 10.10.1.2 7000
batch_end

finish
