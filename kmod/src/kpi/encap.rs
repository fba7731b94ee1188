//! Source-address events and local-address checks (RUNNING follows
//! whether the tunnel's local address is configured).
//!
//! FreeBSD 14.2 (b66633d79ade) sys/netinet/ip_encap.c, ip6_encap.c:
//! `ip_encap_register_srcaddr(func, arg, mflags)` (NULL on allocation
//! failure), callbacks run on interface address add/delete inside
//! NET_EPOCH_ENTER with the address and IFADDR_EVENT_ADD/DEL;
//! `ip_encap_unregister_srcaddr` unlinks, waits for the epoch and frees.
//! (is_local for in_localip/in6_localip is in kpi::inet.)
use super::epoch::{assume_in_epoch, InEpoch, Sleepable};
use core::ffi::{c_int, c_void};
use if_ipsec::addr::Addr;
use sys_bindings::encap::{
    ip6_encap_register_srcaddr, ip6_encap_unregister_srcaddr, ip_encap_register_srcaddr,
    ip_encap_unregister_srcaddr, srcaddrtab, IFADDR_EVENT_ADD,
};
use sys_bindings::errno::ENOMEM;
use sys_bindings::kern::malloc::M_WAITOK;
use sys_bindings::net::{sockaddr, sockaddr_in, sockaddr_in6};

/// Receives source-address events.
pub trait SrcaddrHandler: 'static {
    /// `addr` was added (`true`) to or removed from an interface.
    fn event(addr: Addr, added: bool, e: &InEpoch);
}

fn parse(sa: *const sockaddr) -> Option<Addr> {
    // SAFETY: the kernel passes an ifaddr's sockaddr (or NULL).
    let fam = unsafe { sa.as_ref() }?.sa_family;
    match fam {
        2 => {
            // SAFETY: AF_INET sockaddr.
            let s = unsafe { &*sa.cast::<sockaddr_in>() };
            Some(Addr::V4(s.sin_addr.s_addr))
        }
        28 => {
            // SAFETY: AF_INET6 sockaddr.
            let s = unsafe { &*sa.cast::<sockaddr_in6>() };
            Some(Addr::V6 {
                addr: s.sin6_addr.s6_addr,
                scope_id: s.sin6_scope_id,
            })
        }
        _ => None,
    }
}

unsafe extern "C" fn srcaddr_tramp<H: SrcaddrHandler>(
    _arg: *mut c_void,
    sa: *const sockaddr,
    event: c_int,
) {
    if let Some(a) = parse(sa) {
        // SAFETY: srcaddr_change_event calls us inside NET_EPOCH_ENTER.
        let e = unsafe { assume_in_epoch() };
        H::event(a, event == IFADDR_EVENT_ADD, &e);
    }
}

/// A registered srcaddr callback (v4 or v6); unregistered on drop
/// (which waits for the epoch: sleepable context only).
pub struct SrcaddrReg {
    cookie: *const srcaddrtab,
    v6: bool,
}

// SAFETY: a registration cookie, usable from any thread.
unsafe impl Send for SrcaddrReg {}
// SAFETY: no shared-reference operations.
unsafe impl Sync for SrcaddrReg {}

impl SrcaddrReg {
    /// ip_encap_register_srcaddr / ip6_ (M_WAITOK).
    pub fn register<H: SrcaddrHandler>(v6: bool, _: &mut Sleepable) -> Result<Self, c_int> {
        let f =
            Some(srcaddr_tramp::<H> as unsafe extern "C" fn(*mut c_void, *const sockaddr, c_int));
        // SAFETY: a callback valid for as long as the registration.
        let cookie = unsafe {
            if v6 {
                ip6_encap_register_srcaddr(f, core::ptr::null_mut(), M_WAITOK)
            } else {
                ip_encap_register_srcaddr(f, core::ptr::null_mut(), M_WAITOK)
            }
        };
        if cookie.is_null() {
            return Err(ENOMEM);
        }
        Ok(Self { cookie, v6 })
    }
}

impl Drop for SrcaddrReg {
    fn drop(&mut self) {
        // SAFETY: registered by us, unregistered once.
        unsafe {
            if self.v6 {
                ip6_encap_unregister_srcaddr(self.cookie);
            } else {
                ip_encap_unregister_srcaddr(self.cookie);
            }
        }
    }
}
