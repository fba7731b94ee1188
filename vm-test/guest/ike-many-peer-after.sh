#!/bin/sh
# Peer side of "ike-many", after it: everything it made goes away.
VT_NAME=${VMTEST_SCENARIO:-ike-many}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ike-lib.sh"
. "$(dirname "$0")/ike-many-lib.sh"
vt_bird_stop
vt_ike_stop
vt_many_untunnel peer
ifconfig lo2 destroy 2>/dev/null
