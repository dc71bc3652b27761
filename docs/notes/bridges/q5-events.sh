#!/bin/bash
# Q5: link events around bridges, ports and their netfilter options, seen by an
# RTNLGRP_LINK listener (linkmon.py) and by `ip monitor link`.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
N=$P-ev
mkns "$N"
LOG=$(mktemp); IPM=$(mktemp)
nsx "$N" "$PY" -u "$HERE/linkmon.py" "$LOG" & BG+=($!)
nsx "$N" ip monitor link > "$IPM" & BG+=($!)
sleep 0.5
step() { echo "--- $*" >> "$LOG"; echo "--- $*" >> "$IPM"; nsx "$N" "$@"; sleep 0.3; }
step ip link add br0 type bridge
step ip link add hv1 type veth peer name c1
step ip link set br0 up
step ip link set hv1 master br0
step ip link set hv1 up
step ip link set c1 up
step ip link set br0 type bridge nf_call_iptables 1
step ip link set br0 type bridge nf_call_ip6tables 1
step ip link set br0 type bridge nf_call_iptables 1
step sysctl -qw net.bridge.bridge-nf-call-iptables=0
step sysctl -qw net.bridge.bridge-nf-call-ip6tables=0
step ip link set hv1 nomaster
step ip link set hv1 master br0
step ip link del br0
step ip link add br0 type bridge
step ip link del hv1
sleep 0.3
echo "== RTNLGRP_LINK, decoded"; cat "$LOG"
echo "== ip monitor link"; cat "$IPM"
echo "== the sysctl: no netlink event (above); does inotify on its /proc file see another process write it?"
nsx "$N" "$PY" - <<'PY'
import ctypes, os, select, subprocess
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.inotify_init1(os.O_NONBLOCK)
p = b'/proc/sys/net/bridge/bridge-nf-call-iptables'
wd = libc.inotify_add_watch(fd, p, 0x2 | 0x4 | 0x8)  # IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE
for val in ('1', '0'):
    before = open(p).read().strip()
    subprocess.run(['sysctl', '-qw', 'net.bridge.bridge-nf-call-iptables=' + val])
    after = open(p).read().strip()
    r, _, _ = select.select([fd], [], [], 0.5)
    ev = os.read(fd, 4096) if r else b''
    print('  sysctl -w (another process): value %s -> %s; inotify: %s' % (before, after, ('%d bytes of events' % len(ev)) if ev else 'nothing'))
PY
rm -f "$LOG" "$IPM"
