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
if [ -z "${VMTEST_PEER}" ]; then
	vt_skip "" "no peer VM (vm-test/run --peer-image)"
	exit 0
fi
if [ ! -x /usr/local/libexec/ipsec/charon ]; then
	vt_skip "" "no strongSwan in the image"
	exit 0
fi
vt_require_ours
ifconfig vtnet0 inet 192.0.2.1/24 up
ifconfig ipsec1 create tunnel 192.0.2.1 192.0.2.2 reqid 300 >/dev/null
ifconfig ipsec1 inet 10.3.0.1/30 10.3.0.2
ifconfig ipsec1 inet6 2001:db8:3::1 2001:db8:3::2 prefixlen 128 no_dad
if ! vt_ike_start swanctl-ours.conf; then
	vt_fail setup "swanctl --load-all: $(tail -n 3 "${VT_TMP}/load.log" | tr '\n' '|')"
fi
if out=$(swanctl --initiate --child vt --timeout 30 2>&1); then
	vt_pass initiate "CHILD_SA vt established"
else
	vt_fail initiate "$(echo "$out" | tail -n 3 | tr '\n' '|')"
fi
vt_log sas swanctl --list-sas
vt_log setkey-D setkey -D
n=$(setkey -D | grep -c 'reqid=300')
[ "$n" = 2 ] && vt_pass reqid "2 SAs with reqid=300 (in and out) installed by charon" ||
    vt_fail reqid "SAs with reqid=300: $n (want 2)"
out=$(ping -c 3 -t 20 10.3.0.2 2>&1) &&
    vt_pass ping4 "$(echo "$out" | grep transmitted)" ||
    vt_fail ping4 "$(echo "$out" | tail -n 2 | tr '\n' '|')"
out=$(ping -6 -c 3 -t 20 2001:db8:3::2 2>&1) &&
    vt_pass ping6 "$(echo "$out" | grep transmitted)" ||
    vt_fail ping6 "$(echo "$out" | tail -n 2 | tr '\n' '|')"
vt_log charon-log tail -n 15 "${VT_TMP}/charon.log"
vt_done "IKEv2 (strongSwan) ours <-> stock, reqid 300"
