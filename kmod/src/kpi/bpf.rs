//! bpf(4) taps of our interfaces.
//!
//! FreeBSD 14.2 sys/net/bpf.h, sys/net/bpf.c (b66633d79ade): C if_ipsec
//! attaches with `bpfattach(ifp, DLT_NULL, sizeof(uint32_t))` and taps with
//! `BPF_MTAP2(ifp, &af, sizeof(af), m)`, which in 14.2 is
//! `bpf_mtap2_if(ifp, ...)` (it checks for listeners itself);
//! `bpf_peers_present_if` lets us skip building the header.
use super::epoch::Sleepable;
use super::ifnet::{Ifnet, IfnetOwner};
use super::mbuf::Mbuf;
use core::ffi::c_void;
use sys_bindings::bpf::{bpf_mtap2_if, bpf_peers_present_if, bpfattach, bpfdetach, DLT_NULL};
use sys_bindings::ifnet::if_t;

/// bpfattach(ifp, DLT_NULL, 4): the 4-byte address family header of
/// if_ipsec/gif/lo.  M_WAITOK inside, hence the token.
pub fn attach_dlt_null<S: Send + Sync + 'static>(ifp: &IfnetOwner<S>, _: &mut Sleepable) {
    // SAFETY: an ifnet we own; bpfdetach happens in IfnetOwner::destroy.
    unsafe { bpfattach(ifp.as_ptr(), DLT_NULL, 4) };
}

/// bpfdetach(ifp) (a no-op when nothing is attached).
///
/// # Safety
/// `ifp` must be a valid ifnet of ours being destroyed.
pub(crate) unsafe fn detach_raw(ifp: if_t) {
    // SAFETY: caller.
    unsafe { bpfdetach(ifp) };
}

/// BPF_MTAP2(ifp, &af, 4, m): show the packet to listeners with the
/// DLT_NULL header (the address family in host byte order).
#[inline(always)]
pub fn tap_af(ifp: &Ifnet, af: u32, m: &Mbuf) {
    // SAFETY: valid ifnet; bpf_peers_present_if only reads it.
    if !unsafe { bpf_peers_present_if(ifp.as_ptr()) } {
        return;
    }
    let mut hdr = af;
    // SAFETY: hdr is 4 readable bytes on our stack; the mbuf is ours and
    // bpf only reads it during the call.
    unsafe {
        bpf_mtap2_if(
            ifp.as_ptr(),
            core::ptr::from_mut(&mut hdr).cast::<c_void>(),
            4,
            m.as_ptr(),
        )
    };
}
