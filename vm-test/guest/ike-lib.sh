# strongSwan helpers of the ike-* scenarios (sourced after lib.sh).
# charon (static, monolithic, /usr/local/libexec/ipsec/charon) with the
# kernel-pfkey plugin; swanctl talks to it over vici.

# vt_ike_require: the peer VM, strongSwan and our module, or SKIP/FAIL
# (then false: the scenario exits).
vt_ike_require()
{
	if [ -z "${VMTEST_PEER}" ]; then
		vt_skip "" "no peer VM (vm-test/run --peer-image)"
		return 1
	fi
	if [ ! -x /usr/local/libexec/ipsec/charon ]; then
		vt_skip "" "no strongSwan in the image"
		return 1
	fi
	vt_require_ours
}

# vt_ike_conf CONF: CONF with the options of VT_IKE_CONN (connection
# level, after "proposals") and VT_IKE_CHILD (child level, after
# "esp_proposals") added; several options are separated by ";".  One
# tested configuration, varied per scenario (rekey_time, encap).
vt_ike_conf()
{
	awk -v conn="${VT_IKE_CONN:-}" -v child="${VT_IKE_CHILD:-}" '
	function add(opts, indent) {
		n = split(opts, o, ";")
		for (i = 1; i <= n; i++)
			if (o[i] != "") print indent o[i]
	}
	{ print }
	/^[ \t]*proposals = / { add(conn, "\t\t") }
	/^[ \t]*esp_proposals = / { add(child, "\t\t\t\t") }
	' "${VMTEST_ROOT}/guest/$1"
}

