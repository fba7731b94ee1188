#!/bin/sh
# Scenario "unload-under-ioctl" (issue 8, finding 4): the kernel calls
# if_ioctl with only an ifnet reference, outside the epoch (if.c ifioctl),
# so threads can be inside the module's ioctl path while kldunload
# destroys the interfaces and the module's text and lock go away.
# Several ioctl loops run against live interfaces while the module unloads;
# the kernel must stay up and every loop must end.
# vmtest-timeout: 300
. "$(dirname "$0")/lib.sh"
vt_require_ours
round=1
while [ ${round} -le 3 ]; do
	vt_load_ours
	i=0
	while [ $i -lt 40 ]; do
		ifconfig ipsec$i create tunnel 192.0.2.1 198.51.$((100 + i)).7 reqid $((1000 + i)) >/dev/null
		i=$((i + 1))
	done
	pids=""
	for w in 1 2 3 4; do
		(
			n=0
			while [ $n -lt 400 ]; do
				u=$(( (n * 7 + w) % 40 ))
				ifconfig ipsec$u reqid $((2000 + n * 4 + w)) 2>/dev/null ||
				    ifconfig ipsec$u tunnel 192.0.2.1 203.0.113.$w 2>/dev/null ||
				    { ifconfig ipsec$u >/dev/null 2>&1 || exit 0; }
				n=$((n + 1))
			done
		) &
		pids="${pids} $!"
	done
	sleep 2
	kldunload if_ipsec
	rc=$?
	wait
	echo "--- round ${round}: kldunload rc=${rc}"
	round=$((round + 1))
done
if ! vt_ours_loaded && ! ifconfig -l | grep -q ipsec; then
	vt_pass unload "3 rounds: kldunload under 4 ioctl loops on 40 interfaces; kernel up"
else
	vt_fail unload "module or interfaces left: $(kldstat | grep if_ipsec) $(ifconfig -l)"
fi
vt_done "unload while ioctls are in flight"
