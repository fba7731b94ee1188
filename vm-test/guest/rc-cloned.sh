#!/bin/sh
# Scenario "rc-cloned": rc.conf's kld_list + cloned_interfaces +
# ifconfig_ipsec0 create and configure our interface (issue 12's MTU and
# link2 among the create_args) through the rc.d
# scripts (/etc/rc.d/kld and netif, as at boot; no actual reboot).
# vmtest-timeout: 180
. "$(dirname "$0")/lib.sh"
vt_require_ours
vt_unload_ours

cp /etc/rc.conf "${VT_TMP}/rc.conf.saved"
restore() { cp "${VT_TMP}/rc.conf.saved" /etc/rc.conf; }
cat >> /etc/rc.conf <<RC
kld_list="\${kld_list} ${VMTEST_KO}"
cloned_interfaces="\${cloned_interfaces} ipsec0"
create_args_ipsec0="tunnel 192.0.2.1 198.51.100.7 reqid 100 mtu 1346 link2"
ifconfig_ipsec0="inet 10.0.0.1/30 10.0.0.2"
RC
vt_log kld /etc/rc.d/kld start
vt_ours_loaded && vt_pass kld_list "kld_list loaded the module" ||
    vt_fail kld_list "module not loaded by /etc/rc.d/kld"
vt_log netif /etc/rc.d/netif start ipsec0
restore
vt_log ifconfig ifconfig ipsec0
ifconfig ipsec0 2>/dev/null | grep -q 'reqid: 100' &&
    ifconfig ipsec0 | grep -q 'inet 10.0.0.1 --> 10.0.0.2' &&
    vt_pass cloned "ipsec0 created with tunnel, reqid and address" ||
    vt_fail cloned "ipsec0 not configured from rc.conf"
# Issue 12's knobs persist the same way (create_args: MTU and DF copy).
ifconfig ipsec0 2>/dev/null | grep -q 'LINK2.*mtu 1346' &&
    vt_pass cloned-knobs "mtu 1346 and link2 (DF copy) from create_args_ipsec0" ||
    vt_fail cloned-knobs "mtu/link2 from create_args_ipsec0 not applied"
ifconfig ipsec0 destroy 2>/dev/null
vt_unload_ours
vt_done
