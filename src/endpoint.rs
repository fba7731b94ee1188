//! Tunnel endpoints: decoding and validating SIOCSIFPHYADDR\[_IN6\].
//!
//! Mirrors the checks of FreeBSD 14.2 sys/net/if_ipsec.c (b66633d79ade)
//! ipsec_ioctl, case SIOCSIFPHYADDR / SIOCSIFPHYADDR_IN6, in C's order:
//! 1. both sockaddrs have the same `sa_family` and `sa_len`, else EINVAL;
//! 2. `sa_len` is exactly the family's sockaddr size, else EINVAL; a family
//!    other than INET/INET6 is EAFNOSUPPORT;
//! 3. the family matches the command (INET for SIOCSIFPHYADDR, INET6 for
//!    _IN6), else EAFNOSUPPORT;
//! 4. neither address is unspecified, else EADDRNOTAVAIL.
//!
//! Then what C lets through and no one means (deliberate differences):
//! 5. a multicast or the limited-broadcast address on either side is
//!    EADDRNOTAVAIL (the same answer C gives for "no usable address");
//! 6. src == dst is EINVAL (a tunnel to itself is a configuration error,
//!    and would make inbound and outbound SAs indistinguishable).
//!
//! Scope zones (IPv6) are embedded afterwards by [`Tunnel::embed_scope`]
//! with the glue's answer to "does this zone exist" (C: sa6_embedscope on
//! src then dst); the src == dst check is repeated on the embedded form.

use sys_bindings::net::{in6_aliasreq, in_aliasreq, sockaddr_in, sockaddr_in6};

use crate::addr::{Addr, Family};
use crate::errno::{Errno, Result};

/// A validated pair of tunnel endpoints of one family.  `src` is the local
/// (outer source) address, `dst` the remote peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Tunnel {
    src: Addr,
    dst: Addr,
}

impl Tunnel {
    /// Validate a pair: same family, rules 4..6 of the module docs.
    pub fn new(src: Addr, dst: Addr) -> Result<Tunnel> {
        if src.family() != dst.family() {
            return Err(Errno::EINVAL);
        }
        if src.is_unspecified() || dst.is_unspecified() {
            return Err(Errno::EADDRNOTAVAIL);
        }
        let unusable = |a: &Addr| a.is_multicast() || a.is_broadcast();
        if unusable(&src) || unusable(&dst) {
            return Err(Errno::EADDRNOTAVAIL);
        }
        if src == dst {
            return Err(Errno::EINVAL);
        }
        Ok(Tunnel { src, dst })
    }

    /// Local (outer source) address.
    pub const fn src(&self) -> Addr {
        self.src
    }
    /// Remote (outer destination) address.
    pub const fn dst(&self) -> Addr {
        self.dst
    }
    /// Outer family.
    pub const fn family(&self) -> Family {
        self.src.family()
    }

    /// Both addresses in the kernel-internal scope form (sa6_embedscope
    /// on src, then dst, as C); ENXIO for an unknown zone.
    pub fn embed_scope(self, mut zone_exists: impl FnMut(u32) -> bool) -> Result<Tunnel> {
        let src = self.src.embed_scope(&mut zone_exists)?;
        let dst = self.dst.embed_scope(&mut zone_exists)?;
        Tunnel::new(src, dst)
    }

    /// Decode the `in_aliasreq` of SIOCSIFPHYADDR.
    pub fn from_in_aliasreq(req: &in_aliasreq) -> Result<Tunnel> {
        let (s, d) = (&req.ifra_addr, &req.ifra_dstaddr);
        check_header(
            (s.sin_len, s.sin_family),
            (d.sin_len, d.sin_family),
            Family::Inet,
        )?;
        Tunnel::new(v4(s), v4(d))
    }

    /// Decode the `in6_aliasreq` of SIOCSIFPHYADDR_IN6.
    pub fn from_in6_aliasreq(req: &in6_aliasreq) -> Result<Tunnel> {
        let (s, d) = (&req.ifra_addr, &req.ifra_dstaddr);
        check_header(
            (s.sin6_len, s.sin6_family),
            (d.sin6_len, d.sin6_family),
            Family::Inet6,
        )?;
        Tunnel::new(v6(s), v6(d))
    }
}

fn v4(sa: &sockaddr_in) -> Addr {
    Addr::V4(sa.sin_addr.s_addr)
}

fn v6(sa: &sockaddr_in6) -> Addr {
    Addr::V6 {
        addr: sa.sin6_addr.s6_addr,
        scope_id: sa.sin6_scope_id,
    }
}

/// Rules 1..3 on the (`sa_len`, `sa_family`) of src and dst.
fn check_header(src: (u8, u8), dst: (u8, u8), for_cmd: Family) -> Result<()> {
    if src != dst {
        return Err(Errno::EINVAL);
    }
    let (len, af) = src;
    let family = Family::from_af(af).ok_or(Errno::EAFNOSUPPORT)?;
    if len != family.sa_len() {
        return Err(Errno::EINVAL);
    }
    if family != for_cmd {
        return Err(Errno::EAFNOSUPPORT);
    }
    Ok(())
}
