//! End-to-end ioctl flows through decode -> scope -> state -> reply, as the
//! glue runs them (if_ipsec.c ipsec_ioctl).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
use common::*;

use if_ipsec::addr::{Addr, Family};
use if_ipsec::ioctl::{decode, encode_addr, reply_addr, Command, End};
use if_ipsec::Errno;
use sys_bindings::net::in6_ifreq;
use sys_bindings::net::ioctl::*;
use zerocopy::FromBytes;

/// mirrors if_ipsec.c ipsec_ioctl SIOCSIFPHYADDR_IN6 then
/// SIOCGIFPSRCADDR_IN6: link-local endpoints are stored embedded (as the
/// kernel's SAs are) and come back with sin6_scope_id recovered.
#[test]
fn ipsec_ioctl_v6_linklocal_roundtrip() {
    let mut w = World::new();
    let h = w.create(1);
    let req = bytes(&in6_req(sin6(ll(1), 2), sin6(ll(9), 2)));
    let Command::SetTunnel(t) = decode(SIOCSIFPHYADDR_IN6, &req).unwrap() else {
        panic!()
    };
    let t = t.embed_scope(|z| z == 2).unwrap();
    w.set_tunnel(h, t).unwrap();
    let st = *w.vnet.state(h).unwrap();
    let mut emb = ll(1);
    emb[3] = 2;
    assert_eq!(st.tunnel.unwrap().src(), Addr::v6(emb));
    // The demux matches SAs in the kernel's embedded form.
    let r = st.reqid.unwrap().get();
    let mut remb = ll(9);
    remb[3] = 2;
    assert_eq!(
        w.tables.input_lookup(r, &Addr::v6(remb), &Addr::v6(emb)),
        Some(h)
    );

    let cmd = decode(SIOCGIFPSRCADDR_IN6, &bytes(&in6_ifreq::default())).unwrap();
    assert_eq!(cmd, Command::GetAddr(End::Src, Family::Inet6));
    let a = reply_addr(st.tunnel.as_ref(), End::Src, Family::Inet6).unwrap();
    let a = a.recover_scope(|z| z == 2).unwrap();
    let mut out = bytes(&in6_ifreq::default());
    encode_addr(&mut out, Family::Inet6, Some(&a)).unwrap();
    let sa = in6_ifreq::read_from_bytes(&out).unwrap().addr();
    assert_eq!((sa.sin6_addr.s6_addr, sa.sin6_scope_id), (ll(1), 2));
    // The IPv4 GET on an IPv6 tunnel: EADDRNOTAVAIL, as C.
    assert_eq!(
        reply_addr(st.tunnel.as_ref(), End::Src, Family::Inet),
        Err(Errno::EADDRNOTAVAIL)
    );
}

/// mirrors if_ipsec.c ipsec_ioctl SIOCDIFPHYADDR then SIOCGIFPSRCADDR:
/// no tunnel -> EADDRNOTAVAIL.
#[test]
fn ipsec_ioctl_delete_then_get() {
    let mut w = World::new();
    let h = w.create(1);
    let req = bytes(&in_req(sin([192, 0, 2, 1]), sin([198, 51, 100, 7])));
    let Command::SetTunnel(t) = decode(SIOCSIFPHYADDR, &req).unwrap() else {
        panic!()
    };
    w.set_tunnel(h, t.embed_scope(|_| false).unwrap()).unwrap();
    assert_eq!(
        decode(SIOCDIFPHYADDR, &req[..32]),
        Ok(Command::DeleteTunnel)
    );
    w.delete_tunnel(h).unwrap();
    let st = w.vnet.state(h).unwrap();
    assert_eq!(
        reply_addr(st.tunnel.as_ref(), End::Dst, Family::Inet),
        Err(Errno::EADDRNOTAVAIL)
    );
}
