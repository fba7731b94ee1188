//! Scenarios: tunnel, reqid, fib and MTU requests (FreeBSD 14.2
//! sys/net/if_ipsec.c ipsec_ioctl, b66633d79ade, is what each mirrors).
mod glue_common;
use glue_common::*;
use kpi_model::Model;
use std::net::IpAddr;

const EINVAL: i32 = 22;
const EEXIST: i32 = 17;
const EPERM: i32 = 1;
const EADDRNOTAVAIL: i32 = 49;
const EAFNOSUPPORT: i32 = 47;

fn v4(s: &str) -> [u8; 4] {
    match ip(s) {
        IpAddr::V4(a) => a.octets(),
        IpAddr::V6(_) => [0; 4],
    }
}

/// mirrors ipsec_set_tunnel, ipsec_delete_tunnel and SIOCGIFPSRCADDR /
/// SIOCGIFPDSTADDR: set, read back, change (same reqid, new SA
/// addresses), delete (policies gone, reqid kept, GET EADDRNOTAVAIL).
#[test]
fn tunnel_set_change_delete_v4() {
    let m = Model::start();
    load(&m);
    let i = create("ipsec0");
    assert_eq!(tunnel(i, ip("192.0.2.1"), ip("198.51.100.7")), 0);
    assert_eq!(get_addr4(i, true), (0, v4("192.0.2.1")));
    assert_eq!(get_addr4(i, false), (0, v4("198.51.100.7")));
    let (_, r) = get_reqid(&m, i);
    assert!(r > 0x3fff, "auto reqid {r:#x}");
    assert_eq!(tunnel(i, ip("192.0.2.1"), ip("203.0.113.9")), 0);
    let spd = m.spd_ifnet();
    assert_eq!(spd.len(), 4);
    assert!(spd.iter().all(|p| p.reqid == r));
    assert!(spd
        .iter()
        .filter(|p| p.dir == 1)
        .all(|p| p.sa_src == Some(ip("203.0.113.9"))));
    assert!(spd
        .iter()
        .filter(|p| p.dir == 2)
        .all(|p| p.sa_dst == Some(ip("203.0.113.9"))));
    assert_eq!(untunnel(i), 0);
    assert!(m.spd_ifnet().is_empty());
    assert_eq!(get_addr4(i, true).0, EADDRNOTAVAIL);
    assert_eq!(get_reqid(&m, i), (0, r), "reqid kept across -tunnel");
    unload(&m);
    m.assert_clean();
}

/// mirrors ipsec_set_addresses (SIOCSIFPHYADDR_IN6) and
/// SIOCGIFPSRCADDR_IN6: v6 outer; the v4 GET of a v6 tunnel is
/// EADDRNOTAVAIL.
#[test]
fn tunnel_v6_outer() {
    let m = Model::start();
    load(&m);
    let i = create("ipsec0");
    assert_eq!(tunnel(i, ip("2001:db8::1"), ip("2001:db8::2")), 0);
    let (e, s) = get_addr6(i, true);
    assert_eq!(e, 0);
    assert_eq!(IpAddr::from(s.sin6_addr.s6_addr), ip("2001:db8::1"));
    let (e, d) = get_addr6(i, false);
    assert_eq!(e, 0);
    assert_eq!(IpAddr::from(d.sin6_addr.s6_addr), ip("2001:db8::2"));
    assert_eq!(get_addr4(i, true).0, EADDRNOTAVAIL);
    let spd = m.spd_ifnet();
    assert_eq!(spd.len(), 4);
    assert!(spd.iter().all(|p| p.sa_src.is_some_and(|a| a.is_ipv6())));
    unload(&m);
    m.assert_clean();
}

/// mirrors ipsec_ioctl's checks: bad input gets C's errno and leaves the
/// configured tunnel as it was.
#[test]
fn bad_tunnel_requests_change_nothing() {
    let m = Model::start();
    load(&m);
    let i = create("ipsec0");
    assert_eq!(tunnel(i, ip("192.0.2.1"), ip("198.51.100.7")), 0);
    let before = m.spd_ifnet();
    assert_eq!(tunnel(i, ip("0.0.0.0"), ip("198.51.100.8")), EADDRNOTAVAIL);
    assert_eq!(tunnel(i, ip("2001:db8::1"), ip("::")), EADDRNOTAVAIL);
    let mut mixed = bytes_of(&sys_bindings::net::in_aliasreq::default());
    mixed[17] = 28; // ifra_addr.sin_family = AF_INET6 in an in_aliasreq
    mixed[16] = 16;
    let e =
        kpi_model::ifnet::call_ioctl(i, sys_bindings::net::ioctl::SIOCSIFPHYADDR as _, &mut mixed);
    assert!(
        e == EINVAL || e == EAFNOSUPPORT || e == EADDRNOTAVAIL,
        "errno {e}"
    );
    assert_eq!(m.spd_ifnet(), before);
    assert_eq!(get_addr4(i, false), (0, v4("198.51.100.7")));
    unload(&m);
    m.assert_clean();
}

