#!/bin/sh
# Scenario "bench" (issue 14): the in-kernel benchmark of `make vm-bench`
# (vm-test/run --bench; not in the default suite).  One boot measures the
# stock C if_ipsec (ipsec.ko alone), then loads ours and measures the same:
# - control plane: ipsec-bench creates N interfaces (SIOCIFCREATE2,
#   SIOCSIFPHYADDR, IPSECSREQID) and destroys them, N = 100 and 1000, in
#   one process; one reqid and one tunnel change with N present;
# - memory: kernel memory in use (vmstat -m MemUse + vmstat -z size*used)
#   before and after creating N, per interface;
# - packet path: UDP (64-byte payload) blasted for VT_BENCH_SECS seconds
#   through ipsec0 between two vnet jails over an epair, ESP null+HMAC-SHA1
#   (the cheapest transform: the interface's own cost shows) and AES-GCM,
#   with 0 and 1000 other interfaces in the sender's VNET; sender and
#   receiver rates.
# Sizes are bounded by the kernel's if_detach, about 80 ms per interface
# under QEMU TCG with either driver: 10000 interfaces would take 13 minutes
# per driver to destroy (VT_BENCH_SIZES / VT_BENCH_EXTRA raise them).
# Each figure is the median of VT_BENCH_ROUNDS rounds (default 3), with
# min and max; lines "BENCH key=value ..." carry every round.
# vmtest-timeout: 1800
. "$(dirname "$0")/lib.sh"
B=${VMTEST_ROOT}/bin/ipsec-bench
ROUNDS=${VT_BENCH_ROUNDS:-3}
SECS=${VT_BENCH_SECS:-5}
SIZES=${VT_BENCH_SIZES:-100 1000}
EXTRA=${VT_BENCH_EXTRA:-0 1000}
if [ ! -x "$B" ]; then
	vt_skip "" "no bin/ipsec-bench in the payload (make vm-bench)"
	exit 0
fi
RAW=${VT_TMP}/rounds.txt
: > "$RAW"

# Kernel memory in use, bytes: malloc(9) types (MemUse, the rightmost
# field ending in K) plus UMA zones (size * used).
bench_mem()
{
	_m=$(vmstat -m | awk '{ for (i = NF; i > 1; i--) if ($i ~ /^[0-9]+K$/) {
	    sub("K", "", $i); s += $i; break } } END { printf "%d", s }')
	_z=$(vmstat -z | awk -F: 'NF > 1 { split($2, a, ","); s += a[1] * a[3] }
	    END { printf "%d", s }')
	echo $((_m * 1024 + _z))
}

# bench_stat DRIVER KEY FIELD: "median (min..max)" of FIELD over the rounds
# recorded for DRIVER and KEY.
bench_stat()
{
	grep "^BENCH driver=$1 $2 " "$RAW" | tr ' ' '\n' | sed -n "s/^$3=//p" |
	    sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) { print "-"; exit }
	    printf "%s (%s..%s)", v[int((NR + 1) / 2)], v[1], v[NR] }'
}

# bench_median DRIVER KEY FIELD: the median alone.
bench_median()
{
	bench_stat "$@" | cut -d' ' -f1
}

# The table: every figure of both drivers with the ratio ours/C (for
# times and memory lower is better, for rates higher).
bench_table()
{
	printf '%-22s %-12s %12s %12s %8s\n' case figure C ours ours/C
	for key in $(sed -n 's/^BENCH driver=ours \([^ ]*\) .*/\1/p' "$RAW" | sort -u); do
		case $key in
		ctl-*) fields="create_s clone_s tunnel_s reqid_s destroy_s reqid_us tunnel_us mem_per_if" ;;
		*) fields="tx_pps rx_pps" ;;
		esac
		for f in $fields; do
			c=$(bench_median c "$key" "$f"); o=$(bench_median ours "$key" "$f")
			printf '%-22s %-12s %12s %12s %8s\n' "$key" "$f" "$c" "$o" \
			    "$(awk -v c="$c" -v o="$o" 'BEGIN { if (c + 0 > 0) printf "%.2f", o / c; else print "-" }')"
		done
	done
}

