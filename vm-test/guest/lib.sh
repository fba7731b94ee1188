# Common helpers for the vm-test guest scenarios (FreeBSD sh).
#
# Every scenario sources this file, then reports with vt_pass/vt_fail/vt_skip.
# One scenario may report several checks: "VMTEST <scenario>/<check> ...".
# The runner (vm-test/run) collects the lines from the serial console.

: "${VMTEST_ROOT:=/tmp/vmtest}"
: "${VMTEST_KO:=}"
VT_NAME=${VT_NAME:-$(basename "$0" .sh)}
VT_TMP=${VMTEST_ROOT}/tmp/${VT_NAME}
VT_STATE=${VT_TMP}/created
mkdir -p "${VT_TMP}"
: > "${VT_STATE}"
VT_FAILS=0

# Results ---------------------------------------------------------------

vt_result()
{
	# vt_result STATUS CHECK DETAIL...
	# (own variable names: sh has no locals and callers use _ck)
	_vr_st=$1; _vr_ck=$2; shift 2
	if [ -n "${_vr_ck}" ]; then
		echo "VMTEST ${VT_NAME}/${_vr_ck} ${_vr_st} $*"
	else
		echo "VMTEST ${VT_NAME} ${_vr_st} $*"
	fi
	[ "${_vr_st}" = FAIL ] && VT_FAILS=$((VT_FAILS + 1))
	return 0
}
vt_pass() { vt_result PASS "$@"; }
vt_fail() { vt_result FAIL "$@"; }
vt_skip() { vt_result SKIP "$@"; }

# vt_check CHECK DETAIL -- command...: PASS if the command exits 0.
vt_check()
{
	_vc_ck=$1; _vc_dt=$2; shift 3
	if _vc_out=$("$@" 2>&1); then
		vt_pass "${_vc_ck}" "${_vc_dt}"
	else
		vt_fail "${_vc_ck}" "${_vc_dt}: rc=$? $(echo "${_vc_out}" | tail -n 3 | tr '\n' '|')"
	fi
}

# vt_log LABEL command...: run and show the command's output on the console
# between markers, for the record (the runner keeps the console log).
vt_log()
{
	_lb=$1; shift
	echo "--- ${VT_NAME} ${_lb}: $*"
	"$@" 2>&1
	_rc=$?
	echo "--- ${VT_NAME} ${_lb}: rc=${_rc}"
	return ${_rc}
}

# vt_done: final line; the scenario's own verdict.
vt_done()
{
	vt_cleanup
	if [ "${VT_FAILS}" -gt 0 ]; then
		echo "VMTEST ${VT_NAME} FAIL ${VT_FAILS} check(s) failed"
	else
		echo "VMTEST ${VT_NAME} PASS $*"
	fi
}

# Modules ---------------------------------------------------------------

vt_load_ipsec()
{
	kldstat -q -m ipsec || kldload ipsec
}

# Our module is loaded under the module name if_ipsec (kmod/src/module.rs).
vt_ours_loaded()
{
	kldstat -q -m if_ipsec
}

vt_load_ours()
{
	[ -n "${VMTEST_KO}" ] && [ -f "${VMTEST_KO}" ] || return 1
	vt_load_ipsec || return 1
	vt_ours_loaded || kldload "${VMTEST_KO}"
}

vt_unload_ours()
{
	if vt_ours_loaded; then
		kldunload if_ipsec
	fi
}

# THE detection used by every scenario that needs our interfaces: does
# `ifconfig ipsec create` (with our module loaded) produce an interface that
# our module drives? Our module joins each interface to a group named after
# its own cloner (sys/net/if_clone.c ifc_link_ifp), the stock one only to
# "ipsec". Change this one function if the module's way of telling changes.
vt_ours_active()
{
	vt_load_ours || return 1
	_new=""
	# Cloners present now that ipsec.ko alone would not have: ours.
	for _c in $(ifconfig -C); do
		case " ${VT_STOCK_CLONERS} " in
		*" ${_c} "*) ;;
		*) _new="${_new} ${_c}" ;;
		esac
	done
	[ -n "${_new}" ] || return 1
	_if=$(ifconfig ipsec create 2>/dev/null) || return 1
	_groups=$(ifconfig "${_if}" | sed -n 's/^[[:space:]]*groups: //p')
	ifconfig "${_if}" destroy
	for _c in ${_new}; do
		case " ${_groups} " in
		*" ${_c} "*) return 0 ;;
		esac
	done
	return 1
}

