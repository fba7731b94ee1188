# strongSwan helpers of the ike-* scenarios (sourced after lib.sh).
# charon (static, monolithic, /usr/local/libexec/ipsec/charon) with the
# kernel-pfkey plugin; swanctl talks to it over vici.

# vt_ike_start CONF: install CONF as swanctl.conf, start charon, load it.
vt_ike_start()
{
	mkdir -p /usr/local/etc/swanctl
	cp "${VMTEST_ROOT}/guest/$1" /usr/local/etc/swanctl/swanctl.conf
	vt_ike_stop
	/usr/local/libexec/ipsec/charon > "${VT_TMP}/charon.log" 2>&1 &
	# The vici socket appears once charon listens; then load (retried:
	# charon may still be starting its plugins).
	_w=0
	while [ "${_w}" -lt 20 ]; do
		if [ -S /var/run/charon.vici ] &&
		    swanctl --load-all --noprompt > "${VT_TMP}/load.log" 2>&1; then
			return 0
		fi
		sleep 1; _w=$((_w + 1))
	done
	cat "${VT_TMP}/load.log" "${VT_TMP}/charon.log"
	return 1
}

# Stop charon (it deletes the SAs it installed) and wait until it is
# gone, so that a new one does not meet the old one's vici socket.
vt_ike_stop()
{
	pkill -x charon 2>/dev/null
	_w=0
	while pgrep -x charon >/dev/null 2>&1 && [ "${_w}" -lt 10 ]; do
		sleep 1; _w=$((_w + 1))
	done
	rm -f /var/run/charon.vici /var/run/charon.pid
}

# vt_ike_tunnel LOCAL REMOTE INNER_LOCAL INNER_REMOTE INNER6_LOCAL INNER6_REMOTE:
# ipsec1 (reqid 300) over vtnet0, as ike-up sets it up (idempotent).
vt_ike_tunnel()
{
	ifconfig vtnet0 inet "$1"/24 up
	ifconfig ipsec1 >/dev/null 2>&1 ||
	    ifconfig ipsec1 create tunnel "$1" "$2" reqid 300 >/dev/null || return 1
	ifconfig ipsec1 inet "$3"/30 "$4" 2>/dev/null
	ifconfig ipsec1 inet6 "$5" "$6" prefixlen 128 no_dad 2>/dev/null
	return 0
}

# vt_bird_start CONF: BIRD with CONF (socket /var/run/bird.ctl).
vt_bird_start()
{
	pkill -x bird 2>/dev/null
	sleep 1
	/usr/local/sbin/bird -c "${VMTEST_ROOT}/guest/$1" -s /var/run/bird.ctl
}

vt_bird_stop()
{
	pkill -x bird 2>/dev/null
}