bench_ctl()
{
	for n in ${SIZES}; do
		# Destroying costs the kernel about 80 ms per interface under TCG
		# (if_detach, either driver): one round from 1000 interfaces up.
		rounds=${ROUNDS}
		[ "$n" -ge 1000 ] && rounds=1
		r=1
		while [ "$r" -le "${rounds}" ]; do
			m0=$(bench_mem)
			c=$($B create "$n" 1000) || { vt_fail "$1-ctl" "create $n: $c"; return 1; }
			m1=$(bench_mem)
			ch=$($B change 1000) || { vt_fail "$1-ctl" "change: $ch"; return 1; }
			d=$($B destroy "$n" 1000) || { vt_fail "$1-ctl" "destroy $n: $d"; return 1; }
			echo "BENCH driver=$1 ctl-$n round=$r create_s=$(echo "$c" | sed -n 's/.*seconds=\([^ ]*\).*/\1/p') $(echo "$c" | cut -d' ' -f5-) destroy_s=$(echo "$d" | sed -n 's/.*seconds=\([^ ]*\).*/\1/p') $(echo "$ch" | cut -d' ' -f2-) mem_per_if=$(((m1 - m0) / n))" |
			    tee -a "$RAW"
			r=$((r + 1))
		done
		vt_pass "$1-ctl-$n" "create+tunnel+reqid $(bench_stat "$1" "ctl-$n" create_s) s, destroy $(bench_stat "$1" "ctl-$n" destroy_s) s, reqid change $(bench_stat "$1" "ctl-$n" reqid_us) us, tunnel change $(bench_stat "$1" "ctl-$n" tunnel_us) us, memory $(bench_stat "$1" "ctl-$n" mem_per_if) B/interface"
	done
}

# bench_sas TRANSFORM: the tunnel's SAs (vt_sas) with TRANSFORM, null
# (ESP null + HMAC-SHA1, the cheapest) or gcm (vt_sas's own AES-GCM).
bench_sas()
{
	VT_SA_AB=; VT_SA_BA=
	if [ "$1" = null ]; then
		VT_SA_AB="-E null \"\" -A hmac-sha1 0x$(printf '%040d' 1)"
		VT_SA_BA="-E null \"\" -A hmac-sha1 0x$(printf '%040d' 2)"
	fi
	vt_sas 198.51.100.1 198.51.100.2 100
}

# bench_pkt DRIVER: packet rates per transform and number of other interfaces.
bench_pkt()
{
	for extra in ${EXTRA}; do
		vt_two_jails && vt_tunnel_setup 4 100 ||
		    { vt_fail "$1-pkt" "jails/tunnel"; vt_cleanup; return 1; }
		if [ "$extra" -gt 0 ] && ! o=$(jexec vtA "$B" create "$extra" 2000); then
			vt_fail "$1-pkt" "$extra other interfaces: $o"; vt_cleanup; return 1
		fi
		for tf in null gcm; do
			bench_sas "$tf" || { vt_fail "$1-pkt" "SAs $tf: $(tr '\n' '|' < "${VT_TMP}/setkey.txt")"; break; }
			r=1
			while [ "$r" -le "${ROUNDS}" ]; do
				jexec vtB "$B" sink 9 "${SECS}" > "${VT_TMP}/sink.txt" 2>&1 &
				sp=$!
				sleep 1
				s=$(jexec vtA "$B" blast 10.0.0.2:9 "${SECS}" 64)
				wait "$sp"
				echo "BENCH driver=$1 pkt-$tf-$extra round=$r tx_pps=$(echo "$s" | sed -n 's/.*pps=\([0-9]*\).*/\1/p') rx_pps=$(sed -n 's/.*pps=\([0-9]*\).*/\1/p' "${VT_TMP}/sink.txt") $(echo "$s" | cut -d' ' -f2-3) $(cut -d' ' -f2 "${VT_TMP}/sink.txt")" |
				    tee -a "$RAW"
				r=$((r + 1))
			done
			vt_pass "$1-pkt-$tf-$extra" "sender $(bench_stat "$1" "pkt-$tf-$extra" tx_pps) pps, receiver $(bench_stat "$1" "pkt-$tf-$extra" rx_pps) pps ($extra other interfaces)"
		done
		vt_cleanup
	done
}

vt_record_stock_cloners
vt_unload_ours
vt_load_ipsec
vt_log kernel uname -a
if [ -z "${VMTEST_NO_STOCK}" ]; then
	bench_ctl c && bench_pkt c
fi
vt_load_ours || vt_fail load "kldload ours"
vt_ours_active || vt_fail load "our cloner is not the one answering"
bench_ctl ours && bench_pkt ours
vt_log rounds cat "$RAW"
vt_log table bench_table
vt_done "in-kernel benchmark, C then ours, one boot"
