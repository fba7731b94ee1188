//! Outer (tunnel endpoint) addresses and their IPv6 scope handling.
//!
//! An [`Addr`] is what `key_sockaddrcmp(a, b, 0)` compares (FreeBSD 14.2
//! sys/netipsec/key.c (b66633d79ade) key_sockaddrcmp): family, address and,
//! for IPv6, `sin6_scope_id`; never the port, so NAT-T SAs (whose
//! addresses carry UDP ports) match.  Deriving `Eq` gives exactly that.
//!
//! IPv6 scope: the kernel keeps link-local and interface-local addresses in
//! its internal "embedded" form (zone id in bytes 2..4, `sin6_scope_id`
//! 0), and SAs installed by setkey/IKE daemons are in that form too.  The
//! core does the pure part of FreeBSD 14.2 sys/netinet6/scope6.c
//! (b66633d79ade) sa6_embedscope / sa6_recoverscope: which addresses carry
//! a zone, and the byte shuffling.  The one thing it cannot do is ask
//! whether a zone (interface index) exists: the glue answers that through
//! the `zone_exists` closure (in the kernel: `ifnet_byindex` inside the net
//! epoch, or by calling the KPI sa6_embedscope on the encoded sockaddr and
//! decoding the result, which must agree with [`Addr::embed_scope`]).

use sys_bindings::net::{in6_addr, in_addr, sockaddr_in, sockaddr_in6, AF_INET, AF_INET6};

use zerocopy::FromBytes;

use crate::errno::{Errno, Result};

/// Address family of an outer or inner header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Family {
    /// IPv4 (`AF_INET`).
    Inet,
    /// IPv6 (`AF_INET6`).
    Inet6,
}

impl Family {
    /// The `sa_family` value.
    pub const fn af(self) -> u8 {
        match self {
            Family::Inet => AF_INET,
            Family::Inet6 => AF_INET6,
        }
    }
    /// The `sa_len` of this family's sockaddr.
    pub const fn sa_len(self) -> u8 {
        match self {
            Family::Inet => 16,
            Family::Inet6 => 28,
        }
    }
    /// Family from an `sa_family` value.
    pub const fn from_af(af: u8) -> Option<Family> {
        match af {
            AF_INET => Some(Family::Inet),
            AF_INET6 => Some(Family::Inet6),
            _ => None,
        }
    }
}

/// One tunnel endpoint address (no port).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Addr {
    /// IPv4 address, network byte order.
    V4([u8; 4]),
    /// IPv6 address (network order) and `sin6_scope_id`.
    V6 {
        /// `sin6_addr`, possibly with an embedded zone in bytes 2..4.
        addr: [u8; 16],
        /// `sin6_scope_id`.
        scope_id: u32,
    },
}

impl Addr {
    /// IPv6 address without scope id.
    pub const fn v6(addr: [u8; 16]) -> Addr {
        Addr::V6 { addr, scope_id: 0 }
    }

    /// The address family.
    pub const fn family(&self) -> Family {
        match self {
            Addr::V4(_) => Family::Inet,
            Addr::V6 { .. } => Family::Inet6,
        }
    }

    /// `INADDR_ANY` / `IN6_IS_ADDR_UNSPECIFIED`.
    pub fn is_unspecified(&self) -> bool {
        match self {
            Addr::V4(a) => *a == [0; 4],
            Addr::V6 { addr, .. } => *addr == [0; 16],
        }
    }

    /// `IN_MULTICAST` (224/4) / `IN6_IS_ADDR_MULTICAST` (ff00::/8).
    pub fn is_multicast(&self) -> bool {
        match self {
            Addr::V4([a, ..]) => *a & 0xf0 == 0xe0,
            Addr::V6 { addr: [a, ..], .. } => *a == 0xff,
        }
    }

    /// The limited broadcast 255.255.255.255 (`INADDR_BROADCAST`); subnet
    /// broadcasts depend on interface configuration and are not known here.
    pub fn is_broadcast(&self) -> bool {
        matches!(self, Addr::V4(a) if *a == [0xff; 4])
    }

    /// `IN6_IS_SCOPE_EMBED`: link-local unicast (fe80::/10), link-local or
    /// interface-local multicast: the addresses whose zone the kernel
    /// embeds.  Always false for IPv4.
    pub fn needs_scope(&self) -> bool {
        match self {
            Addr::V4(_) => false,
            Addr::V6 { addr, .. } => {
                let [a0, a1, ..] = *addr;
                let linklocal = a0 == 0xfe && a1 & 0xc0 == 0x80;
                let mc_scope = a1 & 0x0f;
                linklocal || (a0 == 0xff && (mc_scope == 0x01 || mc_scope == 0x02))
            }
        }
    }

