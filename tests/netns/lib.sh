# shellcheck shell=bash
# Helpers for the hoody-firewall network-namespace tests. Source it:
#
#   . "$(dirname "$0")/lib.sh"
#   hfw_init core            # root/feature checks, names, work dir, traps
#   topo_up                  # host router + c1 + c2 + remote
#   servers_up               # echo responders everywhere, ready on return
#   expect_ok      "c1 -> remote 443" tcp "$C1" 203.0.113.10 443
#   expect_blocked "c1 -> remote 80"  tcp "$C1" 203.0.113.10 80
#   finish                   # summary; exit status 1 on any failure
#
# Everything lives in namespaces named hfw-<tag>-<pid>-{host,c1,c2,remote};
# nothing in the caller's namespace is changed. The EXIT trap kills every
# process in those namespaces and deletes them, also on failure or signal.
#
# Topology (all veth pairs are created inside the host namespace):
#
#   c1 eth0 10.10.1.2/24 fd00:1::2/64 ---- hc1 10.10.1.1/24 fd00:1::1/64 \
#   c2 eth0 10.10.2.2/24 fd00:2::2/64 ---- hc2 10.10.2.1/24 fd00:2::1/64  host (router)
#   remote eth0 198.51.100.2/24 fd00:ff::2/64 ---- hr0 198.51.100.1/24    / lo 10.99.0.1/32
#     + lo 203.0.113.10 .11 .20, 192.0.2.10 .11      fd00:ff::1/64
#     + lo 2001:db8::10 2001:db8::11 2001:db8:1::20   (the host routes 2001:db8::/32 there)
#
# Responders (probe.py serve, echo one line / datagram):
#   remote, every remote address: tcp $REMOTE_TCP_PORTS, udp $REMOTE_UDP_PORTS
#   host, every host address:     tcp 8080, udp 8080
#   c2 10.10.2.2 fd00:2::2:       tcp 9000, udp 9000
#   c1 10.10.1.2 fd00:1::2:       tcp 7000, udp 7000 (for inbound tests)
# Port 1 (tcp and udp) is closed everywhere: without a firewall it is refused.

set -euo pipefail

HFW_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
HFW_ROOT=$(cd "$HFW_DIR/../.." && pwd)
AGENTD=${AGENTD:-$HFW_ROOT/build/agentd}
TABLE=${TABLE:-hfwtest}
PROBE=$HFW_DIR/probe.py
if [ -z "${PYTHON:-}" ]; then
	if [ -x /usr/bin/python3 ]; then PYTHON=/usr/bin/python3; else PYTHON=python3; fi
fi

# Deadlines, in seconds.
T_OK=${T_OK:-3}		# a probe expected to pass
T_BLOCK=${T_BLOCK:-1}	# a probe expected to be dropped

REMOTE_ADDRS4="198.51.100.2 203.0.113.10 203.0.113.11 203.0.113.20 192.0.2.10 192.0.2.11"
REMOTE_ADDRS6="fd00:ff::2 2001:db8::10 2001:db8::11 2001:db8:1::20"
REMOTE_TCP_PORTS="22,23,53,80,443,444,5353,7999,8000,8050,8100,8101,9000,9001"
REMOTE_UDP_PORTS="53,443,5353,9000"
HOST_ADDRS="10.10.1.1 10.10.2.1 198.51.100.1 10.99.0.1 fd00:1::1 fd00:2::1 fd00:ff::1"

HFW_NS=()	# namespaces we created, deleted by cleanup
HFW_BG=()	# background job pids of this shell, killed by cleanup
STREAMS=()	# streams_start's senders
HFW_PASS=0
HFW_FAIL=0
HFW_FINISHED=0
HFW_BATCH=0

say() { printf '%s\n' "$*"; }
info() { printf '# %s\n' "$*"; }
die() {
	printf 'FAIL: %s\n' "$*" >&2
	exit 1
}
skip() {
	printf 'SKIP: %s\n' "$*"
	exit 77
}

# now: wall-clock seconds with fractions (the clock probe.py logs with)
now() { date +%s.%N; }

# hfw_init TAG: checks, namespace names, work directory and traps.
hfw_init() {
	local tag=$1
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	command -v ip >/dev/null || skip "ip (iproute2) missing"
	command -v ss >/dev/null || skip "ss missing"
	command -v ping >/dev/null || skip "ping missing"
	"$PYTHON" -c 'import selectors' 2>/dev/null || skip "python3 missing"
	[ -d /proc/sys/net/ipv6 ] || skip "kernel without IPv6"

	HFW_TAG="hfw-$tag-$$"
	HOST=$HFW_TAG-host
	C1=$HFW_TAG-c1
	C2=$HFW_TAG-c2
	REMOTE=$HFW_TAG-remote
	WORK=$(mktemp -d "/tmp/$HFW_TAG.XXXXXX")
	trap hfw_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
	trap 'exit 141' PIPE
}

