#!/usr/bin/env bash
# 190: bridged containers as Docker runs them: a bridge with masquerade out
# of the uplink and a published port (see bridged-suite.sh for the checks).
BRIDGE_MODE=docker
. "$(dirname "$0")/bridged-suite.sh"
