//! ioctl decoding and reply encoding.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
use common::*;

use if_ipsec::addr::{Addr, Family};
use if_ipsec::ioctl::{decode, encode_addr, encode_fib, reply_addr, Command, End, MTU_MAX};
use if_ipsec::Errno;
use sys_bindings::net::ioctl::*;
use sys_bindings::net::{ifreq, in6_ifreq, sockaddr_in, sockaddr_in6};
use zerocopy::FromBytes;

fn ifr_with(f: impl FnOnce(&mut ifreq)) -> Vec<u8> {
    let mut r = ifreq::default();
    r.ifr_name[..6].copy_from_slice(b"ipsec0");
    f(&mut r);
    bytes(&r)
}

/// mirrors if_ipsec.c ipsec_ioctl: SIOCSIFADDR sets UP and succeeds; the
/// multicast and GIFMTU requests are accepted as no-ops; SIFFLAGS too (C
/// answers 0 without its lock; the glue then re-evaluates the link state,
/// for `link0`: still no lock needed for C's part).
#[test]
fn ipsec_ioctl_noops() {
    let b = ifr_with(|_| {});
    assert_eq!(decode(SIOCSIFADDR, &b), Ok(Command::SetIfAddr));
    for c in [SIOCADDMULTI, SIOCDELMULTI, SIOCGIFMTU] {
        assert_eq!(decode(c, &b), Ok(Command::Nop));
    }
    assert_eq!(decode(SIOCSIFFLAGS, &b), Ok(Command::SetFlags));
    assert!(!Command::Nop.needs_config_lock());
    assert!(!Command::SetFlags.needs_config_lock());
    assert!(Command::DeleteTunnel.needs_config_lock());
}

/// SIOCGIFMEDIA (C: EINVAL from ipsec_ioctl's default case): one
/// Ethernet "autoselect" medium whose status carries the link state; the
/// media word goes to ifm_ulist only when the caller made room.
#[test]
fn media_reply() {
    use if_ipsec::ioctl::encode_media;
    let mut req = sys_bindings::net::ifmediareq::default();
    assert_eq!(
        decode(
            sys_bindings::net::ioctl::SIOCGIFMEDIA,
            zerocopy::IntoBytes::as_bytes(&req)
        ),
        Ok(Command::GetMedia)
    );
    let mut b = zerocopy::IntoBytes::as_bytes(&req).to_vec();
    assert_eq!(encode_media(&mut b, true), Ok(None));
    let r =
        <sys_bindings::net::ifmediareq as zerocopy::FromBytes>::read_from_bytes(&b[..]).unwrap();
    assert_eq!(
        (r.ifm_current, r.ifm_active, r.ifm_status, r.ifm_count),
        (0x20, 0x20, 0x3, 1)
    );
    req.ifm_count = 1;
    req.ifm_ulist = 0x1000;
    let mut b = zerocopy::IntoBytes::as_bytes(&req).to_vec();
    assert_eq!(encode_media(&mut b, false), Ok(Some((0x1000, 0x20))));
    let r =
        <sys_bindings::net::ifmediareq as zerocopy::FromBytes>::read_from_bytes(&b[..]).unwrap();
    assert_eq!(r.ifm_status, 0x1, "IFM_AVALID, no IFM_ACTIVE: no carrier");
    assert_eq!(
        decode(sys_bindings::net::ioctl::SIOCGIFMEDIA, &[0u8; 8]),
        Err(if_ipsec::Errno::EINVAL)
    );
}

