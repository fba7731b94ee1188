#!/bin/sh
# Scenario "link-state" (issue 11): in the host's VNET, ipsec0's link state
# follows its SAs.  No SAs: "status: no carrier"; both directions (ESP,
# tunnel mode, reqid 100): "status: active"; an SA deleted, expired by a
# 5-second hard lifetime (the soft one at 3 s leaves it up), or flushed:
# no carrier again.  The routing
# socket carries each change (route -n monitor; ipsec-bench linkwait reads
# RTM_IFINFO itself and times SA deletion -> RTM_IFINFO, 10 rounds).
# While down, output still reaches the key layer: a ping makes it send
# SADB_ACQUIRE (seen by setkey -x).  `link0` gives C's behaviour back
# (no status line).
# vmtest-timeout: 300
. "$(dirname "$0")/lib.sh"
vt_require_ours
A=192.0.2.1; B=198.51.100.7; R=100
BIN=${VMTEST_ROOT}/bin/ipsec-bench
OUT="add $A $B esp 0x1001 -m tunnel -u $R -E aes-gcm-16 ${VT_KEY_AB};"
IN="add $B $A esp 0x1002 -m tunnel -u $R -E aes-gcm-16 ${VT_KEY_BA};"

sa() { printf '%s\n' "$@" | setkey -c >> "${VT_TMP}/setkey.txt" 2>&1; }
status() { ifconfig ipsec0 | sed -n 's/^[[:space:]]*status: //p'; }

# wait_status WANT [TENTHS]: poll until ipsec0 shows it; prints the wait.
wait_status()
{
	_n=0
	while [ "$(status)" != "$1" ] && [ $_n -lt "${2:-30}" ]; do
		sleep 0.1; _n=$((_n + 1))
	done
	echo "$_n"
	[ "$(status)" = "$1" ]
}

# step CHECK WANT DETAIL: the status after the previous action.
step()
{
	if _w=$(wait_status "$2"); then
		vt_pass "$1" "$3: status: $2 (after ${_w}/10 s)"
	else
		vt_fail "$1" "$3: status: '$(status)', wanted '$2'"
	fi
}

setkey -F
ifconfig lo0 alias $A/32
ifconfig ipsec0 create tunnel $A $B reqid $R >/dev/null ||
    vt_fail create "ifconfig ipsec0 create tunnel ... reqid $R failed"
echo "iface ipsec0" >> "${VT_STATE}"
ifconfig ipsec0 inet 10.0.0.1/30 10.0.0.2
mon=${VT_TMP}/monitor.txt
: > "$mon"
# route's stdout to a file is block-buffered and lost when it is killed:
# give it a terminal (script) or line buffering (stdbuf).
if vt_has script; then
	script -q "$mon" route -n monitor > /dev/null 2>&1 < /dev/null &
	echo "pid $!" >> "${VT_STATE}.pids"
elif vt_has stdbuf; then
	stdbuf -o L route -n monitor > "$mon" 2>&1 &
	echo "pid $!" >> "${VT_STATE}.pids"
fi
sleep 0.5

step no-sa "no carrier" "no SAs"
vt_log ifconfig ifconfig ipsec0
sa "$OUT"; sleep 0.3
step one-way "no carrier" "outbound SA only"
sa "$IN"
step both "active" "SAs both ways"
sa "delete $B $A esp 0x1002;"
step deleted "no carrier" "inbound SA deleted"
sa "$IN"
step readded "active" "inbound SA added again"
sa "delete $B $A esp 0x1002;"
step deleted-again "no carrier" "inbound SA deleted"
sa "add $B $A esp 0x1003 -m tunnel -u $R -ls 3 -lh 5 -E aes-gcm-16 ${VT_KEY_BA};"
step short-life "active" "inbound SA with lifetimes soft 3 s, hard 5 s (key_add wants both)"
# The kernel's key timer expires it (key.c key_flush_sad, once a second);
# the link must follow the SAD: down once the SA is gone from it.
if _w=$(wait_status "no carrier" 150); then
	vt_pass expired "hard lifetime expired: status: no carrier (after ${_w}/10 s)"
