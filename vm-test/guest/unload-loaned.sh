#!/bin/sh
# Scenario "unload-loaned" (issue 8, finding 1): kldunload with an ipsecN on
# loan to a vnet jail.  VNETs are torn down newest first (vnet.c
# vnet_alloc LIST_INSERT_HEAD, vnet_deregister_sysuninit VNET_FOREACH), so
# the jail's share of the module goes before vnet0's cloner destroys the
# loaned interface with IFC_F_FORCE; if_clone.c if_clone_detach retries a
# failing destroy forever.  Also: an interface whose arrival in a VNET
# failed (name taken at jail -r) can still be destroyed.
# vmtest-timeout: 150
. "$(dirname "$0")/lib.sh"
vt_require_ours
vt_vnet_init

# unload_within SECONDS: kldunload if_ipsec in the background; a kldunload
# still running after SECONDS is a hang (it never comes back: Giant is
# held, so the VM is restarted after this scenario).
unload_within()
{
	kldunload if_ipsec > "${VT_TMP}/unload.out" 2>&1 &
	_up=$!
	_w=0
	while kill -0 "${_up}" 2>/dev/null && [ "${_w}" -lt "$1" ]; do
		sleep 1; _w=$((_w + 1))
	done
	if kill -0 "${_up}" 2>/dev/null; then
		return 2
	fi
	wait "${_up}"
}

# 1. ipsec0 made in the host, loaned to a persistent vnet jail, configured
# there; then kldunload.
jail -c name=vtL vnet persist && echo "jail vtL" >> "${VT_STATE}"
ifconfig ipsec0 create reqid 300 >/dev/null
ifconfig ipsec1 create tunnel 192.0.2.1 198.51.100.7 reqid 301 >/dev/null
ifconfig ipsec0 vnet vtL
jexec vtL ifconfig ipsec0 tunnel 198.51.100.1 198.51.100.2
jexec vtL ifconfig ipsec0 inet 10.9.0.1/30 10.9.0.2
pj=$(jexec vtL setkey -DP | grep -c 'scope=ifnet')
unload_within 30
rc=$?
if [ "${rc}" = 2 ]; then
	vt_fail unload-loaned "kldunload did not return within 30 s (hang: if_clone_detach retrying a failed destroy)"
	vt_log dmesg sh -c 'dmesg | tail -n 5'
	echo "VMTEST-RESTART kldunload hung"
	exit 0
fi
aj=$(jexec vtL setkey -DP | grep -c 'scope=ifnet')
l=$(ifconfig -l; jexec vtL ifconfig -l)
m=$(vmstat -m | grep -cw if_ipsec)
if [ "${rc}" = 0 ] && [ "${aj}" = 0 ] && [ "${m}" = 0 ] && ! echo "${l}" | grep -q ipsec; then
	vt_pass unload-loaned "kldunload returned; jail policies ${pj}->0; no ipsecN; no if_ipsec memory"
else
	vt_fail unload-loaned "rc=${rc} $(cat "${VT_TMP}/unload.out"); jail policies ${aj}; vmstat lines ${m}; ifaces: $(echo ${l})"
fi
vt_cleanup

# 2. Failed arrival: ipsec0 loaned to a jail, the host makes a new ipsec0,
# jail -r sends the loaned one home (vnet_if_return has no name check):
# it must still be destroyable, and kldunload must return.
vt_load_ours
jail -c name=vtR vnet persist && echo "jail vtR" >> "${VT_STATE}"
ifconfig ipsec0 create reqid 400 >/dev/null
ifconfig ipsec0 vnet vtR
jexec vtR ifconfig ipsec0 tunnel 198.51.100.1 198.51.100.2
ifconfig ipsec0 create reqid 401 >/dev/null
jail -r vtR
: > "${VT_STATE}"
vt_log ifconfig-l ifconfig -l
n=$(ifconfig -l | tr ' ' '\n' | grep -c '^ipsec0$')
for i in 1 2 3; do ifconfig ipsec0 destroy 2>/dev/null; done
left=$(ifconfig -l | tr ' ' '\n' | grep -c '^ipsec')
unload_within 30
rc=$?
if [ "${rc}" = 2 ]; then
	vt_fail return-home "kldunload did not return within 30 s"
	echo "VMTEST-RESTART kldunload hung"
	exit 0
fi
if [ "${rc}" = 0 ] && [ "${left}" = 0 ]; then
	vt_pass return-home "${n} interface(s) named ipsec0 after jail -r; all destroyed; kldunload returned"
else
	vt_fail return-home "ipsec0 x${n}; left after destroy: ${left}; kldunload rc=${rc} $(cat "${VT_TMP}/unload.out")"
fi
vt_done "unload with a loaned interface; interface sent home under a taken name"
