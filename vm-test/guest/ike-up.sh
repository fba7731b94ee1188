#!/bin/sh
# Scenario "ike-up" (issue 13, first step): IKEv2 by strongSwan between
# this VM (our ipsec1, reqid 300) and the peer VM (stock C ipsec1): PSK,
# a route-based child (reqid 300, policies = no, 0.0.0.0/0 and ::/0),
# ESP AES-GCM.  The CHILD_SA carries the interface's reqid; pings go
# through ipsec1 both ways, IPv4 and IPv6 inside.  Configuration:
# swanctl-ours.conf / swanctl-peer.conf (the README example).
# vmtest-peer: ike-up-peer.sh
# vmtest-peer-after: ike-up-peer-after.sh
# vmtest-timeout: 240
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ike-lib.sh"
vt_ike_require || exit 0
vt_ike_ours
vt_log sas swanctl --list-sas
vt_log setkey-D setkey -D
n=$(setkey -D | grep -c 'reqid=300')
[ "$n" = 2 ] && vt_pass reqid "2 SAs with reqid=300 (in and out) installed by charon" ||
    vt_fail reqid "SAs with reqid=300: $n (want 2)"
vt_ike_pings
vt_log charon-log tail -n 15 "${VT_TMP}/charon.log"
vt_done "IKEv2 (strongSwan) ours <-> stock, reqid 300"
