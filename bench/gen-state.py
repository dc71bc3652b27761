#!/usr/bin/env python3
"""Write a desired state of N containers x R rules to stdout, or as
agentd's state directory (--state-dir: one file per container, in its format).

Deterministic and realistic: a mix of protocols, single ports,
ranges and lists, allows and denies, /32 and wider destinations. The
container's last rules (allow --last-proto to --last-dst:--last-port,
one rule for each --last-dst given) are what the data-path benchmark's
flows match. With --ipv6-share F, that share of the other rules has IPv6
destinations of the same kinds: hosts, whole-byte prefixes and prefixes
that end inside a byte.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import statefile  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument("-n", "--containers", type=int, default=10000)
p.add_argument("-r", "--rules", type=int, default=10)
p.add_argument("--ifprefix", default="hb")
p.add_argument("--first-interface", help="interface name of container 0")
p.add_argument("--last-dst", action="append",
               help="destination of a last rule (repeatable; default 203.0.113.10/32)")
p.add_argument("--last-port", default="5201")
p.add_argument("--last-proto", default="tcp")
p.add_argument("--variant", default="", help="appended to descriptions")
p.add_argument("--ipv6-share", type=float, default=0.0,
               help="the share of rules (but the last) with IPv6 destinations, 0 to 1")
p.add_argument("--state-dir", help="write DIR/containers/<id>.state instead")
a = p.parse_args()
a.last_dst = a.last_dst or ["203.0.113.10/32"]


def rule(i, j, six=False):
    """Five kinds, each with an IPv4 destination and an IPv6 counterpart:
    a /28 or /64, a host, a /28 or /60 (a mask inside a byte), a /24 or /16,
    a /24 or /56."""
    v4, v6, r = [
        (f"10.{(i >> 8) & 255}.{i & 255}.{(j * 16) & 255}/28", f"2001:db8:{i:x}:{j:x}::/64",
         {"destination_port": str(1000 + j), "protocol": "tcp", "action": "allow"}),
        (f"198.51.100.{(i * 7 + j) % 254 + 1}/32", f"2001:db8:ffff::{(i * 7 + j) % 254 + 1:x}",
         {"destination_port": "8000-8100", "protocol": "tcp", "action": "allow"}),
        (f"192.0.2.{(i + j) % 16 * 16}/28", f"2001:db8:fffe:{(i + j) % 16 * 16:x}::/60",
         {"destination_port": "53,123,5353", "protocol": "udp", "action": "allow"}),
        (f"172.16.{(i * 3 + j) % 256}.0/24", f"fd{(i * 3 + j) % 256:02x}::/16",
         {"protocol": "any", "action": "deny"}),
        (f"100.64.{i & 255}.0/24", f"2001:db8:100:{(i & 255) << 8:x}::/56",
         {"protocol": "icmp", "action": "allow"}),
    ][j % 5]
    r = {"destination": v6 if six else v4, **r}
    r["id"] = f"r{j}"
    r["description"] = f"bench rule {j} of container {i}{a.variant}"
    return r


def ipv6(j):
    """Spread the IPv6 rules evenly: rule j is one when the share crosses a whole number."""
    return int((j + 1) * a.ipv6_share + 0.5) != int(j * a.ipv6_share + 0.5)


containers = {}
for i in range(a.containers):
    first = a.rules - len(a.last_dst)
    rules = [rule(i, j, ipv6(j)) for j in range(first)]
    rules += [{"id": f"r{first + k}", "destination": dst,
               "destination_port": a.last_port, "protocol": a.last_proto, "action": "allow",
               "description": f"the flow under test{a.variant}"}
              for k, dst in enumerate(a.last_dst)]
    ifname = f"{a.ifprefix}{i}"
    if i == 0 and a.first_interface:
        ifname = a.first_interface
    containers[f"ct{i}"] = {"interface": ifname, "default_action": "deny", "rules": rules}
if a.state_dir:
    os.makedirs(os.path.join(a.state_dir, "containers"), exist_ok=True)
    for cid, fw in containers.items():
        statefile.write(os.path.join(a.state_dir, "containers", cid + ".state"),
                        json.dumps({"revision": 1, "firewall": fw}))
    # on the disk, as the agent leaves its files: no writeback of them under the figures
    os.sync()
else:
    json.dump({"containers": containers}, sys.stdout)
