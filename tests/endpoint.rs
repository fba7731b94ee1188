//! Tunnel endpoint validation and IPv6 scope handling.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
use common::*;

use if_ipsec::addr::{Addr, Family};
use if_ipsec::endpoint::Tunnel;
use if_ipsec::Errno;
use sys_bindings::net::{AF_INET, AF_INET6};

const A: [u8; 4] = [192, 0, 2, 1];
const B: [u8; 4] = [198, 51, 100, 7];

/// mirrors if_ipsec.c ipsec_ioctl SIOCSIFPHYADDR: a valid pair is accepted.
#[test]
fn ipsec_ioctl_sifphyaddr_valid_v4() {
    let t = Tunnel::from_in_aliasreq(&in_req(sin(A), sin(B))).unwrap();
    assert_eq!(t.src(), Addr::V4(A));
    assert_eq!(t.dst(), Addr::V4(B));
    assert_eq!(t.family(), Family::Inet);
}

/// mirrors if_ipsec.c ipsec_ioctl SIOCSIFPHYADDR: src/dst family differ -> EINVAL.
#[test]
fn ipsec_ioctl_sifphyaddr_family_mismatch_einval() {
    let mut d = sin(B);
    d.sin_family = AF_INET6;
    assert_eq!(
        Tunnel::from_in_aliasreq(&in_req(sin(A), d)),
        Err(Errno::EINVAL)
    );
}

/// mirrors if_ipsec.c ipsec_ioctl SIOCSIFPHYADDR: src/dst sa_len differ -> EINVAL.
#[test]
fn ipsec_ioctl_sifphyaddr_len_mismatch_einval() {
    let mut d = sin(B);
    d.sin_len = 15;
    assert_eq!(
        Tunnel::from_in_aliasreq(&in_req(sin(A), d)),
        Err(Errno::EINVAL)
    );
}

/// mirrors if_ipsec.c ipsec_ioctl SIOCSIFPHYADDR: sa_len not sizeof(sockaddr_in) -> EINVAL.
#[test]
fn ipsec_ioctl_sifphyaddr_wrong_len_einval() {
    let (mut s, mut d) = (sin(A), sin(B));
    s.sin_len = 8;
    d.sin_len = 8;
    assert_eq!(Tunnel::from_in_aliasreq(&in_req(s, d)), Err(Errno::EINVAL));
}

/// mirrors if_ipsec.c ipsec_ioctl SIOCSIFPHYADDR: unknown family -> EAFNOSUPPORT.
#[test]
fn ipsec_ioctl_sifphyaddr_unknown_family_eafnosupport() {
    let (mut s, mut d) = (sin(A), sin(B));
    s.sin_family = 1;
    d.sin_family = 1;
    assert_eq!(
        Tunnel::from_in_aliasreq(&in_req(s, d)),
        Err(Errno::EAFNOSUPPORT)
    );
}

/// mirrors if_ipsec.c ipsec_ioctl: INET6 addresses via SIOCSIFPHYADDR -> EAFNOSUPPORT.
#[test]
fn ipsec_ioctl_sifphyaddr_v6_on_v4_cmd_eafnosupport() {
    let (mut s, mut d) = (sin(A), sin(B));
    for x in [&mut s, &mut d] {
        x.sin_family = AF_INET6;
        x.sin_len = 28;
    }
    assert_eq!(
        Tunnel::from_in_aliasreq(&in_req(s, d)),
        Err(Errno::EAFNOSUPPORT)
    );
}

/// mirrors if_ipsec.c ipsec_ioctl: INET addresses via SIOCSIFPHYADDR_IN6 -> EAFNOSUPPORT.
#[test]
fn ipsec_ioctl_sifphyaddr_in6_v4_addresses_eafnosupport() {
    let (mut s, mut d) = (sin6(v6(1), 0), sin6(v6(2), 0));
    for x in [&mut s, &mut d] {
        x.sin6_family = AF_INET;
        x.sin6_len = 16;
    }
    assert_eq!(
        Tunnel::from_in6_aliasreq(&in6_req(s, d)),
        Err(Errno::EAFNOSUPPORT)
    );
}

