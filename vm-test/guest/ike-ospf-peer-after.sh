#!/bin/sh
# Peer side of "ike-ospf" (and ike-failover), after it: BIRD and charon
# stop, and any control port left open.
VT_NAME=${VMTEST_SCENARIO:-ike-ospf}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ike-lib.sh"
vt_log peer-routes birdcl -s /var/run/bird.ctl show route
vt_bird_stop
vt_ike_stop
pkill -x nc 2>/dev/null
