//! Path MTU and ICMP "too big": sys/netinet/tcp_hostcache.c
//! (`tcp_hc_getmtu`), tcp_subr.c (`tcp_maxmtu`, `tcp_maxmtu6`),
//! ip_icmp.c (`icmp_error`, `badport_bandlim`), netinet6/icmp6.c
//! (`icmp6_error`), kern_clock.c / subr_param.c (`ticks`, `hz`); FreeBSD
//! 14.2 b66633d79ade.
//!
//! - `tcp_hc_getmtu`: the host cache's MTU for the foreign address, 0 if
//!   none (tests set entries with [`set_hostcache`]).
//! - `tcp_maxmtu(6)`: min(route MTU, interface MTU) of the route to the
//!   foreign address in `inc_fibnum`; 0 without a route.  The model has
//!   one route per destination ([`set_route_mtu`]), default 1500, and
//!   asserts the net epoch as the kernel's NET_EPOCH_ASSERT in
//!   fib4_lookup does.
//! - `icmp_error` / `icmp6_error` CONSUME the mbuf (freed as by them);
//!   the model logs (type, code, mtu, quoted packet) for the test.
//! - `badport_bandlim(which)`: 0 (allowed) unless [`set_bandlim`] says
//!   the limit is reached (-1, as the kernel).
use crate::mbuf::{bytes, check_live, free_chain};
use std::collections::HashMap;
use std::ffi::{c_int, c_void};
use std::net::IpAddr;
use std::sync::Mutex;
use sys_bindings::mbuf::mbuf;
use sys_bindings::pmtu::{in_conninfo, INC_ISIPV6};

/// `volatile int ticks` (advanced by tests with [`advance_ticks`]).
#[no_mangle]
pub static mut ticks: c_int = 1;
/// `int hz`.
#[no_mangle]
pub static mut hz: c_int = 1000;

/// One ICMP error the stack was asked to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IcmpSent {
    /// 4 or 6.
    pub v: u8,
    pub ty: c_int,
    pub code: c_int,
    /// The MTU / param.
    pub mtu: c_int,
    /// The packet it answers.
    pub quoted: Vec<u8>,
}

#[derive(Default)]
struct Pm {
    routes: HashMap<IpAddr, u32>,
    hc: HashMap<IpAddr, u32>,
    sent: Vec<IcmpSent>,
    limited: bool,
}

static PM: Mutex<Option<Pm>> = Mutex::new(None);

fn with<R>(f: impl FnOnce(&mut Pm) -> R) -> R {
    crate::malloc::untracked(|| {
        f(PM.lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_or_insert_with(Pm::default))
    })
}

pub(crate) fn reset() {
    with(|p| *p = Pm::default());
}

/// The route MTU to `dst` (default 1500; 0: no route).
pub fn set_route_mtu(dst: IpAddr, mtu: u32) {
    with(|p| p.routes.insert(dst, mtu));
}

/// A host-cache MTU for `dst` (as after an ICMP need-frag for it).
pub fn set_hostcache(dst: IpAddr, mtu: u32) {
    with(|p| p.hc.insert(dst, mtu));
}

/// The unreach limiter is (not) over its limit.
pub fn set_bandlim(over: bool) {
    with(|p| p.limited = over);
}

/// Let `n` ticks pass.
pub fn advance_ticks(n: c_int) {
    // SAFETY: tests are single-threaded around the model clock.
    unsafe { ticks = ticks.wrapping_add(n) };
}

/// ICMP errors sent so far (and forget them).
pub fn take_sent() -> Vec<IcmpSent> {
    with(|p| std::mem::take(&mut p.sent))
}

fn faddr(inc: *const in_conninfo) -> IpAddr {
    // SAFETY: caller's in_conninfo.
    let inc = unsafe { &*inc };
    let a = inc.inc_ie.ie_dependfaddr;
    if inc.inc_flags & INC_ISIPV6 != 0 {
        IpAddr::from(a)
    } else {
        IpAddr::from([a[12], a[13], a[14], a[15]])
    }
}

/// tcp_hostcache.c `tcp_hc_getmtu`.
#[no_mangle]
pub extern "C" fn tcp_hc_getmtu(inc: *mut in_conninfo) -> u32 {
    let _model = crate::malloc::Internal::enter();
    let a = faddr(inc);
    with(|p| p.hc.get(&a).copied().unwrap_or(0))
}

fn maxmtu(inc: *mut in_conninfo, kpi: &str) -> u32 {
    let _model = crate::malloc::Internal::enter();
    crate::epoch::assert_in(kpi);
    let a = faddr(inc);
    with(|p| p.routes.get(&a).copied().unwrap_or(1500))
}

/// tcp_subr.c `tcp_maxmtu`.
#[no_mangle]
pub extern "C" fn tcp_maxmtu(inc: *mut in_conninfo, _cap: *mut c_void) -> u32 {
    maxmtu(inc, "tcp_maxmtu")
}

/// tcp_subr.c `tcp_maxmtu6`.
#[no_mangle]
pub extern "C" fn tcp_maxmtu6(inc: *mut in_conninfo, _cap: *mut c_void) -> u32 {
    maxmtu(inc, "tcp_maxmtu6")
}

fn sent(v: u8, m: *mut mbuf, ty: c_int, code: c_int, mtu: c_int, kpi: &'static str) {
    let _model = crate::malloc::Internal::enter();
    if !check_live(m, kpi) {
        return;
    }
    let quoted = bytes(m).unwrap_or_default();
    with(|p| {
        p.sent.push(IcmpSent {
            v,
            ty,
            code,
            mtu,
            quoted,
        })
    });
    free_chain(m, kpi);
}

/// ip_icmp.c `icmp_error` (consumes `m`).
#[no_mangle]
pub extern "C" fn icmp_error(m: *mut mbuf, ty: c_int, code: c_int, _dest: u32, mtu: c_int) {
    sent(4, m, ty, code, mtu, "icmp_error");
}

/// icmp6.c `icmp6_error` (consumes `m`).
#[no_mangle]
pub extern "C" fn icmp6_error(m: *mut mbuf, ty: c_int, code: c_int, param: c_int) {
    sent(6, m, ty, code, param, "icmp6_error");
}

/// ip_icmp.c `badport_bandlim`.
#[no_mangle]
pub extern "C" fn badport_bandlim(_which: c_int) -> c_int {
    if with(|p| p.limited) {
        -1
    } else {
        0
    }
}
