#!/usr/bin/env bash
# 036: IPv6 destinations with real packets. A locked c1 with IPv6 rules
# reaches exactly what they allow: hosts and prefixes, single ports,
# ranges, lists, icmp (ICMPv6 echo); a deny rule wins over any allow rule
# it overlaps. A rule of one family never opens the other: IPv4 rules
# leave IPv6 dropped and IPv6 rules leave IPv4 dropped, "any" of one
# family is not the other's. The dump holds the rules in canonical form,
# with counters that count IPv6 packets.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

hfw_init ipv6
need_agentd
topo_up
servers_up

# c1: IPv6 rules (one written in upper case with leading zeros), an IPv4
# rule to the IPv4 address of the same remote; c2 open but for one IPv6 deny
cat >"$WORK/v6.json" <<'EOF'
{"containers": {
  "c1": {"interface": "hc1", "default_action": "deny", "rules": [
    {"id": "d6-8050", "destination": "2001:db8::/32", "destination_port": "8050", "protocol": "tcp", "action": "deny", "description": "deny one port inside an allowed range"},
    {"id": "a6-https", "destination": "2001:DB8:0000::0010", "destination_port": "443", "protocol": "tcp", "action": "allow", "description": "https"},
    {"id": "a6-dns", "destination": "2001:db8::10/128", "destination_port": "53", "protocol": "udp", "action": "allow"},
    {"id": "a6-range", "destination": "2001:db8::/32", "destination_port": "8000-8100", "protocol": "tcp", "action": "allow"},
    {"id": "d6-11", "destination": "2001:db8::11", "protocol": "any", "action": "deny", "description": "a host inside allowed prefixes"},
    {"id": "a6-http", "destination": "2001:db8::/32", "destination_port": "80", "protocol": "tcp", "action": "allow"},
    {"id": "a6-list", "destination": "2001:db8:1::20/128", "destination_port": "22,9000", "protocol": "tcp", "action": "allow"},
    {"id": "a6-ping", "destination": "2001:db8:1::/48", "protocol": "icmp", "action": "allow"},
    {"id": "a4-https", "destination": "198.51.100.2/32", "destination_port": "443", "protocol": "tcp", "action": "allow", "description": "the remote's IPv4 address"},
    {"id": "a4-ping", "destination": "0.0.0.0/0", "protocol": "icmp", "action": "allow"}
  ]},
  "c2": {"interface": "hc2", "default_action": "allow", "rules": [
    {"id": "d6-c2", "destination": "2001:db8::10/128", "destination_port": "80", "protocol": "tcp", "action": "deny"}
  ]}
}}
EOF

apply "$WORK/v6.json"
t_apply=$(now)
expect_dump_is "the dump holds the IPv6 rules as applied, in canonical form" "$WORK/v6.json"
dump "$WORK/d1.json"
check "an upper-case address with leading zeros is shown canonical (2001:db8::10/128)" \
	test "$(json_get "$WORK/d1.json" containers.c1.rules.id=a6-https.destination)" = 2001:db8::10/128