/// mirrors if_ipsec.c ipsec_ioctl SIOCSIFMTU: IPSEC_MTU_MIN..=max, else
/// EINVAL; the maximum deliberately differs from C's IPSEC_MTU_MAX (8192):
/// jumbo MTUs (9000 and up) are accepted up to 65535 minus the worst ESP
/// overhead.
#[test]
fn ipsec_ioctl_sifmtu_bounds() {
    let mtu = |m: i32| ifr_with(|r| r.ifr_ifru.bytes[..4].copy_from_slice(&m.to_ne_bytes()));
    assert_eq!(decode(SIOCSIFMTU, &mtu(1280)), Ok(Command::SetMtu(1280)));
    assert_eq!(decode(SIOCSIFMTU, &mtu(8192)), Ok(Command::SetMtu(8192)));
    assert_eq!(decode(SIOCSIFMTU, &mtu(8193)), Ok(Command::SetMtu(8193)));
    assert_eq!(decode(SIOCSIFMTU, &mtu(9000)), Ok(Command::SetMtu(9000)));
    assert_eq!(MTU_MAX, 65407);
    assert_eq!(decode(SIOCSIFMTU, &mtu(65407)), Ok(Command::SetMtu(65407)));
    assert_eq!(decode(SIOCSIFMTU, &mtu(65408)), Err(Errno::EINVAL));
    assert_eq!(decode(SIOCSIFMTU, &mtu(1279)), Err(Errno::EINVAL));
    assert_eq!(decode(SIOCSIFMTU, &mtu(-1)), Err(Errno::EINVAL));
}

/// mirrors if_ipsec.c ipsec_ioctl SIOCSIFPHYADDR / _IN6 decoding.
#[test]
fn ipsec_ioctl_sifphyaddr_decode() {
    let b = bytes(&in_req(sin([192, 0, 2, 1]), sin([198, 51, 100, 7])));
    assert_eq!(b.len(), iocparm_len(SIOCSIFPHYADDR));
    assert_eq!(
        decode(SIOCSIFPHYADDR, &b),
        Ok(Command::SetTunnel(tun4([192, 0, 2, 1], [198, 51, 100, 7])))
    );
    let b6 = bytes(&in6_req(sin6(v6(1), 0), sin6(v6(2), 0)));
    assert_eq!(b6.len(), iocparm_len(SIOCSIFPHYADDR_IN6));
    match decode(SIOCSIFPHYADDR_IN6, &b6) {
        Ok(Command::SetTunnel(t)) => assert_eq!(t.src(), Addr::v6(v6(1))),
        other => panic!("{other:?}"),
    }
    // An in_aliasreq sent with the _IN6 code is too short.
    assert_eq!(decode(SIOCSIFPHYADDR_IN6, &b), Err(Errno::EINVAL));
}

/// mirrors if_ipsec.c ipsec_ioctl: the GET/SET requests decode to their commands.
#[test]
fn ipsec_ioctl_other_requests() {
    let b = ifr_with(|r| r.set_fib(3));
    assert_eq!(decode(SIOCSTUNFIB, &b), Ok(Command::SetFib(3)));
    assert_eq!(decode(SIOCGTUNFIB, &b), Ok(Command::GetFib));
    assert_eq!(decode(SIOCDIFPHYADDR, &b), Ok(Command::DeleteTunnel));
    assert_eq!(
        decode(SIOCGIFPSRCADDR, &b),
        Ok(Command::GetAddr(End::Src, Family::Inet))
    );
    assert_eq!(
        decode(SIOCGIFPDSTADDR, &b),
        Ok(Command::GetAddr(End::Dst, Family::Inet))
    );
    let b6 = bytes(&in6_ifreq::default());
    assert_eq!(
        decode(SIOCGIFPSRCADDR_IN6, &b6),
        Ok(Command::GetAddr(End::Src, Family::Inet6))
    );
    assert_eq!(
        decode(SIOCGIFPDSTADDR_IN6, &b6),
        Ok(Command::GetAddr(End::Dst, Family::Inet6))
    );
    assert_eq!(
        decode(SIOCGIFPSRCADDR_IN6, &b),
        Err(Errno::EINVAL),
        "ifreq too short"
    );
}

/// mirrors if_ipsec.c ipsec_ioctl IPSECGREQID/IPSECSREQID: ifr_data is a
/// user pointer, extracted as a value (ifr_data_get_ptr).
#[test]
fn ipsec_ioctl_reqid_pointer() {
    let b = ifr_with(|r| r.set_data_ptr(0x7fff_ffff_e000));
    assert_eq!(
        decode(IPSECGREQID, &b),
        Ok(Command::GetReqid {
            uaddr: 0x7fff_ffff_e000
        })
    );
    assert_eq!(
        decode(IPSECSREQID, &b),
        Ok(Command::SetReqid {
            uaddr: 0x7fff_ffff_e000
        })
    );
}

