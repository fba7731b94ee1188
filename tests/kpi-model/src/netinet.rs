//! Local addresses, source-address events, IPv6 scope helpers, jails,
//! time: sys/netinet/ip_encap.c, in.c, in6.c, scope6.c, kern_jail.c,
//! kern_tc.c (FreeBSD 14.2 b66633d79ade).
//!
//! - `ip_encap_register_srcaddr(func, arg, mflags)` allocates with
//!   `mflags` (NULL on failure) and links the callback; callbacks run on
//!   ifaddr add/delete events (`srcaddr_change_event`) inside
//!   NET_EPOCH_ENTER with (arg, ifa_addr, IFADDR_EVENT_ADD/DEL);
//!   `ip_encap_unregister_srcaddr` unlinks, NET_EPOCH_WAIT()s (sleeps)
//!   and frees; ENOENT for an unknown cookie.  Same for ip6_.
//! - `in_localip(in_addr)` / `in6_localip(in6_addr *)`: is the address
//!   configured on an interface of curvnet.
//! - `sa6_embedscope` / `sa6_recoverscope` (scope6.c): for link-local and
//!   interface-local multicast addresses, zone id = interface index
//!   (ENXIO when no such interface), embedded in s6_addr16[1].
//! - `prison_if(cred, sa)`: 0 for unjailed credentials (the model's).
use crate::check::{violation, ViolationKind};
use std::collections::HashSet;
use std::ffi::{c_int, c_void};
use std::net::IpAddr;
use std::sync::Mutex;
use sys_bindings::net::{sockaddr, sockaddr_in, sockaddr_in6};

const ENOENT: c_int = 2;
const ENXIO: c_int = 6;

/// `time_t time_second` (sys/kern/kern_tc.c).
#[no_mangle]
pub static mut time_second: i64 = 1_700_000_000;

struct Srcaddr {
    cookie: usize,
    v6: bool,
    func: usize,
    arg: usize,
}

#[derive(Default)]
struct Net {
    cbs: Vec<Srcaddr>,
    /// (vnet, address)
    local: HashSet<(usize, IpAddr)>,
    jailed: bool,
}

static NET: Mutex<Option<Net>> = Mutex::new(None);

fn with<R>(f: impl FnOnce(&mut Net) -> R) -> R {
    crate::malloc::untracked(|| {
        f(NET
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_or_insert_with(Net::default))
    })
}

pub(crate) fn reset() {
    with(|n| *n = Net::default());
}

pub(crate) fn leaks() -> Vec<crate::Violation> {
    with(|n| {
        n.cbs
            .iter()
            .map(|c| crate::Violation {
                kind: ViolationKind::Malloc,
                what: format!("srcaddr callback {:#x} still registered", c.cookie),
            })
            .collect()
    })
}

/// Registered srcaddr callbacks (v4, v6).
pub fn srcaddr_count() -> (usize, usize) {
    with(|n| {
        (
            n.cbs.iter().filter(|c| !c.v6).count(),
            n.cbs.iter().filter(|c| c.v6).count(),
        )
    })
}

fn register(v6: bool, func: usize, arg: usize, mflags: c_int) -> *const c_void {
    let Some(p) = crate::malloc::kmalloc(32, "encap_export_host", mflags) else {
        return std::ptr::null();
    };
    crate::malloc::kfree(p, "encap_export_host"); // kept in the model's table
    let cookie = crate::malloc::untracked(|| Box::into_raw(Box::new(0u64))) as usize;
    with(|n| {
        n.cbs.push(Srcaddr {
            cookie,
            v6,
            func,
            arg,
        })
    });
    cookie as *const c_void
}

fn unregister(v6: bool, cookie: *const c_void) -> c_int {
    crate::epoch::may_sleep("ip_encap_unregister_srcaddr");
    let found = with(|n| {
        let before = n.cbs.len();
        n.cbs
            .retain(|c| !(c.cookie == cookie as usize && c.v6 == v6));
        before != n.cbs.len()
    });
    if !found {
        return ENOENT;
    }
    crate::epoch::epoch_wait_preempt(crate::epoch::net_epoch_preempt.0.cast());
    0
}

/// ip_encap.c `ip_encap_register_srcaddr`.
#[no_mangle]
pub extern "C" fn ip_encap_register_srcaddr(
    func: usize,
    arg: *mut c_void,
    mflags: c_int,
) -> *const c_void {
    let _model = crate::malloc::Internal::enter();
    register(false, func, arg as usize, mflags)
}

/// ip6_encap.c `ip6_encap_register_srcaddr`.
#[no_mangle]
pub extern "C" fn ip6_encap_register_srcaddr(
    func: usize,
    arg: *mut c_void,
    mflags: c_int,
) -> *const c_void {
    let _model = crate::malloc::Internal::enter();
    register(true, func, arg as usize, mflags)
}

/// ip_encap.c `ip_encap_unregister_srcaddr`.
#[no_mangle]
pub extern "C" fn ip_encap_unregister_srcaddr(cookie: *const c_void) -> c_int {
    let _model = crate::malloc::Internal::enter();
    unregister(false, cookie)
}

/// ip6_encap.c `ip6_encap_unregister_srcaddr`.
#[no_mangle]
pub extern "C" fn ip6_encap_unregister_srcaddr(cookie: *const c_void) -> c_int {
    let _model = crate::malloc::Internal::enter();
    unregister(true, cookie)
}

