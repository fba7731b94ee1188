#!/bin/sh
# Peer side of "interop" (runs on the peer VM before interop.sh): stock C
# if_ipsec only, vtnet0 192.0.2.2, ipsec0 10.1.0.2 <-> 10.1.0.1, reqid 200.
VT_NAME=interop
. "$(dirname "$0")/lib.sh"
kldstat -q -m ipsec || kldload ipsec
ifconfig vtnet0 inet 192.0.2.2/24 up
ifconfig ipsec0 create tunnel 192.0.2.2 192.0.2.1 reqid 200 >/dev/null &&
ifconfig ipsec0 inet 10.1.0.2/30 10.1.0.1 &&
ifconfig ipsec0 inet6 2001:db8:2::2 2001:db8:2::1 prefixlen 128 no_dad &&
printf '%s\n' "flush;" \
    "add 192.0.2.1 192.0.2.2 esp 0x2001 -m tunnel -u 200 -E aes-gcm-16 ${VT_KEY_AB};" \
    "add 192.0.2.2 192.0.2.1 esp 0x2002 -m tunnel -u 200 -E aes-gcm-16 ${VT_KEY_BA};" |
    setkey -c >/dev/null &&
    vt_pass peer-setup "stock ipsec0 on the peer" ||
    vt_fail peer-setup "peer setup failed"
