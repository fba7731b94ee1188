#!/bin/sh
# Scenario "ike-natt" (issue 13): the ike-up tunnel with UDP encapsulation
# forced (encap = yes on our side: strongSwan fakes the NAT detection, so
# both ends switch to port 4500 and ESP travels in UDP).  The SAs carry
# NAT-T ports; the interface matches them by address and reqid, ports
# ignored (key_sockaddrcmp(.., 0) in the C driver), so the same pings work.
# vmtest-peer: ike-up-peer.sh
# vmtest-peer-after: ike-up-peer-after.sh
# vmtest-timeout: 240
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ike-lib.sh"
vt_ike_require || exit 0
VT_IKE_CONN="encap = yes" vt_ike_ours
vt_log setkey-D setkey -D
n=$(setkey -D | grep -c 'esp-udp\|\[4500\]')
[ "${n}" -ge 2 ] && vt_pass natt-sa "SAs with UDP encapsulation (port 4500) installed" ||
    vt_fail natt-sa "no NAT-T SAs in setkey -D"
vt_underlay_start
vt_ike_pings
vt_underlay_stop 6 'UDP-encap\|\.4500 > .*\.4500' "ESP in UDP 4500"
# charon stays: the peer's after-script pings over these SAs.
vt_done "IKEv2 with NAT-T (ESP in UDP), ours <-> stock"
