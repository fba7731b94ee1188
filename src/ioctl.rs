//! ioctl decoding: request code + argument bytes -> typed [`Command`], and
//! the encoders that fill GET replies.
//!
//! Mirrors FreeBSD 14.2 sys/net/if_ipsec.c (b66633d79ade) ipsec_ioctl.
//! The argument bytes are what the kernel copied in for the request
//! (IOCPARM_LEN(cmd) bytes; `struct ifreq` for most, `ifaliasreq` /
//! `in6_aliasreq` / `in6_ifreq` for the _PHYADDR ones); they are read with
//! zerocopy, never cast.  Anything not listed is EINVAL, as C.
//!
//! For IPSECGREQID/IPSECSREQID `ifr_data` is a userland pointer: the core
//! only extracts its value; the glue does copyout/copyin of the u32.
//!
//! Order of checks (C): the no-op requests and SIOCSIFMTU are answered
//! without the config lock; every other request takes the sx lock and
//! answers ENXIO for a destroyed interface before looking at its argument
//! ([`Command::needs_config_lock`]).  SIOCSTUNFIB needs
//! priv_check(PRIV_NET_SETIFFIB) and `fib < rt_numfibs` (glue);
//! IPSECSREQID needs priv_check(PRIV_NET_SETIFCAP) (glue).

use sys_bindings::net::ioctl as req;
use sys_bindings::net::{
    ifmediareq, ifreq, in6_aliasreq, in6_ifreq, in_aliasreq, IFM_ACTIVE, IFM_AUTO, IFM_AVALID,
    IFM_ETHER,
};
use zerocopy::{FromBytes, IntoBytes};

use crate::addr::{Addr, Family};
use crate::endpoint::Tunnel;
use crate::errno::{Errno, Result};

/// Smallest MTU (`IPSEC_MTU_MIN`, sys/net/if_ipsec.h).
pub const MTU_MIN: u32 = 1280;
/// The C driver's largest MTU (`IPSEC_MTU_MAX`, sys/net/if_ipsec.h:33): 8192,
/// too small for a tunnel over a 9000-byte jumbo-frame underlay.
pub const C_MTU_MAX: u32 = 8192;
/// Worst-case ESP tunnel-mode overhead on the outer packet, rounded up:
/// outer IPv6 header 40, NAT-T UDP 8, ESP header 8, IV 16, padding up to
/// 15 + trailer 2, ICV up to 32 (HMAC-SHA2-512/256) = 121.
pub const ESP_OVERHEAD_MAX: u32 = 128;
/// Largest MTU: an inner packet of this size plus the worst ESP overhead
/// still fits one outer IP packet (`IP_MAXPACKET`, 65535); beyond the
/// outer path's own MTU the kernel fragments the outer packet, as for any
/// tunnel.  Deliberately above [`C_MTU_MAX`] (jumbo frames).
pub const MTU_MAX: u32 = 65535 - ESP_OVERHEAD_MAX;
/// Default MTU (`IPSEC_MTU`).
pub const MTU_DEFAULT: u32 = 1400;

/// Which tunnel endpoint a GET asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// SIOCGIFPSRCADDR\[_IN6\]: local.
    Src,
    /// SIOCGIFPDSTADDR\[_IN6\]: remote.
    Dst,
}

/// A decoded request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// SIOCSIFADDR: set IFF_UP, return 0.
    SetIfAddr,
    /// SIOCADDMULTI, SIOCDELMULTI, SIOCGIFMTU: return 0.
    Nop,
    /// SIOCSIFFLAGS: return 0 (C: a no-op); the glue then re-evaluates
    /// the link state (`link0` opts out of SA-driven link state).
    SetFlags,
    /// SIOCGIFMEDIA (not in C, which answers EINVAL): the SA-driven
    /// carrier status, see [`encode_media`].
    GetMedia,
    /// SIOCSIFMTU with a value in MTU_MIN..=MTU_MAX.
    SetMtu(u32),
    /// SIOCSIFPHYADDR\[_IN6\]: validated endpoints, scope ids not yet
    /// embedded (glue: [`Tunnel::embed_scope`]).
    SetTunnel(Tunnel),
    /// SIOCDIFPHYADDR.
    DeleteTunnel,
    /// SIOCGIFPSRCADDR/PDSTADDR (Inet) or their _IN6 forms (Inet6).
    GetAddr(End, Family),
    /// SIOCGTUNFIB.
    GetFib,
    /// SIOCSTUNFIB with `ifr_fib`.
    SetFib(u32),
    /// IPSECGREQID: copyout a u32 to this user address.
    GetReqid {
        /// `ifr_data`.
        uaddr: u64,
    },
    /// IPSECSREQID: copyin a u32 from this user address.
    SetReqid {
        /// `ifr_data`.
        uaddr: u64,
    },
}

impl Command {
    /// False for the requests C answers before taking its config lock.
    pub const fn needs_config_lock(&self) -> bool {
        !matches!(
            self,
            Command::SetIfAddr | Command::Nop | Command::SetMtu(_) | Command::SetFlags
        )
    }
}

fn read<T: FromBytes>(data: &[u8]) -> Result<T> {
    T::read_from_prefix(data)
        .map(|(t, _)| t)
        .map_err(|_| Errno::EINVAL)
}

