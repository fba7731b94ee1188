#!/bin/sh
# Scenario "ike-rekey" (issue 13): the ike-up tunnel (our ipsec1 <-> the
# peer's stock ipsec1, reqid 300) with CHILD_SA rekeying every 20 s
# (rekey_time = 20s on our side), while a ping stream (5 per second, 75 s)
# runs through ipsec1.  Reports the rekeys seen and the packets lost:
# each rekey installs a new SA pair under the same reqid, and the
# interface's policies (unique:300) must pick it up without a gap.
# vmtest-peer: ike-up-peer.sh
# vmtest-peer-after: ike-up-peer-after.sh
# vmtest-timeout: 300
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ike-lib.sh"
vt_ike_require || exit 0
VT_IKE_CHILD="rekey_time = 20s" vt_ike_ours
ping -q -i 0.2 -c 375 -W 1000 10.3.0.2 > "${VT_TMP}/ping.txt" 2>&1
ping6 -q -c 3 2001:db8:3::2 > "${VT_TMP}/ping6.txt" 2>&1
# Each CHILD_SA gets the next unique id ("vt: #N, reqid 300, INSTALLED");
# charon logs to syslog, not to its stdout.
vt_log sas swanctl --list-sas
last=$(swanctl --list-sas | sed -n 's/^ *vt: #\([0-9]*\),.*INSTALLED.*/\1/p' | sort -n | tail -n 1)
rekeys=$((${last:-1} - 1))
vt_log ping cat "${VT_TMP}/ping.txt"
sent=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "${VT_TMP}/ping.txt")
recv=$(sed -n 's/.* \([0-9]*\) packets received.*/\1/p' "${VT_TMP}/ping.txt")
lost=$((${sent:-0} - ${recv:-0}))
if [ "${rekeys}" -lt 2 ]; then
	vt_fail rekeys "only ${rekeys} CHILD_SA rekey(s) in 75 s (want >= 2)"
else
	vt_pass rekeys "${rekeys} CHILD_SA rekeys (every 20 s) during the stream"
fi
if [ "${sent:-0}" -gt 0 ] && [ "${lost}" -eq 0 ]; then
	vt_pass loss "0 of ${sent} pings lost across ${rekeys} rekeys"
else
	vt_fail loss "${lost} of ${sent:-0} pings lost across ${rekeys} rekeys"
fi
grep -q ' 0.0% packet loss' "${VT_TMP}/ping6.txt" &&
    vt_pass ping6 "IPv6 inside after the rekeys" ||
    vt_fail ping6 "$(tail -n 2 "${VT_TMP}/ping6.txt" | tr '\n' '|')"
# charon stays: the peer's after-script pings over these SAs.
vt_done "CHILD_SA rekeys under traffic, ours <-> stock"