hfw_cleanup() {
	local rc=$? ns pid
	trap - EXIT
	# finish even if the terminal or a pipe went away mid-way
	trap '' INT TERM HUP PIPE
	set +e
	{
		for pid in "${HFW_BG[@]}"; do
			kill -9 "$pid"
		done
		for ns in "${HFW_NS[@]}"; do
			ip netns pids "$ns" | xargs -r kill -9
		done
		for ns in "${HFW_NS[@]}"; do
			ip netns del "$ns"
		done
		for pid in "${HFW_BG[@]}"; do
			wait "$pid"
		done
	} 2>/dev/null
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && [ "$HFW_FINISHED" -eq 0 ]; then
		printf 'FAIL: %s aborted (exit %s) after %d passed, %d failed\n' \
			"${0##*/}" "$rc" "$HFW_PASS" "$HFW_FAIL"
		if [ -n "${WORK:-}" ] && [ -n "${HFW_KEEP:-}" ]; then
			printf '# work files kept in %s\n' "$WORK"
		fi
	fi
	if [ -n "${WORK:-}" ] && [ -z "${HFW_KEEP:-}" ]; then
		rm -rf "$WORK"
	fi
	exit "$rc"
}

# bg_track PID: kill this background job on exit.
bg_track() { HFW_BG+=("$1"); }

# nsx NS CMD...: run CMD inside NS
nsx() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

# nft_lacks NS PATTERN NFT-ARGS...: nft lists NFT-ARGS in NS, succeeds, and
# no line of the listing matches PATTERN; a failing nft proves no absence.
# With NFT_HAS=PATTERN2 set, the listing must match that too: a control
# that the listing holds what it must, so that absence means something.
nft_lacks() {
	local ns=$1 pat=$2 out
	shift 2
	out=$(ip netns exec "$ns" nft "$@") || return 1
	if [ -n "${NFT_HAS:-}" ] && ! grep -q -- "$NFT_HAS" <<<"$out"; then
		return 1
	fi
	! grep -q -- "$pat" <<<"$out"
}

# poll DEADLINE_SECS DESCRIPTION CMD...: rerun CMD every 20 ms until it
# succeeds; fail the test when the deadline passes.
poll() {
	local secs=$1 what=$2 end
	shift 2
	end=$(($(date +%s%N) + secs * 1000000000))
	until "$@" >/dev/null 2>&1; do
		if [ "$(date +%s%N)" -gt "$end" ]; then
			die "timed out after ${secs}s waiting for $what"
		fi
		sleep 0.02
	done
}

# poll_quiet DEADLINE_SECS CMD...: like poll, but returns 1 on timeout
poll_quiet() {
	local secs=$1 end
	shift
	end=$(($(date +%s%N) + secs * 1000000000))
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s%N)" -le "$end" ] || return 1
		sleep 0.02
	done
}

# ----------------------------------------------------------------- topology

ns_add() {
	local ns=$1
	ip netns add "$ns" || skip "cannot create network namespaces"
	HFW_NS+=("$ns")
	nsx "$ns" ip link set lo up
	# no DAD: addresses are usable at once (set before any link exists)
	nsx "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
		net.ipv6.conf.default.accept_dad=0 \
		net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0
}

link_is_up() { nsx "$1" ip -o link show dev "$2" up | grep -q LOWER_UP; }
no_tentative() { [ -z "$(nsx "$1" ip -6 -o addr show tentative)" ]; }

# topo_up: build the whole topology and wait until it is usable.
topo_up() {
	ns_add "$HOST"
	ns_add "$C1"
	ns_add "$C2"
	ns_add "$REMOTE"
	nsx "$HOST" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	# no reverse-path filter in the router (IPv4 sysctls may be inherited
	# from the caller's namespace): the spoofing checks must show that the
	# firewall, not rp_filter, stops a container using a foreign source
	nsx "$HOST" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0

	ip -n "$HOST" link add hc1 type veth peer name eth0 netns "$C1" ||
		skip "veth not available"
	ip -n "$HOST" link add hc2 type veth peer name eth0 netns "$C2"
	ip -n "$HOST" link add hr0 type veth peer name eth0 netns "$REMOTE"

	local ns
	for ns in "$C1" "$C2" "$REMOTE"; do
		nsx "$ns" sysctl -qw net.ipv6.conf.eth0.accept_dad=0
	done
	for ns in hc1 hc2 hr0; do
		nsx "$HOST" sysctl -qw "net.ipv6.conf.$ns.accept_dad=0"
	done

	# host (router)
	ip -n "$HOST" addr add 10.10.1.1/24 dev hc1
	ip -n "$HOST" addr add fd00:1::1/64 dev hc1 nodad
	ip -n "$HOST" addr add 10.10.2.1/24 dev hc2
	ip -n "$HOST" addr add fd00:2::1/64 dev hc2 nodad
	ip -n "$HOST" addr add 198.51.100.1/24 dev hr0
	ip -n "$HOST" addr add fd00:ff::1/64 dev hr0 nodad
	ip -n "$HOST" addr add 10.99.0.1/32 dev lo
	ip -n "$HOST" link set hc1 up
	ip -n "$HOST" link set hc2 up
	ip -n "$HOST" link set hr0 up
	ip -n "$HOST" route add 203.0.113.0/24 via 198.51.100.2
	ip -n "$HOST" route add 192.0.2.0/24 via 198.51.100.2
	ip -n "$HOST" -6 route add 2001:db8::/32 via fd00:ff::2

	# containers
	ip -n "$C1" addr add 10.10.1.2/24 dev eth0
	ip -n "$C1" addr add fd00:1::2/64 dev eth0 nodad
	ip -n "$C1" link set eth0 up
	ip -n "$C1" route add default via 10.10.1.1
	ip -n "$C1" -6 route add default via fd00:1::1
	ip -n "$C2" addr add 10.10.2.2/24 dev eth0
	ip -n "$C2" addr add fd00:2::2/64 dev eth0 nodad
	ip -n "$C2" link set eth0 up
	ip -n "$C2" route add default via 10.10.2.1
	ip -n "$C2" -6 route add default via fd00:2::1

	# remote
	ip -n "$REMOTE" addr add 198.51.100.2/24 dev eth0
	ip -n "$REMOTE" addr add fd00:ff::2/64 dev eth0 nodad
	local a
	for a in 203.0.113.10 203.0.113.11 203.0.113.20 192.0.2.10 192.0.2.11; do
		ip -n "$REMOTE" addr add "$a/32" dev lo
	done
	for a in 2001:db8::10 2001:db8::11 2001:db8:1::20; do
		ip -n "$REMOTE" addr add "$a/128" dev lo
	done
	ip -n "$REMOTE" link set eth0 up
	ip -n "$REMOTE" route add default via 198.51.100.1
	ip -n "$REMOTE" -6 route add default via fd00:ff::1

	poll 5 "hc1 up" link_is_up "$HOST" hc1
	poll 5 "hc2 up" link_is_up "$HOST" hc2
	poll 5 "hr0 up" link_is_up "$HOST" hr0
	for ns in "$C1" "$C2" "$REMOTE"; do
		poll 5 "eth0 up in $ns" link_is_up "$ns" eth0
	done
	for ns in "$HOST" "$C1" "$C2" "$REMOTE"; do
		poll 5 "no tentative IPv6 address in $ns" no_tentative "$ns"
	done
}

