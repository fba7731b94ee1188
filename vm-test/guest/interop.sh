#!/bin/sh
# Scenario "interop": this VM (our if_ipsec) and a peer VM running the stock
# C if_ipsec, linked by QEMU socket networking on 127.0.0.1 (vtnet0 on both),
# ping each other through ipsec0 in both directions, 4in4 and 6in4.
# Without our interfaces it runs stock<->stock to prove the harness, and
# reports SKIP for ours.
# vmtest-peer: interop-peer.sh
# vmtest-peer-after: interop-peer-after.sh
# vmtest-timeout: 240
. "$(dirname "$0")/lib.sh"
if [ -z "${VMTEST_PEER}" ]; then
	vt_skip "" "no peer VM (vm-test/run --peer-image)"
	exit 0
fi
mode=ours
if [ -z "${VMTEST_KO}" ] || ! { vt_record_stock_cloners; vt_ours_active; }; then
	mode=stock
	vt_unload_ours >/dev/null 2>&1
	vt_load_ipsec
fi
ifconfig vtnet0 inet 192.0.2.1/24 up
ifconfig ipsec0 create tunnel 192.0.2.1 192.0.2.2 reqid 200 >/dev/null
ifconfig ipsec0 inet 10.1.0.1/30 10.1.0.2
ifconfig ipsec0 inet6 2001:db8:2::1 2001:db8:2::2 prefixlen 128 no_dad
printf '%s\n' "flush;" \
    "add 192.0.2.1 192.0.2.2 esp 0x2001 -m tunnel -u 200 -E aes-gcm-16 ${VT_KEY_AB};" \
    "add 192.0.2.2 192.0.2.1 esp 0x2002 -m tunnel -u 200 -E aes-gcm-16 ${VT_KEY_BA};" |
    setkey -c >/dev/null
vt_log ifconfig ifconfig ipsec0
ping -c 3 -t 20 192.0.2.2 >/dev/null 2>&1 ||
    vt_fail "${mode}/wire" "no plain ping between the VMs over vtnet0"
out=$(ping -c 3 -t 20 10.1.0.2 2>&1) &&
    vt_pass "${mode}/ping4" "$(echo "$out" | grep transmitted)" ||
    vt_fail "${mode}/ping4" "$(echo "$out" | tail -n 2 | tr '\n' '|')"
out=$(ping -6 -c 3 -t 20 2001:db8:2::2 2>&1) &&
    vt_pass "${mode}/ping6" "$(echo "$out" | grep transmitted)" ||
    vt_fail "${mode}/ping6" "$(echo "$out" | tail -n 2 | tr '\n' '|')"
if [ $mode = stock ]; then
	echo "VMTEST ${VT_NAME} SKIP module provides no ipsec interfaces yet (stock<->stock harness ran)"
else
	vt_done "ours <-> stock"
fi
