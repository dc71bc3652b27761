#!/usr/bin/python3
"""probe.py serve PORT | probe.py udp|tcp DST SPORT DPORT [TIMEOUT]
serve: echo every UDP datagram and one line per TCP connection, IPv4 and IPv6.
udp|tcp DST SPORT DPORT [TIMEOUT [SRC]]: send one message, print 'ok' if the echo comes back, else 'fail'."""
import selectors, socket, sys

def local_addrs():
    import json, subprocess
    out = json.loads(subprocess.run(['ip', '-j', 'addr', 'show'], capture_output=True, text=True).stdout)
    for link in out:
        for a in link.get('addr_info', []):
            if a.get('scope') == 'link' and a['family'] == 'inet6':
                continue
            yield a['family'], a['local']

def serve(port):
    """One UDP socket per local address (so that a reply leaves from the
    address the request went to), one dual-stack TCP listener."""
    sel = selectors.DefaultSelector()
    for fam, addr in local_addrs():
        u = socket.socket(socket.AF_INET6 if fam == 'inet6' else socket.AF_INET, socket.SOCK_DGRAM)
        u.setsockopt(socket.SOL_IP, 15, 1)  # IP_FREEBIND: addresses may come later
        u.bind((addr, port)); sel.register(u, selectors.EVENT_READ, 'u')
    t = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    t.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    t.bind(('::', port)); t.listen(64); sel.register(t, selectors.EVENT_READ, 't')
    while True:
        for key, _ in sel.select():
            s = key.fileobj
            if key.data == 'u':
                d, a = s.recvfrom(65535); s.sendto(d, a)
            elif key.data == 't':
                c, _ = s.accept(); c.settimeout(1)
                try:
                    d = c.recv(4096); c.sendall(d)
                except OSError:
                    pass
                c.close()

def client(proto, dst, sport, dport, timeout, src=None):
    fam = socket.AF_INET6 if ':' in dst else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM if proto == 'udp' else socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if sport or src:
        s.bind((src or ('::' if fam == socket.AF_INET6 else '0.0.0.0'), sport))
    s.settimeout(timeout)
    try:
        if proto == 'udp':
            s.connect((dst, dport)); s.send(b'hello\n')
            d = s.recv(100)
        else:
            s.connect((dst, dport)); s.sendall(b'hello\n'); d = s.recv(100)
        print('ok' if d == b'hello\n' else 'fail')
    except OSError as e:
        print('fail')

if __name__ == '__main__':
    if sys.argv[1] == 'serve':
        serve(int(sys.argv[2]))
    else:
        client(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]),
               float(sys.argv[5]) if len(sys.argv) > 5 else 1.0,
               sys.argv[6] if len(sys.argv) > 6 else None)