# c1_veth_add: give c1 its veth again (after `ip -n $HOST link del hc1`,
# a container restart), addressed and routed as topo_up made it
c1_veth_add() {
	ip -n "$HOST" link add hc1 type veth peer name eth0 netns "$C1"
	nsx "$C1" sysctl -qw net.ipv6.conf.eth0.accept_dad=0
	ip -n "$HOST" addr add 10.10.1.1/24 dev hc1
	ip -n "$C1" addr add 10.10.1.2/24 dev eth0
	ip -n "$HOST" link set hc1 up
	ip -n "$C1" link set eth0 up
	ip -n "$C1" route replace default via 10.10.1.1
	poll 5 "the new hc1 up" link_is_up "$HOST" hc1
	poll 5 "the new eth0 up in c1" link_is_up "$C1" eth0
}

# host_link_local IF: the host's link-local address on IF (hc1...)
host_link_local() {
	nsx "$HOST" ip -6 -o addr show dev "$1" scope link |
		awk '{ sub("/.*", "", $4); print $4; exit }'
}

# ---------------------------------------------------------------- listeners

# serve NS TAG TCPPORTS UDPPORTS ADDR...: start an echo responder in NS and
# wait until every socket is bound (ready file) and the kernel lists them.
serve() {
	local ns=$1 tag=$2 tcp=$3 udp=$4 a first
	shift 4
	local args=()
	for a in "$@"; do args+=(--addr "$a"); done
	local ready=$WORK/ready.$tag
	rm -f "$ready"
	ip netns exec "$ns" "$PYTHON" "$PROBE" serve --tag "$tag" "${args[@]}" \
		--tcp "$tcp" --udp "$udp" --log "$WORK/serve.$tag.log" --ready "$ready" \
		>"$WORK/serve.$tag.out" 2>&1 &
	bg_track $!
	poll 10 "responder $tag ready" test -e "$ready"
	if [ -n "$tcp" ]; then
		first=${tcp%%,*}
		poll 5 "tcp port $first listening in $ns" tcp_listening "$ns" "$first"
	fi
	if [ -n "$udp" ]; then
		first=${udp%%,*}
		poll 5 "udp port $first bound in $ns" udp_bound "$ns" "$first"
	fi
}

tcp_listening() { nsx "$1" ss -Hltn "sport = :$2" | grep -q .; }
udp_bound() { nsx "$1" ss -Hlun "sport = :$2" | grep -q .; }

# shellcheck disable=SC2086 # the address lists are meant to split
servers_up() {
	serve "$REMOTE" remote "$REMOTE_TCP_PORTS" "$REMOTE_UDP_PORTS" $REMOTE_ADDRS4 $REMOTE_ADDRS6
	serve "$HOST" host 8080 8080 $HOST_ADDRS
	serve "$C2" c2 9000 9000 10.10.2.2 fd00:2::2
	serve "$C1" c1 7000 7000 10.10.1.2 fd00:1::2
}

# serve_log TAG: the responder's log of accepted connections and datagrams
serve_log() { cat "$WORK/serve.$1.log" 2>/dev/null || true; }

# contacts TAG SINCE SRC...: print the responder TAG's log lines (accepted
# connections, datagrams) newer than SINCE (see now) from any of SRC
contacts() {
	local tag=$1 since=$2
	shift 2
	awk -v since="$since" -v srcs=" $* " \
		'$1 > since && index(srcs, " " $6 " ") > 0' "$WORK/serve.$tag.log" 2>/dev/null || true
}

# expect_no_contact DESC TAG SINCE SRC...: nothing from SRC reached TAG
expect_no_contact() {
	local desc=$1 lines
	shift
	lines=$(contacts "$@")
	if [ -z "$lines" ]; then
		pass "$desc [no connection or datagram from ${*:3} at $1]"
	else
		fail "$desc [$1 saw: $(printf '%s' "$lines" | head -3 | tr '\n' ';')]"
	fi
}

