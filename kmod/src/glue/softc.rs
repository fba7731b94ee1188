//! Per-interface state the packet paths read (C: `struct ipsec_softc`,
//! FreeBSD 14.2 sys/net/if_ipsec.c, b66633d79ade).  Writer-side state
//! (tunnel, reqid, units) lives in the core's `Vnet`; the softc holds only
//! what output needs without a lookup: the registered policies (with the
//! outer destination), the tunnel fib, and the path-MTU state.
use core::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};

use super::pathmtu::PathState;
use crate::kpi::epoch_slot::Slot;
use crate::kpi::secpolicy::Registered;
use crate::kpi::vnet::VnetHandle;
use if_ipsec::addr::{Addr, Family};
use if_ipsec::policy::{Dir, PolicySet, SPCOUNT};
use if_ipsec::tables::IfHandle;

/// The policies registered for the current tunnel, and what they are.
pub struct Active {
    /// The `secpolicy`s, registered in the ifnet-scope SPD.
    pub reg: Registered<SPCOUNT>,
    /// Index in `reg` of the outbound policy for an IPv4 / IPv6 inner
    /// packet (C ipsec_getpolicy), computed once per configuration so
    /// output does not search the set per packet.
    out: [Option<usize>; 2],
    /// The outer destination (the tunnel's remote end), for the path MTU.
    pub dst: Option<Addr>,
}

impl Active {
    /// The registered set described by `set`.
    pub fn new(set: PolicySet, reg: Registered<SPCOUNT>) -> Active {
        let out = [
            set.slot(Dir::Out, Family::Inet),
            set.slot(Dir::Out, Family::Inet6),
        ];
        let dst = set
            .get(Dir::Out, Family::Inet)
            .or_else(|| set.get(Dir::Out, Family::Inet6))
            .map(|s| s.sa_dst);
        Active { reg, out, dst }
    }

    /// The outbound policy for `inner` (`set.slot(Dir::Out, inner)` in
    /// `reg`).
    #[inline]
    pub fn out_policy(&self, inner: Family) -> Option<&crate::kpi::secpolicy::SpRef> {
        let i = match inner {
            Family::Inet => self.out[0],
            Family::Inet6 => self.out[1],
        };
        self.reg.get(i?)
    }
}

/// Why output packets were dropped (C counts none of these separately;
/// input drops are IQDROPS on the interface: the input path reaches the
/// ifnet, not the softc).
#[derive(Default)]
pub struct Drops {
    /// Output: not RUNNING/UP, MONITOR, or no tunnel (ENETDOWN).
    pub out_down: AtomicU64,
    /// Output: not IPv4/IPv6 (EAFNOSUPPORT).
    pub out_af: AtomicU64,
    /// Output: PACKET_TAG_IPSEC_OUT_DONE (a loop).
    pub out_loop: AtomicU64,
    /// Output: ipsec4/6_process_packet failed.
    pub out_ipsec: AtomicU64,
}

impl Drops {
    /// Count one.
    pub fn bump(c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }
}

/// One interface's softc.
pub struct Softc {
    /// The core's handle (the unit: unique among ours in a VNET).
    pub handle: IfHandle,
    /// The VNET whose tables and policies hold the interface (where it
    /// was created, or moved to: if_reassign updates it under the lock).
    vnet: AtomicUsize,
    /// Tunnel fib (SIOCSTUNFIB; initially the creator's p_fibnum).
    pub fib: AtomicU32,
    /// Registered policies, epoch-published for output.
    pub policies: Slot<Active>,
    /// Drop reasons.
    pub drops: Drops,
    /// MSS clamping and PMTU feedback state (issue 12).
    pub path: PathState,
}

impl Softc {
    /// A softc without tunnel.
    pub fn new(handle: IfHandle, vnet: VnetHandle, fib: u32) -> Softc {
        Softc {
            handle,
            vnet: AtomicUsize::new(vnet.addr()),
            fib: AtomicU32::new(fib),
            policies: Slot::null(),
            drops: Drops::default(),
            path: PathState::default(),
        }
    }

    /// Its VNET (see the field).
    pub fn vnet(&self) -> Option<VnetHandle> {
        VnetHandle::from_addr(self.vnet.load(Ordering::Acquire))
    }

    /// Record a move (if_reassign, under the configuration lock).
    pub fn set_vnet(&self, v: VnetHandle) {
        self.vnet.store(v.addr(), Ordering::Release);
    }

    /// No VNET holds it any more (its record left, its policies are
    /// withdrawn): what remains is to destroy it.  Under the lock.
    pub fn clear_vnet(&self) {
        self.vnet.store(0, Ordering::Release);
    }
}
