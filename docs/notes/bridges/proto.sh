# shellcheck shell=bash
# The proposed mechanism, prototyped with nft (the product would build the same
# objects over netlink). Field F = the top 12 bits of the packet mark:
#   bit 31 (V)   set by the bridge table on every frame entering any bridge port;
#                never set in a conntrack tag (tags stay below 2^31);
#   bits 20-30   the port id: 1..2046 a managed port, 0 a port not ours
#                (EXEMPT), 2047 a port that matches the prefix but is not
#                registered (UNREG, dropped).
# Other mark bits are left as found; the inet chain `clean` (priority filter+1)
# removes F again before routing, forward and input.
F=0xfff00000; KEEP=0x000fffff; V=0x80000000; EXEMPT=0x80000000; UNREG=0xfff00000
fid() { printf '0x%08x' $(( 0x80000000 | ($1 << 20) )); }

# proto_ruleset: prints the two tables for the test containers:
#   hv1 = A (locked: only udp 198.51.100.2:40007), hv2 = B (default allow),
#   hv3 = not ours, prefix "vx": unregistered vx* ports are dropped,
#   hc5 = C5, attached by name, allowed udp 198.51.100.2:40007 only; routed
#   or bridged, it has an id either way.
proto_ruleset() {
	cat <<NFT
table bridge hfwb {
	map ports { type ifname : verdict; elements = { "hv1" : goto p_hv1, "hv2" : goto p_hv2, "hc5" : goto p_hc5 } }
	chain pre {
		type filter hook prerouting priority -200; policy accept;
		iifname vmap @ports
		iifname "vx*" meta mark set meta mark & $KEEP | $UNREG accept
		meta mark set meta mark & $KEEP | $EXEMPT
	}
	chain p_hv1 {
		ether type != { arp, ip, ip6 } counter drop
		meta mark set meta mark & $KEEP | $(fid 1)
	}
	chain p_hv2 {
		ether type != { arp, ip, ip6 } counter drop
		meta mark set meta mark & $KEEP | $(fid 2)
	}
	chain p_hc5 {
		ether type != { arp, ip, ip6 } counter drop
		meta mark set meta mark & $KEEP | $(fid 5)
	}
	chain fw {
		type filter hook forward priority -200; policy accept;
		meta mark & $F == 0 accept
		meta mark & $F == $EXEMPT meta mark set meta mark & $KEEP accept
		ether type arp meta mark set meta mark & $KEEP accept
		icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } ip6 hoplimit 255 meta mark set meta mark & $KEEP accept
		counter drop comment "IP from a port of ours that no inet chain saw (br_netfilter off)"
	}
}
table inet hfw {
	set attached { type ifname; elements = { "hc5" } }
	map dispatch { type ifname : verdict; elements = { "hc5" : jump c_5 } }
	set allow { type ifname . mark; elements = { "hc5" . 0x00000301 } }
	set deny { type ifname . mark; elements = { "hc5" . 0x00000302 } }
	map deftag { type ifname : mark; elements = { "hc5" : 0x00000302 } }
	map bdispatch { type mark : verdict; elements = { $(fid 1) : jump c_1, $(fid 2) : jump c_2, $(fid 5) : jump c_5 } }
	set ballow { type mark . mark; elements = { $(fid 1) . 0x00000101, $(fid 2) . 0x00000201, $(fid 5) . 0x00000301 } }
	set bdeny { type mark . mark; elements = { $(fid 1) . 0x00000102, $(fid 5) . 0x00000302 } }
	map bdeftag { type mark : mark; elements = { $(fid 1) : 0x00000102, $(fid 2) : 0x00000201, $(fid 5) : 0x00000302 } }
	chain c_1 {
		ip daddr 198.51.100.2 udp dport 40007 ct mark set 0x00000101
		ct mark != 0x00000101 ct mark set 0x00000102
	}
	chain c_2 {
		ct mark set 0x00000201
	}
	chain c_5 {
		ip daddr 198.51.100.2 udp dport 40007 ct mark set 0x00000301
		ct mark != 0x00000301 ct mark set 0x00000302
	}
	chain pre {
		type filter hook prerouting priority filter; policy accept;
		ct direction reply accept
		meta mark & $V != 0 goto bridged
		meta iifkind "bridge" fib saddr type != local counter drop comment "from a bridge without the field: the mark was rewritten before us"
		iifname . ct mark @allow ct status != expected accept
		iifname "hc*" iifname != @attached drop
		iifname != @attached accept
		iifname . ct mark @deny drop
		ct status expected ct mark set 0
		meta nfproto ipv4 iifname vmap @dispatch
		meta nfproto ipv6 ct mark set iifname map @deftag
		iifname . ct mark @allow accept
		iifname . ct mark @deny drop
		drop
	}
	chain bridged {
		meta mark & $F . ct mark @ballow ct status != expected accept
		meta mark & $F == $EXEMPT accept
		meta mark & $F . ct mark @bdeny counter drop
		icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } ip6 hoplimit 255 accept
		ct status expected ct mark set 0
		meta nfproto ipv4 meta mark & $F vmap @bdispatch
		meta nfproto ipv6 ct mark set meta mark & $F map @bdeftag
		meta mark & $F . ct mark @ballow accept
		meta mark & $F . ct mark @bdeny counter drop
		counter drop comment "unknown or unregistered port"
	}
	chain clean {
		type filter hook prerouting priority filter + 1; policy accept;
		meta mark & $F != 0 meta mark set meta mark & $KEEP
	}
}
NFT
}
