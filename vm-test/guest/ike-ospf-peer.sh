#!/bin/sh
# Peer side of "ike-ospf": the stock C ipsec1 (as ike-up), charon waiting,
# lo1 172.16.2.1/24 and 2001:db8:f2::1/64, BIRD OSPFv2+v3 on ipsec1.
VT_NAME=ike-ospf
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ike-lib.sh"
kldstat -q -m ipsec || kldload ipsec
ifconfig lo1 >/dev/null 2>&1 || ifconfig lo1 create
ifconfig lo1 inet 172.16.2.1/24 up
ifconfig lo1 inet6 2001:db8:f2::1/64 no_dad
if ! vt_ike_tunnel 192.0.2.2 192.0.2.1 10.3.0.2 10.3.0.1 2001:db8:3::2 2001:db8:3::1; then
	vt_fail peer-setup "ipsec1 on the peer"
elif ! vt_ike_start swanctl-peer.conf; then
	vt_fail peer-setup "charon/swanctl on the peer"
elif ! vt_bird_start bird-peer.conf; then
	vt_fail peer-setup "bird on the peer"
else
	vt_pass peer-setup "stock ipsec1, charon and BIRD on the peer"
fi
