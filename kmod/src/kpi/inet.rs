//! Address questions the glue asks the network stack: is an address
//! local, IPv6 scope embedding, jail visibility, the creating process's FIB.
//!
//! FreeBSD 14.2 (b66633d79ade): netinet/in.c in_localip, netinet6/in6.c
//! in6_localip (both read curvnet's address hash: call inside the net
//! epoch), netinet6/scope6.c sa6_embedscope/sa6_recoverscope,
//! kern/kern_jail.c prison_if, sys/proc.h p_fibnum.
use super::epoch::InEpoch;
use super::thread::td_field;
use core::ffi::c_int;
use if_ipsec::addr::Addr;
use sys_bindings::net::{in6_addr, in_addr, sockaddr};
use sys_bindings::netinet::{in6_localip, in_localip, sa6_embedscope, sa6_recoverscope};
use sys_bindings::thread::{prison_if, P_FIBNUM_OFFSET, TD_PROC_OFFSET, TD_UCRED_OFFSET};

/// in_localip / in6_localip: is `a` an address of this vnet?
pub fn is_local(a: &Addr, _: &InEpoch) -> bool {
    match a {
        // SAFETY: plain value argument; inside the epoch as in.c requires.
        Addr::V4(b) => unsafe { in_localip(in_addr { s_addr: *b }) },
        Addr::V6 { addr, .. } => {
            let mut a6 = in6_addr { s6_addr: *addr };
            // SAFETY: a6 is a valid in6_addr on our stack, read only.
            unsafe { in6_localip(&mut a6) != 0 }
        }
    }
}

/// sa6_embedscope(sin6, 0) on an IPv6 address (IPv4 unchanged).
pub fn embed_scope(a: Addr) -> Result<Addr, c_int> {
    let Some(mut s) = a.to_sockaddr_in6() else {
        return Ok(a);
    };
    // SAFETY: s is a complete sockaddr_in6 on our stack.
    match unsafe { sa6_embedscope(&mut s, 0) } {
        0 => Ok(Addr::V6 {
            addr: s.sin6_addr.s6_addr,
            scope_id: s.sin6_scope_id,
        }),
        e => Err(e),
    }
}

/// sa6_recoverscope on an IPv6 address (IPv4 unchanged).
pub fn recover_scope(a: Addr) -> Result<Addr, c_int> {
    let Some(mut s) = a.to_sockaddr_in6() else {
        return Ok(a);
    };
    // SAFETY: as embed_scope.
    match unsafe { sa6_recoverscope(&mut s) } {
        0 => Ok(Addr::V6 {
            addr: s.sin6_addr.s6_addr,
            scope_id: s.sin6_scope_id,
        }),
        e => Err(e),
    }
}

/// prison_if(curthread->td_ucred, sa): may the caller see `a`?
pub fn prison_if_cur(a: &Addr) -> Result<(), c_int> {
    let mut sa = AlignedSa { bytes: [0u8; 28] };
    if let Some(s) = a.to_sockaddr_in() {
        copy_into(&mut sa.bytes, zerocopy::IntoBytes::as_bytes(&s));
    } else if let Some(s) = a.to_sockaddr_in6() {
        copy_into(&mut sa.bytes, zerocopy::IntoBytes::as_bytes(&s));
    }
    let cred = td_field(TD_UCRED_OFFSET);
    let p = core::ptr::from_mut(&mut sa).cast::<sockaddr>();
    // SAFETY: p points at 28 initialised, 4-aligned bytes holding a
    // complete sockaddr_in or sockaddr_in6; cred is curthread's live ucred;
    // prison_if only reads both.
    match unsafe { prison_if(cred as *mut _, p) } {
        0 => Ok(()),
        e => Err(e),
    }
}

fn copy_into(dst: &mut [u8], src: &[u8]) {
    dst.iter_mut().zip(src).for_each(|(d, b)| *d = *b);
}

#[repr(C, align(4))]
struct AlignedSa {
    bytes: [u8; 28],
}

/// curthread->td_proc->p_fibnum (C ipsec_clone_create's initial fib).
pub fn proc_fibnum() -> u32 {
    let proc_ = td_field(TD_PROC_OFFSET);
    if proc_ == 0 {
        return 0;
    }
    // SAFETY: td_proc of the current thread is live; p_fibnum is an int
    // at the pinned offset.
    let f = unsafe { ((proc_ + P_FIBNUM_OFFSET) as *const c_int).read() };
    u32::try_from(f).unwrap_or(0)
}
