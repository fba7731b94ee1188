#!/bin/sh
# Peer side of "ike-ospf", after it: BIRD and charon stop.
VT_NAME=ike-ospf
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ike-lib.sh"
vt_log peer-routes birdcl -s /var/run/bird.ctl show route
vt_bird_stop
vt_ike_stop
