#!/bin/bash
# Q2: port identity in the packet mark.
#  a) bridge prerouting (-200) sees the port as iifname and writes an id into
#     the bits of MASK only (per-port chain from a vmap), keeping other bits;
#  b) the id is on the packet in inet prerouting (host-bound, routed and, with
#     br_netfilter, same-bridge) and a cleanup chain at priority filter+1
#     gives the packet its other bits back before routing/forward/input;
#  c) a mark set inside the container does not cross the veth;
#  d) the id can be copied into the conntrack mark;
#  e) other software rewriting the whole mark before our chain loses the id.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/obs-tables.sh"
MASK=0xfff00000
topo_up docker
servers_up
brnf 0 1
for d in 10.88.0.12 10.88.0.1 fd88::12 fd88::1; do nsx "$C1" ping -c1 -W1 $d >/dev/null 2>&1 || true; done
OBS_PRE_PRIO=-50 obs_up          # inet observers: prerouting at -50 (after dstnat), others at 150
hx nft -f - <<NFT
table bridge idtest {
	map ports { type ifname : verdict; elements = { "hv1" : jump id1, "hv2" : jump id2 } }
	chain id1 { meta mark set meta mark & 0x000fffff | 0x00100000; }
	chain id2 { meta mark set meta mark & 0x000fffff | 0x00200000; }
	chain pre {
		type filter hook prerouting priority -200; policy accept;
		iifname "hv1" counter comment "bridge prerouting sees the port name"
		iifname vmap @ports
	}
}
table inet other {
	# another program ORing its own bit (like KUBE-MARK-MASQ 0x4000/0x4000) in dstnat
	chain nat { type filter hook prerouting priority -100; meta mark set meta mark | 0x00004000; }
}
table inet idcheck {
	chain pre {
		type filter hook prerouting priority 0; policy accept;
		meta iifkind "bridge" meta mark & $MASK == 0x00100000 counter comment "id of hv1 seen at priority 0"
		meta iifkind "bridge" meta mark & $MASK == 0x00100000 ct state new ct mark set meta mark & $MASK
		udp dport 40009 meta mark & $MASK vmap { 0x00100000 : jump seen1, 0x00200000 : jump seen2, 0 : jump seen0 }
		udp dport 40009 ct state new ct mark set 0x00212345 comment "a tag of the product whose bits overlap the mask"
	}
	chain seen0 { counter comment "probe on 40009 seen without id"; }
	chain seen1 { counter comment "probe on 40009 seen with id of hv1"; }
	chain seen2 { counter comment "probe on 40009 seen with id of hv2"; }
	chain unused {
	}
	chain clean {
		type filter hook prerouting priority 1; policy accept;
		meta mark & $MASK != 0 meta mark set meta mark & 0x000fffff
	}
}
NFT
SP=43000
run() { SP=$((SP + 1)); obs_flush; printf '  %-30s %s\n' "$1" "$(probe "$2" udp "$3" $SP)"; obs_show | grep -E 'b_pre|i_pre|i_in|i_fwd|i_post' | grep -v '40007>' ; }
echo "== a/b: c1 (hv1 -> id 0x00100000), mask $MASK, another program ORs 0x4000 at dstnat"
run "c1 -> remote" "$C1" 198.51.100.2
run "c1 -> bridge address" "$C1" 10.88.0.1
run "c1 -> peer c2 (br_netfilter)" "$C1" 10.88.0.12
run "IPv6 c1 -> remote" "$C1" 2001:db8:ff::2
run "IPv6 c1 -> peer c2" "$C1" fd88::12
hx nft list table bridge idtest | grep -E 'counter'
hx nft list table inet idcheck | grep -E 'counter'
echo "== d: conntrack entries of c1's flows carry the id in their mark"
hx grep -E 'src=10.88.0.11 .*dport=40007' /proc/net/nf_conntrack | sed -E 's/^ipv4 +2 udp +17 [0-9]+ //; s/ (secctx|zone|use)=[^ ]*//g' | head -3