# Cloners of the stock kernel + ipsec.ko, recorded before our module loads.
vt_record_stock_cloners()
{
	if vt_ours_loaded; then
		VT_STOCK_CLONERS=${VT_STOCK_CLONERS:-}
		[ -f "${VMTEST_ROOT}/tmp/stock-cloners" ] &&
		    VT_STOCK_CLONERS=$(cat "${VMTEST_ROOT}/tmp/stock-cloners")
		return 0
	fi
	vt_load_ipsec
	VT_STOCK_CLONERS=$(ifconfig -C)
	echo "${VT_STOCK_CLONERS}" > "${VMTEST_ROOT}/tmp/stock-cloners"
}

# For scenarios that need our interfaces: SKIP (and exit) until the module
# provides them.
vt_require_ours()
{
	if [ -z "${VMTEST_KO}" ] || [ ! -f "${VMTEST_KO}" ]; then
		vt_skip "" "no module given to the runner (--ko)"
		exit 0
	fi
	vt_record_stock_cloners
	# The module exists: one that does not load, or loads without
	# providing interfaces, fails every scenario that needs it.
	if ! vt_ours_loaded && ! _lo=$(kldload "${VMTEST_KO}" 2>&1); then
		vt_fail "" "kldload ${VMTEST_KO}: ${_lo} ($(dmesg | tail -n 1))"
		exit 0
	fi
	if ! vt_ours_active; then
		vt_fail "" "module loaded but it provides no ipsec interfaces"
		vt_unload_ours >/dev/null 2>&1
		exit 0
	fi
}

# The stock C if_ipsec is unusable on this boot (runner --no-stock): on the
# shared image's kernel.debug even a lone ipsec.ko shows no tunnel address
# and panics in ipsec_set_reqid ("saidx is NULL, but family is 192"), our
# module never loaded (vm-test/README.md).  Stock parts report SKIP.
vt_stock_off()
{
	[ -n "${VMTEST_NO_STOCK}" ]
}

# For scenarios about the stock C if_ipsec: make sure ours is not loaded.
vt_require_stock()
{
	if vt_stock_off; then
		vt_skip "" "stock C if_ipsec unusable on this kernel (--no-stock)"
		exit 0
	fi
	vt_unload_ours >/dev/null 2>&1
	if vt_ours_loaded; then
		vt_fail "" "cannot unload our module to test the stock if_ipsec"
		exit 0
	fi
	vt_load_ipsec || { vt_fail "" "kldload ipsec failed"; exit 0; }
}

# Topology (in the style of tests/sys/common/vnet.subr) ------------------

vt_vnet_init()
{
	kldstat -q -m if_epair || kldload if_epair || return 1
	sysctl -n kern.features.vimage >/dev/null 2>&1
}

# vt_mkepair: create an epair, print its name without the a/b suffix.
vt_mkepair()
{
	_ep=$(ifconfig epair create) || return 1
	echo "epair ${_ep%a}" >> "${VT_STATE}"
	ifconfig "${_ep}" up
	echo "${_ep%a}"
}

# vt_mkjail NAME IFACE...: a persistent vnet jail owning the interfaces.
vt_mkjail()
{
	_jn=$1; shift
	jail -c name="${_jn}" vnet persist host.hostname="${_jn}" || return 1
	echo "jail ${_jn}" >> "${VT_STATE}"
	jexec "${_jn}" ifconfig lo0 127.0.0.1/8 up
	for _i in "$@"; do
		ifconfig "${_i}" vnet "${_jn}" || return 1
	done
}

