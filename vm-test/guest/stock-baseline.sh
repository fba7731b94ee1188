#!/bin/sh
# Scenario "stock-baseline": the behaviour of FreeBSD's own C if_ipsec
# (inside ipsec.ko, our module NOT loaded), recorded as the reference for the
# differential scenario, and proof that the image has everything the other
# scenarios use: vnet jails + epair, ifconfig ipsec0 create tunnel .. reqid,
# setkey -DP (four ifnet-scope policies), manual SAs with -u reqid, pings
# 4in4 6in4 4in6 6in6 through ipsec0, tcpdump on ipsec0 and on the epair.
# vmtest-timeout: 400
. "$(dirname "$0")/lib.sh"

vt_require_stock
vt_record_stock_cloners
vt_log tools sh -c 'uname -a; for c in jail jexec setkey ping tcpdump netstat vmstat; do command -v $c || echo "missing $c"; done'

if ! vt_two_jails; then
	vt_fail jails "could not build two vnet jails joined by an epair"
	vt_done; exit 0
fi
vt_pass jails "vtA/vtB joined by ${VT_EPAIR}"

for outer in 4 6; do
	if ! vt_tunnel_setup ${outer} 100; then
		vt_fail "setup-outer${outer}" "ifconfig/setkey setup failed"
		continue
	fi
	vt_log ifconfig jexec vtA ifconfig ipsec0
	vt_log setkey-DP jexec vtA setkey -DP
	vt_log setkey-D jexec vtA setkey -D
	if [ "$(jexec vtA ifconfig ipsec0 | grep -c "reqid: 100")" = 1 ] &&
	    jexec vtA ifconfig ipsec0 | grep -q "tunnel inet6* ${VT_OUT_A} --> ${VT_OUT_B}"; then
		vt_pass "ifconfig-outer${outer}" "shows tunnel and reqid"
	else
		vt_fail "ifconfig-outer${outer}" "tunnel/reqid not shown"
	fi
	np=$(jexec vtA setkey -DP | grep -c 'scope=ifnet ifname=ipsec0')
	nr=$(jexec vtA setkey -DP | grep -c 'unique:100')
	if [ "$np" = 4 ] && [ "$nr" = 4 ]; then
		vt_pass "setkey-DP-outer${outer}" "4 ifnet-scope policies, reqid 100"
	else
		vt_fail "setkey-DP-outer${outer}" "policies for ipsec0: $np, with unique:100: $nr"
	fi
	vt_tunnel_ping "ping-4in${outer}" 4
	vt_tunnel_ping "ping-6in${outer}" 6
	jexec vtA ifconfig ipsec0 destroy
	jexec vtB ifconfig ipsec0 destroy
	np=$(jexec vtA setkey -DP | grep -c 'scope=ifnet')
	if [ "$np" = 0 ]; then
		vt_pass "destroy-outer${outer}" "policies gone with the interface"
	else
		vt_fail "destroy-outer${outer}" "$np ifnet policies left"
	fi
done

# The reference transcript for the differential scenario.
vt_diff_run > "${VMTEST_ROOT}/tmp/diff-stock.txt" 2>&1
cp "${VMTEST_ROOT}/tmp/diff-stock.txt" "${VMTEST_ROOT}/diff-stock.txt"
echo "--- ${VT_NAME} differential reference:"
cat "${VMTEST_ROOT}/tmp/diff-stock.txt"
echo "--- ${VT_NAME} end of reference"
vt_pass reference "$(grep -c '^## [0-9]' "${VMTEST_ROOT}/tmp/diff-stock.txt") commands recorded"
vt_done "stock C if_ipsec baseline recorded"
