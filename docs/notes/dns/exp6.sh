#!/bin/bash
# Q6: dig retry behaviour after ICMP port unreachable. usage: exp6.sh DELAY|never DIGARGS...
D=$(cd "$(dirname "$0")" && pwd)
. $D/topo.sh
hx nft -f $D/rules.nft || exit 1
echo "host ns: icmp_ratelimit=$(hx sysctl -n net.ipv4.icmp_ratelimit) icmp_ratemask=$(hx sysctl -n net.ipv4.icmp_ratemask) icmp_msgs_per_sec=$(hx sysctl -n net.ipv4.icmp_msgs_per_sec) icmp_msgs_burst=$(hx sysctl -n net.ipv4.icmp_msgs_burst)"
c1x tcpdump -l -n -i eth0 'ip or ip6 and not icmp6' > $D/td.txt 2>/dev/null & PIDS+=($!)
delay=$1; shift
sleep 1
if [ "$delay" != never ]; then hx python3 -u $D/srv.py 5353 $delay > $D/srv6.log 2>&1 & PIDS+=($!); fi
echo "\$ dig $*    # listener binds after: $delay s; dig starts $(date +%T.%N)"
t0=$(date +%s.%N)
c1x dig "$@" 2>&1 | grep -E 'error|status|no servers|SERVER'
echo "   elapsed: $(echo "$(date +%s.%N) - $t0" | bc) s"
sleep 0.5; [ -s $D/srv6.log ] && grep -E 'ready|UDP' $D/srv6.log; rm -f $D/srv6.log
echo "   container tcpdump:"; sed 's/^/   /' $D/td.txt
