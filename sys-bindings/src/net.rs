//! Wire structs userland passes to an interface's ioctl handler, and the
//! request codes of the ioctls if_ipsec answers (FreeBSD 14 amd64).
//!
//! Layouts read from FreeBSD 14.2 (b66633d79ade): sys/sys/socket.h
//! (`struct sockaddr`), sys/netinet/in.h (`in_addr`, `sockaddr_in`),
//! sys/netinet6/in6.h (`in6_addr`, `sockaddr_in6`), sys/net/if.h (`ifreq`,
//! `ifaliasreq`), sys/netinet/in_var.h (`in_aliasreq`),
//! sys/netinet6/in6_var.h (`in6_addrlifetime`, `in6_aliasreq`,
//! `in6_ifreq`).  C unions are byte arrays with the union's alignment plus
//! accessors, so every struct is plain bytes without implicit padding
//! (zerocopy `IntoBytes`).  Sizes and offsets are pinned below; the ioctl
//! numbers are in [`ioctl`].

use core::mem::{align_of, offset_of, size_of};
use static_assertions::const_assert_eq;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

pub mod ioctl;
pub mod pfkeyv2;

/// `AF_UNSPEC`, sys/sys/socket.h.
pub const AF_UNSPEC: u8 = 0;
/// `AF_INET`, sys/sys/socket.h.
pub const AF_INET: u8 = 2;
/// `AF_INET6`, sys/sys/socket.h.
pub const AF_INET6: u8 = 28;
/// `IFNAMSIZ` (= `IF_NAMESIZE`), sys/net/if.h: interface name incl. NUL.
pub const IFNAMSIZ: usize = 16;

/// `struct in_addr` (sys/netinet/in.h): `s_addr` in network byte order,
/// kept as the four bytes in memory order.
#[repr(C, align(4))]
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct in_addr {
    pub s_addr: [u8; 4],
}

/// `struct in6_addr` (sys/netinet6/in6.h): a union of `u8[16]`/`u16[8]`/`u32[4]`,
/// so 4-byte aligned; kept as bytes in network order.
#[repr(C, align(4))]
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct in6_addr {
    pub s6_addr: [u8; 16],
}

/// `struct sockaddr` (sys/sys/socket.h).
#[repr(C)]
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct sockaddr {
    pub sa_len: u8,
    pub sa_family: u8,
    pub sa_data: [u8; 14],
}

/// `struct sockaddr_in` (sys/netinet/in.h).  `sin_port` is network order
/// (kept as stored).
#[repr(C)]
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct sockaddr_in {
    pub sin_len: u8,
    pub sin_family: u8,
    pub sin_port: u16,
    pub sin_addr: in_addr,
    pub sin_zero: [u8; 8],
}

/// `struct sockaddr_in6` (sys/netinet6/in6.h).
#[repr(C)]
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct sockaddr_in6 {
    pub sin6_len: u8,
    pub sin6_family: u8,
    pub sin6_port: u16,
    pub sin6_flowinfo: u32,
    pub sin6_addr: in6_addr,
    pub sin6_scope_id: u32,
}

/// The anonymous union `ifr_ifru` of `struct ifreq` (sys/net/if.h): 16
/// bytes, 8-aligned (it holds `caddr_t ifru_data` and `struct
/// ifreq_buffer`).  Read with the accessors on [`ifreq`].
#[repr(C, align(8))]
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct ifreq_ifru {
    pub bytes: [u8; 16],
}
// struct ifreq is IFNAMSIZ (16) + this union (16) = 32 (sys/net/if.h).
const_assert_eq!(size_of::<ifreq_ifru>(), 16);
const_assert_eq!(align_of::<ifreq_ifru>(), 8);

/// `struct ifreq` (sys/net/if.h).
#[repr(C)]
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct ifreq {
    pub ifr_name: [u8; IFNAMSIZ],
    pub ifr_ifru: ifreq_ifru,
}

/// First `N` bytes of `b` as an array (all zero if `b` is shorter, which the
/// callers below rule out by construction).
fn head<const N: usize>(b: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    if let Some(src) = b.get(..N) {
        out.copy_from_slice(src);
    }
    out
}

/// Copy `src` to the start of `dst` (no-op if `dst` is shorter, which the
/// callers below rule out by construction).
fn put(dst: &mut [u8], src: &[u8]) {
    if let Some(d) = dst.get_mut(..src.len()) {
        d.copy_from_slice(src);
    }
}

