//! bpf(4) taps for a driver.
//!
//! Sources: FreeBSD 14.2 sys/net/bpf.h, sys/net/bpf.c, sys/net/dlt.h
//! (b66633d79ade).  All functions exported by the kernel (GENERIC has
//! `device bpf`; without it bpf.c still provides no-op stubs of the same
//! names).
//!
//! In 14.2 `BPF_MTAP2(ifp, d, l, m)` is a macro for
//! `bpf_mtap2_if(ifp, d, l, m)`, a real function that tests
//! `bpf_peers_present(ifp->if_bpf)` itself: use it and never read
//! `if_bpf`.  `bpf_peers_present(struct bpf_if *)` is a static inline over
//! the `struct bpf_if_ext` prefix (not importable); the exported
//! `bpf_peers_present_if(ifp)` is the IfAPI form, useful to skip building
//! the 4-byte DLT_NULL header when nobody listens.
//! `bpfattach` allocates with M_WAITOK (sleeps); `bpfdetach` must precede
//! `if_detach`/`if_free`, as in C if_ipsec's destroy.  Taps copy the data:
//! the mbuf stays the caller's.

use core::ffi::{c_uint, c_void};

use crate::ifnet::ifnet;
use crate::mbuf::mbuf;

/// `DLT_NULL` (sys/net/dlt.h): BSD loopback encapsulation, a 4-byte host
/// order address family before the packet.
pub const DLT_NULL: c_uint = 0;

extern "C" {
    /// `void bpfattach(struct ifnet *, u_int dlt, u_int hdrlen)`.  bpf.c;
    /// kernel.
    pub fn bpfattach(ifp: *mut ifnet, dlt: c_uint, hdrlen: c_uint);
    /// `void bpfdetach(struct ifnet *)`.  bpf.c; kernel.
    pub fn bpfdetach(ifp: *mut ifnet);
    /// `void bpf_mtap2_if(struct ifnet *, void *data, u_int dlen, struct
    /// mbuf *)`: tap `data` (the DLT header) followed by the chain.  bpf.c;
    /// kernel.
    pub fn bpf_mtap2_if(ifp: *mut ifnet, data: *mut c_void, dlen: c_uint, m: *mut mbuf);
    /// `bool bpf_peers_present_if(struct ifnet *)`.  bpf.c; kernel.
    pub fn bpf_peers_present_if(ifp: *mut ifnet) -> bool;
}
