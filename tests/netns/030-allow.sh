#!/usr/bin/env bash
# 030: a locked c1 with allow rules reaches exactly what they allow: single
# ports, ranges, lists, CIDRs, per protocol; a deny rule wins over any
# allow rule it overlaps, whatever the order. Everything else (other ports,
# the other protocol, IPv6, the host, c2) stays silently dropped.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

hfw_init allow
need_agentd
topo_up
servers_up

# deny rules sit first, in the middle and last: order must not matter
cat >"$WORK/allow.json" <<'EOF'
{"containers": {
  "c1": {"interface": "hc1", "default_action": "deny", "rules": [
    {"id": "d-8050", "destination": "203.0.113.0/24", "destination_port": "8050", "protocol": "tcp", "action": "deny", "description": "deny one port inside an allowed range"},
    {"id": "a-https", "destination": "203.0.113.10/32", "destination_port": "443", "protocol": "tcp", "action": "allow", "description": "https"},
    {"id": "a-dns", "destination": "203.0.113.10/32", "destination_port": "53", "protocol": "udp", "action": "allow", "description": "dns"},
    {"id": "a-ping", "destination": "192.0.2.0/24", "protocol": "icmp", "action": "allow", "description": "ping a /24"},
    {"id": "a-range", "destination": "203.0.113.0/24", "destination_port": "8000-8100", "protocol": "tcp", "action": "allow", "description": "range"},
    {"id": "d-11", "destination": "203.0.113.11/32", "protocol": "any", "action": "deny", "description": "deny a host inside allowed CIDRs"},
    {"id": "a-list", "destination": "203.0.113.20/32", "destination_port": "22,9000", "protocol": "tcp", "action": "allow", "description": "list"},
    {"id": "a-http", "destination": "203.0.113.0/24", "destination_port": "80", "protocol": "tcp", "action": "allow", "description": "http to a /24"},
    {"id": "a-dns11", "destination": "203.0.113.11/32", "destination_port": "53", "protocol": "udp", "action": "allow", "description": "exact allow, overridden by d-11"},
    {"id": "a-mdns", "destination": "203.0.113.20/32", "destination_port": "5353", "protocol": "udp", "action": "allow", "description": "udp single port"},
    {"id": "a-https-dup", "destination": "203.0.113.8/29", "destination_port": "443,444", "protocol": "tcp", "action": "allow", "description": "overlaps a-https"},
    {"id": "d-444", "destination": "203.0.113.10/32", "destination_port": "444", "protocol": "tcp", "action": "deny"}
  ]},
  "c2": {"interface": "hc2", "default_action": "allow", "rules": []}
}}
EOF

apply "$WORK/allow.json"
t_apply=$(now)

