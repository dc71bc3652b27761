#!/bin/bash
# Q5: dnsmasq as a test authoritative server in the remote netns
D=$(cd "$(dirname "$0")" && pwd)
. $D/topo.sh
echo "== tag $TAG"
rm -f $D/dnsmasq.log; mkdir -p $D/hostsdir
printf '192.0.2.21 a.test\n2001:db8::21 a.test\n192.0.2.22 b.test\n' > $D/hosts.remote
printf '192.0.2.31 c.test\n' > $D/hostsdir/c
CMD=(dnsmasq --keep-in-foreground --no-hosts --no-resolv --no-poll --bind-interfaces
  --listen-address=203.0.113.53 --listen-address=2001:db8:53::53 --port=53
  --local=/test/ --addn-hosts=$D/hosts.remote --hostsdir=$D/hostsdir
  --host-record=static.test,192.0.2.20,2001:db8::20 --local-ttl=2
  --log-queries=extra --log-facility=$D/dnsmasq.log --pid-file=$D/dnsmasq.pid --user=root --group=root)
echo "\$ ${CMD[*]}"
ip netns exec $R "${CMD[@]}" & DM=$!; PIDS+=($DM)
sleep 1; echo "background pid $DM, pid-file $(cat $D/dnsmasq.pid)"
q() { echo "\$ dig $*"; hx dig +noall +answer +comments "$@" | grep -E 'status|IN' ; }
q @203.0.113.53 a.test
q @203.0.113.53 a.test AAAA
q @2001:db8:53::53 static.test AAAA
q @203.0.113.53 c.test
echo "== TXT for unknown names"
q @203.0.113.53 nosuch.test TXT
q @203.0.113.53 nosuch.example TXT
q @203.0.113.53 a.test TXT
echo "== edit addn-hosts (a.test -> 192.0.2.99), SIGHUP"
printf '192.0.2.99 a.test\n2001:db8::21 a.test\n192.0.2.22 b.test\n' > $D/hosts.remote
q @203.0.113.53 a.test
kill -HUP $DM; sleep 0.3
q @203.0.113.53 a.test
echo "== edit hostsdir file (c.test -> 192.0.2.39), NO SIGHUP"
printf '192.0.2.39 c.test\n' > $D/hostsdir/c
sleep 1.5
q @203.0.113.53 c.test
echo "== TTL countdown? query twice 1 s apart"
q @203.0.113.53 b.test; sleep 1; q @203.0.113.53 b.test
echo "== $D/dnsmasq.log"; cat $D/dnsmasq.log
