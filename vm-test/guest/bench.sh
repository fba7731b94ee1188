#!/bin/sh
# Scenario "bench" (issue 14): the in-kernel benchmark of `make vm-bench`
# (vm-test/run --bench; not in the default suite).  One boot measures the
# stock C if_ipsec (ipsec.ko alone) and ours, with ipsec-bench issuing the
# ioctls itself (no ifconfig fork/exec in the figures).
#
# Three parts, ordered so that each driver is measured in the same state:
# 1. small (C, then ours, then ours unloaded again): N = 100 (rounds) and
#    N = 1000 interfaces created (SIOCIFCREATE2, SIOCSIFPHYADDR,
#    IPSECSREQID), one reqid and one tunnel change, all destroyed; kernel
#    memory per interface.  Nothing is left behind.
# 2. scale (C, then ours loaded): per driver one pair of vnet jails
#    joined by an epair, ipsec0 between them, for each count of other
#    interfaces (0, 1000, 10000) in the receiver's VNET (C's input lookup
#    walks a reqid hash chain there).  Creating the 10000 is timed
#    (create + configure at N = 10000), then the changes, the memory, and
#    the destroy of a sample (VT_BENCH_SAMPLE; the rest is left to the
#    poweroff): destroying costs the kernel about 80 ms per interface
#    under QEMU TCG with either driver (if_detach_internal's epoch waits),
#    13 minutes per driver for all 10000.
# 3. rates: UDP (64-byte payload) blasted for VT_BENCH_SECS seconds
#    through every pair, ESP null + HMAC-SHA1 (the cheapest transform: the
#    interface's own cost shows) and AES-GCM; the rounds of both drivers
#    interleave, so the emulator's drift falls on both alike.  C's tunnels
#    keep working with ours loaded (ipsec.ko stays loaded for ours too).
# The scale part cannot leave nothing behind, so ours runs it with C's
# 11000 interfaces still present (in other VNETs).  The kernel's own cost
# per create depends on how many interfaces exist anywhere (if_alloc's
# ifindex search is global and linear), so a probe creates `lo`
# interfaces (a cloner that does nothing else) before each part: the
# kernel's share at that moment.
# Each figure is the median of VT_BENCH_ROUNDS rounds (default 3), with
# min and max; lines "BENCH key=value ..." carry every round.
# vmtest-timeout: 1800
. "$(dirname "$0")/lib.sh"
B=${VMTEST_ROOT}/bin/ipsec-bench
ROUNDS=${VT_BENCH_ROUNDS:-5}
ROUNDS_BIG=${VT_BENCH_BIGROUNDS:-2}
CHANGES=${VT_BENCH_CHANGES:-10}
SECS=${VT_BENCH_SECS:-4}
SMALL=${VT_BENCH_SIZES:-100 1000}
EXTRA=${VT_BENCH_EXTRA:-0 1000 10000}
SAMPLE=${VT_BENCH_SAMPLE:-200}
if [ ! -x "$B" ]; then
	vt_skip "" "no bin/ipsec-bench in the payload (make vm-bench)"
	exit 0
fi
RAW=${VT_TMP}/rounds.txt
: > "$RAW"

# bench_snap FILE: every malloc type ("m:", vmstat -m's Memory, bytes in
# 14.x, the third field from the end as type names may hold spaces) and
# UMA zone ("z:", size * used) with the bytes it holds, one per line.
bench_snap()
{
	{ vmstat -m | awk 'NR > 1 { n = $1; for (i = 2; i <= NF - 4; i++) n = n "_" $i
	    print "m:" n, $(NF - 2) }'
	  vmstat -z | awk -F: 'NF > 1 { split($2, a, ","); n = $1; gsub(/^ +| +$/, "", n)
	    gsub(/ /, "_", n); print "z:" n, a[1] * a[3] }'; } > "$1"
}

