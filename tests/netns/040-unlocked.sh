#!/usr/bin/env bash
# 040: c1 with default allow and deny rules: everything passes (IPv4 and
# IPv6, remote, host, c2) except what a deny rule matches; a deny rule
# beats an overlapping allow rule; denied packets are dropped silently.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

hfw_init open
need_agentd
topo_up
servers_up

cat >"$WORK/open.json" <<'EOF'
{"containers": {
  "c1": {"interface": "hc1", "default_action": "allow", "rules": [
    {"id": "a-8050", "destination": "203.0.113.20/32", "destination_port": "8050", "protocol": "tcp", "action": "allow", "description": "allow inside a deny range: deny wins"},
    {"id": "d-https", "destination": "203.0.113.10/32", "destination_port": "443", "protocol": "tcp", "action": "deny", "description": "no https to .10"},
    {"id": "d-host", "destination": "192.0.2.11/32", "protocol": "any", "action": "deny", "description": "nothing to 192.0.2.11"},
    {"id": "d-range", "destination": "203.0.113.0/24", "destination_port": "8000-8100", "protocol": "tcp", "action": "deny", "description": "range"},
    {"id": "d-dns", "destination": "198.51.100.0/24", "destination_port": "53,5353", "protocol": "udp", "action": "deny", "description": "udp list"},
    {"id": "d-ping", "destination": "203.0.113.20/32", "protocol": "icmp", "action": "deny", "description": "no ping to .20"},
    {"id": "d-gw", "destination": "10.10.1.1/32", "destination_port": "8080", "protocol": "tcp", "action": "deny", "description": "the gateway's 8080"},
    {"id": "d-c2", "destination": "10.10.2.2/32", "destination_port": "9000", "protocol": "udp", "action": "deny", "description": "c2 udp only"}
  ]},
  "c2": {"interface": "hc2", "default_action": "allow", "rules": []}
}}
EOF

apply "$WORK/open.json"

batch_begin
# denied
expect_blocked "tcp 203.0.113.10:443 (d-https)" tcp "$C1" 203.0.113.10 443
expect_blocked "tcp 192.0.2.11:443 (d-host)" tcp "$C1" 192.0.2.11 443
expect_blocked "udp 192.0.2.11:53 (d-host)" udp "$C1" 192.0.2.11 53
expect_blocked "icmp 192.0.2.11 (d-host)" icmp "$C1" 192.0.2.11
expect_blocked "tcp 203.0.113.10:8000 (d-range start)" tcp "$C1" 203.0.113.10 8000
expect_blocked "tcp 203.0.113.11:8100 (d-range end)" tcp "$C1" 203.0.113.11 8100
expect_blocked "tcp 203.0.113.20:8050 (d-range beats a-8050)" tcp "$C1" 203.0.113.20 8050
expect_blocked "udp 198.51.100.2:53 (d-dns)" udp "$C1" 198.51.100.2 53
expect_blocked "udp 198.51.100.2:5353 (d-dns)" udp "$C1" 198.51.100.2 5353
expect_blocked "icmp 203.0.113.20 (d-ping)" icmp "$C1" 203.0.113.20
expect_blocked "tcp gateway 10.10.1.1:8080 (d-gw)" tcp "$C1" 10.10.1.1 8080
expect_blocked "udp c2 10.10.2.2:9000 (d-c2)" udp "$C1" 10.10.2.2 9000
expect_blocked "tcp 192.0.2.11:1 times out, no RST (d-host)" tcp "$C1" 192.0.2.11 1
# allowed by default
expect_ok "tcp 203.0.113.10:80 (other port)" tcp "$C1" 203.0.113.10 80
expect_ok "tcp 203.0.113.11:443 (other host)" tcp "$C1" 203.0.113.11 443
expect_ok "udp 203.0.113.10:443 (other protocol)" udp "$C1" 203.0.113.10 443
expect_ok "icmp 203.0.113.10 (other protocol)" icmp "$C1" 203.0.113.10
expect_ok "tcp 192.0.2.10:443 (neighbour of d-host)" tcp "$C1" 192.0.2.10 443
expect_ok "icmp 192.0.2.10 (neighbour of d-host)" icmp "$C1" 192.0.2.10
expect_ok "tcp 203.0.113.10:7999 (below d-range)" tcp "$C1" 203.0.113.10 7999
expect_ok "tcp 203.0.113.10:8101 (above d-range)" tcp "$C1" 203.0.113.10 8101
expect_ok "udp 203.0.113.10:53 (d-dns is 198.51.100.0/24)" udp "$C1" 203.0.113.10 53
expect_ok "tcp 198.51.100.2:53 (d-dns is udp)" tcp "$C1" 198.51.100.2 53
expect_ok "udp 198.51.100.2:9000 (not in d-dns list)" udp "$C1" 198.51.100.2 9000
expect_ok "tcp 203.0.113.20:22 (d-ping is icmp)" tcp "$C1" 203.0.113.20 22
expect_ok "udp gateway 10.10.1.1:8080 (d-gw is tcp)" udp "$C1" 10.10.1.1 8080
expect_ok "icmp gateway 10.10.1.1" icmp "$C1" 10.10.1.1
expect_ok "tcp host 10.99.0.1:8080" tcp "$C1" 10.99.0.1 8080
expect_ok "tcp host 198.51.100.1:8080" tcp "$C1" 198.51.100.1 8080
expect_ok "tcp c2 10.10.2.2:9000 (d-c2 is udp)" tcp "$C1" 10.10.2.2 9000
expect_ok "tcp fd00:ff::2:443 (IPv6: default allow)" tcp "$C1" fd00:ff::2 443
expect_ok "udp fd00:ff::2:53 (IPv6: default allow)" udp "$C1" fd00:ff::2 53
expect_ok "icmp fd00:ff::2 (IPv6: default allow)" icmp "$C1" fd00:ff::2
expect_ok "tcp gateway fd00:1::1:8080 (IPv6: default allow)" tcp "$C1" fd00:1::1 8080
expect_ok "tcp c2 fd00:2::2:9000 (IPv6: default allow)" tcp "$C1" fd00:2::2 9000
expect_refused "tcp 203.0.113.10:1 refused (allowed, closed)" tcp "$C1" 203.0.113.10 1
# c2 untouched, inbound fine
expect_ok "c2 -> 203.0.113.10 tcp 443" tcp "$C2" 203.0.113.10 443
expect_ok "c2 -> 192.0.2.11 tcp 443" tcp "$C2" 192.0.2.11 443
expect_ok "c2 -> 198.51.100.2 udp 53" udp "$C2" 198.51.100.2 53
expect_inbound_ok " (c1 allow + deny rules)"
batch_end

# Traffic without a conntrack entry cannot be decided (no flow to claim):
# if the host untracks a container's packets, they are dropped even with a
# default of allow. The notrack rule lives in a table of this test's own.
nsx "$HOST" nft -f - <<'EOF2'
table inet hfwtest_notrack {
	chain raw {
		type filter hook prerouting priority raw; policy accept;
		iifname "hc2" notrack
	}
}
EOF2
batch_begin
expect_blocked "untracked from c2 (default allow): dropped" tcp "$C2" 203.0.113.10 443
expect_blocked "untracked udp from c2 (default allow): dropped" udp "$C2" 203.0.113.10 53
expect_ok "c1 unaffected by c2's notrack" tcp "$C1" 203.0.113.20 22
batch_end
nsx "$HOST" nft delete table inet hfwtest_notrack
expect_ok "c2 passes again once tracked" tcp "$C2" 203.0.113.10 443

finish
