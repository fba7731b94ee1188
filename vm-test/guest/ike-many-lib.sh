# Helpers of the "ike-many" scenario (sourced after lib.sh and ike-lib.sh):
# VT_MANY tunnels ipsec201.. between address aliases on vtnet0, one IKE
# peer address pair per tunnel: ours 192.0.2.(100+i), the peer's
# 192.0.2.(150+i), reqid 1000+i, inner 10.4.i.1 <-> 10.4.i.2 (/30).
VT_MANY=${VT_MANY:-50}

# vt_many_addrs SIDE I: "local remote inner_local inner_remote" of tunnel I
# seen from SIDE (ours | peer).
vt_many_addrs()
{
	if [ "$1" = ours ]; then
		echo "192.0.2.$((100 + $2)) 192.0.2.$((150 + $2)) 10.4.$2.1 10.4.$2.2"
	else
		echo "192.0.2.$((150 + $2)) 192.0.2.$((100 + $2)) 10.4.$2.2 10.4.$2.1"
	fi
}

# vt_many_tunnels SIDE: the aliases and the VT_MANY interfaces.
vt_many_tunnels()
{
	ifconfig vtnet0 inet 192.0.2.$([ "$1" = ours ] && echo 1 || echo 2)/24 up
	_i=1
	while [ "${_i}" -le "${VT_MANY}" ]; do
		set -- "$1" $(vt_many_addrs "$1" "${_i}")
		ifconfig vtnet0 inet "$2"/32 alias || return 1
		ifconfig ipsec$((200 + _i)) create tunnel "$2" "$3" \
		    reqid $((1000 + _i)) > /dev/null || return 1
		ifconfig ipsec$((200 + _i)) inet "$4"/30 "$5" || return 1
		set -- "$1"
		_i=$((_i + 1))
	done
}

# vt_many_untunnel SIDE: remove them again.
vt_many_untunnel()
{
	_i=1
	while [ "${_i}" -le "${VT_MANY}" ]; do
		ifconfig ipsec$((200 + _i)) destroy 2>/dev/null
		ifconfig vtnet0 inet "$(vt_many_addrs "$1" "${_i}" | cut -d' ' -f1)" \
		    -alias 2>/dev/null
		_i=$((_i + 1))
	done
}

# vt_many_swanctl SIDE: swanctl.conf with one connection per tunnel: the
# tested connection of swanctl-SIDE.conf (the README example), renamed
# t<i>, with tunnel i's addresses and reqid; our side starts each at load
# (start_action = start).  One PSK for all (no ids).
vt_many_swanctl()
{
	[ "$1" = ours ] && _sa="start_action = start" || _sa=
	_conn=$(VT_IKE_CHILD=${_sa} vt_ike_conf "swanctl-$1.conf" |
	    sed -n '/^connections {/,/^}/p' | sed '1d;$d')
	set -- "$1" $(vt_ike_addrs "$1")
	echo "connections {"
	_i=1
	while [ "${_i}" -le "${VT_MANY}" ]; do
		_t=$(vt_many_addrs "$1" "${_i}")
		echo "${_conn}" | sed -e "s/vt {/t${_i} {/" \
		    -e "s/= $2\$/= ${_t%% *}/" \
		    -e "s/= $3\$/= $(echo "${_t}" | cut -d' ' -f2)/" \
		    -e "s/reqid = 300/reqid = $((1000 + _i))/"
		_i=$((_i + 1))
	done
	echo "}"
	cat <<'EOC'
secrets {
	ike-many {
		secret = "vm-test pre-shared key, not for real use"
	}
}
EOC
}

# vt_many_bird SIDE ROUTERID: BIRD config, OSPFv2 on every ipsec2xx
# (point-to-point), the peer announcing lo2's 172.17.i.0/24 networks.
vt_many_bird()
{
	cat <<EOC
router id $2;
protocol device { scan time 2; }
protocol direct { ipv4; interface "lo2"; }
protocol kernel { ipv4 { export where source = RTS_OSPF || source = RTS_OSPF_EXT2; }; }
protocol ospf v2 many {
	ipv4 { import all; export where source = RTS_DEVICE && net ~ [ 172.17.0.0/16+ ]; };
	area 0 {
		interface "ipsec2??" { type ptp; hello 2; dead 8; };
	};
}
EOC
}
