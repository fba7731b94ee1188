#!/bin/sh
# Peer side of "ike-ospf": the stock C ipsec1 (as ike-up), charon waiting,
# lo1 172.16.2.1/24 and 2001:db8:f2::1/64, BIRD OSPFv2+v3 on ipsec1.
VT_NAME=${VMTEST_SCENARIO:-ike-ospf}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ike-lib.sh"
kldstat -q -m ipsec || kldload ipsec
if err=$(vt_ike_ospf_up 172.16.2 2001:db8:f2 192.0.2.2 192.0.2.1 10.3.0.2 \
    10.3.0.1 2001:db8:3::2 2001:db8:3::1 swanctl-peer.conf bird-peer.conf); then
	vt_pass peer-setup "stock ipsec1, charon and BIRD on the peer"
else
	vt_fail peer-setup "${err} on the peer"
fi
