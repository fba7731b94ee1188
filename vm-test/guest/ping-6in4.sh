#!/bin/sh
# Scenario "ping-6in4": IPv6 inside IPv4 through our ipsec0 between two vnet jails
# joined by an epair, manual SAs (setkey -c, -u reqid); tcpdump sees
# cleartext on ipsec0 and only ESP on the epair; counters move.
# vmtest-timeout: 240
. "$(dirname "$0")/lib.sh"
vt_ping_scenario 4 6