# vt_drop_inet6 JAIL: remove every IPv6 address in the jail (IPv6 off on
# each interface first, so no link-local comes back), then wait a second.
# Works around a FreeBSD 14.2 race that panics in nd6_timer when an
# interface with IPv6 addresses is detached (if.c if_detach_internal
# clears if_afdata[AF_INET6] after purging the addresses without waiting
# for the net epoch that nd6_timer walks them in): see vm-test/README.md,
# "Known FreeBSD 14.2-BETA1 issue". VT_RAW_TEARDOWN=1 skips it.
vt_drop_inet6()
{
	for _di in $(jexec "$1" ifconfig -l 2>/dev/null); do
		jexec "$1" ifconfig "${_di}" inet6 ifdisabled 2>/dev/null
		for _da in $(jexec "$1" ifconfig "${_di}" inet6 2>/dev/null |
		    awk '$1 == "inet6" {print $2}'); do
			jexec "$1" ifconfig "${_di}" inet6 "${_da}" -alias 2>/dev/null
		done
	done
}

vt_cleanup()
{
	[ -f "${VT_STATE}" ] || return 0
	if [ -z "${VT_RAW_TEARDOWN}" ] && grep -q '^jail ' "${VT_STATE}"; then
		while read -r _kind _name; do
			[ "${_kind}" = jail ] && vt_drop_inet6 "${_name}"
		done < "${VT_STATE}"
		sleep 1
	fi
	while read -r _kind _name; do
		case ${_kind} in
		jail) jail -r "${_name}" >/dev/null 2>&1 ;;
		esac
	done < "${VT_STATE}"
	while read -r _kind _name; do
		case ${_kind} in
		epair) ifconfig "${_name}a" destroy >/dev/null 2>&1 ;;
		iface) ifconfig "${_name}" destroy >/dev/null 2>&1 ;;
		esac
	done < "${VT_STATE}"
	: > "${VT_STATE}"
}

# Two vnet jails A and B joined by one epair, outer addresses set:
#   A: epairNa 198.51.100.1/24 2001:db8:ffff::1/64
#   B: epairNb 198.51.100.2/24 2001:db8:ffff::2/64
vt_two_jails()
{
	vt_vnet_init || return 1
	_e=$(vt_mkepair) || return 1
	vt_mkjail vtA "${_e}a" || return 1
	vt_mkjail vtB "${_e}b" || return 1
	jexec vtA ifconfig "${_e}a" inet 198.51.100.1/24 up
	jexec vtB ifconfig "${_e}b" inet 198.51.100.2/24 up
	jexec vtA ifconfig "${_e}a" inet6 2001:db8:ffff::1/64 no_dad
	jexec vtB ifconfig "${_e}b" inet6 2001:db8:ffff::2/64 no_dad
	VT_EPAIR=${_e}
}

# Manual ESP tunnel-mode SAs bound to a reqid (as if_ipsec(4) expects),
# loaded in both jails. vt_sas OUTER_A OUTER_B REQID
# The transform is AES-GCM unless VT_SA_AB / VT_SA_BA hold other setkey
# algorithm options (the benchmark's null + HMAC); setkey's complaints go
# to ${VT_TMP}/setkey.txt.  VT_JAILS names the two jails (default vtA vtB).
VT_KEY_AB=0x3ffe050148193ffe050148193ffe050148193ffe
VT_KEY_BA=0x5ffe050148193ffe050148193ffe050148193ff5
vt_sas()
{
	_a=$1; _b=$2; _r=$3
	for _j in ${VT_JAILS:-vtA vtB}; do
		printf '%s\n' "flush;" \
		    "add ${_a} ${_b} esp 0x1001 -m tunnel -u ${_r} ${VT_SA_AB:--E aes-gcm-16 ${VT_KEY_AB}};" \
		    "add ${_b} ${_a} esp 0x1002 -m tunnel -u ${_r} ${VT_SA_BA:--E aes-gcm-16 ${VT_KEY_BA}};" |
		    jexec "${_j}" setkey -c > "${VT_TMP}/setkey.txt" 2>&1 || return 1
	done
}

# vt_has CMD: is this command in the image?
vt_has()
{
	command -v "$1" >/dev/null 2>&1
}

# Route-based tunnels (if_ipsec(4)) between the two jails ------------------

