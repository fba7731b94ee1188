#!/bin/sh
# Scenario "multicast": no routing daemon in the image, so instead of OSPF a
# multicast packet to 224.0.0.5 (OSPF AllSPFRouters) is sent out of our
# ipsec0: the peer jail sees it in cleartext on its ipsec0, the wire only ESP.
# vmtest-timeout: 240
. "$(dirname "$0")/lib.sh"
vt_require_ours
vt_two_jails || { vt_fail jails "could not build the jails"; vt_done; exit 0; }
vt_tunnel_setup 4 100 || vt_fail setup "setup failed"
vt_capture vtB ipsec0 "${VT_TMP}/b-ipsec0.txt"
vt_capture vtA "${VT_EPAIR}a" "${VT_TMP}/a-epair.txt"
jexec vtA ping -c 3 -T 1 -I 10.0.0.1 224.0.0.5 >/dev/null 2>&1
vt_capture_stop
cat "${VT_TMP}/b-ipsec0.txt" "${VT_TMP}/a-epair.txt"
grep -q '10.0.0.1 > 224.0.0.5' "${VT_TMP}/b-ipsec0.txt" &&
    vt_pass received "224.0.0.5 arrived on the peer's ipsec0" ||
    vt_fail received "no 224.0.0.5 on the peer's ipsec0"
grep -q 'ESP(spi=0x00001001' "${VT_TMP}/a-epair.txt" &&
    ! grep -q '224.0.0.5' "${VT_TMP}/a-epair.txt" &&
    vt_pass wire "only ESP on the wire" || vt_fail wire "cleartext or no ESP on the wire"
vt_unload_ours
vt_done "multicast (no OSPF daemon in the image)"
