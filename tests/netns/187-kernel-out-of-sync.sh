#!/usr/bin/env bash
# 187: a container whose firewall the kernel has lost is not called
# enforced. On a plain table (--no-table-owner) another process deletes
# c1's entries from the table's interface sets, which lets c1 through, and
# the agent's repairs are made to fail (gdb returns an error from
# nft_repair() and nft_apply() while a switch file exists): the API, the
# audit, health and the CLI say "kernel_out_of_sync" for c1, and only for
# c1, while packets show it open. Once repairs work again, the timer pass
# puts it right and everything says "enforced" again, and c1 is blocked.
# Needs gdb, and an agentd with symbols (the default build has them).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

hfw_init oos
need_agentd
command -v curl >/dev/null || skip "curl missing"
command -v nft >/dev/null || skip "nft missing"
command -v gdb >/dev/null || skip "gdb missing"
HOODY=${HOODY:-$HFW_ROOT/build/hoody}
[ -x "$HOODY" ] || die "hoody not found at $HOODY (build it with make)"
gdb -q -batch -ex 'info address nft_apply' -ex 'info address nft_repair' "$AGENTD" 2>&1 |
	grep -q 'is at address\|is a function at address' || skip "$AGENTD has no symbols for gdb"
gdb -q -batch -ex run --args /bin/true >/dev/null 2>&1 || skip "gdb cannot run programs here (ptrace)"
topo_up
servers_up

V=/api/v1/containers
SOCK=$WORK/agentd.sock
STATE=$WORK/state
BROKEN=$WORK/repairs-fail
# while $BROKEN exists, nft_repair() and nft_apply() fail with EIO at once
# (armed once the agent serves: its start-up applies for real)
cat >"$WORK/gdb.cmds" <<'EOF'
set pagination off
set confirm off
python
import os
class Broken(gdb.Function):
    def __init__(self):
        super().__init__("broken")
    def invoke(self):
        return 1 if os.path.exists(os.environ["HFW_BROKEN"]) else 0
Broken()
end
break nft_repair if $broken()
commands
silent
set var reterr->what[0] = 0
set var reterr->container[0] = 0
set var reterr->detail[0] = 0
return -5
continue
end
break nft_apply if $broken()
commands
silent
set var reterr->what[0] = 0
set var reterr->container[0] = 0
set var reterr->detail[0] = 0
return -5
continue
end
run
EOF
HFW_BROKEN=$BROKEN ip netns exec "$HOST" gdb -q -batch -x "$WORK/gdb.cmds" --args "$AGENTD" \
	--socket "$SOCK" --state-dir "$STATE" --table "$TABLE" --no-table-owner \
	--reconcile-interval 1 >>"$WORK/agentd.log" 2>&1 &
bg_track $!
if ! poll_quiet 30 api_up; then
	sed 's/^/# agentd: /' "$WORK/agentd.log" | tail -20
	die "agentd (under gdb) did not start serving on $SOCK"
fi

# shellcheck disable=SC2317 # called through poll_quiet
enforcement_is() { api GET "$V/$1/firewall" && [ "$(api_field data.enforcement)" = "$2" ]; }
# shellcheck disable=SC2317 # called through poll_quiet
kernel_out_of_sync_counted() {
	api GET /api/v1/health && [ "$(api_field data.enforcement.kernel_out_of_sync)" = "$1" ]
}

expect_api "attach c1 (deny-all)" 201 PUT $V/c1 '{"interface": "hc1"}'
expect_api "attach c2 (deny-all)" 201 PUT $V/c2 '{"interface": "hc2"}'
check "c1 is enforced" test "$(api_field data.enforcement)" = enforced
batch_begin
expect_blocked "c1 -> remote dropped" tcp "$C1" 203.0.113.10 443
expect_blocked "c2 -> remote dropped" tcp "$C2" 203.0.113.10 443
batch_end

# another process takes c1 out of the table's interface sets; repairs fail
touch "$BROKEN"
nsx "$HOST" nft delete element inet "$TABLE" dispatch '{ "hc1" }'
nsx "$HOST" nft delete element inet "$TABLE" attached '{ "hc1" }'
if poll_quiet 5 grep -q 'reconcile: container c1: .*Input/output error' "$WORK/agentd.log"; then
	pass "the agent's repair of c1 failed (as made to)"
else
	fail "no failed repair of c1 in the log"
fi
batch_begin
expect_ok "the kernel lost c1's firewall: c1 -> remote passes" tcp "$C1" 203.0.113.10 443
expect_blocked "... c2's is intact: dropped" tcp "$C2" 203.0.113.10 443
batch_end
if poll_quiet 5 kernel_out_of_sync_counted 1; then
	pass "health counts c1 as kernel_out_of_sync"
else
	fail "health: kernel_out_of_sync is $(api_field data.enforcement.kernel_out_of_sync) [${API_BODY:0:300}]"
fi
check "... not_enforced 1" test "$(api_field data.not_enforced)" = 1
check "... status degraded, kernel not in sync" \
	test "$(api_field data.status)/$(api_field data.kernel_in_sync)" = degraded/false
expect_api "c1's firewall" 200 GET $V/c1/firewall
check "... says kernel_out_of_sync" test "$(api_field data.enforcement)" = kernel_out_of_sync
expect_api "the list" 200 GET $V
check "... c1 kernel_out_of_sync, c2 enforced" \
	test "$(api_field data.containers.container_id=c1.enforcement)/$(api_field data.containers.container_id=c2.enforcement)" = kernel_out_of_sync/enforced
expect_api "the audit" 200 GET /api/v1/firewall/audit
check "... c1 has a chain in the kernel (enforced: true), yet is not in sync" \
	test "$(api_field data.containers.container_id=c1.enforced)/$(api_field data.containers.container_id=c1.in_sync)" = true/false
check "... and its enforcement says kernel_out_of_sync" \
	test "$(api_field data.containers.container_id=c1.enforcement)" = kernel_out_of_sync
check "... c2 enforced; the header counts 1 of 2 enforced" \
	test "$(api_field data.containers.container_id=c2.enforcement)/$(api_field data.containers_enforced)/$(api_field data.containers_not_enforced)" = enforced/1/1
"$HOODY" --socket "$SOCK" firewall list >"$WORK/cli.out"
check "hoody firewall list: c1 KERNEL OUT OF SYNC" grep -Eq '^c1 +hc1 +KERNEL OUT OF SYNC ' "$WORK/cli.out"
"$HOODY" --socket "$SOCK" status >"$WORK/cli.out"
check "hoody status: degraded, 1 kernel out of sync" \
	test "$(grep -Ec '^status: +degraded$|^not enforced: +1 \(1 kernel out of sync\)$' "$WORK/cli.out")" = 2

# repairs work again: the timer pass puts the table right
rm -f "$BROKEN"
if poll_quiet 10 enforcement_is c1 enforced; then
	pass "repairs work again: c1 enforced"
else
	fail "repairs work again, yet c1 is $(api_field data.enforcement)"
fi
expect_blocked "... and c1 -> remote is dropped again" tcp "$C1" 203.0.113.10 443
expect_api "health" 200 GET /api/v1/health
check "... ok, nothing unenforced" \
	test "$(api_field data.status)/$(api_field data.not_enforced)" = ok/0
finish