# spoof_udp NS SRC DST PORT PAYLOAD: send 5 datagrams from a source address
# NS may not own (IP_TRANSPARENT); success means only "handed to the kernel"
spoof_udp() {
	ip netns exec "$1" "$PYTHON" "$PROBE" sendudp "$3" "$4" --src "$2" --dev eth0 \
		--payload "$5" --count 5
}

# saw_payload TAG PAYLOAD: did responder TAG receive a datagram with PAYLOAD
saw_payload() { grep -qF -- "$2" "$WORK/serve.$1.log" 2>/dev/null; }

# ------------------------------------------------------------------- probes
# Each prints one line describing the outcome and returns
#   0 reply read, 1 timed out (silent drop), 2 refused (RST / ICMP port
#   unreachable), 3 other error (ICMP unreachable...), 4 connected, no reply.
# PROBE_TIMEOUT (seconds) is the deadline.

probe_tcp() {
	ip netns exec "$1" "$PYTHON" "$PROBE" tcp "$2" "$3" -t "${PROBE_TIMEOUT:-$T_OK}"
}
probe_udp() {
	ip netns exec "$1" "$PYTHON" "$PROBE" udp "$2" "$3" -t "${PROBE_TIMEOUT:-$T_OK}"
}
probe_icmp() {
	ip netns exec "$1" "$PYTHON" "$PROBE" icmp "$2" -t "${PROBE_TIMEOUT:-$T_OK}"
}
# IPv6 variants: the probes pick the family from the address; these names
# only make scripts read better.
probe_tcp6() { probe_tcp "$@"; }
probe_udp6() { probe_udp "$@"; }
probe_icmp6() { probe_icmp "$@"; }

# run_probe KIND NS DST [PORT]: dispatch to probe_KIND
run_probe() {
	local kind=$1
	shift
	case $kind in
	tcp | tcp6) probe_tcp "$@" ;;
	udp | udp6) probe_udp "$@" ;;
	icmp | icmp6) probe_icmp "$@" ;;
	*) die "unknown probe kind $kind" ;;
	esac
}

# -------------------------------------------------------------- assertions

pass() {
	HFW_PASS=$((HFW_PASS + 1))
	[ -n "${HFW_QUIET:-}" ] || printf 'PASS: %s\n' "$*"
}
fail() {
	HFW_FAIL=$((HFW_FAIL + 1))
	printf 'FAIL: %s\n' "$*"
}
# check DESCRIPTION CMD...: PASS when CMD succeeds
check() {
	local what=$1
	shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}

_mode_timeout() {
	case $1 in
	ok) echo "$T_OK" ;;
	*) echo "$T_BLOCK" ;;
	esac
}

# _judge MODE DESC RC OUT KIND NS DST [PORT]: count and print the verdict.
# MODE is ok (reply), blocked (silent drop: timeout, nothing came back) or
# refused (RST / port unreachable).
_judge() {
	local mode=$1 desc=$2 rc=$3 out=$4 want why=""
	shift 4
	out=${out//$'\n'/ }
	case $mode in
	ok) want=0 ;;
	blocked) want=1 ;;
	refused) want=2 ;;
	*) die "bad expect mode $mode" ;;
	esac
	if [ "$rc" -eq "$want" ]; then
		pass "$desc [$mode $*: $out]"
		return 0
	fi
	case $mode:$rc in
	blocked:0) why=" (packet got through)" ;;
	blocked:2) why=" (refused: a RST/ICMP error came back; denied packets must be dropped silently)" ;;
	blocked:3) why=" (an ICMP error came back; denied packets must be dropped silently)" ;;
	blocked:4) why=" (TCP connection was established)" ;;
	ok:1) why=" (timed out)" ;;
	esac
	fail "$desc [expected $mode; $*: $out]$why"
	return 1
}

# _expect MODE DESC KIND NS DST [PORT]: run one probe now
_expect() {
	local mode=$1 desc=$2 rc=0 out
	shift 2
	out=$(PROBE_TIMEOUT=$(_mode_timeout "$mode") run_probe "$@" 2>&1) || rc=$?
	_judge "$mode" "$desc" "$rc" "$out" "$@" || true
}

# In a batch the probes are queued per source namespace and batch_end runs
# each namespace's queue in one process, all probes concurrently.
HFW_B_MODE=()
HFW_B_DESC=()
HFW_B_ARGS=()
HFW_B_NS=()

_expect_dispatch() {
	if [ "$HFW_BATCH" -eq 0 ]; then
		_expect "$@"
		return 0
	fi
	local mode=$1 desc=$2 kind=$3 ns=$4 dst=$5 port=${6:-} i
	i=${#HFW_B_MODE[@]}
	HFW_B_MODE+=("$mode")
	HFW_B_DESC+=("$desc")
	HFW_B_ARGS+=("$kind $ns $dst${port:+ $port}")
	case " ${HFW_B_NS[*]} " in
	*" $ns "*) ;;
	*) HFW_B_NS+=("$ns") ;;
	esac
	printf '%s %s %s %s %s\n' "$i" "${kind%6}" "$dst" "$port" "$(_mode_timeout "$mode")" \
		>>"$WORK/batch.spec.$ns"
}

