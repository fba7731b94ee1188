#!/bin/sh
# Peer side of "ike-ospf": the stock C ipsec1 (as ike-up), charon waiting,
# lo1 172.16.2.1/24 and 2001:db8:f2::1/64, BIRD OSPFv2+v3 on ipsec1.
VT_NAME=${VMTEST_SCENARIO:-ike-ospf}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ike-lib.sh"
kldstat -q -m ipsec || kldload ipsec
if err=$(vt_ike_ospf_up peer); then
	vt_pass peer-setup "stock ipsec1, charon and BIRD on the peer"
else
	vt_fail peer-setup "${err} on the peer"
fi
