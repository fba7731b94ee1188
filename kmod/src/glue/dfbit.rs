//! DF policy per interface (issue 12): `ifconfig ipsecN link2` copies the
//! inner packet's DF bit into the outer IPv4 header (RFC 4301 8.1's
//! "copy"; IPv6 inner packets count as DF: routers never fragment them).
//! Without link2 the outer header keeps what ipsec_encap wrote from the
//! global net.inet.ipsec.dfbit (0 clear, 1 set, 2 copy;
//! sys/netipsec/ipsec_output.c, 14.2 b66633d79ade): C's behaviour.
//!
//! Where: an IPSEC_OUT hook on this VNET's outer-IPv4 head, which
//! ipsec4/6_perform_request run (IPSEC_ENC_AFTER) right after
//! ipsec_encap prepended the outer header and before ESP.  It runs for
//! every outbound IPsec packet of the VNET, ours or not; until some
//! interface here has had link2 it returns after one load.  Then: the
//! SA's reqid finds our interface through the input demux table (the
//! outbound SA runs local -> remote, the reverse of the entry's), and
//! the interface's own flags decide.
use core::sync::atomic::Ordering;

use super::state::{VnetState, V_STATE};
use crate::kpi::epoch::InEpoch;
use crate::kpi::epoch_slot::Slot;
use crate::kpi::hhook::{IpsecOutputVnet, OutPacket, VnetHook};
use crate::kpi::ifnet::IfFlags;
use crate::kpi::vnet::VnetVar;
use sys_bindings::ipsec_consts::IPSEC_MODE_TUNNEL;

/// The hook.
pub struct DfHook;

impl VnetHook for DfHook {
    type State = Slot<VnetState>;

    fn var() -> &'static VnetVar<Slot<VnetState>> {
        &V_STATE
    }
}

impl IpsecOutputVnet for DfHook {
    #[inline(always)]
    fn output(slot: &Slot<VnetState>, mut pkt: OutPacket<'_>, e: &InEpoch) {
        let Some(st) = slot.get(e) else { return };
        if !st.df_copy_seen.load(Ordering::Relaxed) {
            return;
        }
        let Some(sa) = pkt.sa() else { return };
        let (_, mode, reqid) = sa.kind();
        if mode != IPSEC_MODE_TUNNEL {
            return;
        }
        let Some((d, Some(ifp))) = st.tables.demux.get_noted(&reqid, e) else {
            return;
        };
        if !sa.addrs_are(&d.sa_dst, &d.sa_src) {
            return;
        }
        if !ifp.get(e).flags().contains(IfFlags::LINK2) {
            return;
        }
        if let Some(df) = pkt.inner_df() {
            pkt.set_outer_df(df);
        }
    }
}
