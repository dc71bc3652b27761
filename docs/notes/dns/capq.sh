#!/bin/bash
# capture a real dig query in a throwaway netns
N=hfwr-$$-q; P=
trap '[ -n "$P" ] && kill $P 2>/dev/null; ip netns del $N 2>/dev/null' EXIT
ip netns add $N; ip -n $N link set lo up
ip netns exec $N python3 -c "
import socket; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(('127.0.0.1',5300))
d,a=s.recvfrom(4096); open('$D/query.bin','wb').write(d); print('captured',len(d),'bytes from',a)" & P=$!
sleep 0.5
ip netns exec $N dig @127.0.0.1 -p 5300 ExAmPle.COM A +tries=1 +timeout=1 >/dev/null
wait $P; P=
