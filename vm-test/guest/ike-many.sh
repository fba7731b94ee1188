#!/bin/sh
# Scenario "ike-many" (issue 13): 50 route-based tunnels (ipsec201..250,
# reqids 1001..1050), one IKE peer address pair per tunnel on aliases of
# vtnet0, 50 CHILD_SAs negotiated by strongSwan (our side initiates them
# all at load), OSPFv2 by BIRD on all 50 interfaces; the peer (stock C
# driver) announces 50 networks (172.17.i.0/24 on lo2).  Reports the
# setup time: interfaces, SAs, adjacencies, every route learned.
# vmtest-peer: ike-many-peer.sh
# vmtest-peer-after: ike-many-peer-after.sh
# vmtest-timeout: 600
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ike-lib.sh"
. "$(dirname "$0")/ike-many-lib.sh"
vt_ike_require || exit 0
if [ ! -x /usr/local/sbin/bird ]; then
	vt_skip "" "no BIRD in the image"
	exit 0
fi
t0=$(date +%s)
vt_many_tunnels ours || vt_fail setup "creating ${VT_MANY} tunnels"
t_if=$(($(date +%s) - t0))
vt_many_swanctl ours > /usr/local/etc/swanctl/swanctl.conf
vt_many_bird ours 10.4.0.1 > "${VT_TMP}/bird.conf"
vt_ike_start - || vt_fail setup "swanctl --load-all"
vt_bird_start "${VT_TMP}/bird.conf" || vt_fail setup "bird"
# Wait for all CHILD_SAs (2 SAs each in the SAD), adjacencies and routes.
sas=0; full=0; routes=0
while [ $(($(date +%s) - t0)) -lt 420 ]; do
	sas=$(setkey -D | grep -c 'reqid=10[0-9][0-9]')
	[ -n "${t_sa}" ] || [ "${sas}" -lt $((2 * VT_MANY)) ] ||
	    t_sa=$(($(date +%s) - t0))
	full=$(birdcl -s /var/run/bird.ctl show ospf neighbors many 2>/dev/null | grep -c 'Full/PtP')
	routes=$(netstat -rn -f inet | grep -c '^172\.17\.[0-9]*\.0/24 .* ipsec2')
	[ "${full}" -ge "${VT_MANY}" ] && [ "${routes}" -ge "${VT_MANY}" ] && break
	sleep 2
done
t_all=$(($(date +%s) - t0))
[ "${sas}" -ge $((2 * VT_MANY)) ] &&
    vt_pass sas "${sas} SAs (${VT_MANY} CHILD_SAs, reqids 1001..$((1000 + VT_MANY))) ${t_sa}s after the start" ||
    vt_fail sas "${sas} SAs installed (want $((2 * VT_MANY)))"
[ "${full}" -ge "${VT_MANY}" ] &&
    vt_pass adjacencies "${full} OSPF adjacencies Full" ||
    vt_fail adjacencies "${full} OSPF adjacencies Full (want ${VT_MANY})"
[ "${routes}" -ge "${VT_MANY}" ] &&
    vt_pass routes "${routes} networks learned through ipsec2xx; setup ${t_all}s (interfaces ${t_if}s, all SAs ${t_sa:-?}s)" ||
    vt_fail routes "${routes} of ${VT_MANY} networks learned"
out=$(ping -c 2 -t 20 172.17.${VT_MANY}.1 2>&1) &&
    vt_pass ping4 "to the peer's 172.17.${VT_MANY}.1: $(echo "$out" | grep transmitted)" ||
    vt_fail ping4 "$(echo "$out" | tail -n 2 | tr '\n' '|')"
vt_bird_stop
vt_ike_stop
vt_many_untunnel ours
vt_done "${VT_MANY} tunnels by IKEv2 + OSPF, ours <-> stock, setup ${t_all}s"