/// mirrors ipsec_set_reqid / IPSECSREQID / IPSECGREQID: manual value,
/// collision EEXIST, 0 keeps, PRIV_NET_SETIFCAP checked (EPERM when
/// denied); policies follow the reqid.
#[test]
fn reqid_manual_auto_collision_and_privilege() {
    let m = Model::start();
    load(&m);
    let a = create("ipsec0");
    let b = create("ipsec1");
    assert_eq!(set_reqid(&m, a, 100), 0);
    assert_eq!(get_reqid(&m, a), (0, 100));
    assert_eq!(set_reqid(&m, b, 100), EEXIST);
    assert_eq!(get_reqid(&m, b), (0, 0));
    assert_eq!(set_reqid(&m, a, 0), 0);
    assert_eq!(get_reqid(&m, a), (0, 100));
    assert_eq!(tunnel(a, ip("192.0.2.1"), ip("198.51.100.7")), 0);
    assert!(m.spd_ifnet().iter().all(|p| p.reqid == 100));
    assert_eq!(set_reqid(&m, a, 200), 0);
    let spd = m.spd_ifnet();
    assert_eq!(spd.len(), 4);
    assert!(spd.iter().all(|p| p.reqid == 200), "{spd:#?}");
    assert_eq!(tunnel(b, ip("192.0.2.1"), ip("198.51.100.8")), 0);
    let (_, rb) = get_reqid(&m, b);
    assert!(rb > 0x3fff && rb != 200);
    assert!(m.priv_checks().contains(&400));
    m.deny_priv(400);
    assert_eq!(set_reqid(&m, a, 300), EPERM);
    assert_eq!(get_reqid(&m, a), (0, 200));
    unload(&m);
    m.assert_clean();
}

/// mirrors SIOCSTUNFIB / SIOCGTUNFIB: PRIV_NET_SETIFFIB, fib <
/// rt_numfibs else EINVAL; initial fib is the creator's.
#[test]
fn tunnel_fib() {
    let m = Model::start();
    load(&m);
    let i = create("ipsec0");
    assert_eq!(get_fib(i), (0, 0));
    assert_eq!(set_fib(i, 1), EINVAL);
    kpi_model::vnet::set_numfibs(4);
    assert_eq!(set_fib(i, 3), 0);
    assert_eq!(get_fib(i), (0, 3));
    assert!(m.priv_checks().contains(&419));
    m.deny_priv(419);
    assert_eq!(set_fib(i, 1), EPERM);
    assert_eq!(get_fib(i), (0, 3));
    unload(&m);
    m.assert_clean();
}

/// mirrors ipsec_ioctl SIOCGIFPSRCADDR's prison_if: a jail that may not
/// see the address gets EADDRNOTAVAIL and a zeroed reply.
#[test]
fn get_address_hidden_from_jail() {
    let m = Model::start();
    load(&m);
    let i = create("ipsec0");
    assert_eq!(tunnel(i, ip("192.0.2.1"), ip("198.51.100.7")), 0);
    kpi_model::netinet::set_jailed(true);
    assert_eq!(get_addr4(i, true), (EADDRNOTAVAIL, [0; 4]));
    kpi_model::netinet::set_jailed(false);
    unload(&m);
    m.assert_clean();
}

/// mirrors ipsec_newpolicies as `setkey -DP` shows them: in and out for
/// each inner family, any/any, ul_proto any, unique level, tunnel ESP,
/// inbound SA src = remote, dst = local, priority = if_index, scope ifnet.
#[test]
fn setkey_visible_policy_fields() {
    let m = Model::start();
    load(&m);
    let i = create("ipsec0");
    assert_eq!(tunnel(i, ip("192.0.2.1"), ip("198.51.100.7")), 0);
    let idx = kpi_model::ifnet::view(i).map_or(0, |v| v.index);
    let spd = m.spd_ifnet();
    for (dir, fam) in [(1, 2), (2, 2), (1, 28), (2, 28)] {
        let p = spd
            .iter()
            .find(|p| p.dir == dir && p.family == fam)
            .expect("policy");
        assert_eq!(
            (p.ul_proto, p.policy, p.level, p.proto, p.mode),
            (255, 2, 3, 50, 2)
        );
        assert_eq!((p.priority, p.scope, p.tcount), (idx, "ifnet", 1));
        assert_eq!((p.prefs, p.prefd), (0, 0));
        let (s, d) = (ip("192.0.2.1"), ip("198.51.100.7"));
        let want = if dir == 1 {
            (Some(d), Some(s))
        } else {
            (Some(s), Some(d))
        };
        assert_eq!((p.sa_src, p.sa_dst), want);
    }
    unload(&m);
    m.assert_clean();
}

