//! IPv4/IPv6 helpers the ioctl, srcaddr and policy code call, and two
//! kernel variables.
//!
//! Sources: FreeBSD 14.2 (b66633d79ade) sys/netinet/in.h + sys/netinet/in.c
//! (`in_localip`), sys/netinet6/in6.h + sys/netinet6/in6.c (`in6_localip`),
//! sys/netinet6/scope6_var.h + sys/netinet6/scope6.c (`sa6_embedscope`,
//! `sa6_recoverscope`), sys/net/route.h + sys/net/route/route_tables.c
//! (`rt_numfibs`), sys/sys/time.h + sys/kern/kern_tc.c (`time_second`).
//! All in the kernel (GENERIC has INET and INET6), exported.
//!
//! # Note the differences
//! - `in_localip(struct in_addr)` takes the address BY VALUE (a 4-byte
//!   struct, passed in a register; B's [`in_addr`] has the same size,
//!   alignment and SysV class) and returns `bool`; it walks the address
//!   hash of curvnet without locking: call it inside the net epoch.
//! - `in6_localip(struct in6_addr *)` takes a POINTER, returns `int`
//!   (0/1) and takes the IN6 ifaddr rmlock itself (no epoch needed); the
//!   address must be in embedded-scope (kernel) form.
//! - `sa6_embedscope(sin6, defaultok)`: for link-local/interface-local
//!   addresses moves `sin6_scope_id` into `s6_addr16[1]` (network order)
//!   and zeroes `sin6_scope_id`; `ENXIO` if no interface has that index.
//!   C if_ipsec calls it with `defaultok = 0` (`V_ip6_use_defzone` is not
//!   consulted there).  Enters the net epoch itself.
//! - `sa6_recoverscope(sin6)`: the inverse, before copying out; `ENXIO` if
//!   the embedded zone names no interface.
//! - `rt_numfibs` is NOT a plain global in 14.2: route.h defines
//!   `#define rt_numfibs V_rt_numfibs` and `V_rt_numfibs` =
//!   `VNET(_rt_numfibs)`, a `uint32_t` VNET variable (kernel symbol
//!   `vnet_entry__rt_numfibs`).  Read it as
//!   `*(curvnet->vnet_data_base + &vnet_entry__rt_numfibs) as *const u32`.
//! - `time_second` is `volatile time_t` (i64): read it with a volatile
//!   load.

use core::ffi::c_int;

use crate::net::{in6_addr, in_addr, sockaddr_in6};

extern "C" {
    /// `bool in_localip(struct in_addr)`.  netinet/in.c; kernel.
    pub fn in_localip(addr: in_addr) -> bool;
    /// `int in6_localip(struct in6_addr *)`.  netinet6/in6.c; kernel.
    pub fn in6_localip(addr: *mut in6_addr) -> c_int;
    /// `int sa6_embedscope(struct sockaddr_in6 *, int defaultok)`.
    /// netinet6/scope6.c; kernel.
    pub fn sa6_embedscope(sin6: *mut sockaddr_in6, defaultok: c_int) -> c_int;
    /// `int sa6_recoverscope(struct sockaddr_in6 *)`.  netinet6/scope6.c;
    /// kernel.
    pub fn sa6_recoverscope(sin6: *mut sockaddr_in6) -> c_int;

    /// `VNET_DEFINE(uint32_t, _rt_numfibs)` master copy in `set_vnet`
    /// (net/route/route_tables.c:86); kernel.  Address only: add it to
    /// `curvnet->vnet_data_base` (see [`crate::vnet`]).
    pub static vnet_entry__rt_numfibs: u32;

    /// `volatile time_t time_second` (kern/kern_tc.c:104); kernel.
    pub static time_second: i64;
}