# vt_ike_start CONF: install CONF (with vt_ike_conf's additions) as
# swanctl.conf, start charon, load it.  CONF "-" keeps the swanctl.conf
# already installed (written by the scenario).
vt_ike_start()
{
	mkdir -p /usr/local/etc/swanctl
	[ "$1" = - ] || vt_ike_conf "$1" > /usr/local/etc/swanctl/swanctl.conf
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

# The two ends of the ike-* tunnel, by side (ours: this VM, 192.0.2.1;
# peer: the stock driver's VM, 192.0.2.2).  vt_ike_addrs SIDE: "local remote
# inner_local inner_remote inner6_local inner6_remote N", N being the
# side's number (lo1 networks 172.16.N.0/24, 2001:db8:fN::/64; link-local
# fe80::N).
vt_ike_addrs()
{
	if [ "$1" = ours ]; then
		echo "192.0.2.1 192.0.2.2 10.3.0.1 10.3.0.2 2001:db8:3::1 2001:db8:3::2 1"
	else
		echo "192.0.2.2 192.0.2.1 10.3.0.2 10.3.0.1 2001:db8:3::2 2001:db8:3::1 2"
	fi
}

# vt_ike_tunnel SIDE: ipsec1 (reqid 300) over vtnet0 for SIDE, as ike-up
# sets it up (idempotent).
vt_ike_tunnel()
{
	set -- $(vt_ike_addrs "$1")
	ifconfig vtnet0 inet "$1"/24 up
	ifconfig ipsec1 >/dev/null 2>&1 ||
	    ifconfig ipsec1 create tunnel "$1" "$2" reqid 300 >/dev/null || return 1
	ifconfig ipsec1 inet "$3"/30 "$4" 2>/dev/null
	ifconfig ipsec1 inet6 "$5" "$6" prefixlen 128 no_dad 2>/dev/null
	vt_ike_linklocal ipsec1 "fe80::$7"
	return 0
}

# vt_ike_linklocal IF ADDR: IF's link-local address becomes ADDR.  Both
# VMs are named fbsd-test, and FreeBSD derives the link-local of an
# interface without a MAC (ipsec, gif, ...) from MD5(hostname) unless
# another interface has a universal MAC to borrow (vtnet's 52:54:00:... is
# locally administered): sys/netinet6/in6_ifattach.c get_ifid() /
# get_rand_ifid().  Both ends of the tunnel would have the same fe80::
# address and OSPFv3 next hops would point at ourselves; hosts with
# different names do not have that problem.
vt_ike_linklocal()
{
	_ll=$(ifconfig "$1" inet6 | sed -n 's/.*inet6 \(fe80::[^%]*\)%.*/\1/p')
	[ "${_ll}" = "$2" ] && return 0
	for _a in ${_ll}; do
		ifconfig "$1" inet6 "${_a}%$1" -alias 2>/dev/null
	done
	ifconfig "$1" inet6 "$2%$1" prefixlen 64 no_dad
}

# vt_bird_start CONF: BIRD with CONF (socket /var/run/bird.ctl); CONF is
# a file of guest/ or an absolute path.
vt_bird_start()
{
	pkill -x bird 2>/dev/null
	sleep 1
	case "$1" in
	/*) _bc=$1 ;;
	*) _bc=${VMTEST_ROOT}/guest/$1 ;;
	esac
	/usr/local/sbin/bird -c "${_bc}" -s /var/run/bird.ctl
}

vt_bird_stop()
{
	pkill -x bird 2>/dev/null
}

# vt_ike_ospf_up SIDE: lo1 with SIDE's networks, ipsec1 (vt_ike_tunnel),
# charon with swanctl-SIDE.conf (our side initiates the child), BIRD with
# bird-SIDE.conf.  Prints what failed.
vt_ike_ospf_up()
{
	_n=$(vt_ike_addrs "$1" | cut -d' ' -f7)
	ifconfig lo1 >/dev/null 2>&1 || ifconfig lo1 create
	ifconfig lo1 inet "172.16.${_n}.1/24" up
	ifconfig lo1 inet6 "2001:db8:f${_n}::1/64" no_dad
	vt_ike_tunnel "$1" || { echo "ipsec1"; return 1; }
	vt_ike_start "swanctl-$1.conf" || { echo "charon/swanctl --load-all"; return 1; }
	if [ "$1" = ours ] &&
	    ! swanctl --initiate --child vt --timeout 30 >/dev/null 2>&1; then
		echo "CHILD_SA not established"; return 1
	fi
	vt_bird_start "bird-$1.conf" || { echo "bird"; return 1; }
}

# vt_route_via DEST: is DEST routed through ipsec1?
vt_route_via()
{
	route -n get "$@" 2>/dev/null | grep -q 'interface: ipsec1'
}

# vt_wait_route WANT SECONDS DEST...: wait until DEST's route through
# ipsec1 exists (WANT=yes) or is gone (WANT=no); prints the seconds it
# took; false on timeout.
vt_wait_route()
{
	_want=$1; _max=$2; shift 2
	_t0=$(date +%s)
	while :; do
		_now=$(date +%s)
		if vt_route_via "$@"; then _got=yes; else _got=no; fi
		if [ "${_got}" = "${_want}" ]; then
			echo $((_now - _t0)); return 0
		fi
		[ $((_now - _t0)) -ge "${_max}" ] && return 1
		sleep 0.5
	done
}

# vt_ike_ours: our end of the ike-up tunnel: ipsec1 (vt_ike_tunnel), charon
# with swanctl-ours.conf (plus VT_IKE_CONN / VT_IKE_CHILD), the child
# initiated (check "initiate").
vt_ike_ours()
{
	vt_ike_tunnel ours || vt_fail setup "ipsec1"
	vt_ike_start swanctl-ours.conf ||
	    vt_fail setup "swanctl --load-all: $(tail -n 3 "${VT_TMP}/load.log" | tr '\n' '|')"
	if _out=$(swanctl --initiate --child vt --timeout 30 2>&1); then
		vt_pass initiate "CHILD_SA vt established"
	else
		vt_fail initiate "$(echo "${_out}" | tail -n 3 | tr '\n' '|')"
	fi
}

# vt_ike_pings [SRC4 DST4 SRC6 DST6]: 3 pings each way of IPv4 and IPv6
# through ipsec1 (checks ping4, ping6); default: the tunnel's inner
# addresses.
vt_ike_pings()
{
	for _v in 4 6; do
		if [ "${_v}" = 4 ]; then
			set -- "${1:-}" "${2:-10.3.0.2}" "${3:-}" "${4:-2001:db8:3::2}"
			_args="${1:+-S $1} $2"
		else
			_args="-6 ${3:+-S $3} $4"
		fi
		# shellcheck disable=SC2086 # _args holds several words
		_out=$(ping -c 3 -t 20 ${_args} 2>&1) &&
		    vt_pass "ping${_v}" "${1:+lo1 to lo1: }$(echo "${_out}" | grep transmitted)" ||
		    vt_fail "ping${_v}" "$(echo "${_out}" | tail -n 2 | tr '\n' '|')"
	done
}

# vt_underlay_start / vt_underlay_stop LINES PATTERN WHAT: tcpdump on
# vtnet0 into ${VT_TMP}/vtnet0.txt; stop shows its first LINES lines and
# passes check "underlay" when PATTERN (grep) is there and no ICMP is
# (nothing in cleartext); WHAT says what was expected.  Without tcpdump
# there is nothing to judge.
vt_underlay_start()
{
	VT_TP=
	vt_has tcpdump || return 0
	tcpdump -n -l -p -i vtnet0 > "${VT_TMP}/vtnet0.txt" 2>&1 &
	VT_TP=$!
	sleep 1
}
vt_underlay_stop()
{
	[ -n "${VT_TP}" ] || return 1
	sleep 1; kill "${VT_TP}" 2>/dev/null; wait "${VT_TP}" 2>/dev/null
	vt_log vtnet0 head -n "$1" "${VT_TMP}/vtnet0.txt"
	if grep -q "$2" "${VT_TMP}/vtnet0.txt" && ! grep -q 'ICMP' "${VT_TMP}/vtnet0.txt"; then
		vt_pass underlay "$3 on vtnet0, no cleartext"
	else
		vt_fail underlay "not $3 (or cleartext) on vtnet0"
	fi
}
