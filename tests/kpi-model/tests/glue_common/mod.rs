//! Helpers of the glue scenarios: load/unload as the kernel does, and
//! ifconfig-like requests built from the wire structs.
#![allow(dead_code)]
use if_ipsec_kmod::glue::vnet as gv;
use if_ipsec_kmod::kpi::vnet_sysinit as vs;
use kpi_model::Model;
use std::net::IpAddr;
use sys_bindings::net::ioctl as req;
use sys_bindings::net::{
    ifreq, in6_addr, in6_aliasreq, in6_ifreq, in_addr, in_aliasreq, sockaddr_in, sockaddr_in6,
    AF_INET, AF_INET6,
};

/// kldload: MOD_LOAD, then the VNET_SYSINIT/SYSUNINIT registrations the
/// kernel linker runs from our sysinit set.
pub fn load(m: &Model) {
    m.module(|| {
        assert_eq!(if_ipsec_kmod::on_load(), Ok(()));
        vs::run_register_sysinit(&gv::VNET_INIT);
        vs::run_register_sysuninit(&gv::VNET_UNINIT);
        vs::run_register_sysuninit(&gv::VNET_UNINIT_HOOKS);
    });
}

/// kldunload: MOD_UNLOAD, then the SYSUNINITs in reverse order.
pub fn unload(m: &Model) {
    m.module(|| {
        assert_eq!(if_ipsec_kmod::on_unload(), Ok(()));
        // SYSUNINITs in reverse (subsystem, order): the hooks'
        // (IFATTACHDOMAIN) before the interfaces' (PROTO_DOMAIN, SECOND).
        vs::run_deregister_sysuninit(&gv::VNET_UNINIT_HOOKS);
        vs::run_deregister_sysuninit(&gv::VNET_UNINIT);
        vs::run_deregister_sysinit(&gv::VNET_INIT);
        gv::destroy_lock();
    });
}

/// vnet0's address.
pub fn v0() -> usize {
    kpi_model::vnet::vnet0_ptr() as usize
}

/// The ifnet address of `name` in the current vnet.
pub fn ifp(name: &str) -> usize {
    let v = kpi_model::vnet::curvnet() as usize;
    kpi_model::ifnet::by_name(v, name).map_or(0, |i| i.addr)
}

/// `ifconfig NAME create`; the ifnet address.
pub fn create(name: &str) -> usize {
    assert!(kpi_model::clone::create(name, 0).is_ok(), "create {name}");
    ifp(name)
}

/// Bytes of a plain C struct (as ioctl(2) copies it in).
pub fn bytes_of<T>(t: &T) -> Vec<u8> {
    // SAFETY: plain C wire structs without padding.
    unsafe { std::slice::from_raw_parts((t as *const T).cast::<u8>(), std::mem::size_of::<T>()) }
        .to_vec()
}

fn sin(a: [u8; 4]) -> sockaddr_in {
    sockaddr_in {
        sin_len: 16,
        sin_family: AF_INET,
        sin_addr: in_addr { s_addr: a },
        ..Default::default()
    }
}

fn sin6(a: [u8; 16]) -> sockaddr_in6 {
    sockaddr_in6 {
        sin6_len: 28,
        sin6_family: AF_INET6,
        sin6_addr: in6_addr { s6_addr: a },
        ..Default::default()
    }
}

/// `ifconfig X tunnel SRC DST` (SIOCSIFPHYADDR / _IN6).
pub fn tunnel(ifp: usize, src: IpAddr, dst: IpAddr) -> i32 {
    let mut b = match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let r = in_aliasreq {
                ifra_addr: sin(s.octets()),
                ifra_dstaddr: sin(d.octets()),
                ..Default::default()
            };
            return kpi_model::ifnet::call_ioctl(ifp, req::SIOCSIFPHYADDR as _, &mut bytes_of(&r));
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => bytes_of(&in6_aliasreq {
            ifra_addr: sin6(s.octets()),
            ifra_dstaddr: sin6(d.octets()),
            ..Default::default()
        }),
        _ => return -1,
    };
    kpi_model::ifnet::call_ioctl(ifp, req::SIOCSIFPHYADDR_IN6 as _, &mut b)
}

/// `ifconfig X -tunnel`.
pub fn untunnel(ifp: usize) -> i32 {
    let mut b = bytes_of(&ifreq::default());
    kpi_model::ifnet::call_ioctl(ifp, req::SIOCDIFPHYADDR as _, &mut b)
}

/// `ifconfig X inet A` (SIOCSIFADDR reaches if_ioctl: sets UP).
pub fn up(ifp: usize) -> i32 {
    let mut b = bytes_of(&ifreq::default());
    kpi_model::ifnet::call_ioctl(ifp, req::SIOCSIFADDR as _, &mut b)
}

