//! Path MTU of an outer destination and ICMP "too big" replies (issue 12).
//!
//! FreeBSD 14.2 (b66633d79ade): the path MTU is what ipsec_output.c's
//! ipsec_get_pmtu reads for the kernel's own check (ipsec4_check_pmtu):
//! the TCP host cache (where ICMP need-frag for the outer destination
//! lands), else the route (tcp_maxmtu / tcp_maxmtu6: min of route and
//! interface MTU).  Replies go through icmp_error / icmp6_error, the
//! kernel's own, with its rate limits (see sys-bindings `pmtu`).
use super::epoch::InEpoch;
use super::mbuf::Mbuf;
use core::ffi::c_int;
use if_ipsec::addr::{Addr, Family};
use sys_bindings::pmtu::{
    badport_bandlim, hz, icmp6_error, icmp_error, in_conninfo, tcp_hc_getmtu, tcp_maxmtu,
    tcp_maxmtu6, ticks, BANDLIM_ICMP_UNREACH, ICMP6_PACKET_TOO_BIG, ICMP_UNREACH,
    ICMP_UNREACH_NEEDFRAG, INC_ISIPV6,
};

/// The path MTU towards `dst` in `fib` (0: unknown, no route).
pub fn path_mtu(dst: &Addr, fib: u16, _: &InEpoch) -> u32 {
    let mut inc = in_conninfo {
        inc_fibnum: fib,
        ..in_conninfo::default()
    };
    match dst {
        Addr::V4(a) => {
            if let Some(tail) = inc.inc_ie.ie_dependfaddr.get_mut(12..16) {
                tail.copy_from_slice(a);
            }
        }
        Addr::V6 { addr, scope_id } => {
            inc.inc_flags = INC_ISIPV6;
            inc.inc_ie.ie_dependfaddr = *addr;
            inc.inc_ie.ie6_zoneid = *scope_id;
            // Kernel (embedded) form of a link-local address: the zone
            // sits in bytes 2..4; the lookups want it in ie6_zoneid.
            if addr[0] == 0xfe && addr[1] & 0xc0 == 0x80 && *scope_id == 0 {
                inc.inc_ie.ie6_zoneid = u32::from(u16::from_be_bytes([addr[2], addr[3]]));
                inc.inc_ie.ie_dependfaddr[2] = 0;
                inc.inc_ie.ie_dependfaddr[3] = 0;
            }
        }
    }
    // SAFETY: `inc` is a valid in_conninfo on our stack; both functions
    // only read it (and take no lock: SMR, fib lookup in the epoch we are
    // in).  NULL tcp_ifcap is allowed (tcp_subr.c: "if (cap != NULL)").
    unsafe {
        let hc = tcp_hc_getmtu(&mut inc);
        if hc != 0 {
            return hc;
        }
        match dst.family() {
            Family::Inet => tcp_maxmtu(&mut inc, core::ptr::null_mut()),
            Family::Inet6 => tcp_maxmtu6(&mut inc, core::ptr::null_mut()),
        }
    }
}

/// Answer `m` (an inner packet of family `inner`) with ICMP need-frag /
/// ICMPv6 packet-too-big carrying `mtu`; consumes it.  IPv4 replies are
/// paced by the kernel's unreach limiter (net.inet.icmp.icmplim); when
/// over it the packet is just dropped, as ip_forward's would be.
#[cold]
pub fn send_too_big(m: Mbuf, inner: Family, mtu: u32) {
    let mtu = c_int::try_from(mtu).unwrap_or(c_int::MAX);
    match inner {
        Family::Inet => {
            // SAFETY: plain call; the limiter's state is the kernel's.
            if unsafe { badport_bandlim(BANDLIM_ICMP_UNREACH) } != 0 {
                return; // `m` dropped (freed) here
            }
            // SAFETY: we own `m` and hand it over; icmp_error consumes it.
            unsafe { icmp_error(m.into_raw(), ICMP_UNREACH, ICMP_UNREACH_NEEDFRAG, 0, mtu) };
        }
        Family::Inet6 => {
            // SAFETY: as above; icmp6_error consumes it.
            unsafe { icmp6_error(m.into_raw(), ICMP6_PACKET_TOO_BIG, 0, mtu) };
        }
    }
}

/// `ticks` (wraps) and `hz`: the clock the path-MTU cache ages by.
pub fn ticks_hz() -> (i32, i32) {
    // SAFETY: kernel variables: `ticks` is volatile (updated by
    // hardclock), `hz` set at boot; aligned word reads.
    unsafe {
        (
            core::ptr::read_volatile(&raw const ticks),
            core::ptr::read_volatile(&raw const hz),
        )
    }
}
