#!/bin/sh
# Scenario "destroy-under-load": a ping flood through our ipsec0 while the
# tunnel, the reqid and the addresses change and the interface is destroyed;
# the kernel must survive (no panic) and the module's malloc type must return
# to its starting count (vmstat -m), then the module must unload.
# vmtest-timeout: 300
. "$(dirname "$0")/lib.sh"
vt_require_ours

inuse()
{
	vmstat -m | awk '$1 == "if_ipsec" {print $2; f=1} END {if (!f) print 0}'
}

m0=$(inuse)
if ! vt_two_jails; then
	vt_fail jails "could not build the jails"; vt_done; exit 0
fi
vt_tunnel_setup 4 100 || vt_fail setup "setup failed"
round=0
while [ $round -lt 3 ]; do
	jexec vtA ping -f -q 10.0.0.2 >/dev/null 2>&1 &
	p1=$!
	jexec vtA ping -6 -f -q 2001:db8:1::2 >/dev/null 2>&1 &
	p2=$!
	sleep 2
	jexec vtA ifconfig ipsec0 tunnel 198.51.100.1 198.51.100.99
	sleep 1
	jexec vtA ifconfig ipsec0 tunnel 198.51.100.1 198.51.100.2
	jexec vtA ifconfig ipsec0 reqid 101
	sleep 1
	jexec vtA ifconfig ipsec0 -tunnel
	jexec vtA ifconfig ipsec0 tunnel 198.51.100.1 198.51.100.2 reqid 100
	sleep 1
	jexec vtB ifconfig ipsec0 destroy
	jexec vtA ifconfig ipsec0 destroy
	sleep 1
	kill $p1 $p2 2>/dev/null
	wait $p1 $p2 2>/dev/null
	round=$((round + 1))
	[ $round -lt 3 ] && vt_tunnel_setup 4 100 >/dev/null 2>&1
done
uname -v >/dev/null && vt_pass alive "kernel alive after 3 rounds"
# Both jails (and their VNETs) go too, then give deferred frees (epoch
# callbacks, VNET teardown) time to run.
vt_cleanup
sleep 3
m1=$(inuse)
echo "--- ${VT_NAME} vmstat -m if_ipsec InUse: before jails $m0, after teardown $m1"
vt_log vmstat-m sh -c "vmstat -m | head -n 1; vmstat -m | grep -w if_ipsec"
[ "$m1" -le "$m0" ] && vt_pass inuse "if_ipsec InUse $m0 before the jails, $m1 after" ||
    vt_fail inuse "if_ipsec InUse $m0 before the jails, $m1 after their teardown"
# On unload the kernel reports what is still allocated under the module's
# malloc type (sys/kern/kern_malloc.c malloc_uninit): the real leak check.
n=$(dmesg | wc -l)
vt_unload_ours && vt_pass unload "module unloads afterwards" ||
    vt_fail unload "kldunload failed"
if dmesg | tail -n +"$((n + 1))" | grep -q 'leaked memory'; then
	vt_fail leak "$(dmesg | tail -n +"$((n + 1))" | grep 'leaked memory' | head -n 1)"
else
	vt_pass leak "no 'leaked memory' warning for if_ipsec at kldunload"
fi
# The warning above only exists if the type was really uninitialized.
if vmstat -m | awk '$1 == "if_ipsec"' | grep -q .; then
	vt_fail type-gone "malloc type if_ipsec still listed after kldunload"
else
	vt_pass type-gone "malloc type if_ipsec gone after kldunload"
fi
vt_done