# snap_mem FILE: kernel memory in use, bytes: every type plus the zones
# other than malloc's own "malloc-N" (the types already count them) and
# the caches of free pages and stacks (vm_pgcache, kstack_cache: "used"
# there means cached for reuse, which grows in steps of its own and made
# the first runs' figures jump by 7 kB per interface).
snap_mem()
{
	awk '$1 !~ /^z:(malloc-|vm_pgcache|kstack_cache)/ { s += $2 }
	    END { printf "%d", s }' "$1"
}

# snap_own FILE: the drivers' own malloc(9) types, bytes: ipsec.ko's
# "ipsec" (C's softc) and ours, "if_ipsec".  Each grows only with its own
# driver's interfaces.
snap_own()
{
	awk '$1 == "m:ipsec" || $1 == "m:if_ipsec" { s += $2 } END { printf "%d", s }' "$1"
}

# bench_delta BEFORE AFTER N: the 12 types and zones that grew most,
# bytes per interface (where a driver's memory goes; malloc(9)'s own
# "malloc-N" zones repeat what the types hold).
bench_delta()
{
	awk -v n="$3" 'NR == FNR { b[$1] = $2; next } { d = ($2 - b[$1]) / n
	    if (d >= 8) printf "%s=%d\n", $1, d }' "$1" "$2" | sort -t= -k2 -rn | head -n 12 |
	    tr '\n' ' '
}

# bench_create DRIVER JAIL N KEY ROUND: ipsec1000.. created in JAIL (the
# ipsec-bench line in $c), with the memory it took per interface in
# $mem and $own, and the largest deltas recorded.
bench_create()
{
	bench_snap "${VT_TMP}/snap0"
	c=$(jexec "$2" "$B" create "$3" 1000) || { vt_fail "$1-$4" "create $3: $c"; return 1; }
	bench_snap "${VT_TMP}/snap1"
	mem=$((($(snap_mem "${VT_TMP}/snap1") - $(snap_mem "${VT_TMP}/snap0")) / $3))
	own=$((($(snap_own "${VT_TMP}/snap1") - $(snap_own "${VT_TMP}/snap0")) / $3))
	echo "BENCH memory driver=$1 $4 round=$5 $(bench_delta "${VT_TMP}/snap0" "${VT_TMP}/snap1" "$3")" |
	    tee -a "$RAW"
}

# bench_ctl_line DRIVER KEY ROUND: record a control-plane round from the
# create ($c, $mem, $own), change ($ch) and destroy ($d) just measured.
bench_ctl_line()
{
	echo "BENCH driver=$1 $2 round=$3 create_s=$(field seconds "$c") $(echo "$c" | cut -d' ' -f5-) destroy_ms=$(ms_per_if "$d") $(echo "$ch" | cut -d' ' -f2-) mem_per_if=$mem own_per_if=$own" |
	    tee -a "$RAW"
}

# ms_per_if LINE: an ipsec-bench line's per-interface time in ms.
ms_per_if()
{
	field per_if_us "$1" | awk '{ printf "%.1f", $1 / 1000 }'
}

# field NAME LINE: the value of NAME= in an ipsec-bench output line.
field()
{
	echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

# median_range: "median (min..max)" of the numbers on stdin, "-" if none.
median_range()
{
	sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) { print "-"; exit }
	    m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
	    printf "%g (%s..%s)", m, v[1], v[NR] }'
}

# bench_stat DRIVER KEY FIELD: "median (min..max)" of FIELD over the rounds
# recorded for DRIVER and KEY.
bench_stat()
{
	grep "^BENCH driver=$1 $2 " "$RAW" | tr ' ' '\n' | sed -n "s/^$3=//p" | median_range
}

# bench_median DRIVER KEY FIELD: the median alone.
bench_median()
{
	bench_stat "$@" | cut -d' ' -f1
}

# bench_paired KEY FIELD: the median over rounds of ours/C within the
# same round (rounds interleave, so each pair ran close together).
bench_paired()
{
	grep -E "^BENCH driver=(c|ours) $1 " "$RAW" | awk -v f="$2" '{
	    d = $2; sub("driver=", "", d); r = ""; v = ""
	    for (i = 3; i <= NF; i++) { if ($i ~ /^round=/) r = substr($i, 7)
	    if (index($i, f "=") == 1) v = substr($i, length(f) + 2) }
	    val[d, r] = v; rounds[r] = 1 }
	    END { for (r in rounds) if (val["c", r] > 0 && val["ours", r] != "")
	    printf "%.2f\n", val["ours", r] / val["c", r] }' | median_range | cut -d' ' -f1
}

