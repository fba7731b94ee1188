#!/bin/sh
# Peer side of "ike-up" (and of ike-rekey, ike-natt: VMTEST_SCENARIO names
# the scenario): the stock C if_ipsec, ipsec1 tunnel 192.0.2.2 ->
# 192.0.2.1 reqid 300, inner 10.3.0.2 <-> 10.3.0.1; charon with
# swanctl-peer.conf waits for our initiation.
VT_NAME=${VMTEST_SCENARIO:-ike-up}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ike-lib.sh"
kldstat -q -m ipsec || kldload ipsec
if ! vt_ike_tunnel peer; then
	vt_fail peer-setup "stock ipsec1 on the peer"
elif ! vt_ike_start swanctl-peer.conf; then
	vt_fail peer-setup "charon on the peer: $(tail -n 3 "${VT_TMP}/load.log" | tr '\n' '|')"
else
	vt_pass peer-setup "stock ipsec1 + charon on the peer"
fi