batch_begin
# allowed
expect_ok "tcp [2001:db8::10]:443 (a6-https, a host)" tcp "$C1" 2001:db8::10 443
expect_ok "udp [2001:db8::10]:53 (a6-dns)" udp "$C1" 2001:db8::10 53
expect_ok "tcp [2001:db8::10]:8000 (a6-range start)" tcp "$C1" 2001:db8::10 8000
expect_ok "tcp [2001:db8:1::20]:8100 (a6-range end, another host of the /32)" tcp "$C1" 2001:db8:1::20 8100
expect_ok "tcp [2001:db8::10]:80 (a6-http, a /32)" tcp "$C1" 2001:db8::10 80
expect_ok "tcp [2001:db8:1::20]:22 (a6-list first)" tcp "$C1" 2001:db8:1::20 22
expect_ok "tcp [2001:db8:1::20]:9000 (a6-list last)" tcp "$C1" 2001:db8:1::20 9000
expect_ok "icmpv6 echo 2001:db8:1::20 (a6-ping, a /48)" icmp "$C1" 2001:db8:1::20
expect_ok "tcp 198.51.100.2:443 (a4-https: IPv4)" tcp "$C1" 198.51.100.2 443
expect_ok "icmp 192.0.2.10 (a4-ping: IPv4 icmp)" icmp "$C1" 192.0.2.10
# outside ports, ranges, lists, prefixes
expect_blocked "tcp [2001:db8::10]:7999 (just below the range)" tcp "$C1" 2001:db8::10 7999
expect_blocked "tcp [2001:db8::10]:8101 (just above the range)" tcp "$C1" 2001:db8::10 8101
expect_blocked "tcp [2001:db8:1::20]:23 (just after the list)" tcp "$C1" 2001:db8:1::20 23
expect_blocked "tcp [2001:db8:1::20]:9001 (just after the list)" tcp "$C1" 2001:db8:1::20 9001
expect_blocked "tcp [2001:db8:1::20]:443 (a6-https is a /128)" tcp "$C1" 2001:db8:1::20 443
expect_blocked "tcp [fd00:ff::2]:80 (outside a6-http's /32)" tcp "$C1" fd00:ff::2 80
# wrong protocol: icmp is not any, tcp is not udp
expect_blocked "udp [2001:db8::10]:443 (only tcp allowed)" udp "$C1" 2001:db8::10 443
expect_blocked "tcp [2001:db8::10]:53 (only udp allowed)" tcp "$C1" 2001:db8::10 53
expect_blocked "icmpv6 echo 2001:db8::10 (a6-ping is another /48)" icmp "$C1" 2001:db8::10
expect_blocked "udp [2001:db8:1::20]:53 (a6-ping is icmp only)" udp "$C1" 2001:db8:1::20 53
# deny inside allow
expect_blocked "tcp [2001:db8::10]:8050 (d6-8050 inside a6-range)" tcp "$C1" 2001:db8::10 8050
expect_blocked "tcp [2001:db8:1::20]:8050 (d6-8050 inside a6-range)" tcp "$C1" 2001:db8:1::20 8050
expect_blocked "tcp [2001:db8::11]:80 (d6-11 inside a6-http)" tcp "$C1" 2001:db8::11 80
expect_blocked "tcp [2001:db8::11]:8000 (d6-11 inside a6-range)" tcp "$C1" 2001:db8::11 8000
# a rule of one family never opens the other
expect_blocked "tcp [fd00:ff::2]:443 (a4-https is the IPv4 address)" tcp "$C1" fd00:ff::2 443
expect_blocked "icmpv6 echo fd00:ff::2 (a4-ping 0.0.0.0/0 is IPv4 only)" icmp "$C1" fd00:ff::2
expect_blocked "tcp 203.0.113.10:443 (no IPv4 rule for it)" tcp "$C1" 203.0.113.10 443
# the host and c2 over IPv6
expect_blocked "tcp gateway [fd00:1::1]:8080" tcp "$C1" fd00:1::1 8080
expect_blocked "icmpv6 gateway fd00:1::1" icmp "$C1" fd00:1::1
expect_blocked "tcp c2 [fd00:2::2]:9000" tcp "$C1" fd00:2::2 9000
expect_blocked "tcp [2001:db8::10]:1 times out, no RST" tcp "$C1" 2001:db8::10 1
# c2: default allow, one IPv6 deny
expect_blocked "c2 -> tcp [2001:db8::10]:80 (d6-c2)" tcp "$C2" 2001:db8::10 80
expect_ok "c2 -> tcp [2001:db8::10]:443 (default allow)" tcp "$C2" 2001:db8::10 443
expect_ok "c2 -> tcp 203.0.113.10:80 (the IPv6 deny leaves IPv4 alone)" tcp "$C2" 203.0.113.10 80
expect_inbound_ok " (c1 locked with IPv6 rules)"
batch_end

# the denied destinations never saw c1
sleep 0.2
allowed="tcp/2001:db8::10/443 tcp/2001:db8::10/8000 tcp/2001:db8:1::20/8100 tcp/2001:db8::10/80"
allowed+=" tcp/2001:db8:1::20/22 tcp/2001:db8:1::20/9000 udp/2001:db8::10/53 tcp/198.51.100.2/443"
lines=$(contacts remote "$t_apply" 10.10.1.2 fd00:1::2 |
	awk -v ok=" $allowed " '!index(ok, " " $2 "/" $3 "/" $4 " ")')
check "no denied tcp/udp packet from c1 reached the remote${lines:+ (saw: ${lines//$'\n'/; })}" test -z "$lines"
expect_no_contact "host got nothing from c1" host "$t_apply" 10.10.1.2 fd00:1::2

