#!/bin/bash
# Q1: which hooks see each direction of bridged traffic, for every combination of
# the host-wide br_netfilter sysctls and the bridge's own nf_call options.
# Usage: q1-hooks.sh [docker|incus] ...   (default: both)
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/obs-tables.sh"
SP=41000
run() { # run LABEL NS DST
	local label=$1 ns=$2 dst=$3 r
	SP=$((SP + 1))
	obs_flush
	r=$(probe "$ns" udp "$dst" $SP)
	if [ "$r" != ok ]; then SP=$((SP + 1)); r="$r, again: $(probe "$ns" udp "$dst" $SP)"; fi
	printf '  %-34s %s\n' "$label" "$r"
	obs_show
}
modes=("$@"); [ ${#modes[@]} -gt 0 ] || modes=(docker incus)
for mode in "${modes[@]}"; do
	cleanup; NSS=(); BG=()
	P=brr-$$-$mode; H=$P-host; C1=$P-c1; C2=$P-c2; C3=$P-c3; R=$P-remote
	topo_up "$mode"
	servers_up
	obs_up
	# warm up neighbour caches so the first probe is not an ARP/ND artefact
	for d in 10.88.0.12 10.88.0.1 fd88::12 fd88::1; do nsx "$C1" ping -c1 -W1 $d >/dev/null 2>&1 || true; done
	nsx "$R" ping -c1 -W1 198.51.100.1 >/dev/null; nsx "$R" ping -c1 -W1 2001:db8:ff::1 >/dev/null
	for combo in "0 0" "0 1" "1 0" "1 1"; do
		set -- $combo
		brnf "$1" "$2"
		echo "== $mode: sysctl bridge-nf-call-ip{,6}tables=$1, br0 nf_call_ip{,6}tables=$2"
		for v in 4 6; do
			if [ $v = 4 ]; then rem=198.51.100.2 bra=10.88.0.1 hoa=192.0.2.1 peer=10.88.0.12 c1a=10.88.0.11 pub=198.51.100.1 c2a=10.88.0.12
			else rem=2001:db8:ff::2 bra=fd88::1 hoa=2001:db8:1::1 peer=fd88::12 c1a=fd88::11 pub=2001:db8:ff::1 c2a=fd88::12; fi
			run "IPv$v c1 -> remote $rem" "$C1" $rem
			run "IPv$v c1 -> bridge addr $bra" "$C1" $bra
			run "IPv$v c1 -> host addr $hoa" "$C1" $hoa
			run "IPv$v c1 -> peer c2 $peer" "$C1" $peer
			if [ "$mode" = docker ]; then run "IPv$v remote -> published $pub" "$R" $pub
			else run "IPv$v remote -> c2 $c2a (routed)" "$R" $c2a; fi
			run "IPv$v host -> c1 $c1a" "$H" $c1a
		done
	done
done
