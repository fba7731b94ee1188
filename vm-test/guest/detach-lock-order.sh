#!/bin/sh
# Scenario "detach-lock-order" (issue 8, finding 3): `ifconfig ipsecN
# destroy` racing `ifconfig ipsecM vnet J` and `jail -r`.  The kernel holds
# ifnet_detach_sxlock while it calls our if_reassign and VNET uninit
# (if.c if_vmove_loan, vnet.c vnet_destroy); destroy must not hold our
# configuration lock while it takes the same lock in if_detach.  Under
# WITNESS a reversal is reported on the console; under GENERIC the race
# must not deadlock.
# vmtest-timeout: 240
. "$(dirname "$0")/lib.sh"
vt_require_ours
vt_vnet_init
d0=$(dmesg | wc -l)
# Order 1: ifnet_detach_sxlock -> our lock (if_vmove_loan -> if_reassign).
jail -c name=vtD vnet persist && echo "jail vtD" >> "${VT_STATE}"
ifconfig ipsec1 create reqid 501 >/dev/null
ifconfig ipsec1 vnet vtD
# Order 2: destroy (our lock, then if_detach).
ifconfig ipsec0 create tunnel 192.0.2.1 198.51.100.7 reqid 500 >/dev/null
ifconfig ipsec0 destroy
# The race itself, bounded: creates/destroys against moves and jail -r.
i=0
while [ $i -lt 15 ]; do
	jail -c name=vtE vnet persist
	ifconfig ipsec2 create reqid 502 >/dev/null
	ifconfig ipsec3 create reqid 503 >/dev/null
	ifconfig ipsec2 vnet vtE &
	ifconfig ipsec3 destroy &
	wait
	jail -r vtE &
	ifconfig ipsec4 create reqid 504 >/dev/null && ifconfig ipsec4 destroy &
	wait
	ifconfig ipsec2 destroy 2>/dev/null
	i=$((i + 1))
done
vt_pass race "15 rounds of destroy vs vnet move / jail -r: no deadlock"
# kldunload destroys the rest (cloner detach) with the same order.
vt_cleanup
vt_unload_ours
sleep 1
lor=$(dmesg | tail -n +"$((d0 + 1))" | grep -A 3 'lock order reversal' | tr '\n' '|')
if echo "${lor}" | grep -q 'if_ipsec'; then
	vt_fail witness "WITNESS: ${lor}"
else
	vt_pass witness "no lock order reversal naming if_ipsec ($(sysctl -n kern.bootfile))"
fi
vt_log dmesg sh -c "dmesg | tail -n +$((d0 + 1)) | tail -n 20"
vt_done "destroy vs vnet move: lock order"
