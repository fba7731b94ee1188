#!/bin/sh
# Scenario "differential": the command script diff-commands.txt run against
# our ipsecN must give the same output and exit status as against the stock
# C if_ipsec (transcript recorded by stock-baseline, or recorded here first).
# Differences listed in diff-allowed.txt (deliberate improvements documented
# in README) are tolerated.
# vmtest-timeout: 300
. "$(dirname "$0")/lib.sh"
ref=${VMTEST_ROOT}/diff-stock.txt
if [ ! -f "$ref" ]; then
	vt_require_stock
	vt_two_jails && vt_diff_run > "$ref" 2>&1
	vt_cleanup
fi
vt_require_ours
vt_two_jails || { vt_fail jails "could not build the jails"; vt_done; exit 0; }
vt_diff_run > "${VT_TMP}/diff-ours.txt" 2>&1
vt_cleanup
# Full context, so that every changed line follows its "## N:" header.
if diff -U 10000 "$ref" "${VT_TMP}/diff-ours.txt" > "${VT_TMP}/diff.txt"; then
	vt_pass same "$(grep -c '^## [0-9]' "$ref") commands, identical output"
else
	# Commands whose transcript differs, by number.
	bad=$(awk '/^[ +-]## [0-9]+:/ {n=$2; sub(":", "", n); next}
	    /^(---|\+\+\+) / {next} /^[-+]/ {print n}' "${VT_TMP}/diff.txt" |
	    sort -un | tr '\n' ' ')
	# Show only the changed lines with their command headers.
	awk '/^[ +-]## [0-9]+:/ {h=$0; next} /^(---|\+\+\+) / {next}
	    /^[-+]/ {if (h != "") print h; h=""; print}' "${VT_TMP}/diff.txt"
	unexpected=""
	for n in $bad; do
		grep -Eq "^${n}([[:space:]]|\$)" \
		    "${VMTEST_ROOT}/guest/diff-allowed.txt" 2>/dev/null ||
		    unexpected="$unexpected $n"
	done
	if [ -z "$unexpected" ]; then
		vt_pass same "differences only where allowed: $bad"
	else
		vt_fail same "commands differ:$unexpected (see console)"
		for n in $unexpected; do
			vt_fail "cmd$n" "$(grep "^## $n:" "$ref" | cut -c 4-)"
		done
	fi
fi
# The first automatic reqid (command 5, after a tunnel without reqid):
# key_newreqid (sys/netipsec/key.c) hands out 0x4001 (16385) first.
first_auto()
{
	awk '/^## 5:/ {f = 1; next} /^## / {f = 0} f && /unique=/' "$1" |
	    head -n 1
}
a_c=$(first_auto "$ref"); a_o=$(first_auto "${VT_TMP}/diff-ours.txt")
# C's counter is global and never reset (earlier scenarios may have moved
# it), ours is per VNET: ours must be 16385; C's is reported.
if [ "$a_o" = "unique=16385" ]; then
	vt_pass auto-reqid "first auto reqid: ours ${a_o} (0x4001), C ${a_c}"
else
	vt_fail auto-reqid "first auto reqid: ours '${a_o}', C '${a_c}'"
fi
vt_unload_ours
vt_done
