#!/bin/bash
# Q6: cost. One bridged container (c1) sending 64-byte frames (UDP, 18-byte
# payload, sendmmsg; counted where they arrive) and one TCP stream (iperf3), to the remote through the host (routed, no NAT)
# and to a peer on the same bridge (c2). Configurations:
#   none/nf0  no table, bridge nf_call 0     none/nf1  no table, bridge nf_call 1
#   ct/nf1    inet prerouting `ct direction reply accept` only, nf_call 1
#   proposed0 proto.sh alone (3 containers), nf_call 1
#   proposed  proto.sh + 1,000 other containers (port chains, dispatch, sets), nf_call 1
# Usage: q6-cost.sh [ROUNDS] [SECONDS]
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/proto.sh"
ROUNDS=${1:-2}; SECS=${2:-3}
topo_up incus
for n in "$R" "$C2"; do nsx "$n" iperf3 -s -D -p 5201 --logfile /dev/null; done
sleep 0.5
others() { # 1,000 other containers in the prototype's objects
	"$PY" - <<'PY'
N = 1000
out = []
for i in range(N):
    idv = 0x80000000 | (((i % 2000) + 10) << 20)
    out.append('add chain bridge hfwb p_veth%04d' % i)
    out.append('add rule bridge hfwb p_veth%04d ether type != { arp, ip, ip6 } drop' % i)
    out.append('add rule bridge hfwb p_veth%04d meta mark set meta mark & 0x000fffff | 0x%08x' % (i, idv))
    out.append('add chain inet hfw c_x%04d' % i)
    t = 0x10000 + i * 4
    out.append('add rule inet hfw c_x%04d ip daddr 203.0.113.%d tcp dport 443 ct mark set 0x%08x' % (i, i % 250, t))
    out.append('add rule inet hfw c_x%04d ip daddr 10.0.0.0/8 udp dport 5000-6000 ct mark != 0x%08x ct mark set 0x%08x' % (i, t, t + 1))
    out.append('add rule inet hfw c_x%04d ct mark != 0x%08x-0x%08x ct mark set 0x%08x' % (i, t, t + 1, t + 2))
ports = ', '.join('"veth%04d" : goto p_veth%04d' % (i, i) for i in range(N))
out.append('add element bridge hfwb ports { %s }' % ports)
disp = ', '.join('0x%08x : jump c_x%04d' % (0x80000000 | (((i % 2000) + 10) << 20), i) for i in range(N))
out.append('add element inet hfw bdispatch { %s }' % disp)
al = ', '.join('0x%08x . 0x%08x, 0x%08x . 0x%08x' % (0x80000000 | (((i % 2000) + 10) << 20), 0x10000 + i * 4, 0x80000000 | (((i % 2000) + 10) << 20), 0x10000 + i * 4 + 1) for i in range(N))
out.append('add element inet hfw ballow { %s }' % al)
dn = ', '.join('0x%08x . 0x%08x' % (0x80000000 | (((i % 2000) + 10) << 20), 0x10000 + i * 4 + 2) for i in range(N))
out.append('add element inet hfw bdeny { %s }' % dn)
dt = ', '.join('0x%08x : 0x%08x' % (0x80000000 | (((i % 2000) + 10) << 20), 0x10000 + i * 4 + 2) for i in range(N))
out.append('add element inet hfw bdeftag { %s }' % dt)
print('\n'.join(out))
PY
}
setcfg() {
	hx nft flush ruleset
	case $1 in
	none/nf0) brnf 0 0 ;;
	none/nf1) brnf 0 1 ;;
	ct/nf1) brnf 0 1; printf '%s\n' 'table inet ctonly {' 'chain pre { type filter hook prerouting priority filter;' 'ct direction reply accept' '}' '}' | hx nft -f - ;;
	proposed|proposed0) brnf 0 1
		# c1 (A) may reach the remote and c2 over TCP 5201 and UDP 5201
		proto_ruleset | sed 's/ip daddr 198.51.100.2 udp dport 40007 ct mark set 0x00000101/ip daddr { 198.51.100.2, 10.88.0.12 } th dport { 5201, 9 } ct mark set 0x00000101/' | hx nft -f -
		[ "$1" = proposed ] && others | hx nft -f - 2>&1 | head -c 400 ;;
	esac
	hx conntrack -F >/dev/null 2>&1 || true
}
# UDP: udpflood (sendmmsg, 18-byte payload) from c1 to port 9; the receiver
# counts and drops them in its own prerouting (priority -500): received/s.
for n in "$R" "$C2"; do
	printf '%s\n' 'table inet sink {' 'chain pre { type filter hook prerouting priority -500;' 'udp dport 9 counter drop' '}' '}' | nsx "$n" nft -f -
done
cnt() { nsx "$1" nft list chain inet sink pre | awk '/counter/{for(i=1;i<=NF;i++) if($i=="packets") print $(i+1)}'; }
# CPU per datagram: udpflood's own CPU time (the veth receive path mostly runs
# in its context, as softirq on the way out of the send) plus what the
# ksoftirqd threads used meanwhile, divided by the datagrams that arrived.
# Robust against other jobs on the machine, unlike the rate.
KSI=$(pgrep -x 'ksoftirqd/[0-9]+' | tr '\n' ' ')
ksi() { local t=0 p; for p in $KSI; do t=$(( t + $(awk '{print $14 + $15}' /proc/$p/stat) )); done; echo $t; }
udp() {
	local b a k0 k1 out sent cpu
	b=$(cnt "$2"); k0=$(ksi)
	out=$(nsx "$C1" "$HERE/udpflood" "$1" 9 "$SECS")
	a=$(cnt "$2"); k1=$(ksi)
	read -r sent cpu <<<"$out"
	cpu=$(( cpu + (k1 - k0) * 1000000 / $(getconf CLK_TCK) ))
	printf '%8d %5d' $(( (a - b) / SECS )) $(( cpu * 1000 / (a - b > 0 ? a - b : 1) ))
}
tcp() { nsx "$C1" iperf3 -c "$1" -t "$SECS" -J 2>/dev/null | "$PY" -c 'import json,sys
d=json.load(sys.stdin)["end"]["sum_received"]; print("%.2f" % (d["bits_per_second"]/1e9))' 2>/dev/null || echo err; }
printf '%-10s %-5s %-22s %8s   %-22s %8s\n' config round "remote: udp/s  ns/udp" "tcp Gb/s" "peer: udp/s  ns/udp" "tcp Gb/s"
for r in $(seq "$ROUNDS"); do
	for cfg in none/nf0 none/nf1 ct/nf1 proposed0 proposed; do
		setcfg "$cfg"
		printf '%-10s %-5s %-22s %8s   %-22s %8s\n' "$cfg" "$r" "$(udp 198.51.100.2 "$R")" "$(tcp 198.51.100.2)" "$(udp 10.88.0.12 "$C2")" "$(tcp 10.88.0.12)"
	done
done
echo "proposed ruleset size: $(setcfg proposed; hx nft list ruleset | wc -l) lines; bridge ports map $(hx nft list map bridge hfwb ports | grep -o 'goto' | wc -l) entries"
