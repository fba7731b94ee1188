//! ioctl request codes if_ipsec handles, computed with the `_IOC` formula of
//! FreeBSD 14.2 sys/sys/ioccom.h (b66633d79ade) from the argument struct
//! sizes of this crate, and pinned to the numbers the headers give (worked
//! out by hand from the formula; cross-checked by compiling the headers
//! with clang for x86_64-unknown-freebsd14.2).
//!
//! Sources of the definitions: sys/sys/sockio.h, sys/netinet6/in6_var.h,
//! sys/net/if_ipsec.h.

use super::{ifaliasreq, ifreq, in6_aliasreq, in6_ifreq};
use core::mem::size_of;
use static_assertions::const_assert_eq;

/// `IOCPARM_SHIFT`: number of bits of the parameter length.
pub const IOCPARM_SHIFT: u32 = 13;
/// `IOCPARM_MASK`.
pub const IOCPARM_MASK: u64 = (1 << IOCPARM_SHIFT) - 1;
/// `IOC_VOID`: no parameters.
pub const IOC_VOID: u64 = 0x2000_0000;
/// `IOC_OUT`: copy parameters out.
pub const IOC_OUT: u64 = 0x4000_0000;
/// `IOC_IN`: copy parameters in.
pub const IOC_IN: u64 = 0x8000_0000;
/// `IOC_INOUT`.
pub const IOC_INOUT: u64 = IOC_IN | IOC_OUT;

/// `_IOC(inout, group, num, len)`; `u_long` is 64-bit on amd64.
pub const fn ioc(inout: u64, group: u8, num: u8, len: usize) -> u64 {
    inout | (((len as u64) & IOCPARM_MASK) << 16) | ((group as u64) << 8) | num as u64
}
/// `_IOW(g, n, t)` with `len = sizeof(t)`.
pub const fn iow(group: u8, num: u8, len: usize) -> u64 {
    ioc(IOC_IN, group, num, len)
}
/// `_IOWR(g, n, t)` with `len = sizeof(t)`.
pub const fn iowr(group: u8, num: u8, len: usize) -> u64 {
    ioc(IOC_INOUT, group, num, len)
}
/// `IOCPARM_LEN(x)`: the argument size encoded in a request code.
pub const fn iocparm_len(cmd: u64) -> usize {
    ((cmd >> 16) & IOCPARM_MASK) as usize
}

const IFREQ: usize = size_of::<ifreq>();

