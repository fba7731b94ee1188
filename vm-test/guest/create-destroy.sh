#!/bin/sh
# Scenario "create-destroy": our ipsecN interfaces: create with tunnel and
# reqid, auto unit, destroy, inside a vnet jail (removed with the jail), and
# kldunload with and without interfaces alive.
# vmtest-timeout: 240
. "$(dirname "$0")/lib.sh"
vt_require_ours

if out=$(ifconfig ipsec0 create tunnel 192.0.2.1 198.51.100.7 reqid 100 2>&1); then
	vt_pass create-tunnel "ifconfig ipsec0 create tunnel .. reqid 100"
else
	vt_fail create-tunnel "$out"
fi
vt_log ifconfig ifconfig ipsec0
ifconfig ipsec0 | grep -q 'tunnel inet 192.0.2.1 --> 198.51.100.7' &&
    ifconfig ipsec0 | grep -q 'reqid: 100' &&
    vt_pass show "ifconfig shows tunnel and reqid" ||
    vt_fail show "tunnel/reqid missing from ifconfig ipsec0"
ifconfig -g ipsec | grep -qx 'ipsec0' &&
    vt_pass group "ipsec0 in interface group ipsec" ||
    vt_fail group "ipsec0 not in group ipsec"
n=$(ifconfig ipsec create 2>&1)
case "$n" in
ipsec[0-9]*) vt_pass create-auto "ifconfig ipsec create -> $n" ;;
*) vt_fail create-auto "ifconfig ipsec create said: $n" ;;
esac
ifconfig "$n" destroy && ifconfig ipsec0 destroy &&
    ! ifconfig ipsec0 >/dev/null 2>&1 &&
    vt_pass destroy "both destroyed" || vt_fail destroy "destroy failed"

# In a vnet jail: the cloner exists there, and jail removal takes the
# interface with it.
vt_vnet_init
jail -c name=vtC vnet persist && echo "jail vtC" >> "${VT_STATE}"
if jexec vtC ifconfig ipsec0 create tunnel 192.0.2.1 198.51.100.7 reqid 7 >/dev/null 2>&1 &&
    jexec vtC ifconfig ipsec0 | grep -q 'reqid: 7'; then
	vt_pass vnet-create "ipsec0 inside vnet jail"
else
	vt_fail vnet-create "no ipsec0 inside a vnet jail"
fi
jail -r vtC && vt_pass vnet-remove "jail with ipsec0 removed" ||
    vt_fail vnet-remove "jail -r failed"

# kldunload with an interface alive.
ifconfig ipsec0 create tunnel 192.0.2.1 198.51.100.7 reqid 100 >/dev/null
if kldunload if_ipsec 2>"${VT_TMP}/unload.err"; then
	if ifconfig ipsec0 >/dev/null 2>&1 && ifconfig ipsec0 | grep -q 'reqid: 100'; then
		vt_fail unload-alive "unloaded but ipsec0 still there"
	else
		vt_pass unload-alive "kldunload destroyed the live interface"
	fi
else
	if ifconfig ipsec0 destroy; then
		vt_pass unload-alive "kldunload refused with a live interface: $(cat "${VT_TMP}/unload.err")"
	else
		vt_fail unload-alive "kldunload refused and ipsec0 unusable"
	fi
fi
vt_unload_ours
vt_ours_loaded && vt_fail unload "module still loaded" || vt_pass unload "kldunload without interfaces"
vt_done