# vt_tunnel_setup OUTER_FAMILY(4|6) REQID: ipsec0 in both jails, tunnel over
# the epair, inner 10.0.0.1/30 <-> 10.0.0.2 and 2001:db8:1::1 <-> ::2, and
# the manual SAs for the reqid.
vt_tunnel_setup()
{
	if [ "$1" = 4 ]; then
		VT_OUT_A=198.51.100.1; VT_OUT_B=198.51.100.2; _af=inet
	else
		VT_OUT_A=2001:db8:ffff::1; VT_OUT_B=2001:db8:ffff::2; _af=inet6
	fi
	VT_REQID=$2
	jexec vtA ifconfig ipsec0 create ${_af} tunnel ${VT_OUT_A} ${VT_OUT_B} \
	    reqid "${VT_REQID}" >/dev/null || return 1
	jexec vtB ifconfig ipsec0 create ${_af} tunnel ${VT_OUT_B} ${VT_OUT_A} \
	    reqid "${VT_REQID}" >/dev/null || return 1
	jexec vtA ifconfig ipsec0 inet 10.0.0.1/30 10.0.0.2 || return 1
	jexec vtB ifconfig ipsec0 inet 10.0.0.2/30 10.0.0.1 || return 1
	jexec vtA ifconfig ipsec0 inet6 2001:db8:1::1 2001:db8:1::2 \
	    prefixlen 128 no_dad || return 1
	jexec vtB ifconfig ipsec0 inet6 2001:db8:1::2 2001:db8:1::1 \
	    prefixlen 128 no_dad || return 1
	vt_sas ${VT_OUT_A} ${VT_OUT_B} "${VT_REQID}"
}

# vt_capture JAIL IFACE FILE: tcpdump in the background (no-op without it).
vt_capture()
{
	vt_has tcpdump || return 0
	jexec "$1" tcpdump -n -l -p -i "$2" > "$3" 2>&1 &
	echo "pid $!" >> "${VT_STATE}.pids"
	sleep 1
}

vt_capture_stop()
{
	[ -f "${VT_STATE}.pids" ] || return 0
	sleep 1
	while read -r _k _p; do
		kill "${_p}" 2>/dev/null
	done < "${VT_STATE}.pids"
	wait 2>/dev/null
	rm -f "${VT_STATE}.pids"
}

# vt_tunnel_ping CHECK INNER_FAMILY(4|6): ping B's inner address from A
# through ipsec0; check that ipsec0 shows cleartext ICMP and the epair only
# ESP, and that the interface counters moved. Reports under CHECK.
# The ping-<inner>in<outer> scenarios: two vnet jails over an epair, our
# ipsec0 with an outer tunnel of family $1 and manual SAs (reqid 100), a
# ping of family $2 through it (cleartext on ipsec0, only ESP on the epair,
# counters move).
vt_ping_scenario()
{
	vt_require_ours
	if ! vt_two_jails; then
		vt_fail jails "could not build the jails"
	elif vt_tunnel_setup "$1" 100; then
		vt_log ifconfig jexec vtA ifconfig ipsec0
		vt_tunnel_ping ping "$2"
	else
		vt_fail setup "ifconfig/setkey setup failed"
	fi
	vt_done
	vt_unload_ours
}