# The table: every figure of both drivers with the ratio ours/C (for
# times and memory lower is better, for rates higher), then the probes.
bench_table()
{
	printf '%-16s %-12s %10s %10s %7s %7s\n' case figure C ours ours/C paired
	for key in $(sed -n 's/^BENCH driver=ours \([^ ]*\) .*/\1/p' "$RAW" | sort -u); do
		case $key in
		ctl-*) fields="create_s clone_s tunnel_s reqid_s destroy_ms reqid_us tunnel_us mem_per_if own_per_if" ;;
		*) fields="tx_pps rx_pps" ;;
		esac
		for f in $fields; do
			c=$(bench_median c "$key" "$f"); o=$(bench_median ours "$key" "$f")
			printf '%-16s %-12s %10s %10s %7s %7s\n' "$key" "$f" "$c" "$o" \
			    "$(awk -v c="$c" -v o="$o" 'BEGIN { if (c + 0 > 0) printf "%.2f", o / c; else print "-" }')" \
			    "$(bench_paired "$key" "$f")"
		done
	done
	grep '^BENCH driver=kernel ' "$RAW" | cut -d' ' -f3-
	grep '^BENCH memory ' "$RAW" | cut -d' ' -f3-
}

# bench_jail NAME: a persistent vnet jail that is never removed (removing
# it would destroy its interfaces, 80 ms each).
bench_jail()
{
	jail -c name="$1" vnet persist host.hostname="$1" >/dev/null &&
	    jexec "$1" ifconfig lo0 127.0.0.1/8 up
}

# bench_probe WHEN: the kernel's own create and destroy cost now: `lo`
# interfaces (if_clone + if_attach, nothing else) in a fresh VNET.
bench_probe()
{
	bench_jail "bp-$1" || { vt_fail "probe-$1" "jail"; return 1; }
	c=$(jexec "bp-$1" "$B" clone lo 200 1000) &&
	    d=$(jexec "bp-$1" "$B" unclone lo 20 1180) ||
	    { vt_fail "probe-$1" "lo: $c $d"; return 1; }
	echo "BENCH driver=kernel probe-$1 lo_create_us=$(field per_if_us "$c") lo_destroy_ms=$(ms_per_if "$d")" |
	    tee -a "$RAW"
	vt_pass "probe-$1" "kernel alone (lo): create $(field per_if_us "$c") us, destroy $(field per_if_us "$d") us per interface"
}

# bench_ctl DRIVER N ROUND: one round of the small part: N interfaces
# created, changed and destroyed again in the jail b<DRIVER>-ctl.
bench_ctl()
{
	j=b$1-ctl
	jls -j "$j" >/dev/null 2>&1 || bench_jail "$j" || { vt_fail "$1-ctl" "jail"; return 1; }
	# Warm-up, not measured: QEMU translates guest code the first time it
	# runs, and ours is loaded afresh (at new addresses) for every round.
	jexec "$j" "$B" create 4 900 >/dev/null && jexec "$j" "$B" change 900 2 >/dev/null &&
	    jexec "$j" "$B" destroy 4 900 >/dev/null || { vt_fail "$1-ctl" "warm-up"; return 1; }
	bench_create "$1" "$j" "$2" "ctl-$2" "$3" || return 1
	ch=$(jexec "$j" "$B" change 1000 "${CHANGES}") || { vt_fail "$1-ctl" "change: $ch"; return 1; }
	d=$(jexec "$j" "$B" destroy "$2" 1000) || { vt_fail "$1-ctl" "destroy $2: $d"; return 1; }
	bench_ctl_line "$1" "ctl-$2" "$3"
}

