#!/bin/sh
# Scenario "teardown-ours": the teardown of ping-4in4/ping-6in6 with our
# ipsec0, repeated, WITHOUT vt_cleanup's IPv6-removal workaround: two vnet
# jails, ipsec0 with inet and inet6 addresses in each, a ping, `jail -r`.
# Our interfaces are destroyed after ip_destroy/ip6_destroy scrubbed their
# addresses (glue/vnet.rs VNET_UNINIT at SI_SUB_PROTO_DOMAIN), so no
# in_ifaddr/in6_ifaddr outlives its interface: no "hashdestroy: hashtbl
# not empty" panic under INVARIANTS and no nd6_timer fault (the stock C
# driver destroys them earlier, before the scrub: teardown-stock).
# vmtest-timeout: 420
. "$(dirname "$0")/lib.sh"
vt_require_ours
VT_RAW_TEARDOWN=1	# no workaround: show the kernel's behaviour
n=${VT_TEARDOWN_ROUNDS:-16}
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
vt_pass rounds "$i rounds of jail -r with our ipsec0 (inet + inet6), no workaround, kernel alive"
vt_done
vt_unload_ours