elif setkey -D | grep -q '(0x00001003)'; then
	vt_pass expired "SA 0x1003 still in the SAD after 15 s (key timer late): status: $(status), as the SAD says"
	vt_log sad setkey -D
else
	vt_fail expired "SA 0x1003 gone from the SAD, status still '$(status)'"
	vt_log sad setkey -D
fi
sa "$IN"
step before-flush "active" "SAs again"
setkey -F
step flushed "no carrier" "setkey -F"

# Down, output still asks the key layer for SAs (IKE trap policies).
if vt_has setkey; then
	acq=${VT_TMP}/acquire.txt
	setkey -x > "$acq" 2>&1 &
	xp=$!
	sleep 0.5
	ping -c 2 -t 3 10.0.0.2 >/dev/null 2>&1
	sleep 0.5
	kill $xp 2>/dev/null; wait $xp 2>/dev/null
	if grep -Eq 'type=6|ACQUIRE' "$acq"; then
		vt_pass acquire "ping while down: the kernel sent SADB_ACQUIRE"
	else
		vt_fail acquire "no SADB_ACQUIRE seen by setkey -x"
		vt_log acquire head -n 20 "$acq"
	fi
fi

# SA deletion -> RTM_IFINFO, 10 rounds (ipsec-bench in the payload).
if [ -x "$BIN" ]; then
	printf '%s\n' "delete $B $A esp 0x1002;" > "${VT_TMP}/del.conf"
	: > "${VT_TMP}/lat.txt"
	for _i in 1 2 3 4 5 6 7 8 9 10; do
		sa "$IN" "$OUT"
		wait_status active >/dev/null
		"$BIN" linkwait ipsec0 down setkey -f "${VT_TMP}/del.conf" \
		    >> "${VT_TMP}/lat.txt" 2>&1
		setkey -F
		wait_status "no carrier" >/dev/null
	done
	n=$(grep -c '^linkwait_us=' "${VT_TMP}/lat.txt")
	med=$(sed -n 's/^linkwait_us=\([0-9]*\) .*/\1/p' "${VT_TMP}/lat.txt" | sort -n |
	    awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]}')
	cmd=$(sed -n 's/.* cmd_us=\([0-9]*\) .*/\1/p' "${VT_TMP}/lat.txt" | sort -n |
	    awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]}')
	if [ "$n" -eq 10 ]; then
		vt_pass latency "SA delete -> RTM_IFINFO link down: median ${med} us over 10 (setkey itself: median ${cmd} us)"
	else
		vt_fail latency "$n of 10 rounds saw RTM_IFINFO"
		vt_log latency cat "${VT_TMP}/lat.txt"
	fi
else
	vt_skip latency "no bin/ipsec-bench in the payload"
fi

# Opt-out: link0 = C's behaviour (no media, link state unknown).
sa "$IN" "$OUT"
step opt-in "active" "SAs both ways"
ifconfig ipsec0 link0
if ifconfig ipsec0 | grep -q 'status:'; then
	vt_fail link0 "link0 still shows a status line"
else
	vt_pass link0 "link0: no media/status lines, as the C driver"
fi
ifconfig ipsec0 -link0
step unlink0 "active" "-link0"

vt_capture_stop
if ! vt_has script && ! vt_has stdbuf; then
	vt_skip monitor "no script or stdbuf for an unbuffered route -n monitor (linkwait read RTM_IFINFO)"
elif grep -Eiq 'ifinfo|link' "$mon"; then
	vt_pass monitor "route -n monitor saw ipsec0's link changes ($(grep -Eci 'ifinfo|link' "$mon") lines)"
else
	vt_fail monitor "route -n monitor saw no link change of ipsec0"
fi
vt_log monitor head -n 12 "$mon"
vt_log setkey cat "${VT_TMP}/setkey.txt"
ifconfig ipsec0 destroy
setkey -F
ifconfig lo0 -alias $A
vt_done "link state follows the SAs"
vt_unload_ours
