#!/bin/sh
# Peer side of "ike-many": the same 50 tunnels on the stock C driver,
# charon waiting for our initiations, BIRD announcing 172.17.i.0/24.
VT_NAME=${VMTEST_SCENARIO:-ike-many}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ike-lib.sh"
. "$(dirname "$0")/ike-many-lib.sh"
kldstat -q -m ipsec || kldload ipsec
ifconfig lo2 >/dev/null 2>&1 || ifconfig lo2 create
ifconfig lo2 up
i=1
while [ "$i" -le "${VT_MANY}" ]; do
	ifconfig lo2 inet 172.17.$i.1/24 alias
	i=$((i + 1))
done
mkdir -p /usr/local/etc/swanctl
vt_many_swanctl peer > /usr/local/etc/swanctl/swanctl.conf
vt_many_bird peer 10.4.0.2 > "${VT_TMP}/bird.conf"
if ! vt_many_tunnels peer; then
	vt_fail peer-setup "${VT_MANY} stock tunnels on the peer"
elif ! vt_ike_start -; then
	vt_fail peer-setup "charon on the peer"
elif ! vt_bird_start "${VT_TMP}/bird.conf"; then
	vt_fail peer-setup "bird on the peer"
else
	vt_pass peer-setup "${VT_MANY} stock tunnels, charon and BIRD on the peer"
fi