vt_tunnel_ping()
{
	_ck=$1
	if [ "$2" = 4 ]; then
		_dst=10.0.0.2; _ping="ping -c 3 -t 20"; _icmp="ICMP echo request"
	else
		_dst=2001:db8:1::2; _ping="ping -6 -c 3 -t 20"; _icmp="ICMP6, echo request"
	fi
	_c1=${VT_TMP}/${_ck}.ipsec0.txt; _c2=${VT_TMP}/${_ck}.epair.txt
	vt_capture vtA ipsec0 "${_c1}"
	vt_capture vtA "${VT_EPAIR}a" "${_c2}"
	_o0=$(jexec vtA netstat -I ipsec0 -n | awk 'NR==2 {print $(NF-2)}')
	if _out=$(jexec vtA ${_ping} ${_dst} 2>&1); then
		vt_pass "${_ck}" "$(echo "${_out}" | grep 'packets transmitted')"
	else
		vt_fail "${_ck}" "ping ${_dst}: $(echo "${_out}" | tail -n 2 | tr '\n' '|')"
	fi
	vt_capture_stop
	_o1=$(jexec vtA netstat -I ipsec0 -n | awk 'NR==2 {print $(NF-2)}')
	echo "--- ${VT_NAME} ${_ck} ipsec0 Opkts ${_o0} -> ${_o1}"
	if [ -n "${_o1}" ] && [ "${_o1}" -gt "${_o0:-0}" ] 2>/dev/null; then
		vt_pass "${_ck}-counters" "ipsec0 Opkts ${_o0} -> ${_o1}"
	else
		vt_fail "${_ck}-counters" "ipsec0 Opkts ${_o0} -> ${_o1}"
	fi
	if ! vt_has tcpdump; then
		vt_skip "${_ck}-tcpdump" "no tcpdump in the image"
		return 0
	fi
	echo "--- ${VT_NAME} ${_ck} tcpdump ipsec0:"; head -n 8 "${_c1}"
	echo "--- ${VT_NAME} ${_ck} tcpdump ${VT_EPAIR}a:"; head -n 8 "${_c2}"
	if grep -q "${_icmp}" "${_c1}" && ! grep -q "ESP" "${_c1}"; then
		vt_pass "${_ck}-bpf-ipsec0" "cleartext on ipsec0"
	else
		vt_fail "${_ck}-bpf-ipsec0" "no cleartext echo request on ipsec0"
	fi
	if grep -q "ESP(spi=0x00001001" "${_c2}" && ! grep -q "${_icmp}" "${_c2}"; then
		vt_pass "${_ck}-bpf-epair" "only ESP on the epair"
	else
		vt_fail "${_ck}-bpf-epair" "expected only ESP spi 0x1001 on the epair"
	fi
}

# vt_teardown_rounds WHOSE DEFAULT_ROUNDS: the ping scenarios' teardown
# (two vnet jails, ipsec0 with inet and inet6 addresses, a ping each way,
# `jail -r`) repeated ${VT_TEARDOWN_ROUNDS:-DEFAULT_ROUNDS} times without
# vt_cleanup's IPv6-removal workaround; WHOSE names the driver.
vt_teardown_rounds()
{
	VT_RAW_TEARDOWN=1	# no workaround: show the kernel's behaviour
	_tn=${VT_TEARDOWN_ROUNDS:-$2}
	_ti=0
	while [ "${_ti}" -lt "${_tn}" ]; do
		_ti=$((_ti + 1))
		if ! vt_two_jails || ! vt_tunnel_setup $((4 + 2 * (_ti % 2))) 100; then
			vt_fail setup "round ${_ti}: setup failed"
			break
		fi
		jexec vtA ping -c 2 -t 10 10.0.0.2 >/dev/null 2>&1
		jexec vtA ping -6 -c 2 -t 10 2001:db8:1::2 >/dev/null 2>&1
		vt_cleanup
		echo "--- ${VT_NAME} round ${_ti} done"
	done
	vt_pass rounds "${_ti} rounds of jail -r with $1 ipsec0 (inet + inet6), no workaround, kernel alive"
}

# The differential command script: good and bad ifconfig/setkey commands run
# in jail vtA (two jails set up, no tunnel yet). Output normalized so that
# runs against the stock if_ipsec and ours compare line by line.
vt_diff_run()
{
	_n=0
	while IFS= read -r _cmd; do
		case "${_cmd}" in ''|'#'*) continue ;; esac
		_n=$((_n + 1))
		echo "## ${_n}: ${_cmd}"
		_out=$(jexec vtA sh -c "${_cmd}" 2>&1)
		_rc=$?
		echo "${_out}" | sed -E \
		    -e 's/(spid|seq|pid|refcnt|lifetime|validtime|created|lastused)[=:][^ ]*//g' \
		    -e 's/^[[:space:]]*(created|lastused|diff|hard|soft|current|allocated|sadb_seq).*//' \
		    -e 's/index [0-9]+/index N/' -e 's/%ipsec[0-9]+/%ipsecN/g' \
		    -e 's/fe80::[0-9a-f:]+/fe80::X/g' \
		    -e 's/reqid: (1638[4-9]|1639[0-9]|16[4-9][0-9][0-9]|1[7-9][0-9]{3}|[2-9][0-9]{4}|[0-9]{6,})$/reqid: AUTO/' \
		    -e 's/unique#[0-9]+/unique#AUTO/g'
		echo "## rc=${_rc}"
	done < "${VMTEST_ROOT}/guest/diff-commands.txt"
}