/// Decode one request (mirrors if_ipsec.c ipsec_ioctl's switch).
pub fn decode(cmd: u64, data: &[u8]) -> Result<Command> {
    match cmd {
        req::SIOCSIFADDR => Ok(Command::SetIfAddr),
        req::SIOCADDMULTI | req::SIOCDELMULTI | req::SIOCGIFMTU => Ok(Command::Nop),
        req::SIOCSIFFLAGS => Ok(Command::SetFlags),
        req::SIOCGIFMEDIA => read::<ifmediareq>(data).map(|_| Command::GetMedia),
        req::SIOCSIFMTU => {
            let mtu = read::<ifreq>(data)?.mtu();
            match u32::try_from(mtu) {
                Ok(m) if (MTU_MIN..=MTU_MAX).contains(&m) => Ok(Command::SetMtu(m)),
                _ => Err(Errno::EINVAL),
            }
        }
        req::SIOCSIFPHYADDR => {
            Tunnel::from_in_aliasreq(&read::<in_aliasreq>(data)?).map(Command::SetTunnel)
        }
        req::SIOCSIFPHYADDR_IN6 => {
            Tunnel::from_in6_aliasreq(&read::<in6_aliasreq>(data)?).map(Command::SetTunnel)
        }
        req::SIOCDIFPHYADDR => Ok(Command::DeleteTunnel),
        req::SIOCGIFPSRCADDR => get_addr::<ifreq>(data, End::Src, Family::Inet),
        req::SIOCGIFPDSTADDR => get_addr::<ifreq>(data, End::Dst, Family::Inet),
        req::SIOCGIFPSRCADDR_IN6 => get_addr::<in6_ifreq>(data, End::Src, Family::Inet6),
        req::SIOCGIFPDSTADDR_IN6 => get_addr::<in6_ifreq>(data, End::Dst, Family::Inet6),
        req::SIOCGTUNFIB => read::<ifreq>(data).map(|_| Command::GetFib),
        req::SIOCSTUNFIB => Ok(Command::SetFib(read::<ifreq>(data)?.fib())),
        req::IPSECGREQID => Ok(Command::GetReqid {
            uaddr: read::<ifreq>(data)?.data_ptr(),
        }),
        req::IPSECSREQID => Ok(Command::SetReqid {
            uaddr: read::<ifreq>(data)?.data_ptr(),
        }),
        _ => Err(Errno::EINVAL),
    }
}

/// SIOCGIFMEDIA's reply: one Ethernet "autoselect" medium whose status
/// is the link state, so stock ifconfig prints `status: active` / `status:
/// no carrier` (lib/libifconfig/libifconfig_media.c prints a status for
/// IFM_ETHER only; if_tuntap.c answers tap's the same way).  Returns the
/// user address to copy the one media word to (`ifm_ulist`, when the
/// caller made room: `ifm_count` >= 1) and that word.
pub fn encode_media(data: &mut [u8], up: bool) -> Result<Option<(u64, i32)>> {
    let mut r = read::<ifmediareq>(data)?;
    let room = r.ifm_count >= 1 && r.ifm_ulist != 0;
    let word = IFM_ETHER | IFM_AUTO;
    r.ifm_current = word;
    r.ifm_active = word;
    r.ifm_mask = 0;
    r.ifm_status = IFM_AVALID | if up { IFM_ACTIVE } else { 0 };
    r.ifm_count = 1;
    let out = data
        .get_mut(..core::mem::size_of::<ifmediareq>())
        .ok_or(Errno::EINVAL)?;
    out.copy_from_slice(r.as_bytes());
    Ok(room.then_some((r.ifm_ulist, word)))
}

/// A GET's reply buffer must hold the request's struct.
fn get_addr<T: FromBytes>(data: &[u8], end: End, f: Family) -> Result<Command> {
    read::<T>(data).map(|_| Command::GetAddr(end, f))
}

/// The address a GetAddr returns: EADDRNOTAVAIL without a tunnel or when
/// the tunnel's family is not the request's (if_ipsec.c ipsec_ioctl,
/// SIOCGIFPSRCADDR...).  The glue then runs prison_if on the encoded
/// sockaddr and, for IPv6, [`Addr::recover_scope`]; on either error it
/// zeroes the sockaddr ([`encode_addr`] with `None`) and returns the error.
pub fn reply_addr(tunnel: Option<&Tunnel>, end: End, family: Family) -> Result<Addr> {
    let t = tunnel.ok_or(Errno::EADDRNOTAVAIL)?;
    if t.family() != family {
        return Err(Errno::EADDRNOTAVAIL);
    }
    Ok(match end {
        End::Src => t.src(),
        End::Dst => t.dst(),
    })
}

/// Fill the reply sockaddr of a GetAddr: `ifr_addr` of an `ifreq` (IPv4)
/// or of an `in6_ifreq` (IPv6), zero-filled first as C (`memset`); `None`
/// just zeroes it.  EINVAL if `data` is too short or the family does not
/// fit the request.
pub fn encode_addr(data: &mut [u8], family: Family, addr: Option<&Addr>) -> Result<()> {
    match family {
        Family::Inet => {
            let mut r = read::<ifreq>(data)?;
            let sa = match addr {
                Some(a) => a.to_sockaddr_in().ok_or(Errno::EINVAL)?,
                None => Default::default(),
            };
            let mut bytes = [0u8; 16];
            sa.write_to(&mut bytes).map_err(|_| Errno::EINVAL)?;
            r.set_addr_bytes(&bytes);
            r.write_to_prefix(data).map_err(|_| Errno::EINVAL)
        }
        Family::Inet6 => {
            let mut r = read::<in6_ifreq>(data)?;
            let sa = match addr {
                Some(a) => a.to_sockaddr_in6().ok_or(Errno::EINVAL)?,
                None => Default::default(),
            };
            r.set_addr(&sa);
            r.write_to_prefix(data).map_err(|_| Errno::EINVAL)
        }
    }
}

/// Fill `ifr_fib` of a SIOCGTUNFIB reply.
pub fn encode_fib(data: &mut [u8], fib: u32) -> Result<()> {
    let mut r = read::<ifreq>(data)?;
    r.set_fib(fib);
    r.write_to_prefix(data).map_err(|_| Errno::EINVAL)
}
