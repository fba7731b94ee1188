//! Source-address events (C: ipsec_srcaddr / ipsec_set_running, FreeBSD
//! 14.2 sys/net/if_ipsec.c, b66633d79ade): runs inside the net epoch with
//! curvnet set; every interface whose tunnel source is `addr` becomes
//! RUNNING iff the address is (still) local.
use super::epoch_map::Reader;
use super::state::V_STATE;
use crate::kpi::encap::SrcaddrHandler;
use crate::kpi::epoch::InEpoch;
use crate::kpi::inet::is_local;
use crate::kpi::vnet::CurVnet;
use if_ipsec::addr::Addr;
use if_ipsec::tables::for_each_src;

/// The callback.
pub struct Srcaddr;

impl SrcaddrHandler for Srcaddr {
    fn event(addr: Addr, _added: bool, e: &InEpoch) {
        let addr = &addr;
        let Some(cv) = CurVnet::current() else { return };
        let Some(st) = V_STATE.get(&cv).get(e) else {
            return;
        };
        let local = is_local(addr, e);
        let counts = Reader {
            map: &st.tables.src_count,
            e,
        };
        let members = Reader {
            map: &st.tables.src_member,
            e,
        };
        for_each_src(&counts, &members, addr, |h| {
            if let Some(x) = st.tables.ifs.get(&h, e) {
                x.get(e).set_running(local);
            }
        });
    }
}