echo "== c: c3 marks its own packets 0xfff04000 inside its namespace (hv3 has no id)"
nsx "$C3" nft -f - <<'NFT'
table inet forge {
	chain out { type filter hook output priority 0; meta mark set 0xfff04000; }
	chain post { type filter hook postrouting priority 0; meta mark 0xfff04000 counter comment "marked on the way out of c3"; }
}
NFT
hx nft add table bridge obs2
hx nft add chain bridge obs2 first '{ type filter hook prerouting priority -400; }'
hx nft add rule bridge obs2 first iifname hv3 meta mark != 0 counter comment '"frames from hv3 with a mark"'
hx nft add rule bridge obs2 first iifname hv3 meta mark 0 counter comment '"frames from hv3 without a mark"'
run "c3 -> remote (forged mark)" "$C3" 198.51.100.2
run "c3 -> peer c2 (forged mark)" "$C3" 10.88.0.12
nsx "$C3" nft list chain inet forge post | grep counter
hx nft list chain bridge obs2 first | grep counter

echo "== e: a program that copies ct mark into the mark before our chain (wg-quick's premangle rule)"
hx nft -f - <<'NFT'
table ip wglike {
	chain premangle { type filter hook prerouting priority mangle; meta l4proto udp meta mark set ct mark; }
}
NFT
echo "   c1 sends two datagrams of one flow to remote port 40009 (the flow's ct mark is set to 0x00212345 on the first)"
nsx "$C1" "$PY" -c 'import socket,time
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)

for m in (b"1", b"2"):
    try: s.sendto(m, ("198.51.100.2", 40009))
    except OSError: pass
    time.sleep(0.2)'
sleep 0.3
hx nft list table inet idcheck | grep -E 'comment "probe'
echo "   the same without the copying table:"
hx nft delete table ip wglike
hx nft flush chain inet idcheck seen0; hx nft add rule inet idcheck seen0 counter comment '"probe on 40009 seen without id"'
hx nft flush chain inet idcheck seen1; hx nft add rule inet idcheck seen1 counter comment '"probe on 40009 seen with id of hv1"'
hx nft flush chain inet idcheck seen2; hx nft add rule inet idcheck seen2 counter comment '"probe on 40009 seen with id of hv2"'
nsx "$C1" "$PY" -c 'import socket,time
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)

for m in (b"1", b"2"):
    try: s.sendto(m, ("198.51.100.2", 40009))
    except OSError: pass
    time.sleep(0.2)'
sleep 0.3
hx nft list table inet idcheck | grep -E 'comment "probe'

echo "== f: skb->priority as the carrier instead: does a container's own priority cross the veth, and does it survive to inet?"
nsx "$C3" nft add rule inet forge out meta priority set 0x00010005
hx nft add rule bridge obs2 first iifname hv3 meta priority != 0 counter comment '"frames from hv3 with a priority"'
hx nft add chain bridge idtest prio '{ type filter hook prerouting priority -199; }'
hx nft add rule bridge idtest prio iifname hv1 meta priority set 0x00100001
hx nft -f - <<'NFT'
table ip wglike {
	chain premangle { type filter hook prerouting priority mangle; meta l4proto udp meta mark set ct mark; }
}
table inet priocheck {
	chain pre {
		type filter hook prerouting priority 0;
		udp dport 40010 meta priority 0x00100001 counter comment "c1 probe seen with its port id in the priority, after a mark rewrite"
		udp dport 40010 meta priority != 0x00100001 counter comment "c1 probe seen without it"
	}
}
NFT
run "c3 -> remote (own priority 1:5)" "$C3" 198.51.100.2 >/dev/null
hx nft list chain bridge obs2 first | grep 'with a priority'
nsx "$C1" "$PY" -c 'import socket
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)
s.sendto(b"x", ("198.51.100.2", 40010))'
sleep 0.3
hx nft list table inet priocheck | grep counter
nsx "$C3" nft add rule inet forge post meta priority 0x00010005 counter comment '"priority 1:5 on the way out of c3"'
run "c3 -> remote (own priority 1:5)" "$C3" 198.51.100.2 >/dev/null
nsx "$C3" nft list chain inet forge post | grep 'priority 1:5'
hx nft list chain bridge obs2 first | grep 'with a priority'
