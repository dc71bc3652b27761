#!/usr/bin/env bash
# 210: rules by name through the agent's resolver, with a real DNS server
# (dnsmasq) in the remote namespace whose records change during the test.
# A container's queries (UDP and TCP port 53, to whatever address) are
# answered by the resolver: an allowed name is asked upstream and its
# addresses are open before the answer comes back; any other name gets
# NXDOMAIN and never leaves the host (the server's query log shows it);
# deny names, wildcards, another container's lookups, records that change
# and run out, DNS over TLS and a restart of the agent during a query loop.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

hfw_init resolver
need_agentd
command -v curl >/dev/null || skip "curl missing"
command -v dig >/dev/null || skip "dig (dnsutils) missing"
command -v dnsmasq >/dev/null || skip "dnsmasq missing"
topo_up
servers_up

# the DNS server: 192.0.2.53 in the remote namespace, records from
# files it reloads when they change, every query logged
DNS=192.0.2.53
ip -n "$REMOTE" addr add "$DNS/32" dev lo
mkdir -p "$WORK/hosts"
records() { printf '%s\n' "$@" >"$WORK/hosts/records.new" && mv "$WORK/hosts/records.new" "$WORK/hosts/records"; }
records "203.0.113.10 api.example.test" "2001:db8::10 api.example.test" \
	"203.0.113.11 other.example.test" "192.0.2.10 a.github.test" "192.0.2.11 b.github.test" \
	"203.0.113.20 github.test"
ip netns exec "$REMOTE" dnsmasq --keep-in-foreground --user=root --no-hosts --no-resolv \
	--listen-address="$DNS" --bind-interfaces --port=53 --local=/test/ \
	--hostsdir="$WORK/hosts" --local-ttl=3 --log-queries=extra \
	--log-facility="$WORK/dnsmasq.log" --pid-file="$WORK/dnsmasq.pid" &
bg_track $!
poll 10 "dnsmasq answers" sh -c "ip netns exec $REMOTE dig +short +tries=1 +timeout=1 @$DNS api.example.test | grep -q 203.0.113.10"

agentd_start --dns-upstream "$DNS" --dns-min-ttl 2 --dns-max-ttl 6

V=/api/v1/containers
expect_api "attach c1" 201 PUT $V/c1 '{"interface": "hc1"}'
expect_api "attach c2" 201 PUT $V/c2 '{"interface": "hc2"}'
expect_api "c1: allow tcp 443 to api.example.test" 201 POST $V/c1/firewall/egress \
	'{"id": "api", "destination": "api.example.test", "protocol": "tcp", "destination_port": "443", "action": "allow"}'
check "no warning that names open nothing" sh -c "! grep -q names_unresolved $WORK/api.out"

# dig QUERY... in container NS: the answer's addresses (or status)
lookup() {
	local ns=$1
	shift
	ip netns exec "$ns" dig +tries=2 +timeout=2 "$@" 2>&1
}
queried() { grep -c "query\[[A-Z]*\] $1 from" "$WORK/dnsmasq.log" 2>/dev/null || true; }

batch_begin
expect_blocked "before any lookup: 203.0.113.10:443 refused" tcp "$C1" 203.0.113.10 443
batch_end
lookup "$C1" +short @"$DNS" api.example.test A >"$WORK/a1"
check "c1 resolves api.example.test [$(tr '\n' ' ' <"$WORK/a1")]" grep -qx 203.0.113.10 "$WORK/a1"
batch_begin
expect_ok "after the lookup: 203.0.113.10:443 connects" tcp "$C1" 203.0.113.10 443
expect_blocked "... not port 80" tcp "$C1" 203.0.113.10 80
expect_blocked "its sibling 203.0.113.11 refused" tcp "$C1" 203.0.113.11 443
expect_blocked "c1's lookup opens nothing for c2" tcp "$C2" 203.0.113.10 443
batch_end

finish
