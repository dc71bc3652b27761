# Observer tables in the host namespace ($H): every hook of the bridge and inet
# families logs UDP port 40007 packets to NFLOG group 5, read by nflog.py.
OBS_LOG=
obs_up() {
	local h pr
	{
	echo "table bridge obsb {"
	for h in pre:prerouting in:input fwd:forward out:output post:postrouting; do
		echo "  chain b_${h%%:*} { type filter hook ${h#*:} priority -300;"
		echo "    meta l4proto udp th dport 40007 log group 5 prefix \"b_${h%%:*}\""
		echo "    meta l4proto udp th sport 40007 log group 5 prefix \"b_${h%%:*}\""
		echo "  }"
	done
	echo "}"
	echo "table inet obsi {"
	for h in pre:prerouting in:input fwd:forward out:output post:postrouting; do
		pr=150; [ "${h%%:*}" = pre ] && pr=${OBS_PRE_PRIO:--150}
		[ "${h%%:*}" = out ] && pr=-150
		echo "  chain i_${h%%:*} { type filter hook ${h#*:} priority $pr;"
		for st in new established related untracked invalid; do
			echo "    meta l4proto udp th dport 40007 ct state $st log group 5 prefix \"i_${h%%:*} ct=$st\""
			echo "    meta l4proto udp th sport 40007 ct state $st log group 5 prefix \"i_${h%%:*} ct=$st\""
		done
		echo "  }"
	done
	echo "}"
	} | hx nft -f -
	mkdir -p "$HERE/logs"; OBS_LOG=$(mktemp "$HERE/logs/nflog.XXXXXX"); TMPF+=("$OBS_LOG")
	hx "$PY" -u "$HERE/nflog.py" 5 >"$OBS_LOG" 2>&1 &
	BG+=($!)
	sleep 0.3
}
OBS_OFF=0
obs_flush() { sleep 0.1; OBS_OFF=$(stat -c %s "$OBS_LOG"); }
obs_show() { sleep 0.15; tail -c +$((OBS_OFF + 1)) "$OBS_LOG" | sed 's/^/     /'; }
