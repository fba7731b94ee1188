//! MSS clamping and PMTU feedback on the packet paths (issue 12; the C
//! driver has neither: its ipsec_transmit hands every packet to
//! ipsec4/6_process_packet, and the kernel's own too-big check,
//! ipsec4_check_pmtu, runs only for policy-based IPsec in ip_output /
//! ip_forward, not for if_ipsec).
//!
//! Both run inside the net epoch with no lock and no allocation of ours:
//! the clamp first tests read-only whether the packet is a SYN at all, then
//! rewrites the first mbuf in place; the feedback compares the packet's
//! length with a per-interface figure, the largest inner packet that fits
//! (path MTU from the host cache or route, ipsec_get_pmtu's sources, minus
//! this tunnel's ESP overhead: from the SA book's transform of the
//! outbound SA, the worst case until one is known), recomputed at most
//! once a second or when the transform changes.  A packet that does not
//! fit goes to icmp_error / icmp6_error, which consume it.
use core::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, Ordering};

use crate::kpi::epoch::InEpoch;
use crate::kpi::ifnet::Ifnet;
use crate::kpi::mbuf::Mbuf;
use crate::kpi::pmtu::{path_mtu, ticks_hz};
use if_ipsec::addr::{Addr, Family};
use if_ipsec::mss::{self, Clamp, MAX_HEADERS};
use if_ipsec::overhead::{inner_mtu, Transform};

/// IPv6 minimum link MTU (RFC 8200 5): a smaller packet-too-big is
/// useless (hosts clamp to it), so below it the packet goes on and the
/// outer header is fragmented instead.
const IPV6_MMTU: u32 = 1280;
/// IPv4 minimum (RFC 791): below it, send on likewise.
const IPV4_MMTU: u32 = 68;

/// Per-interface path state, in the softc.
pub struct PathState {
    /// The outbound SA's transform, packed (see `pack`); 0: not known.
    xf: AtomicU32,
    /// The largest inner packet that fits the path with this tunnel's
    /// overhead (0: no path MTU known).
    fits: AtomicU32,
    /// `ticks` when `fits` was computed.
    fits_at: AtomicI32,
    /// Set when `fits` must be recomputed now (never computed yet, or the
    /// transform changed).
    stale: AtomicBool,
}

impl Default for PathState {
    fn default() -> PathState {
        PathState {
            xf: AtomicU32::new(0),
            fits: AtomicU32::new(0),
            fits_at: AtomicI32::new(0),
            stale: AtomicBool::new(true),
        }
    }
}

const KNOWN: u32 = 1 << 24;

fn pack(t: &Transform) -> u32 {
    KNOWN | u32::from(t.enc) | u32::from(t.auth) << 8 | u32::from(t.natt) << 16
}

fn unpack(v: u32) -> Option<Transform> {
    (v & KNOWN != 0).then_some(Transform {
        enc: v as u8,
        auth: (v >> 8) as u8,
        natt: v & (1 << 16) != 0,
    })
}

impl PathState {
    /// The SA book's view changed (link-state watcher, under the lock).
    pub fn set_transform(&self, t: Option<Transform>) {
        let v = t.as_ref().map_or(0, pack);
        if self.xf.swap(v, Ordering::Relaxed) != v {
            self.stale.store(true, Ordering::Relaxed);
        }
    }

    /// The largest inner packet that fits (0: no path MTU known, no route:
    /// cached too, so a tunnel without a route costs no lookup per packet),
    /// recomputed at most once a second (the host cache and the route are
    /// ipsec_get_pmtu's sources; a need-frag for the outer destination
    /// shows within a second) or when the transform changed.
    #[inline(always)]
    fn fits(&self, dst: &Addr, fib: u16, e: &InEpoch) -> u32 {
        let (now, hz) = ticks_hz();
        let age = now.wrapping_sub(self.fits_at.load(Ordering::Relaxed));
        let fits = self.fits.load(Ordering::Relaxed);
        if (0..hz.max(1)).contains(&age) && !self.stale.load(Ordering::Relaxed) {
            return fits;
        }
        // Two CPUs may both recompute: same answer, benign.
        self.stale.store(false, Ordering::Relaxed);
        let t = unpack(self.xf.load(Ordering::Relaxed));
        let pmtu = path_mtu(dst, fib, e);
        let fits = if pmtu == 0 {
            0
        } else {
            inner_mtu(dst.family(), t.as_ref(), pmtu)
        };
        self.fits.store(fits, Ordering::Relaxed);
        self.fits_at.store(now, Ordering::Relaxed);
        fits
    }
}

/// Lower the MSS of a SYN crossing `ifp` to its MTU's limit, unless
/// `link1` (C's MTU handling: no clamping, no feedback) is set.
#[inline]
pub fn clamp(ifp: &Ifnet, link1: bool, m: &mut Mbuf) {
    // Read-only test first: most packets are not SYNs.
    if link1 || !m.head(MAX_HEADERS).is_some_and(mss::is_syn) {
        return;
    }
    let partial = m.tcp_csum_partial();
    let Some(h) = m.head_mut(MAX_HEADERS) else {
        return; // shared or read-only storage: left alone
    };
    let _: Clamp = mss::clamp(h, ifp.mtu(), partial);
}

/// PMTU feedback (not with `link1`: C's MTU handling): `Some(mtu)` when
/// `m` may not be fragmented (IPv4 with DF, every IPv6 packet) and is
/// longer than the largest inner packet the path carries with this
/// tunnel's overhead, `mtu`; the caller then answers with
/// `pmtu::send_too_big` (C ipsec4/6_check_pmtu when forwarding; the
/// kernel's ICMP statistics count the reply).  Borrows the packet: the
/// common case costs a flag test and a compare.
#[inline(always)]
pub fn too_big(
    m: &Mbuf,
    link1: bool,
    inner: Family,
    dst: &Addr,
    fib: u16,
    st: &PathState,
    e: &InEpoch,
) -> Option<u32> {
    if link1 || (inner == Family::Inet && !m.ipv4_df()) {
        return None;
    }
    let fits = st.fits(dst, fib, e);
    let floor = match inner {
        Family::Inet => IPV4_MMTU,
        Family::Inet6 => IPV6_MMTU,
    };
    // Below the family's minimum no ICMP can help: send on (the outer
    // header fragments).
    (fits >= floor && m.pkt_len() > fits).then_some(fits)
}
