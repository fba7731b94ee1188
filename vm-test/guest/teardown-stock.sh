#!/bin/sh
# Scenario "teardown-stock" (not in the default list): the teardown of
# ping-4in4/ping-6in6 repeated with FreeBSD's stock C if_ipsec (our module
# not loaded): two vnet jails, ipsec0 with inet and inet6 addresses in
# each, a ping, `jail -r`. Tells whether the nd6_timer page fault seen
# after our ping scenarios (vm-test/README.md, "Known FreeBSD issue")
# happens without our module too. Run it with
#   vm-test/run --image IMG --scenario teardown-stock
# vmtest-timeout: 600
. "$(dirname "$0")/lib.sh"
vt_require_stock
VT_RAW_TEARDOWN=1	# no workaround: show the kernel's behaviour
n=${VT_TEARDOWN_ROUNDS:-24}
i=0
while [ "$i" -lt "$n" ]; do
	i=$((i + 1))
	if ! vt_two_jails || ! vt_tunnel_setup $((4 + 2 * (i % 2))) 100; then
		vt_fail setup "round $i: setup failed"
		break
	fi
	jexec vtA ping -c 2 -t 10 10.0.0.2 >/dev/null 2>&1
	jexec vtA ping -6 -c 2 -t 10 2001:db8:1::2 >/dev/null 2>&1
	vt_cleanup
	echo "--- ${VT_NAME} round $i done"
done
vt_pass rounds "$i rounds of jail -r with stock ipsec0 (inet + inet6), kernel alive"
vt_done