    /// Kernel-internal form, as FreeBSD 14.2 sys/netinet6/scope6.c
    /// (b66633d79ade) sa6_embedscope(sin6, defaultok = 0): when the scope
    /// id is nonzero and the address is scoped, the zone must exist
    /// (ENXIO) and is embedded as 16-bit big-endian in bytes 2..4 with the
    /// scope id cleared; anything else is returned unchanged.
    pub fn embed_scope(self, zone_exists: impl FnOnce(u32) -> bool) -> Result<Addr> {
        let Addr::V6 { mut addr, scope_id } = self else {
            return Ok(self);
        };
        if scope_id == 0 || !self.needs_scope() {
            return Ok(self);
        }
        if !zone_exists(scope_id) {
            return Err(Errno::ENXIO);
        }
        let zone = (scope_id & 0xffff) as u16;
        if let Some(b) = addr.get_mut(2..4) {
            b.copy_from_slice(&zone.to_be_bytes());
        }
        Ok(Addr::V6 { addr, scope_id: 0 })
    }

    /// Userland form, as FreeBSD 14.2 sys/netinet6/scope6.c (b66633d79ade)
    /// sa6_recoverscope: a scoped address with a nonzero embedded zone
    /// gets it moved to the scope id (ENXIO if that zone no longer exists).
    pub fn recover_scope(self, zone_exists: impl FnOnce(u32) -> bool) -> Result<Addr> {
        let Addr::V6 { mut addr, .. } = self else {
            return Ok(self);
        };
        if !self.needs_scope() {
            return Ok(self);
        }
        let [_, _, z0, z1, ..] = addr;
        let zone = u32::from(u16::from_be_bytes([z0, z1]));
        if zone == 0 {
            return Ok(self);
        }
        if !zone_exists(zone) {
            return Err(Errno::ENXIO);
        }
        if let Some(b) = addr.get_mut(2..4) {
            b.copy_from_slice(&[0, 0]);
        }
        Ok(Addr::V6 {
            addr,
            scope_id: zone,
        })
    }

    /// Decode a `sockaddr_in` / `sockaddr_in6` from its bytes (e.g. an SA's
    /// `saidx.src`, a `sockaddr_union`, or the srcaddr callback's
    /// argument).  `None` unless `sa_len` is exactly the family's size, as
    /// key.c key_sockaddrcmp requires; the port is dropped.
    pub fn from_sockaddr(bytes: &[u8]) -> Option<Addr> {
        let (&len, rest) = bytes.split_first()?;
        let (&af, _) = rest.split_first()?;
        let family = Family::from_af(af)?;
        if len != family.sa_len() {
            return None;
        }
        match family {
            Family::Inet => sockaddr_in::read_from_prefix(bytes)
                .ok()
                .map(|(sa, _)| Addr::V4(sa.sin_addr.s_addr)),
            Family::Inet6 => sockaddr_in6::read_from_prefix(bytes)
                .ok()
                .map(|(sa, _)| Addr::V6 {
                    addr: sa.sin6_addr.s6_addr,
                    scope_id: sa.sin6_scope_id,
                }),
        }
    }

    /// As a `sockaddr_in` (`sin_len` 16, port 0); `None` for IPv6.
    pub fn to_sockaddr_in(&self) -> Option<sockaddr_in> {
        match self {
            Addr::V4(a) => Some(sockaddr_in {
                sin_len: 16,
                sin_family: AF_INET,
                sin_addr: in_addr { s_addr: *a },
                ..Default::default()
            }),
            Addr::V6 { .. } => None,
        }
    }

    /// As a `sockaddr_in6` (`sin6_len` 28, port/flowinfo 0); `None` for IPv4.
    pub fn to_sockaddr_in6(&self) -> Option<sockaddr_in6> {
        match self {
            Addr::V4(_) => None,
            Addr::V6 { addr, scope_id } => Some(sockaddr_in6 {
                sin6_len: 28,
                sin6_family: AF_INET6,
                sin6_addr: in6_addr { s6_addr: *addr },
                sin6_scope_id: *scope_id,
                ..Default::default()
            }),
        }
    }
}
