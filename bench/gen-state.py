#!/usr/bin/env python3
"""Write a desired state of N containers x R rules to stdout, or as
agentd's state directory (--state-dir: one file per container, in its format).

Deterministic and realistic: a mix of protocols, single ports,
ranges and lists, allows and denies, /32 and wider destinations. The
container's last rule (allow tcp to --last-dst:--last-port) is what the
data-path benchmark's flow matches.
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
p.add_argument("--last-dst", default="203.0.113.10/32")
p.add_argument("--last-port", default="5201")
p.add_argument("--last-proto", default="tcp")
p.add_argument("--variant", default="", help="appended to descriptions")
p.add_argument("--state-dir", help="write DIR/containers/<id>.state instead")
a = p.parse_args()


def rule(i, j):
    kind = j % 5
    net = f"10.{(i >> 8) & 255}.{i & 255}.{(j * 16) & 255}"
    if kind == 0:
        r = {"destination": f"{net}/28", "destination_port": str(1000 + j),
             "protocol": "tcp", "action": "allow"}
    elif kind == 1:
        r = {"destination": f"198.51.100.{(i * 7 + j) % 254 + 1}/32",
             "destination_port": "8000-8100", "protocol": "tcp", "action": "allow"}
    elif kind == 2:
        r = {"destination": f"192.0.2.{(i + j) % 16 * 16}/28",
             "destination_port": "53,123,5353", "protocol": "udp", "action": "allow"}
    elif kind == 3:
        r = {"destination": f"172.16.{(i * 3 + j) % 256}.0/24",
             "protocol": "any", "action": "deny"}
    else:
        r = {"destination": f"100.64.{i & 255}.0/24", "protocol": "icmp", "action": "allow"}
    r["id"] = f"r{j}"
    r["description"] = f"bench rule {j} of container {i}{a.variant}"
    return r


containers = {}
for i in range(a.containers):
    rules = [rule(i, j) for j in range(a.rules - 1)]
    rules.append({"id": f"r{a.rules - 1}", "destination": a.last_dst,
                  "destination_port": a.last_port, "protocol": a.last_proto, "action": "allow",
                  "description": f"the flow under test{a.variant}"})
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
