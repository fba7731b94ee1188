#!/bin/sh
# Peer side of "ike-up" (ike-rekey, ike-natt), after it: traffic from the peer to us over the
# IKE-negotiated SAs, then charon stops.
VT_NAME=${VMTEST_SCENARIO:-ike-up}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ike-lib.sh"
out=$(ping -c 3 -t 20 10.3.0.1 2>&1) &&
    vt_pass peer-ping4 "$(echo "$out" | grep transmitted)" ||
    vt_fail peer-ping4 "$(echo "$out" | tail -n 2 | tr '\n' '|')"
out=$(ping -6 -c 3 -t 20 2001:db8:3::1 2>&1) &&
    vt_pass peer-ping6 "$(echo "$out" | grep transmitted)" ||
    vt_fail peer-ping6 "$(echo "$out" | tail -n 2 | tr '\n' '|')"
vt_ike_stop
