#!/usr/bin/env bash
# 115: a whole-host change cut short by a crash can leave two state files
# claiming one interface (the one it moved to writes its file before the
# one it moved from). The agent must start all the same: the file written
# last keeps the interface, the other container is detached and written
# so, the interface stays enforced throughout, and the next start finds
# the same.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

hfw_init dclaim
need_agentd
command -v curl >/dev/null || skip "curl missing"
topo_up
servers_up
agentd_start --dns-port 0

V=/api/v1/containers
expect_api "attach a to hc1" 201 PUT $V/a '{"interface": "hc1"}'
expect_api "a: allow tcp 443 to 203.0.113.10" 201 POST $V/a/firewall/egress \
	"$(rule_body 203.0.113.10 443 tcp allow)"
expect_api "attach b to hc2" 201 PUT $V/b '{"interface": "hc2"}'
expect_api "b: allow tcp 80 to 203.0.113.10" 201 POST $V/b/firewall/egress \
	"$(rule_body 203.0.113.10 80 tcp allow)"
agentd_stop KILL

# what a cut-short move of hc1 from a to c leaves: c's file (a's content,
# so claiming hc1) written after a's
cp "$STATE/containers/a.state" "$STATE/containers/c.state"
touch -d '1 minute ago' "$STATE/containers/a.state"
# c is a copy of a: tell them apart by the rule's port, 80 in c
"$PYTHON" - "$STATE/containers/c.state" <<'EOF'
# rewrite the JSON of the current slot with port 80, keeping the slot
# format: magic, size, length, sequence, crc32 of bytes 8-23 and the JSON
import struct, sys, zlib
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
size = struct.unpack_from("<I", b, 8)[0]
best = None
for off in (0, size):
    if b[off:off + 8] == b"HFWSTAT1":
        seq = struct.unpack_from("<Q", b, off + 16)[0]
        if best is None or seq > best[1]:
            best = (off, seq)
off = best[0]
n = struct.unpack_from("<I", b, off + 12)[0]
js = bytes(b[off + 32:off + 32 + n]).replace(b'"443"', b'"80"')
struct.pack_into("<I", b, off + 12, len(js))
crc = zlib.crc32(bytes(b[off + 8:off + 24]))
crc = zlib.crc32(js, crc)
struct.pack_into("<I", b, off + 24, crc)
b[off + 32:off + 32 + len(js)] = js
open(p, "wb").write(b)
EOF

agentd_start --dns-port 0
check "the agent starts with two files claiming hc1" test -n "$(api_up)"
check "... and says which keeps it" \
	grep -q "interface hc1 is claimed by containers .*: c, written last, keeps it; a is detached" \
	"$WORK/agentd.log"
expect_api "c" 200 GET $V/c/firewall
check "c holds hc1, enforced" \
	test "$(api_field data.interface) $(api_field data.enforcement)" = "hc1 enforced"
expect_api "a" 200 GET $V/a/firewall
check "a is detached [$(api_field data.enforcement)]" test "$(api_field data.enforcement)" = not_attached
batch_begin
expect_ok "c1 -> 203.0.113.10 80: c's rule" tcp "$C1" 203.0.113.10 80
expect_blocked "c1 -> 203.0.113.10 443: a's rule no longer" tcp "$C1" 203.0.113.10 443
expect_ok "c2 -> 203.0.113.10 80: b untouched" tcp "$C2" 203.0.113.10 80
batch_end
check "the agent is in sync" in_sync

agentd_stop TERM
agentd_start --dns-port 0
check "the next start finds no double claim" \
	test "$(grep -c 'is claimed by containers' "$WORK/agentd.log")" -eq 1
expect_api "c after the restart" 200 GET $V/c/firewall
check "... still holds hc1" test "$(api_field data.interface)" = hc1
expect_api "a after the restart" 200 GET $V/a/firewall
check "... a still detached" test "$(api_field data.enforcement)" = not_attached
agentd_stop TERM
check "the daemon stopped cleanly" test "$AGENTD_RC" -eq 0
finish