# bench_small: the small part, rounds of C and ours interleaved (ours is
# loaded for its half of each round and unloaded again, which is cheap
# with no interface left).  Destroying costs 80 ms per interface, so
# N >= 1000 gets VT_BENCH_BIGROUNDS rounds.
bench_small()
{
	for n in ${SMALL}; do
		rounds=${ROUNDS}
		[ "$n" -ge 1000 ] && rounds=${ROUNDS_BIG}
		r=1
		while [ "$r" -le "${rounds}" ]; do
			[ -n "${VMTEST_NO_STOCK}" ] || bench_ctl c "$n" "$r" || return 1
			vt_load_ours || { vt_fail load "kldload ours"; return 1; }
			# Let the load's own work (the PF_KEY resync) finish first:
			# C's module has been loaded all along.
			sleep 1
			bench_ctl ours "$n" "$r" || return 1
			vt_unload_ours || { vt_fail load "kldunload ours"; return 1; }
			r=$((r + 1))
		done
		[ -n "${VMTEST_NO_STOCK}" ] || bench_pass_ctl c "$n"
		bench_pass_ctl ours "$n"
	done
}

bench_pass_ctl()
{
	vt_pass "$1-ctl-$2" "create+tunnel+reqid $(bench_stat "$1" "ctl-$2" create_s) s, destroy $(bench_stat "$1" "ctl-$2" destroy_ms) ms/interface, reqid change $(bench_stat "$1" "ctl-$2" reqid_us) us, tunnel change $(bench_stat "$1" "ctl-$2" tunnel_us) us, memory $(bench_stat "$1" "ctl-$2" mem_per_if) B/interface"
}

# bench_pair NAME: jails NAMEa and NAMEb joined by an epair, ipsec0
# between them (reqid 100), inner 10.0.0.1/30 <-> 10.0.0.2.
bench_pair()
{
	_e=$(ifconfig epair create) || return 1
	_e=${_e%a}
	bench_jail "$1a" && bench_jail "$1b" || return 1
	ifconfig "${_e}a" vnet "$1a" && ifconfig "${_e}b" vnet "$1b" || return 1
	jexec "$1a" ifconfig "${_e}a" inet 198.51.100.1/24 up &&
	    jexec "$1b" ifconfig "${_e}b" inet 198.51.100.2/24 up || return 1
	jexec "$1a" ifconfig ipsec0 create inet tunnel 198.51.100.1 198.51.100.2 reqid 100 >/dev/null &&
	    jexec "$1b" ifconfig ipsec0 create inet tunnel 198.51.100.2 198.51.100.1 reqid 100 >/dev/null &&
	    jexec "$1a" ifconfig ipsec0 inet 10.0.0.1/30 10.0.0.2 &&
	    jexec "$1b" ifconfig ipsec0 inet 10.0.0.2/30 10.0.0.1
}

# bench_scale DRIVER: one pair per EXTRA, with EXTRA other interfaces
# (ipsec1000..) in the receiver's VNET, where C's input lookup walks them.
# Creating the largest set is the figure "ctl-<EXTRA>": create+configure
# with that many present, then a reqid and a tunnel change, the memory,
# and the destroy of a sample.  Pairs stay for bench_rates.
bench_scale()
{
	for extra in ${EXTRA}; do
		p=b$1$extra
		bench_pair "$p" || { vt_fail "$1-scale" "jails/tunnel $p"; return 1; }
		PAIRS="${PAIRS} $1:$extra"
		[ "$extra" -gt 0 ] || continue
		bench_create "$1" "${p}b" "$extra" "ctl-$extra" scale || return 1
		n=$extra
	done
	[ "${n:-0}" -gt 1000 ] || return 0
	ch=$(jexec "${p}b" "$B" change 1000 "${CHANGES}") || { vt_fail "$1-ctl" "change: $ch"; return 1; }
	d=$(jexec "${p}b" "$B" destroy "${SAMPLE}" $((1000 + n - SAMPLE))) ||
	    { vt_fail "$1-ctl" "destroy: $d"; return 1; }
	bench_ctl_line "$1" "ctl-$n" 1
	bench_pass_ctl "$1" "$n"
}