# counters count IPv6 packets: allowed, denied by rule, denied by default
rc() { json_get "$1" "containers.c1.rules.id=$2.packets"; }
# shellcheck disable=SC2317 # called through check
gt() { [ "$1" -gt "$2" ]; }
dump "$WORK/d2.json"
check "a6-https counts its IPv6 packets ($(rc "$WORK/d2.json" a6-https))" gt "$(rc "$WORK/d2.json" a6-https)" 0
check "a6-ping counts ICMPv6 echoes ($(rc "$WORK/d2.json" a6-ping))" gt "$(rc "$WORK/d2.json" a6-ping)" 0
check "d6-11 counts the drops it decided ($(rc "$WORK/d2.json" d6-11))" gt "$(rc "$WORK/d2.json" d6-11)" 0
check "d6-8050 counts the drops it decided ($(rc "$WORK/d2.json" d6-8050))" gt "$(rc "$WORK/d2.json" d6-8050)" 0
d0=$(json_get "$WORK/d2.json" containers.c1.dropped.packets)
batch_begin
expect_blocked "default: tcp [2001:db8:1::20]:5353" tcp "$C1" 2001:db8:1::20 5353
expect_blocked "default: tcp [fd00:ff::2]:443 (the port of a4-https)" tcp "$C1" fd00:ff::2 443
batch_end
dump "$WORK/d3.json"
check "the default drop counts IPv6 drops ($d0 -> $(json_get "$WORK/d3.json" containers.c1.dropped.packets))" \
	gt "$(json_get "$WORK/d3.json" containers.c1.dropped.packets)" "$d0"
check "the IPv4 rule a4-https counted none of the IPv6 packets to its port" \
	test "$(rc "$WORK/d3.json" a4-https)" -eq "$(rc "$WORK/d2.json" a4-https)"
check "nft sees c1's IPv6 chain dispatched from hc1" \
	nsx "$HOST" sh -c "nft list map inet $TABLE dispatch6 | grep -q '\"hc1\" : jump c6_c1'"

# "any" of one family is not the other: c1 may reach all of IPv6 and
# nothing of IPv4, c2 all of IPv4 and nothing of IPv6
cat >"$WORK/cross.json" <<'EOF'
{"containers": {
  "c1": {"interface": "hc1", "default_action": "deny", "rules": [
    {"id": "all6", "destination": "::/0", "protocol": "any", "action": "allow"}]},
  "c2": {"interface": "hc2", "default_action": "deny", "rules": [
    {"id": "all4", "destination": "0.0.0.0/0", "protocol": "any", "action": "allow"}]}
}}
EOF
apply "$WORK/cross.json"
expect_dump_is "::/0 and 0.0.0.0/0 read back as applied" "$WORK/cross.json"
batch_begin
expect_ok "::/0 any: c1 -> tcp [2001:db8::11]:80" tcp "$C1" 2001:db8::11 80
expect_ok "::/0 any: c1 -> udp [fd00:ff::2]:53" udp "$C1" fd00:ff::2 53
expect_ok "::/0 any: c1 -> icmpv6 fd00:ff::2" icmp "$C1" fd00:ff::2
expect_ok "::/0 any: c1 -> tcp c2 [fd00:2::2]:9000" tcp "$C1" fd00:2::2 9000
expect_blocked "::/0 any: c1 -> tcp 203.0.113.11:80 (IPv4)" tcp "$C1" 203.0.113.11 80
expect_blocked "::/0 any: c1 -> udp 198.51.100.2:53 (IPv4)" udp "$C1" 198.51.100.2 53
expect_blocked "::/0 any: c1 -> icmp 192.0.2.10 (IPv4)" icmp "$C1" 192.0.2.10
expect_ok "0.0.0.0/0 any: c2 -> tcp 203.0.113.11:80" tcp "$C2" 203.0.113.11 80
expect_ok "0.0.0.0/0 any: c2 -> icmp 192.0.2.10" icmp "$C2" 192.0.2.10
expect_blocked "0.0.0.0/0 any: c2 -> tcp [2001:db8::11]:80 (IPv6)" tcp "$C2" 2001:db8::11 80
expect_blocked "0.0.0.0/0 any: c2 -> icmpv6 fd00:ff::2 (IPv6)" icmp "$C2" fd00:ff::2
batch_end

# the last IPv6 rule gone, its chain and dispatch element go too
apply "$WORK/v6.json"
apply_json '{"containers": {"c1": {"interface": "hc1", "default_action": "deny", "rules": [
  {"id": "a4-https", "destination": "198.51.100.2/32", "destination_port": "443", "protocol": "tcp", "action": "allow"}]}}}'
check "no IPv6 rule: no IPv6 chain" \
	nft_lacks "$HOST" 'chain c6_' list table inet "$TABLE"
check "no IPv6 rule: no dispatch6 element" \
	nft_lacks "$HOST" hc1 list map inet "$TABLE" dispatch6
batch_begin
expect_blocked "IPv6 rules removed: c1 -> tcp [2001:db8::10]:443" tcp "$C1" 2001:db8::10 443
expect_ok "IPv6 rules removed: c1 -> tcp 198.51.100.2:443" tcp "$C1" 198.51.100.2 443
batch_end
finish
