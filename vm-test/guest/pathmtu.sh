#!/bin/sh
# Scenario "pathmtu" (issue 12): no black holes through ipsec0.
#
#   vtC 192.168.1.2 --epair-- vtA ==ipsec0 over epair (MTU 1400)== vtB --epair-- vtD 192.168.2.2
#
# vtA and vtB route the two LANs over ipsec0 (AES-GCM SAs, reqid 100);
# vtC is the client, vtD the server (nc).  The C driver lets both
# transfers below stall; ours completes them:
#
# 1. MSS clamping, ICMP filtered.  ipsec0 sized for the path (MTU 1300)
#    and vtC's pf drops ICMP need-frag (a firewall somewhere).  vtC and
#    vtD advertise MSS 1460 (their LANs are 1500).  With link1 (no
#    clamping: C) vtC's 1500-byte segments die at vtA's ipsec0 and the
#    need-frag never arrives: the transfer stalls.  With the default
#    clamp, the SYN's MSS reaches vtD as 1260 and the transfer completes.
# 2. PMTU feedback, outer DF set (net.inet.ipsec.dfbit=1), ipsec0 at its
#    default 1400 over the 1400-byte path.  A 1400-byte inner packet plus
#    ESP does not fit: with link1 (C) ipsec_transmit hands it to IPsec and
#    ip_output drops the ESP packet (EMSGSIZE), no ICMP: ping gets
#    nothing and TCP stalls.  Ours (clamping to 1360 does not help here)
#    answers with need-frag carrying the inner MTU that fits: in a vnet
#    jail no SA book sizes the overhead (link tracking is vnet0-only), so
#    the worst case (AES-CBC, SHA2-512, NAT-T: 86 bytes, blocks of 16)
#    gives 1310; `ping -D` reports it and TCP (PMTUD) moves 200 KB.
# 3. DF policy: link2 on vtA copies the inner DF into the outer IPv4
#    header (tcpdump -v of the ESP packets); without it the global
#    net.inet.ipsec.dfbit (0: clear) decides, as in C.
# vmtest-timeout: 300
. "$(dirname "$0")/lib.sh"
vt_require_ours
if ! vt_two_jails; then
	vt_fail jails "could not build the jails"
	vt_done; vt_unload_ours; exit 0
fi
kldstat -q -m pf || kldload pf || vt_fail pf "kldload pf"
outer=${VT_EPAIR}
lanA=$(vt_mkepair) && lanB=$(vt_mkepair) &&
    vt_mkjail vtC "${lanA}a" && vt_mkjail vtD "${lanB}a" &&
    ifconfig "${lanA}b" vnet vtA && ifconfig "${lanB}b" vnet vtB ||
    vt_fail jails "LAN jails"
jexec vtC ifconfig "${lanA}a" inet 192.168.1.2/24 up
jexec vtA ifconfig "${lanA}b" inet 192.168.1.1/24 up
jexec vtD ifconfig "${lanB}a" inet 192.168.2.2/24 up
jexec vtB ifconfig "${lanB}b" inet 192.168.2.1/24 up
jexec vtC route -q add default 192.168.1.1
jexec vtD route -q add default 192.168.2.1
for j in vtA vtB; do
	jexec $j sysctl net.inet.ip.forwarding=1 >/dev/null
done
jexec vtA ifconfig "${outer}a" mtu 1400
jexec vtB ifconfig "${outer}b" mtu 1400
vt_tunnel_setup 4 100 || vt_fail setup "ifconfig/setkey setup failed"
jexec vtA route -q add 192.168.2.0/24 10.0.0.2
jexec vtB route -q add 192.168.1.0/24 10.0.0.1

# nc transfer of 200 KB from vtC to vtD; prints the bytes vtD received.
xfer()
{
	rm -f "${VT_TMP}/rx"
	jexec vtD sh -c "timeout 25 nc -l 5001 | wc -c > ${VT_TMP}/rx" &
	_xp=$!
	sleep 1
	dd if=/dev/zero bs=1k count=200 2>/dev/null |
	    jexec vtC timeout 20 nc -N 192.168.2.2 5001 >/dev/null 2>&1
	wait ${_xp} 2>/dev/null
	tr -d ' ' < "${VT_TMP}/rx" 2>/dev/null || echo 0
}

# 1. Clamping ---------------------------------------------------------------
for j in vtA vtB; do
	jexec $j ifconfig ipsec0 mtu 1300
done
printf '%s\n' "block drop in quick inet proto icmp icmp-type unreach code needfrag" \
    "pass all no state" | jexec vtC pfctl -q -f - && jexec vtC pfctl -q -e ||
    vt_fail pf "pf in vtC"
vt_check reach "vtC reaches vtD through ipsec0" -- \
    jexec vtC ping -c 2 -t 10 192.168.2.2

for j in vtA vtB; do jexec $j ifconfig ipsec0 link1; done
cap0=${VT_TMP}/syn-c.txt
vt_capture vtD "${lanB}a" "$cap0"
off=$(xfer)
vt_capture_stop
vt_log no-clamp echo "link1 (no clamping, C): ${off} of 204800 bytes"
for j in vtA vtB; do jexec $j ifconfig ipsec0 -link1; done
cap=${VT_TMP}/syn.txt
vt_capture vtD "${lanB}a" "$cap"
on=$(xfer)
vt_capture_stop
vt_log clamp echo "clamping (default): ${on} of 204800 bytes"
[ "${on}" = 204800 ] && vt_pass clamp-xfer "200 KB through with clamping (link1/C: ${off} bytes)" ||
    vt_fail clamp-xfer "clamping on: ${on} of 204800 bytes"
