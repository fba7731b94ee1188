#!/bin/sh
# Scenario "multicast": no routing daemon in the image, so instead of OSPF a
# multicast packet to 224.0.0.5 (OSPF AllSPFRouters) is sent out of ipsec0
# (route 224/4 -> ipsec0): the peer jail must see it in cleartext on its
# ipsec0, the wire only ESP. Run first against the stock C if_ipsec (the
# reference), then against ours.
# vmtest-timeout: 300
. "$(dirname "$0")/lib.sh"

mc_run()
{
	_m=$1
	vt_two_jails || { vt_fail "$_m/jails" "could not build the jails"; return; }
	vt_tunnel_setup 4 100 || vt_fail "$_m/setup" "setup failed"
	vt_capture vtB ipsec0 "${VT_TMP}/$_m-b-ipsec0.txt"
	vt_capture vtA "${VT_EPAIR}a" "${VT_TMP}/$_m-a-epair.txt"
	# ping's -I (IP_MULTICAST_IF) gave ENETUNREACH here: route the
	# multicast range into the tunnel instead, as a routing daemon would.
	jexec vtA route -q add -net 224.0.0.0/4 -interface ipsec0
	vt_log "$_m-ping" jexec vtA ping -c 3 -T 1 224.0.0.5
	vt_capture_stop
	cat "${VT_TMP}/$_m-b-ipsec0.txt" "${VT_TMP}/$_m-a-epair.txt"
	grep -q '10.0.0.1 > 224.0.0.5' "${VT_TMP}/$_m-b-ipsec0.txt" &&
	    vt_pass "$_m/received" "224.0.0.5 arrived on the peer's ipsec0" ||
	    vt_fail "$_m/received" "no 224.0.0.5 on the peer's ipsec0"
	grep -q 'ESP(spi=0x00001001' "${VT_TMP}/$_m-a-epair.txt" &&
	    ! grep -q '224.0.0.5' "${VT_TMP}/$_m-a-epair.txt" &&
	    vt_pass "$_m/wire" "only ESP on the wire" ||
	    vt_fail "$_m/wire" "cleartext or no ESP on the wire"
	vt_cleanup
}

vt_has tcpdump || { vt_skip "" "no tcpdump in the image"; exit 0; }
if vt_stock_off; then
	vt_skip stock "stock C if_ipsec unusable on this kernel (--no-stock)"
else
	vt_require_stock
	mc_run stock
fi
vt_require_ours
mc_run ours
vt_unload_ours
vt_done "multicast (no OSPF daemon in the image)"
