#!/bin/bash
# Q4b: why pinning matters with `ct direction reply accept`: a locked bridged
# container forges the remote's address and port and "answers" a peer's open
# flow; conntrack calls it a reply and the first rule accepts it.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/proto.sh"
topo_up incus
servers_up
brnf 0 1
proto_ruleset | hx nft -f -
inject() {
	# c2 (B) opens a UDP flow to the remote from port 45555 and keeps listening on it
	nsx "$C2" "$PY" - <<'PY' &
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('10.88.0.12', 45555))
s.sendto(b'hello\n', ('198.51.100.2', 40007)); s.settimeout(2.5)
got = []
try:
    while True:
        got.append(s.recv(100))
except socket.timeout:
    pass
print('  c2 received on its flow:', ', '.join(g.decode(errors='replace').strip() for g in got))
PY
	local rx=$!
	sleep 0.8
	# c1 (A, locked) sends a datagram that claims to come from the remote
	nsx "$C1" "$PY" "$HERE/rawframe.py" send eth0 02:00:00:00:00:12 'udp=198.51.100.2:40007>10.88.0.12:45555'
	wait $rx
}
p() { printf '  %-40s %s\n' "$1" "$(probe "$2" udp "$3" 0 40007 1)"; }
echo "== A (c1) is locked: it reaches nothing on its own"
p "A -> c2:40007" "$C1" 10.88.0.12
echo "== A forges the remote's answer to c2's open flow (no pinning)"
inject
echo "== the same with hv1 pinned to 10.88.0.11"
hx nft insert rule bridge hfwb p_hv1 ether type ip ip saddr != 10.88.0.11 counter drop
inject
hx nft list chain bridge hfwb p_hv1 | grep 'saddr' | sed -E 's/^\s+/  /'
