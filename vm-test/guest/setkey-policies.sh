#!/bin/sh
# Scenario "setkey-policies": setkey -DP shows the four ifnet-scope policies
# of our interface with the right reqid and ifname; they follow reqid and
# tunnel changes and vanish with -tunnel and destroy; auto reqids are > 0x3fff.
# vmtest-timeout: 180
. "$(dirname "$0")/lib.sh"
vt_require_ours

ifconfig ipsec0 create tunnel 192.0.2.1 198.51.100.7 reqid 100 >/dev/null
echo "iface ipsec0" >> "${VT_STATE}"
vt_log setkey-DP setkey -DP
np=$(setkey -DP | grep -c 'scope=ifnet ifname=ipsec0')
nr=$(setkey -DP | grep -c 'esp/tunnel/.*unique:100')
[ "$np" = 4 ] && [ "$nr" = 4 ] && vt_pass four "4 policies, reqid 100" ||
    vt_fail four "ifnet policies: $np, unique:100: $nr"
setkey -DP | grep -q 'esp/tunnel/198.51.100.7-192.0.2.1/unique:100' &&
    setkey -DP | grep -q 'esp/tunnel/192.0.2.1-198.51.100.7/unique:100' &&
    vt_pass direction "in: remote-local, out: local-remote" ||
    vt_fail direction "saidx endpoints wrong"
ifconfig ipsec0 reqid 200
[ "$(setkey -DP | grep -c 'unique:200')" = 4 ] && vt_pass reqid-change "policies follow reqid" ||
    vt_fail reqid-change "policies did not follow reqid 200"
ifconfig ipsec0 -tunnel
[ "$(setkey -DP | grep -c 'scope=ifnet')" = 0 ] && vt_pass untunnel "-tunnel removes policies" ||
    vt_fail untunnel "policies left after -tunnel"
ifconfig ipsec0 | grep -q 'reqid: 200' && vt_pass reqid-kept "reqid kept across -tunnel" ||
    vt_fail reqid-kept "reqid lost across -tunnel"
ifconfig ipsec0 destroy
a=$(ifconfig ipsec create tunnel 192.0.2.1 198.51.100.8)
echo "iface $a" >> "${VT_STATE}"
r=$(ifconfig "$a" | sed -n 's/.*reqid: \([0-9]*\).*/\1/p')
if [ -n "$r" ] && [ "$r" -gt 16383 ]; then
	vt_pass auto-reqid "auto reqid $r (> 0x3fff, shown with #)"
else
	vt_fail auto-reqid "auto reqid '$r'"
fi
vt_log setkey-DP setkey -DP
ifconfig "$a" destroy
vt_unload_ours
vt_done
