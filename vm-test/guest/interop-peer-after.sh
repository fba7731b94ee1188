#!/bin/sh
# Peer side of "interop", after interop.sh: traffic from the peer to us.
VT_NAME=interop
. "$(dirname "$0")/lib.sh"
out=$(ping -c 3 -t 20 10.1.0.1 2>&1) &&
    vt_pass peer-ping4 "$(echo "$out" | grep transmitted)" ||
    vt_fail peer-ping4 "$(echo "$out" | tail -n 2 | tr '\n' '|')"
out=$(ping -6 -c 3 -t 20 2001:db8:2::1 2>&1) &&
    vt_pass peer-ping6 "$(echo "$out" | grep transmitted)" ||
    vt_fail peer-ping6 "$(echo "$out" | tail -n 2 | tr '\n' '|')"
vt_log peer-counters netstat -I ipsec0 -n
