#!/bin/sh
# Scenario "reconfig-under-traffic": the module registers a tunnel's new
# policies before it withdraws the old ones (README, issue 5 item 2), so a
# reqid change does not stop traffic. The stock C if_ipsec registers the
# new ones first too, but then ipsec_delete_tunnel clears RUNNING, unsets
# the family and waits for the net epoch before the new policies are
# installed, dropping output meanwhile (sys/net/if_ipsec.c (b66633d79ade)
# ipsec_set_reqid -> ipsec_set_tunnel -> ipsec_delete_tunnel). Two vnet jails over an epair,
# manual SAs for BOTH reqid 100 and reqid 200 in both jails; a fast ping
# from vtA through ipsec0 while vtA's ipsec0 switches reqid 100 <-> 200
# back to back until the ping ends.
# Run first against the stock C driver (comparison, reported, never a
# failure), then against ours: PASS only with zero loss.
# vmtest-timeout: 300
. "$(dirname "$0")/lib.sh"

VT_RC_COUNT=${VT_RC_COUNT:-2000}
VT_RC_INTERVAL=${VT_RC_INTERVAL:-0.002}

# SAs for reqids 100 (SPIs 0x1001/0x1002) and 200 (0x2001/0x2002).
vt_rc_sas()
{
	for _j in vtA vtB; do
		printf '%s\n' "flush;" \
		    "add ${VT_OUT_A} ${VT_OUT_B} esp 0x1001 -m tunnel -u 100 -E aes-gcm-16 ${VT_KEY_AB};" \
		    "add ${VT_OUT_B} ${VT_OUT_A} esp 0x1002 -m tunnel -u 100 -E aes-gcm-16 ${VT_KEY_BA};" \
		    "add ${VT_OUT_A} ${VT_OUT_B} esp 0x2001 -m tunnel -u 200 -E aes-gcm-16 ${VT_KEY_AB};" \
		    "add ${VT_OUT_B} ${VT_OUT_A} esp 0x2002 -m tunnel -u 200 -E aes-gcm-16 ${VT_KEY_BA};" |
		    jexec "${_j}" setkey -c >/dev/null || return 1
	done
}

# vt_rc_run LABEL: set up, ping fast while switching vtA's reqid back and
# forth until the ping ends; writes "TX RX ERRS SWITCHES" (transmitted,
# received, sendto errors, reqid changes) to VT_TMP/LABEL.res.
# (Own variable names: sh has no locals and vt_log uses _lb.)
vt_rc_run()
{
	_rc_lb=$1
	vt_two_jails || return 1
	vt_tunnel_setup 4 100 >/dev/null 2>&1 || return 1
	vt_rc_sas || return 1
	# ICMP response rate limiting (net.inet.icmp.icmplim, 200/s by
	# default, per VNET) would drop echo replies at this rate: off.
	for _rc_j in vtA vtB; do
		jexec ${_rc_j} sysctl net.inet.icmp.icmplim=0 >/dev/null
	done
	# Warm up (ARP on the epair, SA lookups).
	jexec vtA ping -c 2 -t 10 10.0.0.2 >/dev/null 2>&1
	# Baseline: the same ping without reconfiguration (TCG loses some).
	_rc_out=${VT_TMP}/${_rc_lb}.base
	jexec vtA ping -q -i "${VT_RC_INTERVAL}" -c "${VT_RC_COUNT}" 10.0.0.2 \
	    > "${_rc_out}" 2>&1
	_rc_btx=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "${_rc_out}")
	_rc_brx=$(sed -n 's/.* \([0-9]*\) packets received.*/\1/p' "${_rc_out}")
	echo "${_rc_btx:-0} ${_rc_brx:-0}" > "${VT_TMP}/${_rc_lb}.base.res"
	for _rc_j in vtA vtB; do
		jexec ${_rc_j} netstat -s -z >/dev/null 2>&1
	done
	_rc_out=${VT_TMP}/${_rc_lb}.ping
	jexec vtA ping -q -i "${VT_RC_INTERVAL}" -c "${VT_RC_COUNT}" 10.0.0.2 \
	    > "${_rc_out}" 2>&1 &
	_rc_pp=$!
	sleep 0.5
	_rc_n=0
	while kill -0 "${_rc_pp}" 2>/dev/null; do
		jexec vtA ifconfig ipsec0 reqid 200
		jexec vtA ifconfig ipsec0 reqid 100
		_rc_n=$((_rc_n + 2))
	done
	wait "${_rc_pp}"
	echo "--- ${VT_NAME} ${_rc_lb} ping (${_rc_n} reqid changes):"
	grep -v '^$' "${_rc_out}" | sort | uniq -c | sort -rn | head -n 8
	for _rc_j in vtA vtB; do
		echo "--- ${VT_NAME} ${_rc_lb} ${_rc_j} nonzero stats (esp, ip, icmp):"
		for _rc_p in esp ip icmp; do
			jexec ${_rc_j} netstat -s -p ${_rc_p} 2>/dev/null |
			    grep -Ev '^[[:space:]]+0 |^[[:space:]]*$|:$|histogram'
		done | head -n 40
	done
	_rc_tx=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "${_rc_out}")
	_rc_rx=$(sed -n 's/.* \([0-9]*\) packets received.*/\1/p' "${_rc_out}")
	_rc_er=$(grep -c 'sendto' "${_rc_out}")
	vt_log "netstat-${_rc_lb}" jexec vtA netstat -I ipsec0 -d -n
	vt_cleanup
	echo "${_rc_tx:-0} ${_rc_rx:-0} ${_rc_er:-0} ${_rc_n}" > "${VT_TMP}/${_rc_lb}.res"
}

vt_rc_report()
{
	# vt_rc_report LABEL "TX RX ERRS SWITCHES" "BASE_TX BASE_RX"
	set -- "$1" $2 $3
	echo "$1: $2 sent, $3 received, $(($2 - $3)) lost, $4 sendto errors, $5 reqid changes (baseline without changes: $(($6 - $7)) of $6 lost)"
}

# 1. The stock C driver, for comparison.
if vt_stock_off; then
	vt_skip stock "stock C if_ipsec unusable on this kernel (--no-stock)"
elif vt_require_stock && vt_rc_run stock && r=$(cat "${VT_TMP}/stock.res"); then
	set -- $r
	if [ "$1" -gt 0 ]; then
		vt_pass stock "$(vt_rc_report "stock C if_ipsec" "$r" "$(cat "${VT_TMP}/stock.base.res")") (comparison)"
	else
		vt_fail stock "stock: no packets sent"
	fi
else
	vt_fail stock "could not set up the stock tunnel"
fi
vt_cleanup

# 2. Ours: zero loss required.
vt_require_ours
if vt_rc_run ours && r=$(cat "${VT_TMP}/ours.res"); then
	set -- $r
	if [ "$1" -gt 0 ] && [ "$1" -eq "$2" ] && [ "$3" -eq 0 ]; then
		vt_pass ours "$(vt_rc_report "ours" "$r" "$(cat "${VT_TMP}/ours.base.res")")"
	else
		vt_fail ours "$(vt_rc_report "ours" "$r" "$(cat "${VT_TMP}/ours.base.res")")"
	fi
else
	vt_fail ours "could not set up our tunnel"
fi
vt_unload_ours
vt_done "reqid 100<->200 switched during ping -i ${VT_RC_INTERVAL} -c ${VT_RC_COUNT}"