batch_begin
# allowed
expect_ok "tcp 203.0.113.10:443 (a-https, a-https-dup)" tcp "$C1" 203.0.113.10 443
expect_ok "udp 203.0.113.10:53 (a-dns)" udp "$C1" 203.0.113.10 53
expect_ok "icmp 192.0.2.10 (a-ping /24)" icmp "$C1" 192.0.2.10
expect_ok "icmp 192.0.2.11 (a-ping /24)" icmp "$C1" 192.0.2.11
expect_ok "tcp 203.0.113.10:8000 (range start)" tcp "$C1" 203.0.113.10 8000
expect_ok "tcp 203.0.113.10:8100 (range end)" tcp "$C1" 203.0.113.10 8100
expect_ok "tcp 203.0.113.20:8000 (range, other host of the /24)" tcp "$C1" 203.0.113.20 8000
expect_ok "tcp 203.0.113.20:22 (list first)" tcp "$C1" 203.0.113.20 22
expect_ok "tcp 203.0.113.20:9000 (list last)" tcp "$C1" 203.0.113.20 9000
expect_ok "tcp 203.0.113.10:80 (a-http /24)" tcp "$C1" 203.0.113.10 80
expect_ok "tcp 203.0.113.20:80 (a-http /24)" tcp "$C1" 203.0.113.20 80
expect_ok "udp 203.0.113.20:5353 (a-mdns)" udp "$C1" 203.0.113.20 5353
# outside ranges and lists
expect_blocked "tcp 203.0.113.10:7999 (just below the range)" tcp "$C1" 203.0.113.10 7999
expect_blocked "tcp 203.0.113.10:8101 (just above the range)" tcp "$C1" 203.0.113.10 8101
expect_blocked "tcp 203.0.113.20:9001 (just after the list)" tcp "$C1" 203.0.113.20 9001
expect_blocked "tcp 203.0.113.20:23 (just after the list)" tcp "$C1" 203.0.113.20 23
expect_blocked "tcp 203.0.113.20:443 (a-https is a /32)" tcp "$C1" 203.0.113.20 443
expect_blocked "tcp 198.51.100.2:80 (outside a-http's /24)" tcp "$C1" 198.51.100.2 80
# deny inside allow
expect_blocked "tcp 203.0.113.10:8050 (d-8050 inside a-range)" tcp "$C1" 203.0.113.10 8050
expect_blocked "tcp 203.0.113.20:8050 (d-8050 inside a-range)" tcp "$C1" 203.0.113.20 8050
expect_blocked "tcp 203.0.113.11:80 (d-11 inside a-http's /24)" tcp "$C1" 203.0.113.11 80
expect_blocked "tcp 203.0.113.11:8000 (d-11 inside a-range's /24)" tcp "$C1" 203.0.113.11 8000
expect_blocked "udp 203.0.113.11:53 (d-11 beats the exact a-dns11)" udp "$C1" 203.0.113.11 53
expect_blocked "icmp 203.0.113.11 (d-11)" icmp "$C1" 203.0.113.11
expect_blocked "tcp 203.0.113.10:444 (d-444 inside a-https-dup)" tcp "$C1" 203.0.113.10 444
# wrong protocol
expect_blocked "udp 203.0.113.10:443 (only tcp allowed)" udp "$C1" 203.0.113.10 443
expect_blocked "tcp 203.0.113.10:53 (only udp allowed)" tcp "$C1" 203.0.113.10 53
expect_blocked "udp 203.0.113.10:5353 (a-mdns is another host)" udp "$C1" 203.0.113.10 5353
expect_blocked "udp 203.0.113.20:9000 (a-list is tcp)" udp "$C1" 203.0.113.20 9000
expect_blocked "icmp 203.0.113.10 (no icmp rule there)" icmp "$C1" 203.0.113.10
expect_blocked "tcp 192.0.2.10:443 (a-ping is icmp only)" tcp "$C1" 192.0.2.10 443
expect_blocked "udp 192.0.2.10:53 (a-ping is icmp only)" udp "$C1" 192.0.2.10 53
# IPv6, host, c2
expect_blocked "tcp fd00:ff::2:443 (IPv6)" tcp "$C1" fd00:ff::2 443
expect_blocked "tcp fd00:ff::2:80 (IPv6)" tcp "$C1" fd00:ff::2 80
expect_blocked "icmp fd00:ff::2 (IPv6)" icmp "$C1" fd00:ff::2
expect_blocked "tcp gateway 10.10.1.1:8080" tcp "$C1" 10.10.1.1 8080
expect_blocked "udp gateway 10.10.1.1:8080" udp "$C1" 10.10.1.1 8080
expect_blocked "icmp gateway 10.10.1.1" icmp "$C1" 10.10.1.1
expect_blocked "tcp host 10.99.0.1:8080" tcp "$C1" 10.99.0.1 8080
expect_blocked "tcp host 198.51.100.1:8080" tcp "$C1" 198.51.100.1 8080
expect_blocked "tcp gateway fd00:1::1:8080 (v6)" tcp "$C1" fd00:1::1 8080
expect_blocked "tcp c2 10.10.2.2:9000" tcp "$C1" 10.10.2.2 9000
expect_blocked "tcp c2 fd00:2::2:9000 (v6)" tcp "$C1" fd00:2::2 9000
expect_blocked "tcp 203.0.113.10:1 times out, no RST" tcp "$C1" 203.0.113.10 1
# c2 untouched, inbound still served
expect_ok "c2 (allow) -> 203.0.113.11 tcp 80" tcp "$C2" 203.0.113.11 80
expect_ok "c2 (allow) -> 203.0.113.10 udp 443" udp "$C2" 203.0.113.10 443
expect_ok "c2 (allow) -> fd00:ff::2 tcp 443 (v6)" tcp "$C2" fd00:ff::2 443
expect_inbound_ok " (c1 deny + allow rules)"
batch_end

# the denied destinations never saw c1 (a datagram would be logged even
# if only its reply had been dropped)
sleep 0.2
allowed="tcp/203.0.113.10/443 tcp/203.0.113.10/8000 tcp/203.0.113.10/8100 tcp/203.0.113.20/8000"
allowed+=" tcp/203.0.113.20/22 tcp/203.0.113.20/9000 tcp/203.0.113.10/80 tcp/203.0.113.20/80"
allowed+=" udp/203.0.113.10/53 udp/203.0.113.20/5353"
lines=$(contacts remote "$t_apply" 10.10.1.2 fd00:1::2 |
	awk -v ok=" $allowed " '!index(ok, " " $2 "/" $3 "/" $4 " ")')
check "no denied tcp/udp packet from c1 reached the remote${lines:+ (saw: ${lines//$'\n'/; })}" test -z "$lines"
expect_no_contact "host got nothing from c1" host "$t_apply" 10.10.1.2 fd00:1::2
expect_no_contact "c2 got nothing from c1" c2 "$t_apply" 10.10.1.2 fd00:1::2

finish
