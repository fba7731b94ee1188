//! Input (C: ipsec_if_input, FreeBSD 14.2 sys/net/if_ipsec.c,
//! b66633d79ade), as an IPSEC_IN hhook (IPSEC_ENC_AFTER).
//!
//! Where it runs (sys/netipsec/ipsec_input.c, b66633d79ade,
//! ipsec4_common_input_cb / ipsec6_common_input_cb): after ESP decryption,
//! inside the net epoch, the AFTER hooks run on the inner family's head
//! (`ipsec_run_hhooks`); then, for tunnel-mode SAs, ipsec.ko's own
//! `ipsec_if_input(m, sav, af)`, then `netisr_queue_src` (verified at b66633d79ade:
//! ipsec_input.c:483-491 for IPv4, 691-719 for IPv6: the AFTER
//! ipsec_run_hhooks call, then `if (saidx->mode == IPSEC_MODE_TUNNEL)
//! error = ipsec_if_input(...)`, then netisr).  The stock
//! function looks for a STOCK ipsecN with the SA's reqid and addresses;
//! our reqids and addresses belong to our interfaces, so it finds none,
//! returns 0 and leaves the rcvif we set.  (If one reqid were configured on
//! both a stock and one of our interfaces, the stock one would win the
//! rcvif: do not mix.)
//!
//! Counters C lacks: a packet for an interface that is down counts
//! IQDROPS; in MONITOR mode the packet is counted (IPACKETS/IBYTES, as C)
//! and tapped, then dropped and counted IQDROPS too.
use super::pathmtu;
use super::state::{VnetState, V_STATE};
use crate::kpi::epoch::InEpoch;
use crate::kpi::epoch_slot::Slot;
use crate::kpi::hhook::{InPacket, IpsecInputVnet, SaView, VnetHook};
use crate::kpi::ifnet::{Counter, DrvFlags, IfFlags, Ifnet};
use crate::kpi::vnet::VnetVar;
use if_ipsec::verdict::{
    input_admission, input_precheck, InputIf, InputPre, InputVerdict, SaCheck,
};

/// The hook.
pub struct Input;

#[inline(always)]
fn flags_of(f: IfFlags, d: DrvFlags) -> InputIf {
    InputIf {
        running: d.contains(DrvFlags::RUNNING),
        up: f.contains(IfFlags::UP),
        monitor: f.contains(IfFlags::MONITOR),
    }
}

impl VnetHook for Input {
    type State = Slot<VnetState>;

    fn var() -> &'static VnetVar<Slot<VnetState>> {
        &V_STATE
    }
}

impl IpsecInputVnet for Input {
    #[inline(always)]
    fn input(slot: &Slot<VnetState>, pkt: InPacket<'_>, e: &InEpoch) {
        let Some(sa) = pkt.sa() else {
            return;
        };
        let (state, (proto, mode, reqid)) = (sa.state, sa.kind());
        match input_precheck(&SaCheck { state, mode, proto }) {
            // ipsec.ko's ipsec_if_input, which runs after every hook,
            // drops it as C does; not consuming here keeps later hooks'
            // packet intact.
            InputPre::DropDeadSa | InputPre::NotOurs => return,
            InputPre::Lookup => {}
        }
        let Some(ifp) = slot.get(e).and_then(|st| find(st, &sa, reqid, e)) else {
            return;
        };
        deliver(pkt, ifp);
    }
}

/// reqid + outer addresses (ports ignored: NAT-T) -> our interface: the
/// test of `if_ipsec::tables::input_lookup` (reqid's entry, then SA dst
/// and src equal to the tunnel's), on the demux map whose entries carry
/// their ifnet (see `tables`), so one lookup.
#[inline(always)]
fn find<'e>(st: &'e VnetState, sa: &SaView<'_>, reqid: u32, e: &'e InEpoch) -> Option<&'e Ifnet> {
    let (d, ifp) = st.tables.demux.get_noted(&reqid, e)?;
    if !sa.addrs_are(&d.sa_src, &d.sa_dst) {
        return None;
    }
    ifp.as_ref().map(|x| x.get(e))
}

#[inline(always)]
fn deliver(mut pkt: InPacket<'_>, ifp: &Ifnet) {
    let f = ifp.flags();
    match input_admission(Some(flags_of(f, ifp.drv_flags()))) {
        InputVerdict::NotFound => {}
        InputVerdict::DropDown => {
            ifp.inc_counter(Counter::IQDrops, 1);
            pkt.consume();
        }
        InputVerdict::Deliver { monitor_drop } => {
            let af = pkt.family().map_or(0, |f| u32::from(f.af()));
            pkt.claim(ifp);
            pathmtu::clamp(ifp, f.contains(IfFlags::LINK1), pkt.mbuf_mut());
            pkt.tap(ifp, af);
            ifp.inc_counter(Counter::IPackets, 1);
            ifp.inc_counter(Counter::IBytes, u64::from(pkt.mbuf().pkt_len()));
            if monitor_drop {
                ifp.inc_counter(Counter::IQDrops, 1);
                pkt.consume();
            }
        }
    }
}
