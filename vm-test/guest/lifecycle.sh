#!/bin/sh
# Scenario "lifecycle": ours: RUNNING follows the tunnel source address
# (srcaddr callbacks, as if_ipsec.c ipsec_srcaddr), a move to another VNET
# (`ifconfig ipsec0 vnet J`, tunnel set inside, `jail -r` brings it back
# without its tunnel, as if_ipsec.c ipsec_reassign), and kldunload with
# interfaces alive (host and jail) leaves no ifnet policy and no if_ipsec
# memory.
# vmtest-timeout: 240
. "$(dirname "$0")/lib.sh"
vt_require_ours
vt_vnet_init

running() { jexec "$1" ifconfig ipsec0 | head -n 1 | grep -q RUNNING; }

# 1. srcaddr: tunnel from 192.0.2.1, not (yet) a local address.
vt_two_jails || { vt_fail jails "could not build the jails"; vt_done; exit 0; }
jexec vtA ifconfig ipsec0 create tunnel 192.0.2.1 198.51.100.2 reqid 100 >/dev/null
jexec vtA ifconfig ipsec0 up
r0=no; running vtA && r0=yes
jexec vtA ifconfig "${VT_EPAIR}a" alias 192.0.2.1/32
sleep 1
r1=no; running vtA && r1=yes
jexec vtA ifconfig "${VT_EPAIR}a" -alias 192.0.2.1
sleep 1
r2=no; running vtA && r2=yes
vt_log ifconfig jexec vtA ifconfig ipsec0
if [ $r0 = no ] && [ $r1 = yes ] && [ $r2 = no ]; then
	vt_pass srcaddr "RUNNING: no source $r0, alias $r1, -alias $r2"
else
	vt_fail srcaddr "RUNNING: no source $r0, alias $r1, -alias $r2 (want no yes no)"
fi
# The same with an IPv6 outer source.
jexec vtA ifconfig ipsec0 inet6 tunnel 2001:db8:ffff::99 2001:db8:ffff::2
r0=no; running vtA && r0=yes
jexec vtA ifconfig "${VT_EPAIR}a" inet6 2001:db8:ffff::99/128 alias no_dad
sleep 1
r1=no; running vtA && r1=yes
jexec vtA ifconfig "${VT_EPAIR}a" inet6 2001:db8:ffff::99 -alias
sleep 1
r2=no; running vtA && r2=yes
if [ $r0 = no ] && [ $r1 = yes ] && [ $r2 = no ]; then
	vt_pass srcaddr6 "RUNNING: no source $r0, alias $r1, -alias $r2"
else
	vt_fail srcaddr6 "RUNNING: no source $r0, alias $r1, -alias $r2 (want no yes no)"
fi
jexec vtA ifconfig ipsec0 destroy
vt_cleanup

# 2. VNET move: created on the host, moved into a jail, configured there;
# jail removal returns it to the host.
jail -c name=vtM vnet persist && echo "jail vtM" >> "${VT_STATE}"
ifconfig ipsec0 create reqid 300 >/dev/null
if ifconfig ipsec0 vnet vtM &&
    jexec vtM ifconfig ipsec0 tunnel 198.51.100.1 198.51.100.2 &&
    [ "$(jexec vtM setkey -DP | grep -c 'scope=ifnet ifname=ipsec0')" = 4 ]; then
	vt_pass vmove "ipsec0 moved into vtM, tunnel set there, 4 ifnet policies there"
else
	vt_fail vmove "move or tunnel in vtM failed"
fi
vt_log ifconfig-vtM jexec vtM ifconfig ipsec0
[ "$(setkey -DP | grep -c 'ifname=ipsec0')" = 0 ] &&
    vt_pass vmove-host "no ipsec0 policy in the host while moved" ||
    vt_fail vmove-host "host SPD has ipsec0 policies while it is in vtM"
jail -r vtM
if ifconfig ipsec0 >/dev/null 2>&1; then
	vt_log ifconfig-back ifconfig ipsec0
	if ifconfig ipsec0 | grep -q tunnel; then
		vt_fail vmove-back "ipsec0 came back with a tunnel"
	else
		vt_pass vmove-back "jail -r returned ipsec0 to the host, tunnel deleted"
	fi
else
	vt_fail vmove-back "ipsec0 did not come back after jail -r"
fi
ifconfig ipsec0 destroy 2>/dev/null
: > "${VT_STATE}"

# 3. kldunload with live interfaces in the host and in a jail.
jail -c name=vtU vnet persist && echo "jail vtU" >> "${VT_STATE}"
ifconfig ipsec0 create tunnel 192.0.2.1 198.51.100.7 reqid 100 >/dev/null
ifconfig ipsec1 create inet6 tunnel 2001:db8::1 2001:db8::7 >/dev/null
jexec vtU ifconfig ipsec0 create tunnel 192.0.2.1 198.51.100.7 reqid 100 >/dev/null
b=$(setkey -DP | grep -c 'scope=ifnet'); bj=$(jexec vtU setkey -DP | grep -c 'scope=ifnet')
if kldunload if_ipsec; then
	a=$(setkey -DP | grep -c 'scope=ifnet'); aj=$(jexec vtU setkey -DP | grep -c 'scope=ifnet')
	m=$(vmstat -m | grep -cw if_ipsec)
	l=$(ifconfig -l; jexec vtU ifconfig -l)
	vt_log setkey-DP setkey -DP
	if [ "$a" = 0 ] && [ "$aj" = 0 ] && [ "$m" = 0 ] &&
	    ! echo "$l" | grep -q ipsec; then
		vt_pass unload-alive "ifnet policies host $b->0, jail $bj->0; no if_ipsec in vmstat -m; no ipsecN left"
	else
		vt_fail unload-alive "after kldunload: policies host $a jail $aj, vmstat -m lines $m, ifaces: $(echo $l)"
	fi
else
	vt_fail unload-alive "kldunload refused"
fi
vt_cleanup
vt_done "srcaddr, vnet move, unload with live interfaces"