impl ifreq {
    /// `ifr_addr` (`ifru_addr`, a `struct sockaddr`).
    pub fn addr(&self) -> sockaddr {
        sockaddr::read_from_bytes(&self.ifr_ifru.bytes).unwrap_or_default()
    }
    /// Set `ifr_addr` from any 16-byte sockaddr (e.g. a `sockaddr_in`).
    pub fn set_addr_bytes(&mut self, sa: &[u8; 16]) {
        self.ifr_ifru.bytes = *sa;
    }
    /// `ifr_mtu` (`int ifru_mtu`, native endian).
    pub fn mtu(&self) -> i32 {
        i32::from_ne_bytes(head(&self.ifr_ifru.bytes))
    }
    /// `ifr_fib` (`u_int ifru_fib`).
    pub fn fib(&self) -> u32 {
        u32::from_ne_bytes(head(&self.ifr_ifru.bytes))
    }
    /// Store `ifr_fib`.
    pub fn set_fib(&mut self, fib: u32) {
        put(&mut self.ifr_ifru.bytes, &fib.to_ne_bytes());
    }
    /// `ifr_data` (`caddr_t ifru_data`): a userland pointer, as its value.
    pub fn data_ptr(&self) -> u64 {
        u64::from_ne_bytes(head(&self.ifr_ifru.bytes))
    }
    /// Store `ifr_data`.
    pub fn set_data_ptr(&mut self, p: u64) {
        put(&mut self.ifr_ifru.bytes, &p.to_ne_bytes());
    }
}

/// `struct ifaliasreq` (sys/net/if.h): the declared argument of
/// SIOCSIFPHYADDR; the kernel reads it as `in_aliasreq` (same layout).
#[repr(C)]
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct ifaliasreq {
    pub ifra_name: [u8; IFNAMSIZ],
    pub ifra_addr: sockaddr,
    pub ifra_broadaddr: sockaddr,
    pub ifra_mask: sockaddr,
    pub ifra_vhid: i32,
}

/// `struct in_aliasreq` (sys/netinet/in_var.h); `ifra_dstaddr` is a
/// `#define` for `ifra_broadaddr`.
#[repr(C)]
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct in_aliasreq {
    pub ifra_name: [u8; IFNAMSIZ],
    pub ifra_addr: sockaddr_in,
    pub ifra_dstaddr: sockaddr_in,
    pub ifra_mask: sockaddr_in,
    pub ifra_vhid: i32,
}

/// `struct in6_addrlifetime` (sys/netinet6/in6_var.h); `time_t` is 64-bit
/// on amd64.
#[repr(C)]
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct in6_addrlifetime {
    pub ia6t_expire: i64,
    pub ia6t_preferred: i64,
    pub ia6t_vltime: u32,
    pub ia6t_pltime: u32,
}

/// `struct in6_aliasreq` (sys/netinet6/in6_var.h).  The C struct has 4
/// bytes of tail padding (8-aligned by the lifetime); `_pad` makes them
/// explicit.
#[repr(C)]
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct in6_aliasreq {
    pub ifra_name: [u8; IFNAMSIZ],
    pub ifra_addr: sockaddr_in6,
    pub ifra_dstaddr: sockaddr_in6,
    pub ifra_prefixmask: sockaddr_in6,
    pub ifra_flags: i32,
    pub ifra_lifetime: in6_addrlifetime,
    pub ifra_vhid: i32,
    pub _pad: [u8; 4],
}

/// Size of the union `ifr_ifru` of `struct in6_ifreq`: its largest member
/// is `struct icmp6_ifstat` (34 `uint64_t` counters).
pub const IN6_IFREQ_IFRU_SIZE: usize = 34 * 8;

/// The union `ifr_ifru` of `struct in6_ifreq` (sys/netinet6/in6_var.h),
/// 8-aligned (64-bit counters, `caddr_t`).
#[repr(C, align(8))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable)]
pub struct in6_ifreq_ifru {
    pub bytes: [u8; IN6_IFREQ_IFRU_SIZE],
}
// struct in6_ifreq is IFNAMSIZ (16) + this union (272) = 288
// (sys/netinet6/in6_var.h).
const_assert_eq!(size_of::<in6_ifreq_ifru>(), 272);
const_assert_eq!(align_of::<in6_ifreq_ifru>(), 8);

impl Default for in6_ifreq_ifru {
    fn default() -> Self {
        Self {
            bytes: [0; IN6_IFREQ_IFRU_SIZE],
        }
    }
}

