#!/usr/bin/python3
"""Condense q1-hooks.sh output: one line per probe and direction, the hooks in
the order they fired. b_X = bridge family hook, i_X = inet hook; [port]
is the bridge port (NFLOG physindev/physoutdev), {nf} marks an inet hook run
by br_netfilter, iif/oif are what inet's iifname/oifname see."""
import re, sys
cur = {'req': [], 'rep': []}
def flush():
    for k in ('req', 'rep'):
        if cur[k]:
            print('      %s: %s' % (k, ' '.join(cur[k])))
        cur[k] = []
for path in sys.argv[1:]:
    for line in open(path):
        if line.startswith('=='):
            flush(); print(line.rstrip()); continue
        m = re.match(r'  (IPv\d .*?)\s+(ok.*|fail.*)$', line.rstrip())
        if m:
            flush()
            label, res = m.groups()
            print('  %-36s %s' % (label, res))
            continue
        m = re.match(r'\s+(\S+)(?: ct=(\S+))? (\S*)>(\S*)(?: phys=(\S*)>(\S*))? mark=(\S+) udp (\S+):(\d+)>(\S+):(\d+)', line)
        if not m:
            continue
        hook, ct, iif, oif, pin, pout, mark, s, sp, d, dp = m.groups()
        dirn = 'rep' if sp == '40007' else 'req'
        if hook.startswith('b_'):
            port = pin or pout
            tok = '%s[%s]' % (hook, port)
        else:
            tok = '%s(%s%s%s)%s' % (hook, iif, '>' + oif if oif else '', ',' + ct if ct else '',
                                     '{nf}' if pin is not None else '')
        cur[dirn].append(tok)
flush()
