//! The IPSEC_IN hook trampoline views netipsec's packet without owning
//! it: an mbuf without M_PKTHDR is not a packet the module handles and
//! must be left exactly as it was (not freed, `*mp` unchanged, the
//! handler not called).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use if_ipsec::addr::Family;
use if_ipsec_kmod::kpi::epoch::{InEpoch, Sleepable};
use if_ipsec_kmod::kpi::hhook::{InPacket, InputHook, IpsecInput};
use if_ipsec_kmod::kpi::vnet::CurVnet;
use kpi_model::Model;
use std::sync::atomic::{AtomicUsize, Ordering};
use sys_bindings::ipsec::{ipsec_ctx_data, IPSEC_ENC_AFTER};
use sys_bindings::mbuf::{mbuf, M_PKTHDR};

static CALLS: AtomicUsize = AtomicUsize::new(0);

struct Count;
impl IpsecInput for Count {
    fn input(_pkt: InPacket<'_>, _e: &InEpoch) {
        CALLS.fetch_add(1, Ordering::SeqCst);
    }
}

fn run_hook(mp: &mut *mut mbuf) {
    let mut ctx = ipsec_ctx_data {
        mp,
        sav: std::ptr::null_mut(),
        inp: std::ptr::null_mut(),
        af: 2,
        enc: IPSEC_ENC_AFTER,
    };
    kpi_model::epoch::with_section(|| {
        kpi_model::hhook::run_ipsec(
            sys_bindings::hhook::HHOOK_TYPE_IPSEC_IN,
            2,
            (&raw mut ctx).cast(),
        )
    });
}

/// mirrors netipsec's ipsec_run_hhooks contract (sys/netipsec/ipsec.c):
/// a hook that does not consume the packet leaves `*mp` and the mbuf to
/// the caller.
#[test]
fn hook_leaves_a_non_packet_mbuf_alone() {
    let m = Model::start();
    let mut s = Sleepable::here().unwrap();
    let cv = CurVnet::current().unwrap();
    let hook = m
        .module(|| InputHook::add::<Count>(Family::Inet, &cv, &mut s))
        .unwrap();
    let pkt = kpi_model::mbuf::packet(&[&[0x45, 0, 0, 20]]);
    // SAFETY: a live model mbuf owned by this test.
    unsafe { (*pkt).set_m_flags((*pkt).m_flags() & !M_PKTHDR) };
    let mut mp = pkt;
    run_hook(&mut mp);
    assert_eq!(mp, pkt, "*mp unchanged");
    assert!(kpi_model::mbuf::is_live(pkt), "not freed by the hook");
    assert_eq!(CALLS.load(Ordering::SeqCst), 0, "not handed to the module");
    // SAFETY: as above.
    unsafe { (*pkt).set_m_flags((*pkt).m_flags() | M_PKTHDR) };
    kpi_model::mbuf::free_chain(pkt, "test");
    drop(hook);
    m.assert_clean();
}
