//! Source-address change notifications for tunnel drivers
//! (`ip_encap_register_srcaddr`).
//!
//! Sources: FreeBSD 14.2 sys/netinet/ip_encap.h, sys/netinet/ip_encap.c
//! (b66633d79ade); built into the kernel (`netinet/ip_encap.c optional inet
//! | inet6`), exported.
//!
//! # Behaviour (ip_encap.c)
//! - The v4 and v6 lists are GLOBAL (not per vnet).  The callback runs from
//!   the `ifaddr_event_ext` event handler `srcaddr_change_event` inside the
//!   net epoch (`epoch_enter_preempt(net_epoch_preempt)`) with
//!   `(arg, ifa->ifa_addr, event)`, `event` = `IFADDR_EVENT_ADD` (0) or
//!   `IFADDR_EVENT_DEL` (1), in the vnet of the interface whose address
//!   changed (curvnet): it must not sleep and must look only at curvnet's
//!   state.
//! - `ip_encap_register_srcaddr(func, arg, mflags)`: NULL if `func` is NULL
//!   or the `malloc(mflags)` fails; if (`func`, `arg`) is already
//!   registered, returns the EXISTING cookie (no reference counting: one
//!   unregister removes it for both).  Inserted at the head.
//! - `ip_encap_unregister_srcaddr(cookie)`: `EINVAL` if unknown; else
//!   unlinks, then `epoch_wait_preempt(net_epoch_preempt)` (SLEEPS: never
//!   call inside the epoch) and frees; after return the callback is not
//!   running.

use core::ffi::{c_int, c_void};
use core::marker::{PhantomData, PhantomPinned};

use crate::net::sockaddr;

/// `struct srcaddrtab`: opaque registration cookie.
#[repr(C)]
pub struct srcaddrtab {
    _opaque: [u8; 0],
    _pin: PhantomData<(*mut u8, PhantomPinned)>,
}

/// `encap_srcaddr_t`: `void (*)(void *arg, const struct sockaddr *sa, int
/// event)`.
pub type encap_srcaddr_t = Option<unsafe extern "C" fn(*mut c_void, *const sockaddr, c_int)>;

/// `IFADDR_EVENT_ADD` (sys/net/if_var.h): address added.
pub const IFADDR_EVENT_ADD: c_int = 0;
/// `IFADDR_EVENT_DEL` (sys/net/if_var.h): address deleted.
pub const IFADDR_EVENT_DEL: c_int = 1;

extern "C" {
    /// `const struct srcaddrtab *ip_encap_register_srcaddr(encap_srcaddr_t,
    /// void *arg, int mflags)`.  ip_encap.c; kernel.
    pub fn ip_encap_register_srcaddr(
        func: encap_srcaddr_t,
        arg: *mut c_void,
        mflags: c_int,
    ) -> *const srcaddrtab;
    /// `const struct srcaddrtab *ip6_encap_register_srcaddr(...)`.
    /// ip_encap.c; kernel.
    pub fn ip6_encap_register_srcaddr(
        func: encap_srcaddr_t,
        arg: *mut c_void,
        mflags: c_int,
    ) -> *const srcaddrtab;
    /// `int ip_encap_unregister_srcaddr(const struct srcaddrtab *)`.
    /// ip_encap.c; kernel.
    pub fn ip_encap_unregister_srcaddr(cookie: *const srcaddrtab) -> c_int;
    /// `int ip6_encap_unregister_srcaddr(const struct srcaddrtab *)`.
    /// ip_encap.c; kernel.
    pub fn ip6_encap_unregister_srcaddr(cookie: *const srcaddrtab) -> c_int;
}