[ "${off}" != 204800 ] && vt_pass noclamp-stalls "without clamping the transfer stalls (${off} bytes)" ||
    vt_fail noclamp-stalls "without clamping the transfer completed: no black hole to show"
if vt_has tcpdump; then
	vt_log syn grep -m 2 'mss' "$cap"
	grep -q 'mss 1260' "$cap" &&
	    vt_pass syn-mss "vtD sees the SYN with mss 1260 (1460 clamped to ipsec0 MTU 1300 - 40)" ||
	    vt_fail syn-mss "no SYN with mss 1260 at vtD"
	grep 'Flags \[S\]' "$cap0" | grep -q 'mss 1460' &&
	    vt_pass syn-mss-link1 "with link1 vtD sees vtC's mss 1460 unchanged (C)" ||
	    vt_fail syn-mss-link1 "with link1 the SYN's mss was changed"
fi
jexec vtC pfctl -q -d

# 2. PMTU feedback -----------------------------------------------------------
for j in vtA vtB; do
	jexec $j ifconfig ipsec0 mtu 1400 link1
	jexec $j sysctl net.inet.ipsec.dfbit=1 >/dev/null
done
# link1 (C): the 1400-byte DF packet goes to IPsec and its ESP packet dies
# in ip_output (EMSGSIZE): no reply, no need-frag, and TCP stalls.
out=$(jexec vtC ping -D -c 2 -t 6 -s 1372 192.168.2.2 2>&1)
vt_log ping-df-c echo "$out"
echo "$out" | grep -qi 'frag needed' &&
    vt_fail black-hole "need-frag with link1" ||
    vt_pass black-hole "link1 (C): ping -D -s 1372 vanishes, no need-frag"
c_got=$(xfer)
vt_log pmtud-c echo "link1 (C), outer DF set: ${c_got} of 204800 bytes"
[ "${c_got}" != 204800 ] && vt_pass c-stalls "link1 (C): the transfer stalls (${c_got} bytes)" ||
    vt_fail c-stalls "link1: the transfer completed, no black hole to show"
# Ours (clamping on, to 1360: still too big with ESP on a 1400 path).
for j in vtA vtB; do jexec $j ifconfig ipsec0 -link1; done
out=$(jexec vtC ping -D -c 2 -t 10 -s 1372 192.168.2.2 2>&1)
vt_log ping-df echo "$out"
echo "$out" | grep -qi 'frag needed.*MTU 1310' &&
    vt_pass need-frag "ping -D -s 1372 from vtC: need-frag with MTU 1310 from vtA" ||
    vt_fail need-frag "no need-frag with MTU 1310"
out=$(jexec vtA ping -D -c 2 -t 10 -s 1372 192.168.2.2 2>&1)
vt_log ping-local echo "$out"
echo "$out" | grep -qi 'MTU 1310\|message too long' &&
    vt_pass need-frag-local "a local sender on vtA learns it too" ||
    vt_fail need-frag-local "no feedback for a local sender"
vt_check fits "ping -D -s 1282 (1310 bytes) passes" -- \
    jexec vtC ping -D -c 2 -t 10 -s 1282 192.168.2.2
got=$(xfer)
vt_log pmtud echo "PMTUD through ipsec0: ${got} of 204800 bytes"
[ "${got}" = 204800 ] && vt_pass pmtud-xfer "200 KB through by PMTUD on our need-frag (link1/C: ${c_got})" ||
    vt_fail pmtud-xfer "PMTUD transfer: ${got} of 204800 bytes"
vt_log counters sh -c "jexec vtA netstat -s -p icmp | grep -i 'unreach\|need'"

# 3. DF policy per interface ------------------------------------------------
# Global dfbit 0 (clear, the default) on both; link2 on vtA copies the
# inner DF into its outer headers.  Counted: ESP packets leaving vtA with
# DF, as tcpdump -v prints their outer header.
for j in vtA vtB; do
	jexec $j sysctl net.inet.ipsec.dfbit=0 >/dev/null
done
dfcount()
{
	_c=${VT_TMP}/df.txt
	jexec vtA tcpdump -n -v -l -p -i "${outer}a" esp and src 198.51.100.1 > "$_c" 2>&1 &
	echo "pid $!" >> "${VT_STATE}.pids"
	sleep 1
	jexec vtC ping $1 -c 3 -t 6 -s 100 192.168.2.2 >/dev/null 2>&1
	vt_capture_stop
	grep -c 'flags \[DF\].*proto ESP' "$_c"
}
if vt_has tcpdump; then
	c_df=$(dfcount -D)
	jexec vtA ifconfig ipsec0 link2
	copy_df=$(dfcount -D)
	copy_nodf=$(dfcount "")
	jexec vtA ifconfig ipsec0 -link2
	vt_log df-policy echo "outer DF: C/dfbit=0 ${c_df}, link2+DF ${copy_df}, link2 no DF ${copy_nodf} (of 3)"
	[ "${c_df}" = 0 ] && [ "${copy_df}" -ge 3 ] && [ "${copy_nodf}" = 0 ] &&
	    vt_pass df-copy "link2 copies the inner DF to the outer header; without it dfbit=0 clears it" ||
	    vt_fail df-copy "outer DF: C ${c_df}, copy+DF ${copy_df}, copy no DF ${copy_nodf}"
else
	vt_skip df-copy "no tcpdump in the image"
fi
vt_done "MSS clamping and PMTU feedback through ipsec0"
vt_unload_ours