# expect_ok DESC KIND NS DST [PORT]       the probe gets its reply
# expect_blocked DESC KIND NS DST [PORT]  the probe times out (no RST/ICMP)
# expect_refused DESC KIND NS DST [PORT]  the probe is actively refused
expect_ok() { _expect_dispatch ok "$@"; }
expect_blocked() { _expect_dispatch blocked "$@"; }
expect_refused() { _expect_dispatch refused "$@"; }

# batch_begin ... batch_end: the expect_* calls in between run in parallel;
# batch_end waits for them and reports in the order they were written.
batch_begin() {
	HFW_BATCH=1
	HFW_B_MODE=()
	HFW_B_DESC=()
	HFW_B_ARGS=()
	HFW_B_NS=()
	rm -f "$WORK"/batch.*
}
batch_end() {
	local ns i pids=() rc out line
	HFW_BATCH=0
	for ns in "${HFW_B_NS[@]}"; do
		ip netns exec "$ns" "$PYTHON" "$PROBE" multi <"$WORK/batch.spec.$ns" \
			>"$WORK/batch.res.$ns" 2>"$WORK/batch.err.$ns" &
		pids+=($!)
		bg_track $!
	done
	for i in "${pids[@]}"; do
		wait "$i" || true
	done
	for ns in "${HFW_B_NS[@]}"; do
		while read -r i rc out; do
			printf '%s\t%s\n' "$rc" "$out" >"$WORK/batch.out.$i"
		done <"$WORK/batch.res.$ns"
	done
	for ((i = 0; i < ${#HFW_B_MODE[@]}; i++)); do
		if [ -e "$WORK/batch.out.$i" ]; then
			line=$(cat "$WORK/batch.out.$i")
			rc=${line%%$'\t'*}
			out=${line#*$'\t'}
		else
			rc=99
			out="no result ($(cat "$WORK"/batch.err.* 2>/dev/null | tail -1))"
		fi
		# shellcheck disable=SC2086 # ARGS is "kind ns dst [port]"
		_judge "${HFW_B_MODE[$i]}" "${HFW_B_DESC[$i]}" "$rc" "$out" ${HFW_B_ARGS[$i]} || true
	done
}

# finish: summary line; exit 1 when anything failed.
finish() {
	HFW_FINISHED=1
	if [ "$HFW_FAIL" -eq 0 ]; then
		printf 'SUMMARY: %s: %d passed, 0 failed\n' "${0##*/}" "$HFW_PASS"
		exit 0
	fi
	printf 'SUMMARY: %s: %d passed, %d failed\n' "${0##*/}" "$HFW_PASS" "$HFW_FAIL"
	exit 1
}

# ---------------------------------------------------------------- agentd

need_agentd() {
	[ -x "$AGENTD" ] || die "agentd not found at $AGENTD (build it with make, or set AGENTD)"
}

# apply FILE: apply a state in the host namespace; die on failure.
apply() {
	local f=$1 err=$WORK/apply.err
	if ! ip netns exec "$HOST" "$AGENTD" --apply "$f" --table "$TABLE" 2>"$err"; then
		sed 's/^/# agentd: /' "$err"
		die "agentd --apply $(basename "$f") failed"
	fi
}

# apply_json JSON: write JSON to a work file and apply it
apply_json() {
	local f=$WORK/state.$RANDOM.json
	printf '%s\n' "$1" >"$f"
	apply "$f"
}

# dump FILE: write the decoded kernel state to FILE (must be valid JSON)
dump() {
	ip netns exec "$HOST" "$AGENTD" --dump --table "$TABLE" >"$1" ||
		die "agentd --dump failed"
	"$PYTHON" -c 'import json,sys; json.load(open(sys.argv[1]))' "$1" ||
		die "agentd --dump printed invalid JSON"
}

# expect_dump_is DESC APPLIED: the kernel holds exactly the state in file
# APPLIED (compared through --dump; counters ignored, rule order ignored)
expect_dump_is() {
	local desc=$1 applied=$2 d=$WORK/dump.cmp.json out
	dump "$d"
	if out=$("$PYTHON" "$PROBE" statecmp "$applied" "$d" --table "$TABLE" 2>&1); then
		pass "$desc"
	else
		fail "$desc [${out//$'\n'/; }]"
	fi
}

# json_get FILE PATH: print the value at a dotted path
# (containers.c1.rules.0.packets, or by id: containers.c1.rules.id=web.bytes);
# strings bare, the rest as JSON.
json_get() { "$PYTHON" "$PROBE" json "$1" "${2:-}"; }
# json_len FILE PATH: how many elements the list (or members the object) at PATH has
json_len() { json_get "$1" "$2" | "$PYTHON" -c 'import json,sys; print(len(json.load(sys.stdin)))'; }

# state_lock ID IFNAME: JSON for a container with deny and no rules (reset)
# state_open ID IFNAME: JSON for a container with allow and no rules
state_lock() { printf '"%s": {"interface": "%s", "default_action": "deny", "rules": []}' "$1" "$2"; }
state_open() { printf '"%s": {"interface": "%s", "default_action": "allow", "rules": []}' "$1" "$2"; }

# expect_inbound_ok SUFFIX: the standard inbound checks towards c1's port
# 7000 (inside a batch or not); SUFFIX is appended to each description
expect_inbound_ok() {
	local why=$1
	expect_ok "remote -> c1 tcp 7000 inbound v4$why" tcp "$REMOTE" 10.10.1.2 7000
	expect_ok "remote -> c1 tcp 7000 inbound v6$why" tcp "$REMOTE" fd00:1::2 7000
	expect_ok "remote -> c1 udp 7000 inbound v4$why" udp "$REMOTE" 10.10.1.2 7000
	expect_ok "host -> c1 tcp 7000 inbound v4$why" tcp "$HOST" 10.10.1.2 7000
	expect_ok "host -> c1 tcp 7000 inbound v6$why" tcp "$HOST" fd00:1::2 7000
	expect_ok "host -> c1 icmp inbound v4$why" icmp "$HOST" 10.10.1.2
	expect_ok "host -> c1 icmp inbound v6$why" icmp "$HOST" fd00:1::2
	expect_ok "c2 -> c1 tcp 7000 inbound v4$why" tcp "$C2" 10.10.1.2 7000
	expect_ok "c2 -> c1 tcp 7000 inbound v6$why" tcp "$C2" fd00:1::2 7000
}

# ------------------------------------------------------------ probe loops
# A loop line is "KIND NS DST PORT WANT NAME": PORT 0 for icmp, WANT ok or
# blocked; each loop logs "START_TIME RC TEXT" lines to $WORK/loop.NAME.
LOOP_PIDS=()

# loops_start STOPFILE LINE...: repeat each probe until STOPFILE exists
loops_start() {
	local stop=$1 p kind ns dst port want name t pause args
	shift
	for p in "$@"; do
		read -r kind ns dst port want name <<<"$p"
		if [ "$want" = ok ]; then t=$T_OK; pause=0.05; else t=$T_BLOCK; pause=0; fi
		args=("$kind" "$dst")
		[ "$kind" = icmp ] || args+=("$port")
		ip netns exec "$ns" "$PYTHON" "$PROBE" loop "${args[@]}" -t "$t" --pause "$pause" \
			--stop "$stop" --log "$WORK/loop.$name" &
		LOOP_PIDS+=($!)
		bg_track $!
	done
}

# loops_stop STOPFILE: end the loops; each finishes the probe it is running
loops_stop() {
	local p
	touch "$1"
	for p in "${LOOP_PIDS[@]}"; do
		wait "$p" || true
	done
	LOOP_PIDS=()
}

# loops_judge OKMODE LINE...: blocked probes must all have been dropped;
# allowed ones answered every time (OKMODE always) or at least in their
# last three rounds (OKMODE end: they may stall while things restart).
# Leaves the number of probes in LOOPS_TOTAL.
loops_judge() {
	local okmode=$1 p kind ns dst port want name log count bad what
	shift
	LOOPS_TOTAL=0
	for p in "$@"; do
		read -r kind ns dst port want name <<<"$p"
		log=$WORK/loop.$name
		count=$(wc -l <"$log")
		LOOPS_TOTAL=$((LOOPS_TOTAL + count))
		if [ "$want" = ok ]; then
			bad=$(awk '$2 != 0' "$log")
		else
			bad=$(awk '$2 != 1' "$log")
		fi
		what="$name: $kind $dst"
		[ "$kind" = icmp ] || what+=" port $port"
		if [ "$want" = ok ] && [ "$okmode" = end ]; then
			if [ "$count" -gt 0 ] && [ -z "$(tail -3 "$log" | awk '$2 != 0')" ]; then
				pass "$what answered at the end [$count probes, $(printf '%s' "$bad" | grep -c . || true) unanswered during the run]"
			else
				fail "$what not answered at the end [$(tail -1 "$log")]"
			fi
			continue
		fi
		if [ "$want" = ok ]; then what+=" always answered"; else what+=" always dropped"; fi
		if [ "$count" -eq 0 ]; then
			fail "$what [no probe ran]"
		elif [ -z "$bad" ]; then
			pass "$what [$count probes, all as expected]"
		else
			fail "$what [$(printf '%s\n' "$bad" | grep -c .) of $count wrong, first: $(printf '%s' "$bad" | head -1)]"
		fi
	done
}

# streams_start SRC...: from each container SRC (c1, c2), a datagram every
# 20 ms to the denied udp 203.0.113.10:53 until streams_judge
streams_start() {
	local src
	for src in "$@"; do
		ip netns exec "$HFW_TAG-$src" "$PYTHON" "$PROBE" sendudp 203.0.113.10 53 \
			--payload "stream-$src-$$" --count 1000000 &
		STREAMS+=($!)
		bg_track $!
	done
}
# streams_judge SRC...: the remote saw none of the streams' datagrams;
# then, to show the check can fail, c1 allowed udp 53 sees its own arrive
streams_judge() {
	local src
	kill "${STREAMS[@]}"
	STREAMS=()
	for src in "$@"; do
		check "the 20 ms datagram stream from $src to denied udp 53 never arrived" \
			bash -c "! grep -qF 'stream-$src-$$' '$WORK/serve.remote.log'"
	done
	expect_api "control: allow c1 udp 53" 201 POST /api/v1/containers/c1/firewall/egress \
		"$(rule_body 203.0.113.10 53 udp allow)"
	ip netns exec "$C1" "$PYTHON" "$PROBE" sendudp 203.0.113.10 53 --payload "control-c1-$$" \
		--count 5
	check "control: allowed datagrams with a payload are seen by the remote" \
		poll_quiet 3 saw_payload remote "control-c1-$$"
}

# ------------------------------------------------------- held connections

# hold NAME NS DST PORT: start a long-lived connection logging to $WORK/hold.NAME
hold() {
	local log=$WORK/hold.$1
	: >"$log"
	ip netns exec "$2" "$PYTHON" "$PROBE" hold "$3" "$4" --log "$log" \
		--interval 0.1 --duration 60 &
	bg_track $!
}
replies() { "$PYTHON" "$PROBE" holdstat "$WORK/hold.$1" "${2:-0}"; }
# shellcheck disable=SC2317 # called through poll_quiet
has_replies() { [ "$(replies "$1" | cut -d' ' -f1)" -ge "$2" ]; }

# expect_flowing NAME: the connection has delivered at least 5 echoes
expect_flowing() {
	if poll_quiet 5 has_replies "$1" 5; then
		pass "$2 [$(replies "$1" | cut -d' ' -f1) echoes]"
	else
		fail "$2 [only $(replies "$1" | cut -d' ' -f1) echoes; log: $(tail -2 "$WORK/hold.$1" | tr '\n' ' ')]"
	fi
}

# expect_stopped NAME SINCE DESC: no line written after SINCE was answered
expect_stopped() {
	local r
	r=$(replies "$1" "$2")
	if [ "${r#* }" -eq 0 ]; then
		pass "$3 [${r% *} echoes in all, none to data sent after the apply]"
	else
		fail "$3 [${r#* } echoes to data sent after the apply]"
	fi
}

# expect_still_flowing NAME SINCE DESC: lines written after SINCE answered
expect_still_flowing() {
	local r
	r=$(replies "$1" "$2")
	if [ "${r#* }" -ge 5 ]; then
		pass "$3 [${r#* } echoes to data sent after the apply]"
	else
		fail "$3 [only ${r#* } echoes to data sent after the apply]"
	fi
}

# ------------------------------------------------------------ the daemon

# agentd_start [ARGS...]: run the daemon in the host namespace with its
# socket and state in $WORK (or $SOCK, $STATE) and wait until it serves.
# Its output goes to $WORK/agentd.log.
agentd_start() {
	SOCK=${SOCK:-$WORK/agentd.sock}
	STATE=${STATE:-$WORK/state}
	ip netns exec "$HOST" "$AGENTD" --socket "$SOCK" --state-dir "$STATE" \
		--table "$TABLE" "$@" >>"$WORK/agentd.log" 2>&1 &
	AGENTD_PID=$!
	bg_track "$AGENTD_PID"
	if ! poll_quiet 15 api_up; then
		sed 's/^/# agentd: /' "$WORK/agentd.log" | tail -20
		die "agentd did not start serving on $SOCK"
	fi
}

# agentd_stop SIGNAL: signal the daemon and wait for it; its exit status
# is left in AGENTD_RC
agentd_stop() {
	AGENTD_RC=0
	kill "-$1" "$AGENTD_PID"
	wait "$AGENTD_PID" 2>/dev/null || AGENTD_RC=$?
}

api_up() { curl -sf --max-time 2 --unix-socket "$SOCK" http://localhost/api/v1/health; }

# api METHOD PATH [BODY [CONTENT_TYPE]]: one call over the socket; sets
# API_STATUS (000 when nothing answered) and API_BODY, and keeps the
# answer in $WORK/api.out. BODY "@FILE" sends FILE.
api() {
	local m=$1 p=$2
	local args=(-s --path-as-is --max-time 20 --unix-socket "$SOCK" -X "$m"
		-o "$WORK/api.out" -w '%{http_code}')
	if [ $# -ge 3 ]; then
		# an empty CONTENT_TYPE sends none
		args+=(--data-binary "$3" -H "Content-Type:${4-application/json}")
	fi
	: >"$WORK/api.out"
	API_STATUS=$(curl "${args[@]}" "http://localhost$p") || true
	API_BODY=$(cat "$WORK/api.out")
}

# api_field PATH: a value of the last answer (see json_get)
api_field() { json_get "$WORK/api.out" "$1"; }

# expect_api DESC STATUS METHOD PATH [BODY [CONTENT_TYPE]]: the call answers STATUS
expect_api() {
	local desc=$1 want=$2
	shift 2
	api "$@"
	if [ "$API_STATUS" = "$want" ]; then
		pass "$desc [$want]"
	else
		fail "$desc [expected $want, got $API_STATUS: ${API_BODY:0:300}]"
	fi
}

# at_least FUNCTION N: FUNCTION prints a number of at least N
at_least() { [ "$("$1")" -ge "$2" ]; }

# in_sync: the daemon's health says the kernel holds the desired state
in_sync() {
	api GET /api/v1/health
	[ "$(api_field data.kernel_in_sync)" = true ]
}

# repairs: how many repairs the daemon's reconciler has made
repairs() {
	api GET /api/v1/health
	api_field data.reconcile.repairs
}

# rule_handle CHAIN N: the handle of the Nth rule of CHAIN in $TABLE
rule_handle() {
	nsx "$HOST" nft -a list chain inet "$TABLE" "$1" | grep -o 'handle [0-9]*' |
		sed -n "$(($2 + 1))p" | cut -d' ' -f2
}

# deftag IFNAME: the default tag of the container on IFNAME in $TABLE
deftag() {
	nsx "$HOST" nft list map inet "$TABLE" deftag | grep -o "\"$1\" : 0x[0-9a-f]*" |
		cut -d' ' -f3
}

# rule_body DEST PORT PROTO ACTION [DESC]: a rule as the API takes it
rule_body() {
	printf '{"destination": "%s", %s"protocol": "%s", "action": "%s", "description": "%s"}' \
		"$1" "${2:+\"destination_port\": \"$2\", }" "$3" "$4" "${5:-}"
}

# dns_server_up: a real DNS server (dnsmasq) at $DNS, 192.0.2.53, in
# the remote namespace, for the resolver's tests: records from a file it reloads when `records`
# rewrites it, TTL 3 s, every query logged to $WORK/dnsmasq.log. Call
# after topo_up.
DNS=192.0.2.53
dns_server_up() {
	command -v dig >/dev/null || skip "dig (dnsutils) missing"
	command -v dnsmasq >/dev/null || skip "dnsmasq missing"
	ip -n "$REMOTE" addr add "$DNS/32" dev lo
	mkdir -p "$WORK/hosts"
	records "203.0.113.10 api.example.test" "2001:db8::10 api.example.test" \
		"203.0.113.11 other.example.test" "192.0.2.10 a.github.test" \
		"192.0.2.11 b.github.test" "203.0.113.20 github.test"
	ip netns exec "$REMOTE" dnsmasq --keep-in-foreground --user=root --no-hosts --no-resolv \
		--listen-address="$DNS" --bind-interfaces --port=53 --local=/test/ \
		--hostsdir="$WORK/hosts" --local-ttl=3 --log-queries=extra \
		--log-facility="$WORK/dnsmasq.log" --pid-file="$WORK/dnsmasq.pid" &
	bg_track $!
	poll 10 "dnsmasq answers" sh -c "ip netns exec $REMOTE dig +short +tries=1 +timeout=1 @$DNS api.example.test | grep -q 203.0.113.10"
}

# records LINE...: the DNS server's records from now on ("ADDR NAME" each)
records() {
	printf '%s\n' "$@" >"$WORK/hosts/records.new" && mv "$WORK/hosts/records.new" "$WORK/hosts/records"
}

# lookup NS DIG-ARGS...: dig in namespace NS (two tries of 2 s)
lookup() {
	local ns=$1
	shift
	ip netns exec "$ns" dig +tries=2 +timeout=2 "$@" 2>&1
}

# expect_restart_keeps_dns NS WHO AGENTD-OPTION...: SIGKILL and restart
# the agent (with those options) while NS sends queries to $DNS for 6 s:
# none is lost (dnsloop.py retries once after 1 s)
expect_restart_keeps_dns() {
	local ns=$1 who=$2 loop ok lost
	shift 2
	ip netns exec "$ns" "$PYTHON" "$HFW_DIR/dnsloop.py" "$DNS" 6 >"$WORK/loop" &
	loop=$!
	bg_track "$loop"
	sleep 1.5 # the loop runs a while before the kill; the loop's own clock ends it
	agentd_stop KILL
	agentd_start "$@"
	wait "$loop"
	read -r ok lost <"$WORK/loop"
	check "SIGKILL and restart during $who query loop: $ok answered, $lost lost" \
		test "$lost" -eq 0 -a "$ok" -gt 20
}

# expect_lookup_opens NAME NS OTHER OTHER_NAME: NS's container NAME has
# an allow rule for tcp 443 to api.example.test; its lookup through the
# resolver opens the answer, 203.0.113.10, on that port and for it only:
# refused before, then it connects, not port 80, not the sibling
# 203.0.113.11, and not for OTHER_NAME (in OTHER)
expect_lookup_opens() {
	local name=$1 ns=$2 other=$3 other_name=$4
	batch_begin
	expect_blocked "$name: before any lookup, 203.0.113.10:443 refused" tcp "$ns" 203.0.113.10 443
	batch_end
	lookup "$ns" +short @"$DNS" api.example.test A >"$WORK/lookup.$name"
	check "$name resolves api.example.test [$(tr '\n' ' ' <"$WORK/lookup.$name")]" \
		grep -qx 203.0.113.10 "$WORK/lookup.$name"
	batch_begin
	expect_ok "$name: after the lookup, 203.0.113.10:443 connects" tcp "$ns" 203.0.113.10 443
	expect_blocked "... not port 80" tcp "$ns" 203.0.113.10 80
	expect_blocked "... nor the sibling 203.0.113.11" tcp "$ns" 203.0.113.11 443
	expect_blocked "$name's lookup opens nothing for $other_name" tcp "$other" 203.0.113.10 443
	batch_end
}

# expect_names_refused NAME NS: the resolver refuses NAME's (in NS) lookup
# of a name no rule allows (NXDOMAIN) and answers another type of an
# allowed one empty; the callers check that the server saw neither
expect_names_refused() {
	local name=$1 ns=$2
	lookup "$ns" @"$DNS" other.example.test A >"$WORK/other.$name"
	check "$name: a name no rule allows: NXDOMAIN" grep -q 'status: NXDOMAIN' "$WORK/other.$name"
	lookup "$ns" @"$DNS" api.example.test TXT >"$WORK/txt.$name"
	check "$name: another type of an allowed name: NOERROR, no answer" \
		sh -c "grep -q 'status: NOERROR' $WORK/txt.$name && grep -q 'ANSWER: 0' $WORK/txt.$name"
}