# bench_sas PAIR TRANSFORM: the tunnel's SAs (vt_sas) with TRANSFORM, null
# (ESP null + HMAC-SHA1, the cheapest) or gcm (vt_sas's own AES-GCM).
bench_sas()
{
	VT_SA_AB=; VT_SA_BA=
	if [ "$2" = null ]; then
		VT_SA_AB="-E null \"\" -A hmac-sha1 0x$(printf '%040d' 1)"
		VT_SA_BA="-E null \"\" -A hmac-sha1 0x$(printf '%040d' 2)"
	fi
	VT_JAILS="$1a $1b" vt_sas 198.51.100.1 198.51.100.2 100
}

# bench_blast DRIVER EXTRA TRANSFORM ROUND: one round through pair
# b<DRIVER><EXTRA>.
bench_blast()
{
	p=b$1$2
	jexec "${p}b" "$B" sink 9 "${SECS}" > "${VT_TMP}/sink.txt" 2>&1 &
	sp=$!
	sleep 1
	s=$(jexec "${p}a" "$B" blast 10.0.0.2:9 "${SECS}" 64)
	wait "$sp"
	echo "BENCH driver=$1 pkt-$3-$2 round=$4 tx_pps=$(field pps "$s") rx_pps=$(sed -n 's/.*pps=\([0-9]*\).*/\1/p' "${VT_TMP}/sink.txt") $(echo "$s" | cut -d' ' -f2-3) $(cut -d' ' -f2 "${VT_TMP}/sink.txt")" |
	    tee -a "$RAW"
}

# bench_rates: packet rates of every pair, rounds interleaved: C's pair
# and ours with the same number of other interfaces run back to back,
# forward on odd rounds and backward on even ones, so the emulator's
# drift falls on both drivers alike.
bench_rates()
{
	fwd=; back=
	for extra in ${EXTRA}; do
		for d in c ours; do
			case " ${PAIRS} " in
			*" $d:$extra "*) fwd="$fwd $d:$extra"; back="$d:$extra $back" ;;
			esac
		done
	done
	for tf in null gcm; do
		for pe in $fwd; do
			bench_sas "b${pe%%:*}${pe##*:}" "$tf" ||
			    { vt_fail "pkt-$tf" "SAs $pe: $(tr '\n' '|' < "${VT_TMP}/setkey.txt")"; return 1; }
		done
		r=1
		while [ "$r" -le "${ROUNDS}" ]; do
			order=$fwd
			[ $((r % 2)) -eq 0 ] && order=$back
			for pe in $order; do
				bench_blast "${pe%%:*}" "${pe##*:}" "$tf" "$r"
			done
			r=$((r + 1))
		done
		for pe in $fwd; do
			d=${pe%%:*}; k=pkt-$tf-${pe##*:}
			if awk -v v="$(bench_median "$d" "$k" rx_pps)" 'BEGIN { exit !(v + 0 > 0) }'; then
				vt_pass "$d-$k" "sender $(bench_stat "$d" "$k" tx_pps) pps, receiver $(bench_stat "$d" "$k" rx_pps) pps (${pe##*:} other interfaces)"
			else
				vt_fail "$d-$k" "nothing crossed the tunnel"
			fi
		done
	done
}

vt_record_stock_cloners
vt_unload_ours
vt_load_ipsec
vt_log kernel uname -a
vt_log types sh -c 'vmstat -m | head -n 1; vmstat -m | grep -i ipsec'
bench_probe start
PAIRS=
vt_load_ours || vt_fail load "kldload ours"
vt_ours_active || vt_fail load "our cloner is not the one answering"
vt_unload_ours
bench_small
if [ -z "${VMTEST_NO_STOCK}" ]; then
	bench_probe c-scale
	bench_scale c
fi
vt_load_ours || vt_fail load "kldload ours"
vt_ours_active || vt_fail load "our cloner is not the one answering"
bench_probe ours-scale
bench_scale ours
bench_rates
vt_log types sh -c 'vmstat -m | grep -i ipsec'
vt_log rounds cat "$RAW"
vt_log table bench_table
vt_done "in-kernel benchmark, C and ours, one boot"