/// SIOCGIFPSRCADDR/PDSTADDR (v4): (errno, address bytes of the reply).
pub fn get_addr4(ifp: usize, src: bool) -> (i32, [u8; 4]) {
    let cmd = if src {
        req::SIOCGIFPSRCADDR
    } else {
        req::SIOCGIFPDSTADDR
    };
    let mut b = bytes_of(&ifreq::default());
    let e = kpi_model::ifnet::call_ioctl(ifp, cmd as _, &mut b);
    let a = [b[20], b[21], b[22], b[23]];
    (e, a)
}

/// SIOCGIFPSRCADDR_IN6: (errno, sockaddr_in6 of the reply).
pub fn get_addr6(ifp: usize, src: bool) -> (i32, sockaddr_in6) {
    let cmd = if src {
        req::SIOCGIFPSRCADDR_IN6
    } else {
        req::SIOCGIFPDSTADDR_IN6
    };
    let mut b = bytes_of(&in6_ifreq::default());
    let e = kpi_model::ifnet::call_ioctl(ifp, cmd as _, &mut b);
    // SAFETY: the reply is an in6_ifreq.
    let r: in6_ifreq = unsafe { std::ptr::read_unaligned(b.as_ptr().cast()) };
    (e, r.addr())
}

/// `ifconfig X reqid N` (IPSECSREQID, the u32 through ifr_data).
pub fn set_reqid(m: &Model, ifp: usize, v: u32) -> i32 {
    let ua = m.user_alloc(&v.to_ne_bytes());
    let mut r = ifreq::default();
    r.set_data_ptr(ua as u64);
    kpi_model::ifnet::call_ioctl(ifp, req::IPSECSREQID as _, &mut bytes_of(&r))
}

/// IPSECGREQID: (errno, value).
pub fn get_reqid(m: &Model, ifp: usize) -> (i32, u32) {
    let ua = m.user_alloc(&[0xff; 4]);
    let mut r = ifreq::default();
    r.set_data_ptr(ua as u64);
    let e = kpi_model::ifnet::call_ioctl(ifp, req::IPSECGREQID as _, &mut bytes_of(&r));
    let v = m
        .user_read(ua, 4)
        .map_or(0, |b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]));
    (e, v)
}

/// SIOCSTUNFIB.
pub fn set_fib(ifp: usize, fib: u32) -> i32 {
    let mut r = ifreq::default();
    r.set_fib(fib);
    kpi_model::ifnet::call_ioctl(ifp, req::SIOCSTUNFIB as _, &mut bytes_of(&r))
}

/// SIOCGTUNFIB: (errno, fib).
pub fn get_fib(ifp: usize) -> (i32, u32) {
    let mut b = bytes_of(&ifreq::default());
    let e = kpi_model::ifnet::call_ioctl(ifp, req::SIOCGTUNFIB as _, &mut b);
    // SAFETY: the reply is an ifreq.
    let r: ifreq = unsafe { std::ptr::read_unaligned(b.as_ptr().cast()) };
    (e, r.fib())
}

/// A minimal IPv4 (or IPv6) packet of `len` bytes.
pub fn ip_packet(v: u8, len: usize) -> Vec<u8> {
    let mut p = vec![0u8; len.max(40)];
    p[0] = v << 4 | if v == 4 { 5 } else { 0 };
    p
}

/// if_transmit a fresh packet; the errno.
pub fn send(ifp: usize, pkt: &[u8]) -> i32 {
    let m = kpi_model::mbuf::packet(&[pkt]);
    kpi_model::ifnet::call_transmit(ifp, m)
}

/// Interface counter (if_inc_counter index, sys/net/if.h ift_counter).
pub fn counter(ifp: usize, c: usize) -> u64 {
    kpi_model::ifnet::view(ifp).map_or(0, |v| v.counters[c])
}

/// ift_counter indices.
pub const IPACKETS: usize = 0;
pub const IERRORS: usize = 1;
pub const OPACKETS: usize = 2;
pub const OERRORS: usize = 3;
pub const IBYTES: usize = 5;
pub const OBYTES: usize = 6;
pub const IQDROPS: usize = 9;
pub const OQDROPS: usize = 10;

/// IFF_DRV_RUNNING set?
pub fn running(ifp: usize) -> bool {
    kpi_model::ifnet::view(ifp).is_some_and(|v| v.drv_flags & 0x40 != 0)
}

/// Parse helper.
pub fn ip(s: &str) -> IpAddr {
    s.parse().unwrap_or(IpAddr::V4([0, 0, 0, 0].into()))
}