/// mirrors if_ipsec.c ipsec_ioctl: INADDR_ANY on either side -> EADDRNOTAVAIL.
#[test]
fn ipsec_ioctl_sifphyaddr_unspecified_eaddrnotavail() {
    assert_eq!(
        Tunnel::from_in_aliasreq(&in_req(sin([0; 4]), sin(B))),
        Err(Errno::EADDRNOTAVAIL)
    );
    assert_eq!(
        Tunnel::from_in_aliasreq(&in_req(sin(A), sin([0; 4]))),
        Err(Errno::EADDRNOTAVAIL)
    );
    assert_eq!(
        Tunnel::from_in6_aliasreq(&in6_req(sin6([0; 16], 0), sin6(v6(2), 0))),
        Err(Errno::EADDRNOTAVAIL)
    );
}

/// Deliberate difference from if_ipsec.c ipsec_ioctl: multicast and
/// limited broadcast endpoints are refused with EADDRNOTAVAIL.
#[test]
fn multicast_and_broadcast_refused() {
    for bad in [[224, 0, 0, 1], [239, 1, 2, 3], [255, 255, 255, 255]] {
        assert_eq!(
            Tunnel::from_in_aliasreq(&in_req(sin(A), sin(bad))),
            Err(Errno::EADDRNOTAVAIL)
        );
        assert_eq!(
            Tunnel::from_in_aliasreq(&in_req(sin(bad), sin(A))),
            Err(Errno::EADDRNOTAVAIL)
        );
    }
    let mut mc = [0u8; 16];
    mc[0] = 0xff;
    mc[1] = 0x0e;
    mc[15] = 1;
    assert_eq!(
        Tunnel::from_in6_aliasreq(&in6_req(sin6(v6(1), 0), sin6(mc, 0))),
        Err(Errno::EADDRNOTAVAIL)
    );
}

/// Deliberate difference: src == dst is EINVAL (C accepts it).
#[test]
fn same_src_dst_refused() {
    assert_eq!(
        Tunnel::from_in_aliasreq(&in_req(sin(A), sin(A))),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        Tunnel::from_in6_aliasreq(&in6_req(sin6(v6(1), 0), sin6(v6(1), 0))),
        Err(Errno::EINVAL)
    );
}

/// Ports and sin_zero do not matter (key_sockaddrcmp with port 0).
#[test]
fn ports_ignored() {
    let (mut s, mut d) = (sin(A), sin(B));
    s.sin_port = 4500u16.to_be();
    d.sin_zero = [1; 8];
    let t = Tunnel::from_in_aliasreq(&in_req(s, d)).unwrap();
    assert_eq!(t, tun4(A, B));
}

/// mirrors scope6.c sa6_embedscope: link-local with a scope id gets the
/// zone embedded in bytes 2..4 and the scope id cleared.
#[test]
fn sa6_embedscope_linklocal() {
    let t = Tunnel::from_in6_aliasreq(&in6_req(sin6(ll(1), 5), sin6(ll(2), 5))).unwrap();
    let e = t.embed_scope(|z| z == 5).unwrap();
    let mut want = ll(1);
    want[3] = 5;
    assert_eq!(
        e.src(),
        Addr::V6 {
            addr: want,
            scope_id: 0
        }
    );
}

/// mirrors scope6.c sa6_embedscope: an unknown zone is ENXIO.
#[test]
fn sa6_embedscope_unknown_zone_enxio() {
    let t = Tunnel::from_in6_aliasreq(&in6_req(sin6(ll(1), 9), sin6(ll(2), 9))).unwrap();
    assert_eq!(t.embed_scope(|_| false), Err(Errno::ENXIO));
}