/// `sockaddr_in`/`sockaddr_in6` bytes for an address.
pub fn sockaddr_of(a: IpAddr) -> Vec<u8> {
    match a {
        IpAddr::V4(v4) => {
            let s = sockaddr_in {
                sin_len: 16,
                sin_family: 2,
                sin_addr: sys_bindings::net::in_addr {
                    s_addr: v4.octets(),
                },
                ..Default::default()
            };
            zerocopy_bytes(&s)
        }
        IpAddr::V6(v6) => {
            let s = sockaddr_in6 {
                sin6_len: 28,
                sin6_family: 28,
                sin6_addr: sys_bindings::net::in6_addr {
                    s6_addr: v6.octets(),
                },
                ..Default::default()
            };
            zerocopy_bytes(&s)
        }
    }
}

fn zerocopy_bytes<T>(t: &T) -> Vec<u8> {
    // SAFETY: plain C structs without padding bytes of concern.
    unsafe { std::slice::from_raw_parts((t as *const T).cast::<u8>(), std::mem::size_of::<T>()) }
        .to_vec()
}

/// Add (`add`) or delete a local address in the current vnet and fire
/// the srcaddr callbacks as srcaddr_change_event does.
pub fn addr_event(a: IpAddr, add: bool) {
    let v = crate::vnet::curvnet() as usize;
    with(|n| {
        if add {
            n.local.insert((v, a));
        } else {
            n.local.remove(&(v, a));
        }
    });
    let sa = crate::malloc::untracked(|| sockaddr_of(a));
    let v6 = a.is_ipv6();
    let cbs: Vec<(usize, usize)> = with(|n| {
        n.cbs
            .iter()
            .filter(|c| c.v6 == v6)
            .map(|c| (c.func, c.arg))
            .collect()
    });
    let ev = if add { 0 } else { 1 };
    crate::epoch::with_section(|| {
        for (f, arg) in cbs {
            // SAFETY: an encap_srcaddr_t of the module.
            let f: unsafe extern "C" fn(*mut c_void, *const sockaddr, c_int) =
                unsafe { std::mem::transmute(f) };
            // SAFETY: called as srcaddr_change_event does.
            crate::malloc::in_module(|| unsafe { f(arg as *mut c_void, sa.as_ptr().cast(), ev) });
        }
    });
}

fn is_local(a: IpAddr) -> bool {
    let v = crate::vnet::curvnet() as usize;
    with(|n| n.local.contains(&(v, a)))
}

/// in.c `in_localip`.
#[no_mangle]
pub extern "C" fn in_localip(a: sys_bindings::net::in_addr) -> bool {
    let _model = crate::malloc::Internal::enter();
    crate::epoch::assert_in("in_localip");
    is_local(IpAddr::from(a.s_addr))
}

/// in6.c `in6_localip`.
#[no_mangle]
pub extern "C" fn in6_localip(a: *mut [u8; 16]) -> c_int {
    let _model = crate::malloc::Internal::enter();
    // SAFETY: caller's in6_addr.
    c_int::from(is_local(IpAddr::from(unsafe { *a })))
}

fn scoped(a: &[u8; 16]) -> bool {
    (a[0] == 0xfe && a[1] & 0xc0 == 0x80)
        || (a[0] == 0xff && (a[1] & 0x0f == 0x02 || a[1] & 0x0f == 0x01))
}

/// scope6.c `sa6_embedscope` (no default zone configured).
#[no_mangle]
pub extern "C" fn sa6_embedscope(sin6: *mut sockaddr_in6, _defaultok: c_int) -> c_int {
    let _model = crate::malloc::Internal::enter();
    // SAFETY: caller's sockaddr_in6.
    let s = unsafe { &mut *sin6 };
    let zone = s.sin6_scope_id;
    if zone != 0 && scoped(&s.sin6_addr.s6_addr) {
        if crate::ifnet::by_index(zone).is_none() {
            return ENXIO;
        }
        let z = (zone & 0xffff) as u16;
        s.sin6_addr.s6_addr[2..4].copy_from_slice(&z.to_be_bytes());
        s.sin6_scope_id = 0;
    }
    0
}

/// scope6.c `sa6_recoverscope`.
#[no_mangle]
pub extern "C" fn sa6_recoverscope(sin6: *mut sockaddr_in6) -> c_int {
    let _model = crate::malloc::Internal::enter();
    // SAFETY: caller's sockaddr_in6.
    let s = unsafe { &mut *sin6 };
    if scoped(&s.sin6_addr.s6_addr) {
        let zone = u32::from(u16::from_be_bytes([
            s.sin6_addr.s6_addr[2],
            s.sin6_addr.s6_addr[3],
        ]));
        if zone != 0 {
            if crate::ifnet::by_index(zone).is_none() {
                return ENXIO;
            }
            s.sin6_addr.s6_addr[2] = 0;
            s.sin6_addr.s6_addr[3] = 0;
            s.sin6_scope_id = zone;
        }
    }
    0
}

/// Make prison_if refuse every address (a jailed caller without it).
pub fn set_jailed(on: bool) {
    with(|n| n.jailed = on);
}

/// kern_jail.c `prison_if`.
#[no_mangle]
pub extern "C" fn prison_if(cred: *mut c_void, sa: *const sockaddr) -> c_int {
    let _model = crate::malloc::Internal::enter();
    if sa.is_null() || cred as usize != crate::thread::fake_ucred() {
        violation(
            ViolationKind::BadArgument,
            "prison_if: NULL address or not a credential",
        );
    }
    if with(|n| n.jailed) {
        49 // EADDRNOTAVAIL
    } else {
        0
    }
}
