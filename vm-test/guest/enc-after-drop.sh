#!/bin/sh
# Scenario "enc-after-drop" (issue 8, finding 2): enc(4) loaded after us,
# tapping and filtering "after decryption" (net.enc.in.ipsec_bpf_mask=3,
# ipsec_filter_mask=3, as pfSense/OPNsense configure it); packets for a
# down (or MONITOR) ipsec0 are dropped by us, and if_enc.c enc_hhook, which
# kern_hhook.c hhook_run_hooks calls after our hook on the same head, must
# not be handed a NULL packet.  The drop is counted (IQDROPS).
# vmtest-timeout: 200
. "$(dirname "$0")/lib.sh"
vt_require_ours
kldstat -q -m if_enc || kldload if_enc || { vt_fail load-enc "kldload if_enc"; vt_done; exit 0; }
if ! vt_two_jails || ! vt_tunnel_setup 4 100; then
	vt_fail setup "jails/tunnel setup failed"; vt_done; exit 0
fi
jexec vtB ifconfig enc0 up
jexec vtB sysctl net.enc.in.ipsec_bpf_mask=3 net.enc.in.ipsec_filter_mask=3 >/dev/null
vt_capture vtB enc0 "${VT_TMP}/enc0.txt"
# Up: delivered through ipsec0, seen on enc0.
if jexec vtA ping -c 2 -t 10 10.0.0.2 >/dev/null 2>&1; then
	vt_pass up "ping through ipsec0 with enc0 tapping after decryption"
else
	vt_fail up "ping through ipsec0 failed with enc0 up"
fi
jexec vtB ifconfig ipsec0 down
jexec vtA ping -c 3 -t 5 10.0.0.2 >/dev/null 2>&1
jexec vtB ifconfig ipsec0 up monitor
jexec vtA ping -c 3 -t 5 10.0.0.2 >/dev/null 2>&1
jexec vtB ifconfig ipsec0 -monitor
vt_capture_stop
vt_log netstat jexec vtB netstat -I ipsec0 -n -d
vt_log enc0 head -n 6 "${VT_TMP}/enc0.txt"
# Still alive, and the drops are counted (the column before "Drop" of
# netstat -d is the input drop count on 14.x: Idrop).
idrop=$(jexec vtB netstat -I ipsec0 -n -d | awk 'NR==1 {for (i=1;i<=NF;i++) if ($i=="Idrop") c=i} NR==2 {print $c}')
if [ -n "${idrop}" ] && [ "${idrop}" -ge 6 ] 2>/dev/null; then
	vt_pass dropped "down and monitor: 6 packets dropped, Idrop=${idrop}; enc0 alive"
else
	vt_fail dropped "Idrop=${idrop} (want >= 6)"
fi
if jexec vtA ping -c 2 -t 10 10.0.0.2 >/dev/null 2>&1; then
	vt_pass up-again "ping through ipsec0 again"
else
	vt_fail up-again "ping after up/-monitor failed"
fi
vt_cleanup
kldunload if_enc 2>/dev/null
vt_done "enc(4) after us, bpf+filter masks 3, drops on down/monitor"
vt_unload_ours
