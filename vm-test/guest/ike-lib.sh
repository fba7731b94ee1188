# strongSwan helpers of the ike-* scenarios (sourced after lib.sh).
# charon (static, monolithic, /usr/local/libexec/ipsec/charon) with the
# kernel-pfkey plugin; swanctl talks to it over vici.

# vt_ike_start CONF: install CONF as swanctl.conf, start charon, load it.
vt_ike_start()
{
	mkdir -p /usr/local/etc/swanctl
	cp "${VMTEST_ROOT}/guest/$1" /usr/local/etc/swanctl/swanctl.conf
	pkill -x charon 2>/dev/null
	/usr/local/libexec/ipsec/charon > "${VT_TMP}/charon.log" 2>&1 &
	_w=0
	while [ ! -S /var/run/charon.vici ] && [ "${_w}" -lt 20 ]; do
		sleep 1; _w=$((_w + 1))
	done
	swanctl --load-all --noprompt > "${VT_TMP}/load.log" 2>&1
}

vt_ike_stop()
{
	pkill -x charon 2>/dev/null
	sleep 1
}