/// mirrors scope6.c sa6_embedscope: global addresses and scope id 0 are
/// left alone (zone not consulted).
#[test]
fn sa6_embedscope_global_untouched() {
    let t = Tunnel::from_in6_aliasreq(&in6_req(sin6(v6(1), 3), sin6(ll(2), 0))).unwrap();
    let e = t
        .embed_scope(|_| panic!("no zone lookup expected"))
        .unwrap();
    assert_eq!(e, t);
}

/// mirrors scope6.c sa6_recoverscope: embedded zone moves back to the
/// scope id; unknown zone ENXIO; zone 0 untouched.
#[test]
fn sa6_recoverscope() {
    let mut emb = ll(1);
    emb[3] = 7;
    let a = Addr::v6(emb);
    assert_eq!(
        a.recover_scope(|z| z == 7).unwrap(),
        Addr::V6 {
            addr: ll(1),
            scope_id: 7
        }
    );
    assert_eq!(a.recover_scope(|_| false), Err(Errno::ENXIO));
    assert_eq!(
        Addr::v6(ll(1)).recover_scope(|_| false).unwrap(),
        Addr::v6(ll(1))
    );
    assert_eq!(
        Addr::v6(v6(3)).recover_scope(|_| false).unwrap(),
        Addr::v6(v6(3))
    );
}

/// Two link-local endpoints equal except for the zone are different
/// before embedding and equal after: src == dst caught on the embedded form.
#[test]
fn same_after_embedding_refused() {
    let mut emb = ll(1);
    emb[3] = 4;
    let t = Tunnel::new(
        Addr::V6 {
            addr: ll(1),
            scope_id: 4,
        },
        Addr::v6(emb),
    )
    .unwrap();
    assert_eq!(t.embed_scope(|_| true), Err(Errno::EINVAL));
}

/// IN6_IS_SCOPE_EMBED: link-local unicast, link- and interface-local multicast.
#[test]
fn needs_scope_classification() {
    assert!(Addr::v6(ll(1)).needs_scope());
    let mut m = [0u8; 16];
    m[0] = 0xff;
    for (scope, want) in [(1, true), (2, true), (5, false), (0xe, false)] {
        m[1] = scope;
        assert_eq!(Addr::v6(m).needs_scope(), want, "scope {scope}");
    }
    assert!(!Addr::v6(v6(1)).needs_scope());
    assert!(!Addr::V4(A).needs_scope());
}

#[test]
fn af_constants() {
    assert_eq!(Family::Inet.af(), AF_INET);
    assert_eq!(Family::Inet6.af(), AF_INET6);
    assert_eq!(Family::from_af(28), Some(Family::Inet6));
    assert_eq!(Family::from_af(0), None);
}

/// mirrors key.c key_sockaddrcmp: sockaddr bytes decode to the compared
/// fields; a wrong sa_len or family is no address.
#[test]
fn key_sockaddrcmp_decode() {
    let mut s = sin(A);
    s.sin_port = 4500u16.to_be();
    assert_eq!(Addr::from_sockaddr(&bytes(&s)), Some(Addr::V4(A)));
    let s6 = sin6(v6(5), 3);
    assert_eq!(
        Addr::from_sockaddr(&bytes(&s6)),
        Some(Addr::V6 {
            addr: v6(5),
            scope_id: 3
        })
    );
    let mut bad = sin(A);
    bad.sin_len = 28;
    assert_eq!(Addr::from_sockaddr(&bytes(&bad)), None);
    assert_eq!(Addr::from_sockaddr(&bytes(&sin6(v6(5), 0))[..20]), None);
    assert_eq!(Addr::from_sockaddr(&[]), None);
    let back = Addr::V4(A).to_sockaddr_in().unwrap();
    assert_eq!(Addr::from_sockaddr(&bytes(&back)), Some(Addr::V4(A)));
}
