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
ip -n "$HOST" link add hc1 type veth peer name eth0 netns "$C1"
nsx "$C1" sysctl -qw net.ipv6.conf.eth0.accept_dad=0
ip -n "$HOST" addr add 10.10.1.1/24 dev hc1
ip -n "$C1" addr add 10.10.1.2/24 dev eth0
ip -n "$HOST" link set hc1 up
ip -n "$C1" link set eth0 up
ip -n "$C1" route add default via 10.10.1.1
poll 5 "the new hc1 up" link_is_up "$HOST" hc1
poll 5 "the new eth0 up in c1" link_is_up "$C1" eth0

batch_begin
expect_ok "recreated hc1: allowed 203.0.113.10:443" tcp "$C1" 203.0.113.10 443
expect_blocked "recreated hc1: locked 203.0.113.11:443" tcp "$C1" 203.0.113.11 443
expect_blocked "recreated hc1: locked gateway 10.10.1.1:8080" tcp "$C1" 10.10.1.1 8080
expect_ok "c2 untouched" tcp "$C2" 203.0.113.11 443
batch_end
finish