/// mirrors ipsec_ioctl SIOCSIFMTU: IPSEC_MTU_MIN..max, else EINVAL (the
/// maximum is 65407, above C's 8192: jumbo MTUs); SIOCSIFADDR sets IFF_UP.
#[test]
fn mtu_bounds_and_ifaddr_up() {
    let m = Model::start();
    load(&m);
    let i = create("ipsec0");
    let mtu = |v: i32| {
        let mut b = bytes_of(&sys_bindings::net::ifreq::default());
        b[16..20].copy_from_slice(&v.to_ne_bytes());
        kpi_model::ifnet::call_ioctl(i, sys_bindings::net::ioctl::SIOCSIFMTU as _, &mut b)
    };
    assert_eq!(mtu(1279), EINVAL);
    assert_eq!(mtu(65408), EINVAL);
    assert_eq!(kpi_model::ifnet::view(i).map(|v| v.mtu), Some(1400));
    assert_eq!(mtu(9000), 0);
    assert_eq!(kpi_model::ifnet::view(i).map(|v| v.mtu), Some(9000));
    assert_eq!(mtu(1500), 0);
    assert_eq!(kpi_model::ifnet::view(i).map(|v| v.mtu), Some(1500));
    assert_eq!(up(i), 0);
    assert!(kpi_model::ifnet::view(i).is_some_and(|v| v.flags & 1 != 0));
    unload(&m);
    m.assert_clean();
}

/// mirrors ipsec_ioctl SIOCSIFPHYADDR_IN6 (sa6_embedscope) and
/// SIOCGIFPSRCADDR_IN6 (sa6_recoverscope): a link-local outer address
/// keeps its zone; an unknown zone is ENXIO and changes nothing.
#[test]
fn tunnel_v6_link_local_scope() {
    let m = Model::start();
    load(&m);
    let i = create("ipsec0");
    let zone = kpi_model::ifnet::view(i).map_or(0, |v| v.index);
    let ll = |z: u32| {
        let mut r = sys_bindings::net::in6_aliasreq::default();
        for (sa, last) in [(&mut r.ifra_addr, 1u8), (&mut r.ifra_dstaddr, 2u8)] {
            sa.sin6_len = 28;
            sa.sin6_family = 28;
            sa.sin6_addr.s6_addr = [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, last];
            sa.sin6_scope_id = z;
        }
        let mut b = bytes_of(&r);
        kpi_model::ifnet::call_ioctl(i, sys_bindings::net::ioctl::SIOCSIFPHYADDR_IN6 as _, &mut b)
    };
    assert_eq!(ll(9999), 6); // ENXIO: no such zone
    assert!(m.spd_ifnet().is_empty());
    assert_eq!(ll(zone), 0);
    let (e, s) = get_addr6(i, true);
    assert_eq!(e, 0);
    assert_eq!(s.sin6_scope_id, zone);
    assert_eq!(&s.sin6_addr.s6_addr[..4], &[0xfe, 0x80, 0, 0]);
    let spd = m.spd_ifnet();
    assert_eq!(spd.len(), 4);
    unload(&m);
    m.assert_clean();
}

/// mirrors ipsec_set_addresses: the same tunnel again changes nothing
/// (the registered policies stay the same ones).
#[test]
fn same_tunnel_again_is_a_no_op() {
    let m = Model::start();
    load(&m);
    let i = create("ipsec0");
    assert_eq!(tunnel(i, ip("192.0.2.1"), ip("198.51.100.7")), 0);
    let before: Vec<u32> = m.spd_ifnet().iter().map(|p| p.id).collect();
    assert_eq!(tunnel(i, ip("192.0.2.1"), ip("198.51.100.7")), 0);
    let after: Vec<u32> = m.spd_ifnet().iter().map(|p| p.id).collect();
    assert_eq!(before, after);
    unload(&m);
    m.assert_clean();
}