/// sockio.h `_IOW('i', 12, struct ifreq)`.
pub const SIOCSIFADDR: u64 = iow(b'i', 12, IFREQ);
/// sockio.h `_IOW('i', 16, struct ifreq)`.
pub const SIOCSIFFLAGS: u64 = iow(b'i', 16, IFREQ);
/// sockio.h `_IOW('i', 49, struct ifreq)`.
pub const SIOCADDMULTI: u64 = iow(b'i', 49, IFREQ);
/// sockio.h `_IOW('i', 50, struct ifreq)`.
pub const SIOCDELMULTI: u64 = iow(b'i', 50, IFREQ);
/// sockio.h `_IOWR('i', 51, struct ifreq)`.
pub const SIOCGIFMTU: u64 = iowr(b'i', 51, IFREQ);
/// sockio.h `_IOW('i', 52, struct ifreq)`.
pub const SIOCSIFMTU: u64 = iow(b'i', 52, IFREQ);
/// sockio.h `_IOWR('i', 56, struct ifmediareq)`.
pub const SIOCGIFMEDIA: u64 = iowr(b'i', 56, size_of::<super::ifmediareq>());
/// sockio.h `_IOW('i', 70, struct ifaliasreq)`.
pub const SIOCSIFPHYADDR: u64 = iow(b'i', 70, size_of::<ifaliasreq>());
/// sockio.h `_IOWR('i', 71, struct ifreq)`.
pub const SIOCGIFPSRCADDR: u64 = iowr(b'i', 71, IFREQ);
/// sockio.h `_IOWR('i', 72, struct ifreq)`.
pub const SIOCGIFPDSTADDR: u64 = iowr(b'i', 72, IFREQ);
/// sockio.h `_IOW('i', 73, struct ifreq)`.
pub const SIOCDIFPHYADDR: u64 = iow(b'i', 73, IFREQ);
/// sockio.h `_IOWR('i', 94, struct ifreq)`.
pub const SIOCGTUNFIB: u64 = iowr(b'i', 94, IFREQ);
/// sockio.h `_IOW('i', 95, struct ifreq)`.
pub const SIOCSTUNFIB: u64 = iow(b'i', 95, IFREQ);
/// in6_var.h `_IOW('i', 70, struct in6_aliasreq)`.
pub const SIOCSIFPHYADDR_IN6: u64 = iow(b'i', 70, size_of::<in6_aliasreq>());
/// in6_var.h `_IOWR('i', 71, struct in6_ifreq)`.
pub const SIOCGIFPSRCADDR_IN6: u64 = iowr(b'i', 71, size_of::<in6_ifreq>());
/// in6_var.h `_IOWR('i', 72, struct in6_ifreq)`.
pub const SIOCGIFPDSTADDR_IN6: u64 = iowr(b'i', 72, size_of::<in6_ifreq>());
/// if_ipsec.h `_IOWR('i', 160, struct ifreq)`.
pub const IPSECGREQID: u64 = iowr(b'i', 160, IFREQ);
/// if_ipsec.h `_IOW('i', 161, struct ifreq)`.
pub const IPSECSREQID: u64 = iow(b'i', 161, IFREQ);

/// `SIOCIFCREATE2` (sys/sys/sockio.h:130): create a cloned interface by
/// name, as `ifconfig NAME create`; used by vm-test's benchmark program.
pub const SIOCIFCREATE2: u64 = iowr(b'i', 124, IFREQ);
/// `SIOCIFDESTROY` (sys/sys/sockio.h:131): destroy a cloned interface.
pub const SIOCIFDESTROY: u64 = iow(b'i', 121, IFREQ);

// The numbers FreeBSD's headers give (formula applied by hand: 'i' = 0x69,
// sizeof ifreq 32 = 0x20, ifaliasreq 68 = 0x44, in6_aliasreq 136 = 0x88,
// in6_ifreq 288 = 0x120).
const_assert_eq!(SIOCSIFADDR, 0x8020_690c);
const_assert_eq!(SIOCSIFFLAGS, 0x8020_6910);
const_assert_eq!(SIOCGIFMEDIA, 0xc030_6938);
const_assert_eq!(SIOCADDMULTI, 0x8020_6931);
const_assert_eq!(SIOCDELMULTI, 0x8020_6932);
const_assert_eq!(SIOCGIFMTU, 0xc020_6933);
const_assert_eq!(SIOCSIFMTU, 0x8020_6934);
const_assert_eq!(SIOCSIFPHYADDR, 0x8044_6946);
const_assert_eq!(SIOCGIFPSRCADDR, 0xc020_6947);
const_assert_eq!(SIOCGIFPDSTADDR, 0xc020_6948);
const_assert_eq!(SIOCDIFPHYADDR, 0x8020_6949);
const_assert_eq!(SIOCGTUNFIB, 0xc020_695e);
const_assert_eq!(SIOCSTUNFIB, 0x8020_695f);
const_assert_eq!(SIOCSIFPHYADDR_IN6, 0x8088_6946);
const_assert_eq!(SIOCGIFPSRCADDR_IN6, 0xc120_6947);
const_assert_eq!(SIOCGIFPDSTADDR_IN6, 0xc120_6948);
const_assert_eq!(IPSECGREQID, 0xc020_69a0);
const_assert_eq!(IPSECSREQID, 0x8020_69a1);
const_assert_eq!(SIOCIFCREATE2, 0xc020_697c);
const_assert_eq!(SIOCIFDESTROY, 0x8020_6979);
