#!/bin/sh
# Scenario "teardown-stock" (not in the default list): the teardown of
# ping-4in4/ping-6in6 repeated with FreeBSD's stock C if_ipsec (our module
# not loaded): two vnet jails, ipsec0 with inet and inet6 addresses in
# each, a ping, `jail -r`. Tells whether the nd6_timer page fault seen
# after our ping scenarios (vm-test/README.md, "Known FreeBSD issue")
# happens without our module too. Run it with
#   vm-test/run --image IMG --scenario teardown-stock
# vmtest-timeout: 600
. "$(dirname "$0")/lib.sh"
vt_require_stock
vt_teardown_rounds "stock" 24
vt_done
