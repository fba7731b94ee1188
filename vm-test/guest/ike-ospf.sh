#!/bin/sh
# Scenario "ike-ospf" (issue 13): over the IKEv2 tunnel of ike-up (our
# ipsec1 <-> the peer's stock ipsec1, SAs by strongSwan), BIRD runs
# OSPFv2 and OSPFv3 on ipsec1 on both sides (bird-ours.conf,
# bird-peer.conf), each announcing a network on lo1.  Each side learns the
# other's through ipsec1, and traffic between the two networks crosses the
# underlay only as ESP (tcpdump on vtnet0).
# vmtest-peer: ike-ospf-peer.sh
# vmtest-peer-after: ike-ospf-peer-after.sh
# vmtest-timeout: 300
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ike-lib.sh"
vt_ike_require || exit 0
if [ ! -x /usr/local/sbin/bird ]; then
	vt_skip "" "no BIRD in the image"
	exit 0
fi
if ! err=$(vt_ike_ospf_up ours); then
	vt_fail setup "${err}"
fi
# Learned routes: wait for the adjacency (hello 1 s) and the SPF.
t0=$(date +%s); ok4=no; ok6=no
while [ $(($(date +%s) - t0)) -lt 30 ]; do
	if [ $ok4 = no ] && route -n get 172.16.2.1 2>/dev/null | grep -q 'interface: ipsec1'; then
		ok4=yes; t4=$(($(date +%s) - t0))
	fi
	route -n get -inet6 2001:db8:f2::1 2>/dev/null | grep -q 'interface: ipsec1' && ok6=yes
	[ $ok4 = yes ] && [ $ok6 = yes ] && break
	[ $ok4 = yes ] && [ $(($(date +%s) - t0)) -ge 15 ] && break
	sleep 1
done
t=$(($(date +%s) - t0))
vt_log birdc-route birdcl -s /var/run/bird.ctl show route
vt_log birdc-ospf birdcl -s /var/run/bird.ctl show ospf neighbors
vt_log ipsec1 ifconfig ipsec1
[ $ok4 = yes ] && vt_pass ospf4 "172.16.2.0/24 learned through ipsec1 (OSPFv2) within ${t4:-?}s" ||
    vt_fail ospf4 "172.16.2.0/24 not routed through ipsec1"
[ $ok6 = yes ] && vt_pass ospf6 "2001:db8:f2::/64 learned through ipsec1 (OSPFv3) within ${t}s" ||
    vt_fail ospf6 "2001:db8:f2::/64 not routed through ipsec1 (OSPFv3)"
vt_underlay_start
vt_ike_pings 172.16.1.1 172.16.2.1 2001:db8:f1::1 2001:db8:f2::1
vt_underlay_stop 8 'ESP(spi' "only ESP (and IKE)"
vt_bird_stop
vt_done "OSPFv2+v3 by BIRD over the IKEv2 tunnel, ours <-> stock"