/// `struct in6_ifreq` (sys/netinet6/in6_var.h).
#[repr(C)]
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct in6_ifreq {
    pub ifr_name: [u8; IFNAMSIZ],
    pub ifr_ifru: in6_ifreq_ifru,
}

impl in6_ifreq {
    /// `ifr_addr` (`struct sockaddr_in6 ifru_addr`).
    pub fn addr(&self) -> sockaddr_in6 {
        sockaddr_in6::read_from_prefix(&self.ifr_ifru.bytes)
            .map(|(sa, _)| sa)
            .unwrap_or_default()
    }
    /// Store `ifr_addr`.
    pub fn set_addr(&mut self, sa: &sockaddr_in6) {
        put(&mut self.ifr_ifru.bytes, sa.as_bytes());
    }
}

// Layouts: FreeBSD 14 amd64 (LP64), checked against the headers above.
const_assert_eq!(size_of::<in_addr>(), 4);
const_assert_eq!(size_of::<in6_addr>(), 16);
const_assert_eq!(align_of::<in6_addr>(), 4);
const_assert_eq!(size_of::<sockaddr>(), 16);
const_assert_eq!(size_of::<sockaddr_in>(), 16);
const_assert_eq!(offset_of!(sockaddr_in, sin_addr), 4);
const_assert_eq!(size_of::<sockaddr_in6>(), 28);
const_assert_eq!(offset_of!(sockaddr_in6, sin6_flowinfo), 4);
const_assert_eq!(offset_of!(sockaddr_in6, sin6_addr), 8);
const_assert_eq!(offset_of!(sockaddr_in6, sin6_scope_id), 24);
const_assert_eq!(size_of::<ifreq>(), 32);
const_assert_eq!(align_of::<ifreq>(), 8);
const_assert_eq!(offset_of!(ifreq, ifr_ifru), 16);
const_assert_eq!(size_of::<ifaliasreq>(), 68);
const_assert_eq!(size_of::<in_aliasreq>(), 68);
const_assert_eq!(offset_of!(in_aliasreq, ifra_addr), 16);
const_assert_eq!(offset_of!(in_aliasreq, ifra_dstaddr), 32);
const_assert_eq!(offset_of!(in_aliasreq, ifra_vhid), 64);
const_assert_eq!(size_of::<in6_addrlifetime>(), 24);
const_assert_eq!(size_of::<in6_aliasreq>(), 136);
const_assert_eq!(offset_of!(in6_aliasreq, ifra_addr), 16);
const_assert_eq!(offset_of!(in6_aliasreq, ifra_dstaddr), 44);
const_assert_eq!(offset_of!(in6_aliasreq, ifra_prefixmask), 72);
const_assert_eq!(offset_of!(in6_aliasreq, ifra_flags), 100);
const_assert_eq!(offset_of!(in6_aliasreq, ifra_lifetime), 104);
const_assert_eq!(offset_of!(in6_aliasreq, ifra_vhid), 128);
const_assert_eq!(size_of::<in6_ifreq>(), 288);
const_assert_eq!(offset_of!(in6_ifreq, ifr_ifru), 16);

/// `struct ifmediareq` (sys/net/if.h): SIOCGIFMEDIA's argument.
/// `ifm_ulist` is a user address (kept as an integer).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, FromBytes, IntoBytes, KnownLayout, Immutable)]
pub struct ifmediareq {
    pub ifm_name: [u8; IFNAMSIZ],
    pub ifm_current: i32,
    pub ifm_mask: i32,
    pub ifm_status: i32,
    pub ifm_active: i32,
    pub ifm_count: i32,
    pub _pad: [u8; 4],
    pub ifm_ulist: u64,
}
const_assert_eq!(size_of::<ifmediareq>(), 48);
const_assert_eq!(offset_of!(ifmediareq, ifm_status), 24);
const_assert_eq!(offset_of!(ifmediareq, ifm_count), 32);
const_assert_eq!(offset_of!(ifmediareq, ifm_ulist), 40);

/// `IFM_ETHER` (sys/net/if_media.h): the media type ifconfig prints a
/// carrier status for ("active" / "no carrier", libifconfig_media.c).
pub const IFM_ETHER: i32 = 0x20;
/// `IFM_AUTO`: "autoselect".
pub const IFM_AUTO: i32 = 0;
/// `IFM_AVALID`: `IFM_ACTIVE` is meaningful.
pub const IFM_AVALID: i32 = 0x1;
/// `IFM_ACTIVE`: attached to a working net.
pub const IFM_ACTIVE: i32 = 0x2;