/// mirrors if_ipsec.c ipsec_ioctl default: unknown requests are EINVAL.
#[test]
fn ipsec_ioctl_unknown_einval() {
    let b = ifr_with(|_| {});
    for c in [
        0,
        0xc020_6921, /* SIOCGIFFLAGS-like */
        SIOCSIFFLAGS ^ 1,
    ] {
        assert_eq!(decode(c, &b), Err(Errno::EINVAL));
    }
    assert_eq!(decode(SIOCSIFMTU, &b[..8]), Err(Errno::EINVAL));
}

/// mirrors if_ipsec.c ipsec_ioctl SIOCGIFPSRCADDR: no tunnel or other
/// family -> EADDRNOTAVAIL; else the sockaddr_in is written to ifr_addr.
#[test]
fn ipsec_ioctl_gifpsrcaddr_reply() {
    let t = tun4([192, 0, 2, 1], [198, 51, 100, 7]);
    assert_eq!(
        reply_addr(None, End::Src, Family::Inet),
        Err(Errno::EADDRNOTAVAIL)
    );
    assert_eq!(
        reply_addr(Some(&t), End::Src, Family::Inet6),
        Err(Errno::EADDRNOTAVAIL)
    );
    let a = reply_addr(Some(&t), End::Dst, Family::Inet).unwrap();
    let mut b = ifr_with(|r| r.ifr_ifru.bytes = [0xee; 16]);
    encode_addr(&mut b, Family::Inet, Some(&a)).unwrap();
    let r = ifreq::read_from_bytes(&b).unwrap();
    assert_eq!(&r.ifr_name[..6], b"ipsec0");
    let sa = sockaddr_in::read_from_bytes(&r.ifr_ifru.bytes).unwrap();
    assert_eq!((sa.sin_len, sa.sin_family, sa.sin_port), (16, 2, 0));
    assert_eq!(sa.sin_addr.s_addr, [198, 51, 100, 7]);
    assert_eq!(sa.sin_zero, [0; 8]);
    // Error path: zeroed.
    encode_addr(&mut b, Family::Inet, None).unwrap();
    assert_eq!(ifreq::read_from_bytes(&b).unwrap().ifr_ifru.bytes, [0; 16]);
}

/// mirrors if_ipsec.c ipsec_ioctl SIOCGIFPSRCADDR_IN6: sockaddr_in6 in in6_ifreq.
#[test]
fn ipsec_ioctl_gifpsrcaddr_in6_reply() {
    let mut b = bytes(&in6_ifreq::default());
    let a = Addr::V6 {
        addr: v6(9),
        scope_id: 4,
    };
    encode_addr(&mut b, Family::Inet6, Some(&a)).unwrap();
    let r = in6_ifreq::read_from_bytes(&b).unwrap();
    let sa: sockaddr_in6 = r.addr();
    assert_eq!((sa.sin6_len, sa.sin6_family), (28, 28));
    assert_eq!(sa.sin6_addr.s6_addr, v6(9));
    assert_eq!(sa.sin6_scope_id, 4);
    assert_eq!(
        encode_addr(&mut b, Family::Inet, Some(&a)),
        Err(Errno::EINVAL)
    );
}

/// mirrors if_ipsec.c ipsec_ioctl SIOCGTUNFIB: ifr_fib = fibnum.
#[test]
fn ipsec_ioctl_gtunfib_reply() {
    let mut b = ifr_with(|_| {});
    encode_fib(&mut b, 7).unwrap();
    assert_eq!(ifreq::read_from_bytes(&b).unwrap().fib(), 7);
}

/// The request codes equal the numbers FreeBSD's headers give.
#[test]
fn request_codes() {
    assert_eq!(SIOCSIFPHYADDR, 0x8044_6946);
    assert_eq!(SIOCSIFPHYADDR_IN6, 0x8088_6946);
    assert_eq!(SIOCGIFPSRCADDR_IN6, 0xc120_6947);
    assert_eq!(IPSECGREQID, 0xc020_69a0);
    assert_eq!(IPSECSREQID, 0x8020_69a1);
    assert_eq!(iocparm_len(IPSECSREQID), 32);
}
