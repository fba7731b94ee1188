#!/bin/sh
# Scenario "load": our if_ipsec.ko loads next to ipsec.ko, says so in dmesg,
# shows in kldstat, unloads, and survives repeated load/unload cycles; its
# MODULE_DEPEND on ipsec pulls ipsec.ko in when it is not loaded yet.
# vmtest-timeout: 180
. "$(dirname "$0")/lib.sh"

if [ -z "${VMTEST_KO}" ] || [ ! -f "${VMTEST_KO}" ]; then
	vt_skip "" "no module given to the runner (--ko)"
	exit 0
fi

dmesg_since()
{
	dmesg | tail -n +"$(($1 + 1))"
}

# Check NAME: a console line starting with TEXT appeared after line $2.
expect_dmesg()
{
	vt_log dmesg dmesg_since "$2"
	line=$(dmesg_since "$2" | grep "^$3" | tail -n 1)
	if [ -n "$line" ]; then
		vt_pass "$1" "$line"
	else
		vt_fail "$1" "no '$3' line"
	fi
}

# 1. MODULE_DEPEND: with ipsec.ko absent, loading ours loads it too.
kldstat -q -m if_ipsec && kldunload if_ipsec
kldstat -q -m ipsec && kldunload ipsec 2>/dev/null
if kldstat -q -m ipsec; then
	vt_skip depend "ipsec.ko could not be unloaded first"
else
	n=$(dmesg | wc -l)
	if vt_log kldload kldload -v "${VMTEST_KO}"; then
		if kldstat -q -m ipsec; then
			vt_pass depend "kldload pulled in ipsec.ko"
		else
			vt_fail depend "loaded without ipsec.ko"
		fi
	else
		vt_fail depend "kldload failed: $(dmesg_since "$n" | tail -n 3 | tr '\n' '|')"
	fi
	vt_log dmesg dmesg_since "$n"
	kldstat -q -m if_ipsec && kldunload if_ipsec
fi

# 2. The plain sequence, with every console line recorded.
vt_load_ipsec
n=$(dmesg | wc -l)
if vt_log kldload kldload -v "${VMTEST_KO}"; then
	vt_pass kldload "$(kldstat -n if_ipsec.ko 2>/dev/null | tail -n 1 | awk '{print "id", $1, "size", $4}')"
else
	vt_fail kldload "$(dmesg_since "$n" | tail -n 3 | tr '\n' '|')"
	vt_log dmesg dmesg_since "$n"
	vt_done
	exit 0
fi
vt_log kldstat kldstat -v -n if_ipsec.ko
if kldstat -q -m if_ipsec; then
	vt_pass kldstat "module if_ipsec registered"
else
	vt_fail kldstat "kldstat -m if_ipsec finds nothing"
fi
expect_dmesg dmesg-load "$n" "if_ipsec: loaded"
vt_log vmstat-m sh -c "vmstat -m | head -n 1; vmstat -m | grep -w if_ipsec"
n=$(dmesg | wc -l)
if vt_log kldunload kldunload -v if_ipsec; then
	vt_pass kldunload "unloaded"
else
	vt_fail kldunload "kldunload failed"
fi
expect_dmesg dmesg-unload "$n" "if_ipsec: unloaded"
if kldstat -q -m if_ipsec; then
	vt_fail gone "module still registered after kldunload"
fi

# 3. Repeated cycles.
i=0 ok=0
while [ $i -lt 10 ]; do
	if kldload "${VMTEST_KO}" && kldunload if_ipsec; then
		ok=$((ok + 1))
	fi
	i=$((i + 1))
done
if [ $ok -eq 10 ]; then
	vt_pass cycles "10 load/unload cycles"
else
	vt_fail cycles "only $ok of 10 load/unload cycles worked"
fi

# 4. Unload ipsec.ko while ours is loaded must be refused (dependency).
kldload "${VMTEST_KO}"
if kldunload ipsec 2>/dev/null; then
	vt_fail depend-unload "ipsec.ko unloaded under our module"
else
	vt_pass depend-unload "kldunload ipsec refused while if_ipsec is loaded"
fi
kldunload if_ipsec 2>/dev/null
vt_done "load/unload OK"
