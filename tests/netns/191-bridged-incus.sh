#!/usr/bin/env bash
# 191: bridged containers as Incus runs them: a bridge without NAT, the
# remote routes the bridge's subnets via the host (see bridged-suite.sh).
BRIDGE_MODE=incus
. "$(dirname "$0")/bridged-suite.sh"
