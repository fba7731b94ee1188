//! Output (C: ipsec_transmit, FreeBSD 14.2 sys/net/if_ipsec.c,
//! b66633d79ade).  Runs inside the net epoch; no allocation, no lock, no
//! sleep: one softc load, one policy-slot load, a reference (key_addref),
//! then ipsec4/6_process_packet, which consume the mbuf and the reference
//! on every path.
//!
//! Counters (C counts every drop as OERRORS): a packet that cannot be
//! sent now (interface down, not running, monitor, no tunnel, or looping)
//! counts OQDROPS, a bad packet (not IPv4/IPv6) or an IPsec output error
//! OERRORS, so `netstat -I ipsec0 -d` tells them apart; the softc's
//! `Drops` keeps each reason.
use core::ffi::c_int;

use super::pathmtu;
use super::softc::{Drops, Softc};
use crate::kpi::bpf::tap_af;
use crate::kpi::epoch::InEpoch;
use crate::kpi::if_handler::OurIfnet;
use crate::kpi::ifnet::{Counter, DrvFlags, IfFlags};
use crate::kpi::mbuf::Mbuf;
use crate::kpi::pmtu::send_too_big;
use crate::kpi::secpolicy::process_packet;
use if_ipsec::verdict::{output_admission, OutputCheck, OutputVerdict};
use sys_bindings::errno::{EAFNOSUPPORT, ENETDOWN};
use sys_bindings::mbuf::PACKET_TAG_IPSEC_OUT_DONE;

/// if_transmit of our interfaces (inlined into the trampoline: one call
/// level less per packet).
#[inline(always)]
pub fn transmit(ifp: OurIfnet<'_, Softc>, m: Mbuf, e: &InEpoch) -> Result<(), c_int> {
    let Some(sc) = ifp.softc(e) else {
        ifp.inc_counter(Counter::OQDrops, 1);
        return Err(ENETDOWN); // destroyed: C's `sc == NULL` case
    };
    let active = sc.policies.get(e);
    let (f, d) = (ifp.flags(), ifp.drv_flags());
    let check = OutputCheck {
        running: d.contains(DrvFlags::RUNNING),
        up: f.contains(IfFlags::UP),
        monitor: f.contains(IfFlags::MONITOR),
        tunnel: active.is_some(),
        first_byte: m.first_byte(),
        out_done_tag: m.has_tag(PACKET_TAG_IPSEC_OUT_DONE),
    };
    let inner = match output_admission(&check) {
        OutputVerdict::Send { inner } => inner,
        OutputVerdict::Drop(err) => return drop_out(&ifp, sc, &check, err.get()),
    };
    let (Some(sp), Some(dst)) = (
        active.and_then(|a| a.out_policy(inner)).cloned(),
        active.and_then(|a| a.dst.as_ref()),
    ) else {
        return drop_out(&ifp, sc, &check, ENETDOWN);
    };
    let mut m = m;
    let fib = u16::try_from(sc.fib.load(core::sync::atomic::Ordering::Relaxed)).unwrap_or(0);
    // link1: C's MTU handling (no clamping, no feedback).
    let link1 = f.contains(IfFlags::LINK1);
    pathmtu::clamp(&ifp, link1, &mut m);
    if let Some(mtu) = pathmtu::too_big(&m, link1, inner, dst, fib, &sc.path, e) {
        send_too_big(m, inner, mtu);
        return Ok(()); // consumed, as C's ipsec4_check_pmtu (EINPROGRESS)
    }
    m.set_fib(fib);
    tap_af(&ifp, u32::from(inner.af()), &m);
    ifp.inc_counter(Counter::OPackets, 1);
    ifp.inc_counter(Counter::OBytes, u64::from(m.pkt_len()));
    process_packet(m, sp, inner, e).inspect_err(|_| {
        ifp.inc_counter(Counter::OErrors, 1);
        Drops::bump(&sc.drops.out_ipsec);
    })
}

/// Count a dropped packet (the mbuf was dropped by the caller's move).
fn drop_out(
    ifp: &OurIfnet<'_, Softc>,
    sc: &Softc,
    c: &OutputCheck,
    err: c_int,
) -> Result<(), c_int> {
    let (counter, why) = match err {
        EAFNOSUPPORT => (Counter::OErrors, &sc.drops.out_af),
        _ if c.out_done_tag && c.running && c.up && c.tunnel && !c.monitor => {
            (Counter::OQDrops, &sc.drops.out_loop)
        }
        _ => (Counter::OQDrops, &sc.drops.out_down),
    };
    ifp.inc_counter(counter, 1);
    Drops::bump(why);
    Err(err)
}
