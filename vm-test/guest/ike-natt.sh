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
vt_ike_tunnel 192.0.2.1 192.0.2.2 10.3.0.1 10.3.0.2 2001:db8:3::1 2001:db8:3::2 ||
    vt_fail setup "ipsec1"
VT_IKE_CONN="encap = yes" vt_ike_start swanctl-ours.conf ||
    vt_fail setup "swanctl --load-all"
swanctl --initiate --child vt --timeout 30 >/dev/null 2>&1 ||
    vt_fail initiate "CHILD_SA not established"
vt_log setkey-D setkey -D
n=$(setkey -D | grep -c 'esp-udp\|\[4500\]')
[ "${n}" -ge 2 ] && vt_pass natt-sa "SAs with UDP encapsulation (port 4500) installed" ||
    vt_fail natt-sa "no NAT-T SAs in setkey -D"
cap=${VT_TMP}/vtnet0.txt
if vt_has tcpdump; then
	tcpdump -n -l -p -i vtnet0 > "$cap" 2>&1 &
	tp=$!
	sleep 1
fi
out=$(ping -c 3 -t 20 10.3.0.2 2>&1) &&
    vt_pass ping4 "$(echo "$out" | grep transmitted)" ||
    vt_fail ping4 "$(echo "$out" | tail -n 2 | tr '\n' '|')"
out=$(ping -6 -c 3 -t 20 2001:db8:3::2 2>&1) &&
    vt_pass ping6 "$(echo "$out" | grep transmitted)" ||
    vt_fail ping6 "$(echo "$out" | tail -n 2 | tr '\n' '|')"
if vt_has tcpdump; then
	sleep 1; kill "$tp" 2>/dev/null; wait "$tp" 2>/dev/null
	vt_log vtnet0 head -n 6 "$cap"
	if grep -q 'UDP-encap\|\.4500 > .*\.4500' "$cap" && ! grep -q 'ICMP' "$cap"; then
		vt_pass underlay "ESP in UDP 4500 on vtnet0, no cleartext"
	else
		vt_fail underlay "no UDP-encapsulated ESP (or cleartext) on vtnet0"
	fi
fi
# charon stays: the peer's after-script pings over these SAs.
vt_done "IKEv2 with NAT-T (ESP in UDP), ours <-> stock"
