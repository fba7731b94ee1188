#!/bin/sh
# Peer side of "ike-failover": the ike-ospf peer (stock ipsec1, charon,
# BIRD), plus three one-shot control ports on the underlay: a connection
# to 7001 kills charon (-9) and flushes the SAD (a crash); one to 7002
# starts charon again (the peer is back; our side initiates); one to 7003
# has the peer's charon close the CHILD_SA (swanctl --terminate: an IKE
# DELETE tells our charon, which deletes our SAs).
. "$(dirname "$0")/ike-ospf-peer.sh"
pkill -x nc 2>/dev/null
# "&&": a listener killed by the after-script (pkill nc) does nothing.
(nc -l 7001 && pkill -9 -x charon && setkey -F) > /dev/null 2>&1 &
(nc -l 7002 && vt_ike_start swanctl-peer.conf) > /dev/null 2>&1 &
(nc -l 7003 && swanctl --terminate --child vt --timeout 5) > /dev/null 2>&1 &
