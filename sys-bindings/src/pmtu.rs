//! Path MTU and ICMP "too big" (issue 12: PMTU feedback through the
//! tunnel), and the tick clock that paces the path-MTU cache.
//!
//! Sources: FreeBSD 14.2 (b66633d79ade), as installed in the 14.2
//! sysroot: netinet/in_pcb.h (`struct in_conninfo`, `in_endpoints`,
//! `INC_ISIPV6`), netinet/tcp_var.h (`tcp_hc_getmtu`, `tcp_maxmtu`,
//! `tcp_maxmtu6`), netinet/ip_icmp.h (`icmp_error`, `ICMP_UNREACH*`),
//! netinet/icmp6.h (`icmp6_error`, `ICMP6_PACKET_TOO_BIG`),
//! netinet/icmp_var.h (`badport_bandlim`, `BANDLIM_ICMP_UNREACH`),
//! sys/kernel.h (`ticks`, `hz`).  All in the kernel (GENERIC: INET,
//! INET6), exported.
//!
//! # Note the differences
//! - `tcp_hc_getmtu` reads the TCP host cache (under SMR in 14.x: no
//!   lock, callable in the net epoch), where ICMP need-frag / too-big for
//!   the outer destination land (tcp_ctlinput → tcp_hc_updatemtu); 0 if
//!   none.  `tcp_maxmtu`/`tcp_maxmtu6` look the route up in
//!   `inc_fibnum` and return min(route MTU, interface MTU), 0 without a
//!   route.  ipsec_output.c's ipsec_get_pmtu uses the same two, in that
//!   order.
//! - `icmp_error` and `icmp6_error` CONSUME the mbuf (they copy what they
//!   quote and free the original) and drop silently what RFC 1812 forbids
//!   answering (fragments, multicast, M_DECRYPTED packets, ICMP errors).
//!   `icmp6_error` rate-limits itself (net.inet6.icmp6.errppslimit);
//!   for IPv4 `badport_bandlim(BANDLIM_ICMP_UNREACH)` is the kernel's
//!   limiter (net.inet.icmp.icmplim), nonzero = over the limit.
//! - `ticks` is `volatile int`: read it with a volatile load; it wraps.

use core::ffi::c_int;
use core::mem::{offset_of, size_of};
use static_assertions::const_assert_eq;

use crate::mbuf::mbuf;

/// `struct in_endpoints` (ports unused here).
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct in_endpoints {
    pub ie_fport: u16,
    pub ie_lport: u16,
    /// `ie_dependfaddr`: IPv4 in the last 4 bytes (`in_addr_4in6`), IPv6
    /// in all 16.
    pub ie_dependfaddr: [u8; 16],
    pub ie_dependladdr: [u8; 16],
    pub ie6_zoneid: u32,
}
const_assert_eq!(size_of::<in_endpoints>(), 40);
const_assert_eq!(offset_of!(in_endpoints, ie_dependfaddr), 4);
const_assert_eq!(offset_of!(in_endpoints, ie6_zoneid), 36);

/// `struct in_conninfo`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct in_conninfo {
    pub inc_flags: u8,
    pub inc_len: u8,
    pub inc_fibnum: u16,
    pub inc_ie: in_endpoints,
}
const_assert_eq!(size_of::<in_conninfo>(), 44);
const_assert_eq!(offset_of!(in_conninfo, inc_fibnum), 2);
const_assert_eq!(offset_of!(in_conninfo, inc_ie), 4);

/// `INC_ISIPV6`.
pub const INC_ISIPV6: u8 = 0x01;
/// `ICMP_UNREACH`.
pub const ICMP_UNREACH: c_int = 3;
/// `ICMP_UNREACH_NEEDFRAG`.
pub const ICMP_UNREACH_NEEDFRAG: c_int = 4;
/// `ICMP6_PACKET_TOO_BIG`.
pub const ICMP6_PACKET_TOO_BIG: c_int = 2;
/// `BANDLIM_ICMP_UNREACH`.
pub const BANDLIM_ICMP_UNREACH: c_int = 0;

extern "C" {
    /// `uint32_t tcp_hc_getmtu(struct in_conninfo *)`.
    pub fn tcp_hc_getmtu(inc: *mut in_conninfo) -> u32;
    /// `uint32_t tcp_maxmtu(struct in_conninfo *, struct tcp_ifcap *)`.
    pub fn tcp_maxmtu(inc: *mut in_conninfo, cap: *mut core::ffi::c_void) -> u32;
    /// `uint32_t tcp_maxmtu6(struct in_conninfo *, struct tcp_ifcap *)`.
    pub fn tcp_maxmtu6(inc: *mut in_conninfo, cap: *mut core::ffi::c_void) -> u32;
    /// `void icmp_error(struct mbuf *, int type, int code, uint32_t dest,
    /// int mtu)`: consumes the mbuf.
    pub fn icmp_error(m: *mut mbuf, ty: c_int, code: c_int, dest: u32, mtu: c_int);
    /// `void icmp6_error(struct mbuf *, int type, int code, int param)`:
    /// consumes the mbuf.
    pub fn icmp6_error(m: *mut mbuf, ty: c_int, code: c_int, param: c_int);
    /// `int badport_bandlim(int which)`: nonzero when over the limit.
    pub fn badport_bandlim(which: c_int) -> c_int;
    /// `volatile int ticks`.
    pub static ticks: c_int;
    /// `int hz`.
    pub static hz: c_int;
}
