#!/bin/sh
# Scenario "ike-failover" (issue 13): the ike-ospf setup (IKEv2 by
# strongSwan, OSPF by BIRD over ipsec1, ours <-> stock), then the peer
# fails: its charon is killed (-9) and its SAD flushed, as a crash or
# reboot would leave it; our side keeps its SAs, so our hellos go out
# encrypted and are dropped there.  Measures how long until OSPF withdraws
# the peer's network from ipsec1 (bounded by BIRD's dead interval, 4 s in
# bird-ours.conf; our SAs are still there, so the interface stays up),
# then the peer's charon comes back, our side re-initiates, and measures
# how long until the route is back.  Last, the peer closes the CHILD_SA
# (swanctl --terminate there; its IKE DELETE makes our charon delete our
# SAs, as DPD giving the peer up would): our link goes down with the SAs
# (issue 11) and BIRD withdraws the route without waiting for its dead
# interval.  The peer is told when to fail and
# recover over the underlay (nc to 192.0.2.2:7001 / :7002, cleartext:
# the interface's policies cover only what is routed through ipsec1).
# vmtest-peer: ike-failover-peer.sh
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
if t=$(vt_wait_route yes 30 172.16.2.1); then
	vt_pass learned "172.16.2.0/24 through ipsec1 after ${t}s"
else
	vt_fail learned "172.16.2.0/24 never routed through ipsec1"
	vt_done "failover"; exit 0
fi
# The peer fails.
nc -N -w 5 192.0.2.2 7001 < /dev/null ||
    vt_fail fail "could not reach the peer's control port 7001"
if t=$(vt_wait_route no 90 172.16.2.1); then
	vt_pass withdrawn "route withdrawn ${t}s after the peer failed (OSPF dead interval 4 s; our SAs still there)"
else
	vt_fail withdrawn "route still through ipsec1 90 s after the peer failed"
fi
vt_log birdc-ospf birdcl -s /var/run/bird.ctl show ospf neighbors ospf4
# The peer recovers; our side drops its stale IKE SA and initiates again.
nc -N -w 5 192.0.2.2 7002 < /dev/null ||
    vt_fail recover "could not reach the peer's control port 7002"
t0=$(date +%s)
swanctl --terminate --ike vt --force --timeout 5 >/dev/null 2>&1
ok=no
while [ $(($(date +%s) - t0)) -lt 60 ]; do
	swanctl --initiate --child vt --timeout 15 >/dev/null 2>&1 && { ok=yes; break; }
	sleep 1
done
[ $ok = yes ] || vt_fail recover "CHILD_SA not re-established"
if t=$(vt_wait_route yes 60 172.16.2.1); then
	vt_pass recovered "route back through ipsec1 $(($(date +%s) - t0))s after the peer's charon restarted (IKE re-initiated by us)"
else
	vt_fail recovered "route not back within 60 s of the peer's recovery"
fi
# Our route is back; the peer's route to us may come a moment later (its
# own SPF run): wait for the first reply (at most 20 s), then measure.
ping -o -c 20 -t 25 -S 172.16.1.1 172.16.2.1 > /dev/null 2>&1
out=$(ping -c 3 -t 20 -S 172.16.1.1 172.16.2.1 2>&1) &&
    vt_pass ping4 "lo1 to lo1 after recovery: $(echo "$out" | grep transmitted)" ||
    vt_fail ping4 "$(echo "$out" | tail -n 2 | tr '\n' '|')"
# The peer closes the CHILD_SA: our SAs go, link down, route withdrawn.
nc -N -w 5 192.0.2.2 7003 < /dev/null ||
    vt_fail sa-down "could not reach the peer's control port 7003"
if t=$(vt_wait_route no 30 172.16.2.1); then
	vt_pass sa-down "route withdrawn ${t}s after the peer closed the CHILD_SA (ipsec1 $(ifconfig ipsec1 | sed -n 's/^[[:space:]]*status: //p'); SA-driven link state; dead interval 4 s)"
else
	vt_fail sa-down "route still through ipsec1 30 s after the peer closed the CHILD_SA"
fi
vt_bird_stop
vt_ike_stop
vt_done "peer failure and recovery, OSPF over IKEv2, ours <-> stock"
