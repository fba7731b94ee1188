#!/bin/sh
# Scenario "teardown-ours": the teardown of ping-4in4/ping-6in6 with our
# ipsec0, repeated, WITHOUT vt_cleanup's IPv6-removal workaround: two vnet
# jails, ipsec0 with inet and inet6 addresses in each, a ping, `jail -r`.
# Our interfaces are destroyed after ip_destroy/ip6_destroy scrubbed their
# addresses (glue/vnet.rs VNET_UNINIT at SI_SUB_PROTO_DOMAIN), so no
# in_ifaddr/in6_ifaddr outlives its interface: no "hashdestroy: hashtbl
# not empty" panic under INVARIANTS and no nd6_timer fault (the stock C
# driver destroys them earlier, before the scrub: teardown-stock).
# vmtest-timeout: 420
. "$(dirname "$0")/lib.sh"
vt_require_ours
vt_teardown_rounds "our" 16
vt_done
vt_unload_ours
