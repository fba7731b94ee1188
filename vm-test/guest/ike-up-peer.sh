#!/bin/sh
# Peer side of "ike-up": the stock C if_ipsec, ipsec1 tunnel 192.0.2.2 ->
# 192.0.2.1 reqid 300, inner 10.3.0.2 <-> 10.3.0.1; charon with
# swanctl-peer.conf waits for our initiation.
VT_NAME=ike-up
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ike-lib.sh"
kldstat -q -m ipsec || kldload ipsec
ifconfig vtnet0 inet 192.0.2.2/24 up
ifconfig ipsec1 create tunnel 192.0.2.2 192.0.2.1 reqid 300 >/dev/null &&
    ifconfig ipsec1 inet 10.3.0.2/30 10.3.0.1 &&
    ifconfig ipsec1 inet6 2001:db8:3::2 2001:db8:3::1 prefixlen 128 no_dad &&
    vt_ike_start swanctl-peer.conf &&
    vt_pass peer-setup "stock ipsec1 + charon on the peer" ||
    vt_fail peer-setup "peer setup failed: $(tail -n 3 "${VT_TMP}/load.log" | tr '\n' '|')"
