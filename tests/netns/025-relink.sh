#!/usr/bin/env bash
# 025: a container is enforced by its interface's name. When its veth pair
# is deleted and recreated under the same name (a container restart), the
# rules apply to the new interface at once, without any apply: the lock
# holds and the allowed destination is reachable again.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

hfw_init relink
need_agentd
topo_up
servers_up

cat >"$WORK/state.json" <<'EOF'
{"containers": {
  "c1": {"interface": "hc1", "default_action": "deny", "rules": [
    {"id": "https", "destination": "203.0.113.10/32", "destination_port": "443",
     "protocol": "tcp", "action": "allow"}]},
  "c2": {"interface": "hc2", "default_action": "allow", "rules": []}
}}
EOF
apply "$WORK/state.json"

batch_begin
expect_ok "before: allowed 203.0.113.10:443" tcp "$C1" 203.0.113.10 443
expect_blocked "before: locked 203.0.113.11:443" tcp "$C1" 203.0.113.11 443
batch_end

# the container "restarts": its veth goes away and comes back
ip -n "$HOST" link del hc1
c1_veth_add

batch_begin
expect_ok "recreated hc1: allowed 203.0.113.10:443" tcp "$C1" 203.0.113.10 443
expect_blocked "recreated hc1: locked 203.0.113.11:443" tcp "$C1" 203.0.113.11 443
expect_blocked "recreated hc1: locked gateway 10.10.1.1:8080" tcp "$C1" 10.10.1.1 8080
expect_ok "c2 untouched" tcp "$C2" 203.0.113.11 443
batch_end
finish
