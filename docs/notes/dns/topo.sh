# sourced: builds the topology in namespaces hfwr-$$-{h,c1,c2,r}; cleanup on EXIT
TAG=hfwr-$$
H=$TAG-h; C1=$TAG-c1; C2=$TAG-c2; R=$TAG-r
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  sleep 0.2
  for ns in $H $C1 $C2 $R; do
    # kill any process still in one of our namespaces (by pid, only ours)
    for p in $(ip netns pids $ns 2>/dev/null); do kill "$p" 2>/dev/null; done
    ip netns del $ns 2>/dev/null
  done
}
trap cleanup EXIT
set -e
for ns in $H $C1 $C2 $R; do ip netns add $ns; ip -n $ns link set lo up; done
hx() { ip netns exec $H "$@"; }
c1x() { ip netns exec $C1 "$@"; }
c2x() { ip netns exec $C2 "$@"; }
rx() { ip netns exec $R "$@"; }
# container 1, routed veth
ip -n $H link add hc1 type veth peer name eth0 netns $C1
ip -n $H addr add 10.10.1.1/24 dev hc1; ip -n $H addr add fd00:1::1/64 dev hc1 nodad
ip -n $H link set hc1 up
ip -n $C1 addr add 10.10.1.2/24 dev eth0; ip -n $C1 addr add fd00:1::2/64 dev eth0 nodad
ip -n $C1 link set eth0 up
ip -n $C1 route add default via 10.10.1.1; ip -n $C1 -6 route add default via fd00:1::1
# container 2, bridged
ip -n $H link add br0 type bridge
ip -n $H addr add 10.20.0.1/24 dev br0; ip -n $H addr add fd00:2::1/64 dev br0 nodad
ip -n $H link add hv1 type veth peer name eth0 netns $C2
ip -n $H link set hv1 master br0; ip -n $H link set hv1 up; ip -n $H link set br0 up
ip -n $C2 addr add 10.20.0.2/24 dev eth0; ip -n $C2 addr add fd00:2::2/64 dev eth0 nodad
ip -n $C2 link set eth0 up
ip -n $C2 route add default via 10.20.0.1; ip -n $C2 -6 route add default via fd00:2::1
# remote
ip -n $H link add hr1 type veth peer name eth0 netns $R
ip -n $H addr add 203.0.113.1/24 dev hr1; ip -n $H addr add 2001:db8:53::1/64 dev hr1 nodad
ip -n $H link set hr1 up
ip -n $R addr add 203.0.113.53/24 dev eth0; ip -n $R addr add 2001:db8:53::53/64 dev eth0 nodad
ip -n $R link set eth0 up
ip -n $R route add default via 203.0.113.1; ip -n $R -6 route add default via 2001:db8:53::1
set +e
sleep 1   # let bridge port reach forwarding / link-local DAD settle
