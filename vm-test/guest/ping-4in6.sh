#!/bin/sh
# Scenario "ping-4in6": IPv4 inside IPv6 through our ipsec0 between
# two vnet jails joined by an epair, manual SAs (setkey -c, -u reqid); tcpdump
# sees cleartext on ipsec0 and only ESP on the epair; counters move.
# vmtest-timeout: 240
. "$(dirname "$0")/lib.sh"
vt_require_ours
if ! vt_two_jails; then
	vt_fail jails "could not build the jails"; vt_done; exit 0
fi
if vt_tunnel_setup 6 100; then
	vt_log ifconfig jexec vtA ifconfig ipsec0
	vt_tunnel_ping ping 4
else
	vt_fail setup "ifconfig/setkey setup failed"
fi
vt_done
vt_unload_ours
